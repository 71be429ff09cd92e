// Learning-rate schedules: warm-up, constant / step / cosine values at named steps (float64, 1e-15),
// continuity at the warm-up boundary, monotone cosine decay, and the flag parser's usage errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeSchedule, learningRate, parseScheduleFlags, type Schedule } from '../../../compiler/train/schedule.ts';
import { UsageError } from '../../../compiler/cli/errors.ts';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-15, `${what}: ${a} vs ${b}`);

test('linear warm-up reaches the peak on its last step, then each schedule starts at the peak', () => {
  for (const kind of ['constant', 'step', 'cosine'] as const) {
    const s: Schedule = { kind, lr: 0.1, warmup: 4, stepSize: 10, gamma: 0.5, totalSteps: 104, minLr: 0 };
    assert.equal(
      [0, 1, 2, 3].map((t) => learningRate(s, t)),
      [0.025, 0.05, 0.07500000000000001, 0.1],
      kind,
    );
    assert.is(learningRate(s, 4), 0.1, kind);
  }
});

test('constant holds; step multiplies by gamma every stepSize steps after the warm-up', () => {
  assert.is(learningRate({ kind: 'constant', lr: 0.3, warmup: 0 }, 123456), 0.3);
  const s: Schedule = { kind: 'step', lr: 0.1, warmup: 4, stepSize: 10, gamma: 0.5 };
  assert.is(learningRate(s, 13), 0.1);
  assert.is(learningRate(s, 14), 0.05);
  assert.is(learningRate(s, 24), 0.025);
  assert.is(learningRate({ ...s, warmup: 0 }, 9), 0.1);
  assert.is(learningRate({ ...s, warmup: 0 }, 10), 0.05);
});

test('cosine: peak after warm-up, midpoint (lr + minLr) / 2, minLr at the end and after, monotone', () => {
  const s: Schedule = { kind: 'cosine', lr: 0.1, warmup: 4, totalSteps: 104, minLr: 0.01 };
  close(learningRate(s, 54), 0.055, 'midpoint');
  close(learningRate(s, 104), 0.01, 'end');
  assert.is(learningRate(s, 500), 0.01);
  close(learningRate(s, 29), 0.01 + (0.09 * (1 + Math.SQRT1_2)) / 2, 'quarter');
  let prev = Infinity;
  for (let t = 4; t <= 104; t++) {
    const lr = learningRate(s, t);
    assert.ok(lr <= prev, `step ${t}`);
    prev = lr;
  }
  assert.throws(() => learningRate(s, -1), /step must be an integer/);
});

test('parseScheduleFlags builds each schedule and refuses bad flags by name', () => {
  const opts = { totalSteps: 1000, defaultLr: 0.01 };
  assert.equal(parseScheduleFlags({}, opts), { kind: 'constant', lr: 0.01, warmup: 0 });
  assert.equal(parseScheduleFlags({ schedule: 'cosine', warmup: '100', lr: '0.1' }, opts), {
    kind: 'cosine',
    lr: 0.1,
    warmup: 100,
    totalSteps: 1000,
    minLr: 0,
  });
  assert.equal(parseScheduleFlags({ schedule: 'step', 'step-size': '30', gamma: '0.2' }, opts), {
    kind: 'step',
    lr: 0.01,
    warmup: 0,
    stepSize: 30,
    gamma: 0.2,
  });
  const bad: [Record<string, string>, RegExp][] = [
    [{ schedule: 'linear' }, /--schedule must be constant, step, cosine, got 'linear'/],
    [{ lr: '-1' }, /--lr expects a rate > 0, got '-1'/],
    [{ lr: 'abc' }, /--lr expects/],
    [{ warmup: '2.5' }, /--warmup expects a whole number/],
    [{ schedule: 'step' }, /--schedule step needs --step-size/],
    [{ schedule: 'step', 'step-size': '0' }, /--step-size expects/],
    [{ schedule: 'step', 'step-size': '5', gamma: '2' }, /--gamma expects a factor in \(0, 1\]/],
    [{ gamma: '0.5' }, /--gamma applies to --schedule step only/],
    [{ schedule: 'cosine', 'step-size': '3' }, /--step-size applies to --schedule step only/],
    [{ 'min-lr': '0' }, /--min-lr applies to --schedule cosine only/],
    [{ schedule: 'cosine', 'min-lr': '1' }, /--min-lr expects a rate in \[0, 0.01\]/],
    [{ schedule: 'cosine', warmup: '1000' }, /--warmup 1000 leaves no steps to decay over \(the run has 1000 steps\)/],
  ];
  for (const [flags, re] of bad) {
    try {
      parseScheduleFlags(flags, opts);
      assert.unreachable(JSON.stringify(flags));
    } catch (e) {
      assert.instance(e, UsageError, JSON.stringify(flags));
      assert.match((e as Error).message, re);
    }
  }
});

test('describeSchedule', () => {
  assert.is(
    describeSchedule(
      parseScheduleFlags({ schedule: 'cosine', warmup: '100', lr: '0.1' }, { totalSteps: 1000, defaultLr: 0.01 }),
    ),
    'cosine lr 0.1 → 0 over 1,000 steps, warm-up 100',
  );
  assert.is(
    describeSchedule({ kind: 'step', lr: 0.1, warmup: 0, stepSize: 30, gamma: 0.1 }),
    'step lr 0.1 × 0.1 every 30 steps',
  );
});

test.run();
