// Int8 acceptance numbers (issue 4): top-1 of float vs int8 edgec on real data, calibrated on data
// disjoint from the test set — mnist-8 (calib_* → 10,000 test), kws_dscnn (first 200 → other 800),
// fashion_cnn (Fashion-MNIST train → 10,000 test) —, int8 vs float bundle size, and the QDQ bench
// models against onnxruntime's int8 outputs (share of elements within ±1 quantisation step).
// Usage: node --import tsx scripts/int8-accuracy.ts <shared dir> [--calibrate minmax|percentile|entropy|all]
//        [--calib N] [--limit N] [--build simd|scalar] [--auto-mixed DROP]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { loadNpy } from '../compiler/io/npy.ts';
import { CALIBRATION_METHODS, compileQuantized, quantize, type CalibrationMethod } from '../compiler/quantize/index.ts';
import { load } from '../runtime/node.ts';
import type { Graph } from '../compiler/ir/graph.ts';

const args = process.argv.slice(2);
const shared = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
if (!shared || !existsSync(join(shared, 'models'))) {
  console.error(
    'usage: node --import tsx scripts/int8-accuracy.ts <shared dir> [--calibrate minmax|percentile|entropy|all] [--calib N] [--limit N] [--build simd|scalar] [--auto-mixed DROP]',
  );
  process.exit(2);
}
const methodArg = opt('calibrate', 'all');
const methods: CalibrationMethod[] = methodArg === 'all' ? [...CALIBRATION_METHODS] : [methodArg as CalibrationMethod];
const calibN = Number(opt('calib', '500'));
const limit = Number(opt('limit', '0')) || Infinity;
const build = opt('build', 'simd') as 'simd' | 'scalar';
const autoMixed = args.includes('--auto-mixed') ? Number(opt('auto-mixed', '1')) : undefined;
const FASHION = '/usr/share/datasets/fashion-mnist';

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

interface DataSet {
  samples: Float32Array[];
  labels: Uint8Array;
}

function images(raw: Uint8Array, labels: Uint8Array, from: number, n: number): DataSet {
  const to = Math.min(labels.length, from + n);
  const samples: Float32Array[] = [];
  for (let i = from; i < to; i++) samples.push(Float32Array.from(raw.subarray(i * 784, (i + 1) * 784), (q) => q / 255));
  return { samples, labels: labels.subarray(from, to) };
}

function kws(dir: string, from: number, n: number): DataSet {
  const raw = new Int8Array(readFileSync(join(dir, 'features_i8.bin')).buffer.slice(0));
  const labels = new Uint8Array(readFileSync(join(dir, 'labels_u8.bin')));
  const to = Math.min(labels.length, from + n);
  const samples: Float32Array[] = [];
  for (let i = from; i < to; i++)
    samples.push(Float32Array.from(raw.subarray(i * 490, (i + 1) * 490), (q) => (q - 83) * 0.5847029089927673));
  return { samples, labels: labels.subarray(from, to) };
}

async function top1(bundle: Uint8Array, g: Graph, data: DataSet): Promise<number> {
  const m = await load(bundle, { build });
  let correct = 0;
  data.samples.forEach((s, i) => {
    if (argmax(m.run({ [g.inputs[0]!]: s })[g.outputs[0]!]!) === data.labels[i]) correct++;
  });
  return correct / data.samples.length;
}

async function measure(name: string, model: string, calib: DataSet, test: DataSet): Promise<void> {
  const g = loadOnnx(model);
  const fb = compileGraph(g, { target: build }).bundle;
  const fAcc = await top1(fb, g, test);
  for (const method of methods) {
    const t0 = performance.now();
    const { bundle, report } = await compileQuantized(
      g,
      { samples: { input: g.inputs[0]!, data: calib.samples }, method, autoMixed },
      { target: build },
    );
    const tc = (performance.now() - t0) / 1000;
    const qAcc = await top1(bundle, g, test);
    const drop = 100 * (fAcc - qAcc);
    const auto = report.autoFloat.length
      ? `; --auto-mixed ${autoMixed} kept float: ${report.autoFloat.join(', ')}`
      : '';
    console.log(
      `${name} [${method}${autoMixed !== undefined ? `, auto-mixed ${autoMixed}` : ''}, calib ${calib.samples.length}, test ${test.samples.length}]: float ${(100 * fAcc).toFixed(2)} %, int8 ${(100 * qAcc).toFixed(2)} % (drop ${drop.toFixed(2)} points${drop <= 1 ? ', within 1' : ', NOT within 1'}); bundle ${bundle.length} / ${fb.length} bytes = ${(bundle.length / fb.length).toFixed(3)}× float; ${report.floatNodes.length} float nodes${report.floatNodes.length ? ` (${report.floatNodes.join(', ')})` : ''}${auto}; quantise ${tc.toFixed(1)} s`,
    );
  }
}

const models = join(shared, 'models');
const data = join(shared, 'data');
const mnistCalib = new Uint8Array(readFileSync(join(data, 'mnist', 'calib_images_u8.bin')));
const mnistCalibLabels = new Uint8Array(readFileSync(join(data, 'mnist', 'calib_labels_u8.bin')));
const mnistTest = new Uint8Array(readFileSync(join(data, 'mnist', 'test_images_u8.bin')));
const mnistTestLabels = new Uint8Array(readFileSync(join(data, 'mnist', 'test_labels_u8.bin')));
await measure(
  'mnist-8',
  join(models, 'mnist-8.onnx'),
  images(mnistCalib, mnistCalibLabels, 0, calibN),
  images(mnistTest, mnistTestLabels, 0, limit),
);
await measure(
  'kws_dscnn',
  join(models, 'kws_dscnn.onnx'),
  kws(join(data, 'kws'), 0, 200),
  kws(join(data, 'kws'), 200, Math.min(800, limit)),
);
if (existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz'))) {
  const rd = (f: string, skip: number) => new Uint8Array(gunzipSync(readFileSync(join(FASHION, f))).subarray(skip));
  await measure(
    'fashion_cnn',
    join(models, 'fashion_cnn.onnx'),
    images(rd('train-images-idx3-ubyte.gz', 16), rd('train-labels-idx1-ubyte.gz', 8), 0, calibN),
    images(rd('t10k-images-idx3-ubyte.gz', 16), rd('t10k-labels-idx1-ubyte.gz', 8), 0, limit),
  );
} else {
  console.log(`fashion_cnn: ${FASHION} not found (apt-get install dataset-fashion-mnist); skipped`);
}

// QDQ bench models: their own scales, compared with onnxruntime's int8 output within ±1 step
const bench = join(models, 'bench');
for (const f of readdirSync(bench)
  .filter((x) => /_qdq_.*\.onnx$/.test(x))
  .sort()) {
  const base = f.replace(/\.onnx$/, '');
  const plain = base.replace(/_qdq_.*$/, '');
  const g = loadOnnx(join(bench, f));
  const q = await quantize(g);
  const outQ = q.graph.tensors.get(q.graph.nodes.find((n) => n.outputs.includes(g.outputs[0]!))!.inputs[0]!)?.quant;
  const { bundle } = compileGraph(q.graph, { skipPasses: true, target: build });
  const m = await load(bundle, { build });
  const x = loadNpy(join(bench, `${plain}.input.npy`)).data as Float32Array;
  const want = loadNpy(join(bench, `${base}.output.npy`)).data as Float32Array;
  const got = m.run({ [g.inputs[0]!]: x })[g.outputs[0]!] as Float32Array;
  const step = outQ?.scale[0] ?? NaN;
  let within = 0,
    maxSteps = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) / step;
    if (d <= 1 + 1e-3) within++;
    maxSteps = Math.max(maxSteps, d);
  }
  const share = within / want.length;
  const fb = compileGraph(loadOnnx(join(bench, `${plain}.onnx`)), { target: build }).bundle;
  console.log(
    `${base}: ${(100 * share).toFixed(2)} % of ${want.length} outputs within ±1 step (${share >= 0.99 ? 'met' : 'NOT met'}, max ${maxSteps.toFixed(2)} steps of ${step.toExponential(3)}); ${q.report.floatNodes.length} float nodes; bundle ${bundle.length} / float ${fb.length} bytes = ${(bundle.length / fb.length).toFixed(3)}×`,
  );
}
