// Branch blocks and early exits end to end: model.json → compileBlockModel → both wasm builds, against
// the float64 reference that evaluates only the chosen path (tolerance 1e-4 relative); poisoned
// branches never run; executed MACs = the sum over steps actually run; thresholds 0 / 1; arena sharing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBlockModel, evaluateBlockModel, type BlockModel } from '../../../compiler/ir/blocks.ts';
import { compileBlockModel } from '../../../compiler/lower/branches.ts';
import { load } from '../../../runtime/node.ts';
import { readSteps } from '../../../runtime/branches.ts';
import { pruneBranches } from '../../../compiler/cli/branches.ts';

/** Seeded PRNG (mulberry32) for weights and inputs. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}
const r = rng(7);
const vals = (n: number, scale = 1) => Array.from({ length: n }, () => Math.round(r() * scale * 1000) / 1000);
const dense = (name: string, x: string, w: string, b: string, y: string) => ({
  name,
  op: 'Dense',
  inputs: [x, w, b],
  outputs: [y],
});
const T = (shape: number[], data: number[]) => ({ dtype: 'float32', shape, data });

/**
 * x[1,6] → h = relu(dense) → Branch(gate 3 scores over h; branch 0: dense 6→8→4, branch 1: dense 6→4,
 * branch 2: dense 6→4 + relu) → m[1,4] → EarlyExit(head dense 4→4) → y = dense(m) [1,4].
 * `poison` replaces a branch's bias with NaN (its output, if ever written, is NaN).
 */
function toyModel(opts: { threshold?: number; metric?: string; poison?: number; gateW?: number[] } = {}) {
  const nan = (b: number[], i: number) => (opts.poison === i ? b.map(() => Number.NaN) : b);
  const tensors: Record<string, unknown> = {
    w1: T([6, 6], vals(36, 2)),
    b1: T([6], vals(6)),
    wg: T([3, 6], opts.gateW ?? vals(18, 2)),
    bg: T([3], [0, 0, 0]),
    wa: T([8, 6], vals(48)),
    ba: T([8], vals(8)),
    wa2: T([4, 8], vals(32)),
    ba2: T([4], vals(4)),
    wb: T([4, 6], vals(24)),
    bb: T([4], vals(4)),
    wc: T([4, 6], vals(24)),
    bc: T([4], vals(4)),
    wh: T([4, 4], vals(16, 8)),
    bh: T([4], vals(4)),
    wy: T([4, 4], vals(16)),
    by: T([4], vals(4)),
  };
  // NaN does not survive JSON: poisoned biases go in as a sidecar
  const weights: number[] = [];
  const side = (name: string, data: number[]) => {
    tensors[name] = { dtype: 'float32', shape: [data.length], offset: weights.length * 4, length: data.length * 4 };
    weights.push(...data);
    while (weights.length % 4) weights.push(0);
  };
  side('ba2', nan((tensors.ba2 as { data: number[] }).data, 0));
  side('bb', nan((tensors.bb as { data: number[] }).data, 1));
  side('bc', nan((tensors.bc as { data: number[] }).data, 2));
  const json = {
    format: 'edgec-model',
    version: 1,
    name: 'toy',
    inputs: [{ name: 'x', shape: [1, 6], dtype: 'float32' }],
    outputs: [{ name: 'y' }],
    weights: 'toy.bin',
    tensors,
    nodes: [
      dense('d1', 'x', 'w1', 'b1', 'h0'),
      { name: 'r1', op: 'Relu', inputs: ['h0'], outputs: ['h'] },
      {
        name: 'blk',
        op: 'Branch',
        inputs: ['h'],
        outputs: ['m'],
        gate: { nodes: [dense('g', 'h', 'wg', 'bg', 'gs')], outputs: ['gs'] },
        branches: [
          {
            nodes: [
              dense('a', 'h', 'wa', 'ba', 'ya0'),
              { name: 'ar', op: 'Relu', inputs: ['ya0'], outputs: ['ya1'] },
              dense('a2', 'ya1', 'wa2', 'ba2', 'ya'),
            ],
            outputs: ['ya'],
          },
          { nodes: [dense('b', 'h', 'wb', 'bb', 'yb')], outputs: ['yb'] },
          {
            nodes: [dense('c', 'h', 'wc', 'bc', 'yc0'), { name: 'cr', op: 'Relu', inputs: ['yc0'], outputs: ['yc'] }],
            outputs: ['yc'],
          },
        ],
      },
      {
        name: 'ex',
        op: 'EarlyExit',
        inputs: ['m'],
        head: { nodes: [dense('hh', 'm', 'wh', 'bh', 'e')], outputs: ['e'] },
        metric: opts.metric ?? 'max_prob',
        threshold: opts.threshold ?? 0.8,
      },
      dense('fin', 'm', 'wy', 'by', 'y'),
    ],
  };
  const bin = new Uint8Array(new Float32Array(weights).buffer);
  return parseBlockModel(json, bin, 'toy.json');
}

const samples = Array.from({ length: 40 }, () => vals(6, 3));

async function runAll(bm: BlockModel) {
  const { bundle } = compileBlockModel(bm);
  const out = [];
  for (const build of ['simd', 'scalar'] as const) {
    const m = await load(bundle, { build });
    out.push({ build, m, d: m.runDetailed({ x: new Float32Array(samples.flat()) }) });
  }
  return { bundle, out };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('toy 1x6, gate over 3 branches + exit (max_prob 0.8): outputs and route = float64 reference of the chosen path, simd and scalar', async () => {
  const bm = toyModel();
  const { out } = await runAll(bm);
  const seen = new Set<string>();
  for (const { build, d } of out) {
    samples.forEach((x, i) => {
      const ref = evaluateBlockModel(bm, { x });
      const s = d.samples[i]!;
      assert.equal(s.branches, ref.route.branches, `${build} sample ${i} branch`);
      assert.equal(s.exits, ref.route.exits, `${build} sample ${i} exit`);
      close(d.outputs.y!.subarray(i * 4, i * 4 + 4), ref.outputs.y!, `${build} sample ${i}`);
      seen.add(`${s.branches.blk}/${s.exits.ex}`);
    });
  }
  // the data exercises every branch, and samples that exit and that do not
  for (const k of [0, 1, 2])
    assert.ok(
      [...seen].some((v) => v.startsWith(`${k}/`)),
      `branch ${k} taken by some sample: ${[...seen]}`,
    );
  assert.ok(seen.has('0/true') || seen.has('1/true') || seen.has('2/true'), 'some sample exits');
  assert.ok(
    [...seen].some((v) => v.endsWith('/false')),
    'some sample runs to the end',
  );
  // simd and scalar agree bit for bit on the routes
  assert.equal(
    out[0]!.d.samples.map((s) => s.branches),
    out[1]!.d.samples.map((s) => s.branches),
  );
});

test('a poisoned branch (NaN bias) never touches the output unless chosen', async () => {
  for (const poison of [0, 1, 2]) {
    const bm = toyModel({ poison, threshold: 1 });
    const { out } = await runAll(bm);
    for (const { build, d } of out) {
      const took = d.samples.filter((s) => s.branches.blk === poison).length;
      assert.ok(
        took > 0 && took < samples.length,
        `${build}: poisoned branch ${poison} taken by ${took} of ${samples.length}`,
      );
      samples.forEach((_, i) => {
        const y = d.outputs.y!.subarray(i * 4, i * 4 + 4);
        const chosen = d.samples[i]!.branches.blk;
        if (chosen === poison)
          assert.ok(Array.from(y).every(Number.isNaN), `${build} sample ${i} took poisoned ${poison}`);
        else
          assert.ok(
            Array.from(y).every(Number.isFinite),
            `${build} sample ${i}: branch ${chosen} finite with ${poison} poisoned`,
          );
      });
    }
  }
});

test("executed MACs = sum of the steps actually run (route replayed over the bundle's steps)", async () => {
  const bm = toyModel();
  const { bundle, out } = await runAll(bm);
  const st = readSteps(bundle);
  const dispatch = st.control.find((c) => c.kind === 'branch')!;
  const exit = st.control.find((c) => c.kind === 'exit')!;
  for (const { d } of out) {
    d.samples.forEach((s, i) => {
      // replay: steps before the dispatch, the chosen branch's steps, then up to the exit, then the rest unless it exited
      let want = 0;
      for (let k = 0; k < st.macs.length; k++) {
        const inBranch = k >= dispatch.targets[0]! && k < dispatch.targets.at(-1)!;
        const chosen = s.branches.blk!;
        if (inBranch && (k < dispatch.targets[chosen]! || k >= dispatch.targets[chosen + 1]!)) continue;
        if (s.exits.ex && k > exit.step) continue;
        want += st.macs[k]!;
      }
      assert.is(s.macs, want, `sample ${i}`);
    });
  }
  // and the MACs of the branches differ, so a wrong branch would show
  const per = dispatch.targets
    .slice(0, -1)
    .map((t, i) => st.macs.slice(t, dispatch.targets[i + 1]).reduce((a, b) => a + b, 0));
  assert.equal(per, [6 * 8 + 8 * 4, 6 * 4, 6 * 4]);
});

test('thresholds: max_prob 0 → every sample leaves at the exit; max_prob 1 → none (the full network)', async () => {
  for (const [threshold, metric, exits] of [
    [0, 'max_prob', true],
    [1, 'max_prob', false],
    [0, 'entropy', false],
    [100, 'entropy', true],
  ] as const) {
    const bm = toyModel({ threshold, metric });
    const { out } = await runAll(bm);
    for (const { build, d } of out) {
      samples.forEach((x, i) => {
        assert.is(d.samples[i]!.exits.ex, exits, `${build} ${metric} ${threshold} sample ${i}`);
        assert.is(d.samples[i]!.exitedAt, exits ? 'ex' : null);
        const ref = evaluateBlockModel(bm, { x });
        close(d.outputs.y!.subarray(i * 4, i * 4 + 4), ref.outputs.y!, `${build} sample ${i}`);
      });
    }
  }
});

test('gate ties go to the lowest index (all-zero gate weights → branch 0)', async () => {
  const bm = toyModel({ gateW: new Array(18).fill(0) });
  const { out } = await runAll(bm);
  for (const { d } of out) for (const s of d.samples) assert.is(s.branches.blk, 0);
});

test('mutually exclusive branches share arena space: plan smaller than with branches kept apart', () => {
  // three branches with big intermediates [1,256]: sharing keeps one branch's worth
  const big = (i: number) => ({
    nodes: [
      dense(`p${i}`, 'h', `w${i}`, `b${i}`, `t${i}`),
      { name: `q${i}`, op: 'Relu', inputs: [`t${i}`], outputs: [`u${i}`] },
      dense(`o${i}`, `u${i}`, `v${i}`, `c${i}`, `z${i}`),
    ],
    outputs: [`z${i}`],
  });
  const tensors: Record<string, unknown> = { wg: T([3, 4], vals(12)), bg: T([3], [0, 0, 0]) };
  const weights: number[] = [];
  const side = (name: string, shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { dtype: 'float32', shape, offset: weights.length * 4, length: n * 4 };
    weights.push(...vals(n));
  };
  for (const i of [0, 1, 2]) {
    side(`w${i}`, [256, 4]);
    side(`b${i}`, [256]);
    side(`v${i}`, [4, 256]);
    side(`c${i}`, [4]);
  }
  const json = {
    format: 'edgec-model',
    version: 1,
    name: 'wide',
    inputs: [{ name: 'h', shape: [1, 4], dtype: 'float32' }],
    outputs: [{ name: 'm' }],
    weights: 'w.bin',
    tensors,
    nodes: [
      {
        name: 'blk',
        op: 'Branch',
        inputs: ['h'],
        outputs: ['m'],
        gate: { nodes: [dense('g', 'h', 'wg', 'bg', 'gs')], outputs: ['gs'] },
        branches: [big(0), big(1), big(2)],
      },
    ],
  };
  const res = compileBlockModel(parseBlockModel(json, new Uint8Array(new Float32Array(weights).buffer), 'w.json'));
  // one branch needs its [1,256] intermediate (1 KiB, in place through the relu); kept apart, three do
  assert.ok(res.plan.arenaSize < 2 * 1024, `arena ${res.plan.arenaSize}`);
  assert.ok(res.arenaSaved.blk! >= 2 * 1024, `saved ${res.arenaSaved.blk}`);
  assert.is(readSteps(res.bundle).control[0]!.arenaSaved, res.arenaSaved.blk);
});

test('pruning 1 of 3 branches: the gate falls back to the best remaining branch (chosen path = reference of the pruned model)', async () => {
  const bm = toyModel({ threshold: 1 });
  const { model, dropped } = pruneBranches(bm, { blk: [10, 1, 9] }, 0.1);
  assert.equal(dropped, { blk: [1] });
  const full = await runAll(bm),
    pruned = await runAll(model);
  for (let b = 0; b < 2; b++) {
    const fd = full.out[b]!.d,
      pd = pruned.out[b]!.d;
    samples.forEach((x, i) => {
      const ref = evaluateBlockModel(bm, { x });
      const orig = fd.samples[i]!.branches.blk!;
      const now = pd.samples[i]!.branches.blk!;
      // kept branches [0, 2] are now 0 and 1
      if (orig !== 1) assert.is(now, orig === 0 ? 0 : 1, `sample ${i}`);
      const pref = evaluateBlockModel(model, { x });
      assert.is(now, pref.route.branches.blk);
      close(pd.outputs.y!.subarray(i * 4, i * 4 + 4), pref.outputs.y!, `pruned sample ${i}`);
      if (orig !== 1) close(pd.outputs.y!.subarray(i * 4, i * 4 + 4), ref.outputs.y!, `unchanged sample ${i}`);
    });
    assert.ok(
      fd.samples.some((s) => s.branches.blk === 1),
      'some sample used the dropped branch',
    );
  }
  // one branch left: no gate, no dispatch
  const one = pruneBranches(bm, { blk: [0, 7, 1] }, 0.5);
  assert.equal(one.dropped, { blk: [0, 2] });
  const r = compileBlockModel(one.model);
  assert.is(readSteps(r.bundle).control.filter((c) => c.kind === 'branch').length, 0);
  const m = await load(r.bundle, { build: 'simd' });
  samples.forEach((x) => {
    const y = m.run({ x: new Float32Array(x) }).y!;
    close(y, evaluateBlockModel(one.model, { x }).outputs.y!, 'single branch');
  });
});

test.run();
