// The train flags shared by `edgec train` and `edgec distill`: defaults, the optimiser each flag set
// builds, the step:N shorthand, and one usage error per bad value naming the flag.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgs } from 'node:util';
import { parseTrainFlags, TRAIN_FLAGS, TRAIN_FLAGS_HELP } from '../../compiler/cli/train-flags.ts';
import { UsageError } from '../../compiler/cli/errors.ts';

const parse = (...args: string[]) =>
  parseTrainFlags(
    parseArgs({ args: ['--data', 'x.npy', '--labels', 'y.npy', ...args], options: TRAIN_FLAGS, strict: true }).values,
  );

test('defaults: one epoch, batch 32, plain SGD at 0.01, constant schedule, seed 0, nothing frozen', () => {
  const f = parse();
  assert.equal(
    [f.epochs, f.batch, f.seed, f.labelSmoothing, f.clipNorm, f.init, f.val],
    [1, 32, 0, 0, undefined, undefined, undefined],
  );
  assert.equal(f.optimizer, { kind: 'sgd', momentum: 0, nesterov: false, weightDecay: 0 });
  assert.equal(f.schedule(100), { kind: 'constant', lr: 0.01, warmup: 0 });
  assert.equal(f.augment, { cropPad: 0, flip: false });
  assert.equal(f.frozen, []);
});

test('optimisers, schedule shorthand, augmentation, freeze lists', () => {
  const f = parse(
    '--optimizer',
    'adamw',
    '--lr',
    '0.003',
    '--schedule',
    'cosine',
    '--warmup',
    '10',
    '--augment',
    'crop=2,flip',
    '--freeze',
    'a,b',
    '--freeze',
    'c',
    '--epochs',
    '3',
    '--batch',
    '8',
    '--seed',
    '7',
    '--init',
    'he',
    '--clip-norm',
    '1.5',
  );
  assert.equal(f.optimizer, { kind: 'adamw', weightDecay: 0.01 });
  assert.equal(f.schedule(300), { kind: 'cosine', lr: 0.003, warmup: 10, totalSteps: 300, minLr: 0 });
  assert.equal(
    [f.augment, f.frozen, f.epochs, f.batch, f.seed, f.init, f.clipNorm],
    [{ cropPad: 2, flip: true }, ['a', 'b', 'c'], 3, 8, 7, 'he', 1.5],
  );
  assert.equal(parse('--schedule', 'step:20:0.5').schedule(100), {
    kind: 'step',
    lr: 0.01,
    warmup: 0,
    stepSize: 20,
    gamma: 0.5,
  });
  assert.equal(parse('--momentum', '0.9', '--nesterov', '--weight-decay', '5e-4').optimizer, {
    kind: 'sgd',
    momentum: 0.9,
    nesterov: true,
    weightDecay: 5e-4,
  });
  assert.equal(parse('--optimizer', 'adam').schedule(1).lr, 0.001);
});

test('settings: equal flags give equal settings, any flag that changes the bytes changes them', () => {
  const a = JSON.stringify(parse('--lr', '0.1').settings);
  assert.is(JSON.stringify(parse('--lr', '0.1').settings), a);
  for (const extra of [
    ['--lr', '0.2'],
    ['--seed', '1'],
    ['--batch', '16'],
    ['--momentum', '0.5'],
    ['--augment', 'flip'],
    ['--warmup', '3'],
  ]) {
    assert.is.not(JSON.stringify(parse('--lr', '0.1', ...extra).settings), a, extra.join(' '));
  }
});

test('bad values: one usage error naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--epochs', '0'], /--epochs expects a whole number ≥ 1, got '0'/],
    [['--batch', '2.5'], /--batch expects a whole number ≥ 1/],
    [['--optimizer', 'rmsprop'], /--optimizer must be sgd, adam, adamw, got 'rmsprop'/],
    [['--nesterov'], /--nesterov needs --momentum/],
    [['--optimizer', 'adam', '--momentum', '0.9'], /--momentum applies to --optimizer sgd only/],
    [['--lr=-1'], /--lr expects a rate > 0/],
    [['--schedule', 'linear'], /--schedule must be constant, step, cosine/],
    [['--schedule', 'step'], /--schedule step needs --step-size N/],
    [['--label-smoothing', '1'], /--label-smoothing expects a value in \[0, 1\)/],
    [['--init', 'glorot'], /--init must be he or xavier, got 'glorot'/],
    [['--augment', 'rotate'], /unknown augmentation 'rotate'/],
    [['--val-data', 'v.npy'], /--val-data needs --val-labels/],
    [['--seed=-3'], /--seed expects a whole number ≥ 0/],
  ];
  for (const [args, re] of cases) {
    try {
      parse(...args);
      assert.unreachable(args.join(' '));
    } catch (e) {
      assert.instance(e, UsageError, args.join(' '));
      assert.match((e as Error).message, re);
    }
  }
  assert.throws(() => parseTrainFlags({ labels: 'y.npy' }), /missing --data/);
  assert.not.throws(() => parseTrainFlags({}, { needData: false }));
});

test('help lists every flag', () => {
  for (const k of Object.keys(TRAIN_FLAGS)) assert.ok(TRAIN_FLAGS_HELP.includes(`--${k}`), k);
});

test.run();
