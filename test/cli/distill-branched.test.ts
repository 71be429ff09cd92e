// `edgec distill` on a branched student as a user runs it: the shipped early-exit MNIST model on the 100 shipped
// calibration digits (examples/branches) writes a model.json + weights whose outputs equal the library's trained
// model, a report with accuracy / agreement / MACs per threshold before and after, the same table on stdout; bad
// input is one error naming the flag or model field, and nothing is written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BranchedReport } from '../../compiler/distill/branched.ts';
import { loadBlockModel } from '../../compiler/cli/branches.ts';
import { compileBlockModel } from '../../compiler/lower/branches.ts';
import { loadNpy } from '../../compiler/io/npy.ts';
import { load } from '../../runtime/node.ts';
import { edgecIn, ROOT } from './run-edgec.ts';

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
