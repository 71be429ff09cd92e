// A branched distillation run stopped and resumed ends on the uninterrupted run's bytes: the shipped gated MNIST
// model (examples/branches; head and gate trained, trunk and full branch frozen) on its 100 calibration digits,
// 2 epochs of exits + 2 of the gate. Stopped after the first exits epoch, and again after the first gate epoch
// (each stop's state passed through a checkpoint file and back), the resumed runs run only the epochs left and
// give every trained tensor byte for byte, and the same report; a changed state ends elsewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBlockModel } from '../../../compiler/cli/branches.ts';
import { distillBranched, type BranchedJob, type BranchedState } from '../../../compiler/distill/branched.ts';
import { loadCheckpoint, saveCheckpoint } from '../../../compiler/train/checkpoint.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EX = join(ROOT, 'examples', 'branches');
const npy = (f: string) => loadNpy(join(ROOT, f)).data;
const x = npy('examples/branches/calib.npy') as Float32Array;
const y = Int32Array.from(npy('examples/branches/calib_labels.npy') as Uint8Array);
const tmp = mkdtempSync(join(tmpdir(), 'edgec-branched-resume-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const bm = loadBlockModel(join(EX, 'gated.json'))!;
const job: BranchedJob = {
  student: bm,
  data: { x, labels: y },
  exitWeights: [1, 0],
  epochs: 2,
  batch: 20,
  optimizer: { kind: 'adam' },
  lr: (t, total) => 0.002 * (1 - t / total),
  frozen: bm.pieces.flatMap((p) =>
    p.kind === 'graph'
      ? p.graph.nodes.map((n) => n.name)
      : p.kind === 'branch'
        ? p.branches.at(-1)!.nodes.map((n) => n.name)
        : [],
  ),
  thresholds: [0.9],
  seed: 3,
};

/** A state through the checkpoint file format and back (as the CLI stores it). */
function viaFile(s: BranchedState, name: string): BranchedState {
  const f32 = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, { shape: [v.length], data: v }]));
  saveCheckpoint(join(tmp, name), {
    modelHash: 'h',
    step: s.trainer.step,
    epoch: s.trainer.epoch,
    batch: s.trainer.batch,
    rng: { state: '0', inc: '1' },
    optimizer: { kind: 'adam' },
    weights: f32(s.trained),
    moments: new Map(),
    observers: f32(s.trainer.variables),
    extra: { phase: s.phase },
  });
  const ck = loadCheckpoint(join(tmp, name));
  const back = (m: Map<string, { data: ArrayLike<number> }>) =>
    new Map([...m].map(([k, v]) => [k, Float32Array.from(v.data)]));
  return {
    phase: ck.extra!.phase as number,
    trainer: { step: ck.step, epoch: ck.epoch, batch: ck.batch, variables: back(ck.observers) },
    trained: back(ck.weights),
  };
}

const bytes = (m: Map<string, Float32Array>) =>
  [...m]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`);

test('stopped after an exits epoch or a gate epoch, resumed: the uninterrupted bytes', async () => {
  const full = await distillBranched(job);
  assert.is(full.status, 'done');
  assert.equal([...full.weights.keys()].sort(), ['gate_b', 'gate_w', 'head_b', 'head_w']);
  for (const phase of ['exits', 'gate'] as const) {
    const stop = new AbortController();
    const part = await distillBranched({
      ...job,
      signal: stop.signal,
      onEpoch: (e) => {
        if (e.phase === phase && e.epoch === 0) stop.abort();
      },
    });
    assert.is(part.status, 'aborted', phase);
    const s = part.state!;
    assert.is(s.phase, phase === 'exits' ? 0 : 1);
    assert.is(s.trainer.epoch, 1, `${phase}: stopped at the start of the second epoch`);
    assert.equal([...s.trained.keys()].sort(), phase === 'exits' ? [] : ['head_b', 'head_w']);
    const rest = await distillBranched({ ...job, resume: viaFile(s, phase) });
    assert.is(rest.status, 'done');
    assert.equal(bytes(rest.weights), bytes(full.weights), `${phase}: resumed = uninterrupted`);
    assert.equal(rest.report.thresholds, full.report.thresholds);
    // only what was left ran: the resumed run's first epoch is the stopped phase's second
    assert.equal(
      rest.report.epochs.map((e) => `${e.phase} ${e.epoch}`),
      phase === 'exits' ? ['exits 1', 'gate 0', 'gate 1'] : ['gate 1'],
    );
    // and it continued from the state: another state ends elsewhere
    const moved = viaFile(s, `${phase}-moved`);
    const w = moved.trainer.variables.get(phase === 'exits' ? 'head_b' : 'gate_b')!;
    w[0] = w[0]! + 0.5;
    const other = await distillBranched({ ...job, resume: moved });
    assert.not.equal(bytes(other.weights), bytes(full.weights), `${phase}: the state is what continues`);
  }
});

test('a state of a phase the model does not have is refused', async () => {
  const e = await distillBranched({
    ...job,
    resume: { phase: 2, trainer: { step: 0, epoch: 0, batch: 0, variables: new Map() }, trained: new Map() },
  }).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  assert.match(e!.message, /resume: phase 2 is not one of this model's \(0\.\.1\)/);
});

test.run();
