// Fashion-MNIST (Debian's dataset-fashion-mnist, IDX files gzipped) → .npy files that `edgec train`,
// `edgec eval`, `edgec distill` and `edgec compress` take: x float32 [N,1,28,28] scaled to [0,1]
// (pixel / 255; NCHW as fashion_cnn.onnx declares it — with one channel NCHW and NHWC are the same
// bytes) and y int32 [N]. Optional --classes 0-4 keeps only those labels (continual distillation).
// Usage: node --import tsx scripts/fashion-mnist-npy.ts OUT_DIR [--limit N] [--classes A-B]
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { saveNpy } from '../compiler/io/npy.ts';

const SRC = '/usr/share/datasets/fashion-mnist';
const args = process.argv.slice(2);
const out = args[0];
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!out || out.startsWith('--')) {
  console.error('usage: node --import tsx scripts/fashion-mnist-npy.ts OUT_DIR [--limit N] [--classes A-B]');
  process.exit(2);
}
if (!existsSync(join(SRC, 'train-images-idx3-ubyte.gz'))) {
  console.error(`${SRC}: not found (apt-get install dataset-fashion-mnist)`);
  process.exit(1);
}
const limit = Number(opt('limit') ?? 0) || Infinity;
const [lo, hi] = (opt('classes') ?? '0-9').split('-').map(Number) as [number, number];

/** One IDX file's payload after its header (16 bytes for images, 8 for labels). */
const idx = (file: string, header: number) =>
  new Uint8Array(gunzipSync(readFileSync(join(SRC, file))).subarray(header));

mkdirSync(out, { recursive: true });
for (const [split, prefix] of [
  ['train', 'train'],
  ['test', 't10k'],
] as const) {
  const images = idx(`${prefix}-images-idx3-ubyte.gz`, 16);
  const labels = idx(`${prefix}-labels-idx1-ubyte.gz`, 8);
  const keep: number[] = [];
  for (let i = 0; i < labels.length && keep.length < limit; i++) if (labels[i]! >= lo && labels[i]! <= hi) keep.push(i);
  const x = new Float32Array(keep.length * 784);
  const y = new Int32Array(keep.length);
  keep.forEach((s, j) => {
    for (let p = 0; p < 784; p++) x[j * 784 + p] = images[s * 784 + p]! / 255;
    y[j] = labels[s]!;
  });
  saveNpy(join(out, `${split}_x.npy`), { shape: [keep.length, 1, 28, 28], data: x });
  saveNpy(join(out, `${split}_y.npy`), { shape: [keep.length], data: y });
  console.log(`${split}: ${keep.length} images (classes ${lo}-${hi}) → ${join(out, `${split}_x.npy`)}, ${split}_y.npy`);
}
