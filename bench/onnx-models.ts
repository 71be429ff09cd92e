// The ONNX bench models' int8 bundle, shared by the Node table (bench/run.ts) and the Chromium one
// (bench/browser.ts): the u8s8 QDQ model with its own scales (so edgec's output compares with onnxruntime's int8
// output), or, without one, the float graph calibrated on 4 random-normal inputs (latency only).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import type { Graph } from '../compiler/ir/graph.ts';

export async function compileInt8(
  dir: string,
  m: string,
  graph: Graph,
  x: Float32Array,
  disableKernels?: string[],
): Promise<Uint8Array> {
  const qdqPath = join(dir, `${m}_qdq_u8s8.onnx`);
  const opts = { modelName: `${m}_int8`, disableKernels };
  if (existsSync(qdqPath)) return (await compileQuantized(parseOnnx(readFileSync(qdqPath), qdqPath), {}, opts)).bundle;
  let r = 1;
  const normal = () => {
    // Box-Muller on a fixed LCG
    r = (r * 1664525 + 1013904223) >>> 0;
    const u = (r + 1) / 2 ** 32;
    r = (r * 1664525 + 1013904223) >>> 0;
    const v = r / 2 ** 32;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const samples = { input: graph.inputs[0]!, data: Array.from({ length: 4 }, () => Float32Array.from(x, normal)) };
  return (await compileQuantized(graph, { samples }, opts)).bundle;
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
