// Compression with recovery on Fashion-MNIST for docs/compression.md (issue 14's targets: ≥ 50 % fewer
// MACs, ≤ 1 pt accuracy loss after --distill, simd latency −35 %): runs `edgec compress … --distill` on a
// model with the first N training images (the first 64 calibrate), scores the 10,000 test images, and
// prints one table row from its --report. A script, not a test: minutes of training.
// Usage: node --import tsx scripts/compress-recover.ts <model> <fmnist dir with {train,test}_{x,y}.npy>
//        [--train N] [--epochs E] [--lr F] [--name NAME] -- <compress flags, e.g. --prune-channels 0.5>
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../compiler/cli.ts';
import { loadNpy, saveNpy } from '../compiler/io/npy.ts';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const own = dash < 0 ? args : args.slice(0, dash),
  flags = dash < 0 ? [] : args.slice(dash + 1);
const [model, dir] = own;
if (!model || !dir || flags.length === 0) {
  console.error(
    'usage: node --import tsx scripts/compress-recover.ts <model> <fmnist dir> [--train N] [--epochs E] [--lr F] [--name NAME] -- <compress flags>',
  );
  process.exit(2);
}
const opt = (name: string, def: string) => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 ? own[i + 1]! : def;
};
const N = Number(opt('train', '20000')),
  EPOCHS = opt('epochs', '4'),
  LR = opt('lr', '0.001');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-compress-recover-'));
const x = loadNpy(join(dir, 'train_x.npy')),
  y = loadNpy(join(dir, 'train_y.npy'));
const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
const sub = (name: string, n: number, withLabels: boolean) => {
  const p = join(tmp, `${name}_x.npy`);
  saveNpy(p, { shape: [n, ...x.shape.slice(1)], data: (x.data as Float32Array).slice(0, n * per) });
  if (withLabels)
    saveNpy(join(tmp, `${name}_y.npy`), { shape: [n], data: Int32Array.from(y.data.slice(0, n), Number) });
  return p;
};
const train = sub('train', N, true),
  calib = sub('calib', 64, false);
const report = join(tmp, 'report.json');
const argv = [
  'compress',
  model,
  '-o',
  join(tmp, 'small.json'),
  ...flags,
  '--calibration',
  calib,
  '--val-data',
  join(dir, 'test_x.npy'),
  '--val-labels',
  join(dir, 'test_y.npy'),
  '--distill',
  '--data',
  train,
  '--labels',
  join(tmp, 'train_y.npy'),
  '--epochs',
  EPOCHS,
  '--batch',
  '64',
  '--optimizer',
  'adam',
  '--lr',
  LR,
  '--schedule',
  'cosine',
  '--seed',
  '1',
  '--report',
  report,
];
const t0 = performance.now();
const code = await main(argv);
if (code !== 0) process.exit(code);
interface Whole {
  macs: number;
  params: number;
  latencyMs: number;
  bundleBytes: number;
  top1: number;
}
const r = JSON.parse(readFileSync(report, 'utf8')) as { before: Whole; beforeRecovery: Whole; after: Whole };
const { before: b, beforeRecovery: c, after: a } = r;
const pct = (u: number, v: number) => `${((100 * (v - u)) / u).toFixed(1)} %`;
const f = (v: number) => v.toLocaleString('en-US');
console.log(
  `| ${opt('name', model)} | ${flags.join(' ')}, ${EPOCHS} epochs on ${f(N)} | ${f(b.macs)} → ${f(a.macs)} (${pct(b.macs, a.macs)}) | ` +
    `${f(b.params)} → ${f(a.params)} | ${b.latencyMs.toFixed(3)} → ${a.latencyMs.toFixed(3)} ms (${pct(b.latencyMs, a.latencyMs)}) | ` +
    `${(100 * b.top1).toFixed(2)} → ${(100 * c.top1).toFixed(2)} → ${(100 * a.top1).toFixed(2)} % (${(100 * (a.top1 - b.top1)).toFixed(2)} pt) | ` +
    `${((performance.now() - t0) / 1000).toFixed(0)} s |`,
);
rmSync(tmp, { recursive: true, force: true });
