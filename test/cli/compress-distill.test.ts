// compress → distill → int8 end to end on the real examples/mnist model and its 500 real images, in
// seconds: half its channels go, two epochs of distillation from the original win the accuracy back, and
// the int8 bundle written scores under `edgec eval` exactly what the report says. Then the recovery
// flags' bad input: one clear usage error, nothing written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, edgecIn } from './run-edgec.ts';

const EX = join(ROOT, 'examples/mnist');
const MODEL = join(EX, 'model.json');
const IMAGES = join(EX, 'images.npy');
const LABELS = join(EX, 'labels_u8.npy');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-compress-distill-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);

const RECOVER = ['--distill', '--data', IMAGES, '--labels', LABELS, '--epochs', '2', '--optimizer', 'adam'];

test('compress 50 % → distill 2 epochs → int8 bundle: recovered, and edgec eval agrees with the report', () => {
  const r = edgec(
    'compress',
    MODEL,
    '-o',
    at('small.edgec'),
    '--prune-channels',
    '0.5',
    '--round-to',
    '4',
    ...RECOVER,
    '--lr',
    '0.002',
    '--threads',
    '1',
    '--quantize',
    'int8',
    '--calibration',
    IMAGES,
    '--val-data',
    IMAGES,
    '--val-labels',
    LABELS,
    '--report',
    at('r.json'),
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /distill: 500 samples, 15 steps per epoch × 2 = 30; loss kd \+ ce/);
  const rep = JSON.parse(readFileSync(at('r.json'), 'utf8')) as {
    before: { top1: number; macs: number };
    beforeRecovery: { top1: number; macs: number };
    after: { top1: number; macs: number };
    distill: { epochs: { validation: number }[] };
  };
  assert.is(rep.distill.epochs.length, 2);
  assert.ok(rep.after.macs < 0.55 * rep.before.macs, `MACs ${rep.before.macs} → ${rep.after.macs}`);
  assert.is(rep.beforeRecovery.macs, rep.after.macs, 'distillation changes weights, not shapes');
  // the model was trained on these images: recovery must close most of the gap pruning opened
  const gap = rep.before.top1 - rep.beforeRecovery.top1;
  assert.ok(gap > 0.02, `pruning alone costs accuracy (${rep.before.top1} → ${rep.beforeRecovery.top1})`);
  assert.ok(rep.after.top1 >= rep.before.top1 - gap / 4, JSON.stringify(rep.after));
  const e = edgec('eval', at('small.edgec'), '-i', IMAGES, '--labels', LABELS);
  assert.is(e.code, 0, e.err);
  assert.match(edgec('inspect', at('small.edgec')).out, /Conv2D_QS8/);
  assert.is(Number(/\((\d+)\/500\)/.exec(e.out)![1]) / 500, rep.after.top1);
});

test('recovery flags: bad input is one usage error, nothing written', () => {
  const cases: [string[], RegExp][] = [
    [['--epochs', '2'], /--epochs is a recovery flag: give --distill too/],
    [['--distill'], /--distill trains on data: give --data x.npy/],
    [
      ['--distill', '--data', IMAGES, '--alpha', '0.5'],
      /--alpha 0.5 mixes in the labels' cross-entropy: give --labels/,
    ],
    [['--distill', '--data', IMAGES, '--temperature', '0'], /--temperature expects a temperature > 0, got '0'/],
    [[...RECOVER, '--batch', '0'], /--batch expects a whole number ≥ 1, got '0'/],
  ];
  for (const [flags, message] of cases) {
    const r = edgec('compress', MODEL, '-o', at('bad.json'), '--prune-channels', '0.5', ...flags);
    assert.is(r.code, 2, `${flags.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.not.ok(existsSync(at('bad.json')));
  }
});

test.run();
