// The training bench's model and data, shared by bench/train.ts and its child processes: an ONNX classifier
// (fashion_cnn) after the compiler's passes at batch B, and the first samples of Fashion-MNIST (the Debian
// dataset-fashion-mnist files when installed, else seeded uniform noise: throughput does not depend on the pixels),
// handed to the children as one raw file (x f32 [count,28,28,1], then labels i32 [count]; bench/train-edgec.mjs reads it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { withBatch } from '../compiler/train/training-graph.ts';
import type { Graph } from '../compiler/ir/graph.ts';

/** The forward graph after the compiler's passes, at batch B (withBatch also rewrites the exporter's batch-1 Reshapes). */
export function forwardGraph(onnxPath: string, batch: number): Graph {
  return withBatch(compileGraph(parseOnnx(readFileSync(onnxPath), onnxPath)).graph, batch);
}

const FMNIST = '/usr/share/datasets/fashion-mnist';

/** `count` images [count,28,28,1] in [0,1] and their labels; `source` says where they came from. */
export function fashionBatches(count: number): { x: Float32Array; labels: Int32Array; source: string } {
  const x = new Float32Array(count * 784),
    labels = new Int32Array(count);
  const img = `${FMNIST}/train-images-idx3-ubyte.gz`,
    lab = `${FMNIST}/train-labels-idx1-ubyte.gz`;
  if (existsSync(img) && existsSync(lab)) {
    const pix = gunzipSync(readFileSync(img)),
      ls = gunzipSync(readFileSync(lab));
    for (let i = 0; i < count * 784; i++) x[i] = pix[16 + i]! / 255;
    for (let i = 0; i < count; i++) labels[i] = ls[8 + i]!;
    return { x, labels, source: `Fashion-MNIST (${FMNIST})` };
  }
  let r = 12345;
  const next = () => (r = (r * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < x.length; i++) x[i] = next();
  for (let i = 0; i < count; i++) labels[i] = Math.floor(next() * 10);
  return { x, labels, source: 'uniform noise (dataset-fashion-mnist not installed)' };
}

export function writeSamples(path: string, d: { x: Float32Array; labels: Int32Array }): void {
  const out = new Uint8Array(d.x.byteLength + d.labels.byteLength);
  out.set(new Uint8Array(d.x.buffer, d.x.byteOffset, d.x.byteLength));
  out.set(new Uint8Array(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength), d.x.byteLength);
  writeFileSync(path, out);
}
