// Bundle sizes (issue 4: int8 bundle ≤ 0.3 × the float bundle): float and int8 .edgec bytes, constants and
// the rest (tables, strings, metadata), compiled as `edgec compile` does (source hash, options in metadata).
// Calibration data only sets scales, never sizes: each model calibrates on 32 samples of its own data.
// Usage: npm run sizes -- <shared dir>   (e.g. /work/shared: models/, data/)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph, type CompileOptions } from '../compiler/compile.ts';
import { compileQuantized, quantize } from '../compiler/quantize/index.ts';
import { readBundle } from '../compiler/emit/bundle-writer.ts';

const shared = process.argv[2];
if (!shared || !existsSync(join(shared, 'models', 'mnist-8.onnx'))) {
  console.error(
    `usage: npm run sizes -- <shared dir>   (needs <dir>/models/mnist-8.onnx${shared ? `; not found under '${shared}'` : ''})`,
  );
  process.exit(2);
}
const models = join(shared, 'models');
const data = join(shared, 'data');

/** Metadata as the CLI writes it, so the sizes are those of `edgec compile` output. */
function cliOptions(file: string, quant?: Record<string, unknown>): CompileOptions {
  return {
    target: 'simd',
    sourceHash: createHash('sha256').update(readFileSync(file)).digest('hex'),
    options: { target: 'simd', ...(quant ? { quantize: quant } : {}) },
  };
}

function samples(raw: Uint8Array | Int8Array, size: number, n: number, f: (q: number) => number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < n && (i + 1) * size <= raw.length; i++)
    out.push(Float32Array.from(raw.subarray(i * size, (i + 1) * size), f));
  return out;
}

function split(bundle: Uint8Array): string {
  const c = readBundle(bundle).constantsLength();
  return `${bundle.length} B (constants ${c}, rest ${bundle.length - c})`;
}

const rows: string[] = [];
function report(name: string, float: Uint8Array, int8: Uint8Array): void {
  const r = int8.length / float.length;
  const rc = readBundle(int8).constantsLength() / readBundle(float).constantsLength();
  rows.push(
    `${name.padEnd(13)} float ${split(float).padEnd(40)} int8 ${split(int8).padEnd(38)} ratio ${r.toFixed(3)}${r <= 0.3 ? '' : ' > 0.3'} (constants alone ${rc.toFixed(3)})`,
  );
}

async function calibrated(name: string, file: string, calib: Float32Array[] | undefined): Promise<void> {
  if (!existsSync(file)) {
    rows.push(`${name}: ${file} not found; skipped`);
    return;
  }
  if (!calib || calib.length === 0) {
    rows.push(`${name}: no calibration data under ${data}; skipped`);
    return;
  }
  const g = loadOnnx(file);
  const float = compileGraph(g, cliOptions(file)).bundle;
  const quant = { calibration: 'calib.npy', method: 'minmax', keepFloat: [] };
  const { bundle } = await compileQuantized(
    g,
    { samples: { input: g.inputs[0]!, data: calib }, method: 'minmax' },
    cliOptions(file, quant),
  );
  report(name, float, bundle);
}

const read = (...p: string[]) => (existsSync(join(...p)) ? new Uint8Array(readFileSync(join(...p))) : undefined);
const mnist = read(data, 'mnist', 'calib_images_u8.bin');
await calibrated('mnist-8', join(models, 'mnist-8.onnx'), mnist && samples(mnist, 784, 32, (q) => q / 255));
// fashion_cnn takes 28×28 images as mnist-8 does; scales only, so mnist digits serve when Fashion-MNIST is absent
await calibrated('fashion_cnn', join(models, 'fashion_cnn.onnx'), mnist && samples(mnist, 784, 32, (q) => q / 255));
const kws = read(data, 'kws', 'features_i8.bin');
await calibrated(
  'kws_dscnn',
  join(models, 'kws_dscnn.onnx'),
  kws && samples(new Int8Array(kws.buffer, kws.byteOffset, kws.length), 490, 32, (q) => (q - 83) * 0.5847029089927673),
);

// Bench models: int8 = the QDQ s8s8 model with its own scales (as scripts/int8-accuracy.ts)
for (const name of ['mlp', 'cnn_small', 'mobilenet_v2']) {
  const plain = join(models, 'bench', `${name}.onnx`),
    qdq = join(models, 'bench', `${name}_qdq_s8s8.onnx`);
  if (!existsSync(plain) || !existsSync(qdq)) {
    rows.push(`${name}: ${plain} or its _qdq_s8s8 twin not found; skipped`);
    continue;
  }
  const float = compileGraph(loadOnnx(plain), cliOptions(plain)).bundle;
  const q = await quantize(loadOnnx(qdq));
  const int8 = compileGraph(q.graph, { ...cliOptions(qdq, { qdq: true }), skipPasses: true }).bundle;
  report(name, float, int8);
}
for (const r of rows) console.log(r);
