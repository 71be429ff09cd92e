// A branched student at α 0 (labels only) never compiles or runs the teacher: with a teacher graph that cannot be
// compiled (an unknown op) the run succeeds, its report says the teacher was not run (no agreement, no teacher
// figures), the head and gate come out byte-equal to a run without a teacher, the gate trained on "the cheap
// branch is right"; the same teacher at α 0.7 fails. The shipped gated MNIST model on its 100 calibration digits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadBlockModel } from '../../../compiler/cli/branches.ts';
import { distillBranched, type BranchedJob } from '../../../compiler/distill/branched.ts';
import { flattenBlocks, pruneTo } from '../../../compiler/distill/branched-graph.ts';
import type { OpType } from '../../../compiler/ir/graph.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const npy = (f: string) => loadNpy(join(ROOT, f)).data;
const x = npy('examples/branches/calib.npy') as Float32Array;
const y = Int32Array.from(npy('examples/branches/calib_labels.npy') as Uint8Array);
const bm = loadBlockModel(join(ROOT, 'examples', 'branches', 'gated.json'))!;
const flat = flattenBlocks(bm);
// the full network with its first node turned into an op no compiler knows
const broken = pruneTo(flat.graph, [flat.full]);
broken.nodes[0] = { ...broken.nodes[0]!, op: 'NoSuchOp' as OpType };

const job: BranchedJob = {
  student: bm,
  data: { x, labels: y },
  exitWeights: [1, 0],
  epochs: 1,
  batch: 20,
  optimizer: { kind: 'adam' },
  lr: 0.002,
  frozen: bm.pieces.flatMap((p) =>
    p.kind === 'graph'
      ? p.graph.nodes.map((n) => n.name)
      : p.kind === 'branch'
        ? p.branches.at(-1)!.nodes.map((n) => n.name)
        : [],
  ),
  thresholds: [0.9],
  seed: 1,
};
const hex = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');

test('α 0: the teacher is never compiled or run; same weights as without one', async () => {
  const r = await distillBranched({ ...job, teacher: broken, alpha: 0 });
  assert.is(r.status, 'done');
  assert.is(r.report.teacherSkipped, 'alpha 0: labels only');
  assert.equal(r.report.teacher, {});
  const t = r.report.thresholds[0]!;
  assert.is(t.after.agreement, undefined);
  assert.is(t.before.agreement, undefined);
  assert.ok(t.after.accuracy! > 0.5 && t.after.cheap > 0 && t.after.cheap < 1, JSON.stringify(t.after));
  assert.equal(
    r.report.epochs.map((e) => Object.keys(e.terms).join()),
    ['ce:route/branches[0]', 'ce'],
  );
  const plain = await distillBranched({ ...job, alpha: 0 });
  assert.equal([...r.weights.keys()].sort(), ['gate_b', 'gate_w', 'head_b', 'head_w']);
  for (const [k, v] of r.weights) assert.is(hex(v), hex(plain.weights.get(k)!), k);
});

test('the same teacher at α 0.7 is compiled, and fails', async () => {
  const e = await distillBranched({ ...job, teacher: broken, alpha: 0.7 }).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  assert.instance(e, Error);
  assert.match(e!.message, /NoSuchOp/);
});

test.run();
