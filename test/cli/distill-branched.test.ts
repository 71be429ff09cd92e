// `edgec distill` on a branched student as a user runs it: the shipped early-exit MNIST model on the 100 shipped
// calibration digits (examples/branches) writes a model.json + weights whose outputs equal the library's trained
// model, a report with accuracy / agreement / MACs per threshold before and after, the same table on stdout;
// --quantize int8 writes the int8 bundle its report's int8 columns describe; Ctrl-C writes a checkpoint and
// --resume ends on the uninterrupted run's bytes; bad input is one error naming the flag or model field, and
// nothing is written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BranchedReport } from '../../compiler/distill/branched.ts';
import { loadBlockModel } from '../../compiler/cli/branches.ts';
import { readBundle, fb } from '../../compiler/emit/bundle-writer.ts';
import { compileBlockModel } from '../../compiler/lower/branches.ts';
import { loadNpy } from '../../compiler/io/npy.ts';
import { load } from '../../runtime/node.ts';
import { CLI, edgecIn, ROOT } from './run-edgec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-distill-branched-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);
const EX = join(ROOT, 'examples');
const DATA = [
  '--data',
  join(EX, 'branches/calib.npy'),
  '--labels',
  join(EX, 'branches/calib_labels.npy'),
  '--val-data',
  join(EX, 'mnist/images.npy'),
  '--val-labels',
  join(EX, 'mnist/labels_u8.npy'),
];

test('early exit: model.json + weights, stdout table and --report before / after per threshold', async () => {
  const r = edgec(
    'distill',
    join(EX, 'branches/early-exit.json'),
    ...DATA,
    '--exit-weights',
    '1,0',
    '--freeze',
    'Convolution28',
    '--optimizer',
    'adam',
    '--epochs',
    '2',
    '--batch',
    '20',
    '--thresholds',
    '0.9,0.99',
    '-o',
    'ee.json',
    '--report',
    'ee-report.json',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /exits epoch 2\/2: loss [\d.]+ \(kd:exit1 [\d.]+, ce:exit1 [\d.]+\)/);
  assert.match(r.out, /scored on 500 samples \(validation\); full network 98\.60 % at 795,136 MACs/);
  const rep = JSON.parse(readFileSync(join(tmp, 'ee-report.json'), 'utf8')) as BranchedReport;
  assert.equal(
    rep.thresholds.map((t) => t.threshold),
    [0.9, 0.99],
  );
  for (const t of rep.thresholds) {
    const line = r.out.split('\n').find((l) => l.startsWith(`${t.threshold} `))!;
    assert.ok(line.includes(`${(100 * t.after.accuracy!).toFixed(2)} %`), line);
    assert.ok(line.includes(Math.round(t.before.macs).toLocaleString('en-US')), line);
  }
  // the written model runs as the shipped one does (same structure), with the trained head
  const json = JSON.parse(readFileSync(join(tmp, 'ee.json'), 'utf8'));
  assert.is(json.weights, 'ee.bin');
  const shipped = JSON.parse(readFileSync(join(EX, 'branches/early-exit.json'), 'utf8'));
  assert.equal(json.nodes, shipped.nodes);
  const m = await load(compileBlockModel(loadBlockModel(join(tmp, 'ee.json'))!).bundle);
  const x = loadNpy(join(EX, 'mnist/images.npy')).data as Float32Array;
  const y = loadNpy(join(EX, 'mnist/labels_u8.npy')).data as Uint8Array;
  const d = m.runDetailed({ Input3: x });
  const o = d.outputs.Plus214_Output_0 as Float32Array;
  let ok = 0;
  for (let i = 0; i < 500; i++) {
    let b = 0;
    for (let c = 1; c < 10; c++) if (o[i * 10 + c]! > o[i * 10 + b]!) b = c;
    if (b === y[i]) ok++;
  }
  // the model file at its own threshold (0.9) is the report's 0.9 row
  assert.is(ok / 500, rep.thresholds[0]!.after.accuracy);
  assert.is(d.samples.reduce((a, s) => a + s.macs, 0) / 500, rep.thresholds[0]!.after.macs);
});

test('--quantize int8: the int8 bundle is written, and the int8 row of the report is what it does', async () => {
  const r = edgec(
    'distill',
    join(EX, 'branches/gated.json'),
    ...DATA,
    '--exit-weights',
    '1,0',
    '--freeze',
    'Convolution28',
    '--optimizer',
    'adam',
    '--epochs',
    '2',
    '--batch',
    '20',
    '--thresholds',
    '0.9',
    '--quantize',
    'int8',
    '-o',
    'g8.edgec',
    '--report',
    'g8-report.json',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /\| int8: top-1 +agree +MACs +cheap +route=float/);
  assert.match(r.out, /int8 bundle [\d,]+ bytes \(float [\d,]+\), every piece calibrated on 100 training rows/);
  const rep = JSON.parse(readFileSync(join(tmp, 'g8-report.json'), 'utf8')) as BranchedReport;
  const q = new Uint8Array(readFileSync(join(tmp, 'g8.edgec')));
  assert.is(rep.int8!.bundleBytes, q.length);
  const b = readBundle(q);
  let i8 = 0;
  for (let k = 0; k < b.tensorsLength(); k++) if (b.tensors(k)!.dtype() === fb.DType.I8) i8++;
  assert.ok(i8 > 5, `${i8} int8 tensors`);
  const d = (await load(q)).runDetailed({ Input3: loadNpy(join(EX, 'mnist/images.npy')).data as Float32Array });
  const o = d.outputs.Plus214_Output_0 as Float32Array;
  const y = loadNpy(join(EX, 'mnist/labels_u8.npy')).data as Uint8Array;
  let ok = 0;
  for (let i = 0; i < 500; i++) {
    let k = 0;
    for (let c = 1; c < 10; c++) if (o[i * 10 + c]! > o[i * 10 + k]!) k = c;
    if (k === y[i]) ok++;
  }
  const row = rep.thresholds[0]!.int8!;
  assert.is(row.accuracy, ok / 500);
  assert.is(row.macs, d.samples.reduce((a, s) => a + s.macs, 0) / 500);
  assert.ok(row.sameRoute >= 0.97, `int8 takes the float route on ${row.sameRoute}`);
});

/** Runs `edgec …args`, sends SIGINT once stdout shows `trigger`; resolves with the exit code and output. */
function interrupted(args: string[], trigger: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...CLI, ...args], { cwd: tmp, env: { ...process.env, EDGEC_DEBUG: '' } });
    let out = '',
      err = '',
      sent = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!sent && trigger.test(out)) {
        sent = true;
        p.kill('SIGINT');
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('Ctrl-C writes a checkpoint and exits 130; --resume ends on the bytes of an uninterrupted run', async () => {
  // 500 digits, 3 + 3 epochs: enough batches after the first epoch line for the signal to land mid-run
  const args = [
    'distill',
    join(EX, 'branches/gated.json'),
    '--data',
    join(EX, 'mnist/images.npy'),
    '--labels',
    join(EX, 'mnist/labels_u8.npy'),
    '--exit-weights',
    '1,0',
    '--freeze',
    'Convolution28',
    '--optimizer',
    'adam',
    '--epochs',
    '3',
    '--batch',
    '20',
    '--thresholds',
    '0.9',
  ];
  const full = edgec(...args, '-o', 'full.json');
  assert.is(full.code, 0, full.err);
  const stop = await interrupted([...args, '--checkpoint', 'ck', '-o', 'part.json'], /^exits epoch 1\/3/m);
  assert.is(stop.code, 130, stop.out + stop.err);
  assert.match(
    stop.out,
    /interrupted in phase \d at step [\d,]+: checkpoint written to \S+; continue with --resume ck/,
  );
  assert.not.ok(existsSync(join(tmp, 'part.json')), 'no output after Ctrl-C');
  const resumed = edgec(...args, '--resume', 'ck', '-o', 'part.json');
  assert.is(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /resumed from ck\/checkpoint\.edgeckpt at phase \d, step [\d,]+/);
  assert.ok(
    readFileSync(join(tmp, 'full.bin')).equals(readFileSync(join(tmp, 'part.bin'))),
    'resumed run ends on the same weights',
  );
  // other flags than the checkpoint's: refused naming the file
  const other = edgec(...args.slice(0, -4), '--epochs', '4', '--batch', '20', '--resume', 'ck', '-o', 'x.json');
  assert.is(other.code, 1, other.out + other.err);
  assert.match(other.err, /checkpoint\.edgeckpt: was written by a run with other settings/);
});

test('bad input: one error naming the flag or field; nothing written', () => {
  const before = readdirSync(tmp).sort();
  const bad = (code: number, re: RegExp, ...args: string[]) => {
    const r = edgec('distill', ...args, '--epochs', '1', '--batch', '20', '-o', 'bad.json');
    assert.is(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
  };
  const ee = join(EX, 'branches/early-exit.json');
  bad(1, /exitWeights: expected 2 weights ≥ 0, not all 0 \(exit1, full\)/, ee, ...DATA, '--exit-weights', '1,1,1');
  bad(2, /--exit-weights expects weights ≥ 0/, ee, ...DATA, '--exit-weights', '1,x');
  bad(2, /--hint is not available for a branched student/, ee, ...DATA, '--hint', 'a:b');
  bad(2, /--quantize int8 writes an int8 bundle: give -o <out\.edgec>/, ee, ...DATA, '--quantize', 'int8');
  bad(
    2,
    /--exit-weights needs a branched student/,
    join(EX, 'mnist/model.json'),
    '--teacher',
    join(EX, 'mnist/model.json'),
    ...DATA,
    '--exit-weights',
    '1',
  );
  bad(1, /frozen node 'nope'.*not in the model/, ee, ...DATA, '--freeze', 'nope');
  assert.equal(readdirSync(tmp).sort(), before);
  assert.not.ok(existsSync(join(tmp, 'bad.json')));
});

test.run();
