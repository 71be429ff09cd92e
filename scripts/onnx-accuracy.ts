// Measures edgec against ONNX Runtime on full data sets (issue 3's acceptance numbers): top-1 accuracy
// of both, and the share of samples where their top-1 agree, for mnist-8 (10,000 MNIST test images),
// kws_dscnn (1000 KWS samples) and fashion_cnn (10,000 Fashion-MNIST test images), on both runtime
// builds; and bench/mobilenet_v2 against its recorded output (max abs diff, target ≤ 1e-4).
// Usage: node --import tsx scripts/onnx-accuracy.ts <shared dir> [--build simd|scalar|both] [--limit N]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { loadOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { loadNpy } from '../compiler/io/npy.ts';
import { load } from '../runtime/node.ts';

const args = process.argv.slice(2);
const shared = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
if (!shared) {
  console.error(
    'usage: node --import tsx scripts/onnx-accuracy.ts <shared dir> [--build simd|scalar|both] [--limit N]',
  );
  process.exit(2);
}
const builds =
  opt('build', 'both') === 'both' ? (['simd', 'scalar'] as const) : [opt('build', 'simd') as 'simd' | 'scalar'];
const limit = Number(opt('limit', '0')) || Infinity;
const FASHION = '/usr/share/datasets/fashion-mnist';

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

interface DataSet {
  samples: Float32Array[];
  labels: Uint8Array;
}

function mnistLike(images: Uint8Array, labels: Uint8Array): DataSet {
  const n = Math.min(labels.length, limit);
  const samples: Float32Array[] = [];
  for (let i = 0; i < n; i++) samples.push(Float32Array.from(images.subarray(i * 784, (i + 1) * 784), (q) => q / 255));
  return { samples, labels: labels.subarray(0, n) };
}

function kws(dir: string): DataSet {
  const raw = new Int8Array(readFileSync(join(dir, 'features_i8.bin')).buffer.slice(0));
  const labels = new Uint8Array(readFileSync(join(dir, 'labels_u8.bin')));
  const n = Math.min(labels.length, limit);
  const samples: Float32Array[] = [];
  for (let i = 0; i < n; i++)
    samples.push(Float32Array.from(raw.subarray(i * 490, (i + 1) * 490), (q) => (q - 83) * 0.5847029089927673));
  return { samples, labels: labels.subarray(0, n) };
}

async function measure(model: string, input: string, shape: number[], data: DataSet): Promise<void> {
  const session = await ort.InferenceSession.create(readFileSync(model), { executionProviders: ['wasm'] });
  const ortTop: number[] = [];
  for (const s of data.samples) {
    const r = await session.run({ [input]: new ort.Tensor('float32', s, shape) });
    ortTop.push(argmax(r[session.outputNames[0]].data as Float32Array));
  }
  const n = data.samples.length;
  const ortAcc = ortTop.filter((t, i) => t === data.labels[i]).length / n;
  const graph = loadOnnx(model);
  for (const build of builds) {
    const m = await load(compileGraph(graph, { target: build }).bundle, { build });
    let correct = 0;
    let agree = 0;
    const t0 = performance.now();
    data.samples.forEach((s, i) => {
      const top = argmax(m.run({ [input]: s })[graph.outputs[0]]);
      if (top === data.labels[i]) correct++;
      if (top === ortTop[i]) agree++;
    });
    const ms = (performance.now() - t0) / n;
    console.log(
      `${model.split('/').pop()} [${build}] n=${n}: edgec top-1 ${((100 * correct) / n).toFixed(2)} %, onnxruntime ${(100 * ortAcc).toFixed(2)} %, top-1 agreement ${((100 * agree) / n).toFixed(2)} % (${n - agree} differ), ${ms.toFixed(2)} ms/sample`,
    );
  }
  await session.release();
}

const models = join(shared, 'models');
const data = join(shared, 'data');
await measure(
  join(models, 'mnist-8.onnx'),
  'Input3',
  [1, 1, 28, 28],
  mnistLike(
    new Uint8Array(readFileSync(join(data, 'mnist', 'test_images_u8.bin'))),
    new Uint8Array(readFileSync(join(data, 'mnist', 'test_labels_u8.bin'))),
  ),
);
await measure(join(models, 'kws_dscnn.onnx'), 'input_1', [1, 1, 49, 10], kws(join(data, 'kws')));
if (existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz'))) {
  const images = gunzipSync(readFileSync(join(FASHION, 't10k-images-idx3-ubyte.gz'))).subarray(16);
  const labels = gunzipSync(readFileSync(join(FASHION, 't10k-labels-idx1-ubyte.gz'))).subarray(8);
  await measure(
    join(models, 'fashion_cnn.onnx'),
    'input',
    [1, 1, 28, 28],
    mnistLike(new Uint8Array(images), new Uint8Array(labels)),
  );
} else {
  console.log(`fashion_cnn: ${FASHION} not found (apt-get install dataset-fashion-mnist); skipped`);
}

const mb = join(models, 'bench', 'mobilenet_v2');
const x = loadNpy(`${mb}.input.npy`).data as Float32Array;
const want = loadNpy(`${mb}.output.npy`).data as Float32Array;
const graph = loadOnnx(`${mb}.onnx`);
for (const build of builds) {
  const t0 = performance.now();
  const { bundle } = compileGraph(graph, { target: build });
  const tc = performance.now() - t0;
  const m = await load(bundle, { build });
  const t1 = performance.now();
  const got = m.run({ input: x })[graph.outputs[0]];
  const tr = performance.now() - t1;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
  console.log(
    `mobilenet_v2 [${build}]: max abs diff vs mobilenet_v2.output.npy ${maxAbs.toExponential(3)} (target ≤ 1e-4: ${maxAbs <= 1e-4 ? 'met' : 'NOT met'}), top-1 ${argmax(got)} vs ${argmax(want)}, compile ${tc.toFixed(0)} ms, run ${tr.toFixed(0)} ms`,
  );
}
