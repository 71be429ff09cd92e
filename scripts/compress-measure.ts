// Compression numbers for docs/compression.md (issue 14): `edgec compress` on fashion_cnn (Fashion-MNIST:
// 64 train images calibrate, 1,000 test images score), kws_dscnn (its shared features: first 200 calibrate,
// next 800 score) and bench/mobilenet_v2 (no data: the bench input and 7 Gaussian inputs calibrate and
// measure output agreement), uniform 50 % and --target-macs 0.5, thinet with and without its least-squares
// refit, and layer pruning, before any recovery. Runs the CLI itself.
// Usage: node --import tsx scripts/compress-measure.ts <shared dir> [--only NAME [--flags 'F1 F2 …']]
// (--flags: run only that configuration on the --only model)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { main } from '../compiler/cli.ts';
import { loadNpy, saveNpy } from '../compiler/io/npy.ts';

const args = process.argv.slice(2);
const shared = args[0];
if (!shared || !existsSync(join(shared, 'models'))) {
  console.error('usage: node --import tsx scripts/compress-measure.ts <shared dir> [--only NAME]');
  process.exit(2);
}
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const oneConfig = args.includes('--flags') ? args[args.indexOf('--flags') + 1]!.split(' ') : undefined;
const tmp = mkdtempSync(join(tmpdir(), 'edgec-compress-measure-'));
const FASHION = '/usr/share/datasets/fashion-mnist';

interface Data {
  calib: string;
  val?: string;
  labels?: string;
}

function save(name: string, shape: number[], data: Float32Array | Int32Array): string {
  const p = join(tmp, `${name}.npy`);
  saveNpy(p, { shape, data });
  return p;
}

function fashion(): Data | undefined {
  if (!existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'))) return undefined;
  const rd = (f: string, skip: number) => new Uint8Array(gunzipSync(readFileSync(join(FASHION, f))).subarray(skip));
  const train = rd('train-images-idx3-ubyte.gz', 16),
    test = rd('t10k-images-idx3-ubyte.gz', 16),
    tl = rd('t10k-labels-idx1-ubyte.gz', 8);
  return {
    calib: save(
      'fashion-calib',
      [64, 1, 28, 28],
      Float32Array.from(train.subarray(0, 64 * 784), (q) => q / 255),
    ),
    val: save(
      'fashion-val',
      [1000, 1, 28, 28],
      Float32Array.from(test.subarray(0, 1000 * 784), (q) => q / 255),
    ),
    labels: save('fashion-labels', [1000], Int32Array.from(tl.subarray(0, 1000))),
  };
}

function kws(): Data {
  const dir = join(shared!, 'data', 'kws');
  const raw = new Int8Array(readFileSync(join(dir, 'features_i8.bin')).buffer.slice(0));
  const labels = new Uint8Array(readFileSync(join(dir, 'labels_u8.bin')));
  const f = (from: number, n: number) =>
    Float32Array.from(raw.subarray(from * 490, (from + n) * 490), (q) => (q - 83) * 0.5847029089927673);
  return {
    calib: save('kws-calib', [200, 1, 49, 10], f(0, 200)),
    val: save('kws-val', [800, 1, 49, 10], f(200, 800)),
    labels: save('kws-labels', [800], Int32Array.from(labels.subarray(200, 1000))),
  };
}

function mobilenet(): Data {
  const x = loadNpy(join(shared!, 'models', 'bench', 'mobilenet_v2.input.npy')).data as Float32Array;
  let seed = 12345;
  const uniform = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed + 0.5) / 4294967296;
  };
  const data = new Float32Array(8 * x.length);
  data.set(x);
  for (let i = x.length; i < data.length; i++)
    data[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const p = save('mobilenet-calib', [8, 3, 224, 224], data);
  return { calib: p, val: p };
}

async function run(name: string, model: string, data: Data, flags: string[]): Promise<void> {
  const rep = join(tmp, `${name}.json`);
  const argv = [
    'compress',
    model,
    '-o',
    join(tmp, `${name}.onnx`),
    ...flags,
    '--calibration',
    data.calib,
    '--report',
    rep,
    ...(data.val ? ['--val-data', data.val] : []),
    ...(data.labels ? ['--val-labels', data.labels] : []),
  ];
  const log = console.log;
  console.log = () => {};
  const code = await main(argv);
  console.log = log;
  if (code !== 0) {
    console.log(`${name} ${flags.join(' ')}: failed (exit ${code})`);
    return;
  }
  const r = JSON.parse(readFileSync(rep, 'utf8')) as {
    before: { macs: number; params: number; latencyMs: number; bundleBytes: number; top1?: number };
    after: { macs: number; params: number; latencyMs: number; bundleBytes: number; top1?: number };
    agreement?: { top1: number; relError: number };
  };
  const { before: b, after: a } = r;
  const pct = (x: number, y: number) => `${((100 * (y - x)) / x).toFixed(1)} %`;
  console.log(
    `| ${name} | ${flags.join(' ')} | ${b.macs.toLocaleString('en-US')} → ${a.macs.toLocaleString('en-US')} (${pct(b.macs, a.macs)}) | ` +
      `${b.params.toLocaleString('en-US')} → ${a.params.toLocaleString('en-US')} | ${b.bundleBytes.toLocaleString('en-US')} → ${a.bundleBytes.toLocaleString('en-US')} | ` +
      `${b.latencyMs.toFixed(3)} → ${a.latencyMs.toFixed(3)} ms (${pct(b.latencyMs, a.latencyMs)}) | ` +
      `${b.top1 !== undefined ? `${(100 * b.top1).toFixed(1)} → ${(100 * a.top1!).toFixed(1)} %` : '—'} | ` +
      `${r.agreement ? `${(100 * r.agreement.top1).toFixed(1)} %, ${r.agreement.relError.toExponential(2)}` : '—'} |`,
  );
}

console.log(
  '| model | flags | MACs | params | float bundle bytes | simd latency (median) | top-1 (val) | agreement: top-1, rel. sq. error |',
);
console.log('|---|---|---|---|---|---|---|---|');
const models = join(shared, 'models');
const jobs: [string, string, () => Data | undefined, string[][]][] = [
  [
    'fashion_cnn',
    join(models, 'fashion_cnn.onnx'),
    fashion,
    [
      ['--prune-channels', '0.5'],
      ['--target-macs', '0.5'],
      ['--prune-channels', '0.1', '--round-to', '1'],
      ...['0.25', '0.5'].flatMap((r) =>
        ['none', 'ls'].map((refit) => ['--prune-channels', r, '--importance', 'thinet', '--refit', refit]),
      ),
    ],
  ],
  [
    'kws_dscnn',
    join(models, 'kws_dscnn.onnx'),
    kws,
    [
      ['--prune-channels', '0.5'],
      ['--target-macs', '0.5'],
      ['--prune-layers', '1'],
      ['--prune-layers', '2'],
      ['--prune-layers', 'auto'],
      ['--prune-layers', '2', '--prune-channels', '0.25', '--factorize', 'svd,separable', '--energy', '0.95'],
    ],
  ],
  [
    'mobilenet_v2',
    join(models, 'bench', 'mobilenet_v2.onnx'),
    mobilenet,
    [
      ['--prune-channels', '0.5'],
      ['--prune-channels', '0.25'],
      ['--prune-layers', '2'],
      ['--prune-layers', 'auto'],
    ],
  ],
];
for (const [name, model, data, configs] of jobs) {
  if (only && only !== name) continue;
  const d = data();
  if (!d) {
    console.log(`| ${name} | data not found | | | | | | |`);
    continue;
  }
  for (const flags of oneConfig ? [oneConfig] : configs) await run(name, model, d, flags);
}
rmSync(tmp, { recursive: true, force: true });
