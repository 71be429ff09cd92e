// Control steps in hand-built bundles: Dispatch / Jump / Exit run as specified on every build x mode,
// and each broken contract (targets out of range or backwards, gate width, exit sizes, metric) is
// refused at load with a BundleError naming the step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeBundle, fb, type TDesc, type SDesc } from './harness.ts';
import { load, BundleError } from '../../runtime/node.ts';

const ctl = (targets: number[], extra: { metric?: number; threshold?: number } = {}) => ({
  type: 'control' as const,
  targets,
  ...extra,
});
const unary = (x: number, y: number, op: fb.UnaryOp): SDesc => ({
  kernel: fb.KernelId.Unary_F32,
  inputs: [x],
  outputs: [y],
  params: { type: 'unary', op },
});

/** g[2] gate → branch 0: y = relu(x) | branch 1: y = -x; then exit on y (max_prob > 0.9) → out = y, else out = |y|. */
function program(patch: (steps: SDesc[], tensors: TDesc[]) => void = () => {}) {
  const tensors: TDesc[] = [
    { name: 'g', shape: [2], role: 'in' },
    { name: 'x', shape: [1, 3], role: 'in' },
    { name: 'y', shape: [1, 3], role: 'tmp' },
    { name: 'out', shape: [1, 3], role: 'out' },
  ];
  const steps: SDesc[] = [
    { kernel: fb.KernelId.Dispatch, inputs: [0], outputs: [], params: ctl([1, 3, 4]), node: 'blk' },
    unary(1, 2, fb.UnaryOp.Relu),
    { kernel: fb.KernelId.Jump, inputs: [], outputs: [], params: ctl([4]) },
    unary(1, 2, fb.UnaryOp.Neg),
    { kernel: fb.KernelId.Exit, inputs: [2], outputs: [3], params: ctl([], { metric: 0, threshold: 0.9 }), node: 'ex' },
    unary(2, 3, fb.UnaryOp.Abs),
  ];
  patch(steps, tensors);
  return makeBundle(tensors, steps);
}

test('dispatch picks the argmax branch (ties → 0), exit stops the run when confident; all builds and modes', async () => {
  const cases: [number[], number[], number, boolean][] = [
    // gate, x, branch, exits
    [[1, 0], [-1, 2, 0.5], 0, false], // relu → [0,2,0.5]: max prob < 0.9 → abs
    [[0, 1], [-1, 2, 0.5], 1, false], // neg → [1,-2,-0.5] → abs → [1,2,0.5]
    [[3, 3], [9, -1, 0], 0, true], // tie → 0; relu → [9,0,0]: confident → out = y
    [[0, 5], [-9, 0, 1], 1, true], // neg → [9,0,-1]: confident
  ];
  for (const build of ['simd', 'scalar'] as const) {
    for (const reference of [false, true]) {
      const m = await load(program(), { build, reference });
      for (const [g, x, branch, exits] of cases) {
        const d = m.runDetailed({ g: new Float32Array(g), x: new Float32Array(x) });
        const y = branch === 0 ? x.map((v) => Math.max(0, v)) : x.map((v) => -v);
        const want = exits ? y : y.map(Math.abs);
        assert.equal(
          Array.from(d.outputs.out!),
          want.map((v) => Math.fround(v) + 0),
          `${build} ${reference} ${g} ${x}`,
        );
        assert.equal(d.samples[0]!.branches, { blk: branch });
        assert.equal(d.samples[0]!.exits, { ex: exits });
      }
    }
  }
});

test('a stacked batch dispatches per sample inside the executor (edgec_run_samples) = one run() per sample', async () => {
  const g = [1, 0, 0, 1, 3, 3, 0, 5],
    x = [-1, 2, 0.5, -1, 2, 0.5, 9, -1, 0, -9, 0, 1];
  for (const build of ['simd', 'scalar'] as const) {
    const m = await load(program(), { build });
    const d = m.runDetailed({ g: new Float32Array(g), x: new Float32Array(x) });
    assert.equal(
      d.samples.map((s) => s.branches.blk),
      [0, 1, 0, 1],
    );
    assert.equal(
      d.samples.map((s) => s.exits.ex),
      [false, false, true, true],
    );
    for (let i = 0; i < 4; i++) {
      const one = m.run({
        g: new Float32Array(g.slice(2 * i, 2 * i + 2)),
        x: new Float32Array(x.slice(3 * i, 3 * i + 3)),
      });
      assert.equal(Array.from(d.outputs.out!.subarray(3 * i, 3 * i + 3)), Array.from(one.out!), `${build} sample ${i}`);
    }
    // a second, larger batch reuses / grows the staging block
    const big = m.runDetailed({ g: new Float32Array([...g, ...g, ...g]), x: new Float32Array([...x, ...x, ...x]) });
    assert.equal(Array.from(big.outputs.out!), [...d.outputs.out!, ...d.outputs.out!, ...d.outputs.out!]);
  }
});

async function refused(bundle: Uint8Array, ...parts: string[]) {
  for (const build of ['simd', 'scalar'] as const) {
    try {
      await load(bundle, { build });
    } catch (e) {
      assert.instance(e, BundleError, String(e));
      for (const p of parts) assert.ok((e as Error).message.includes(p), `'${(e as Error).message}' lacks '${p}'`);
      continue;
    }
    assert.unreachable(`${build}: loaded a bundle that breaks ${parts.join(' / ')}`);
  }
}

test('load refuses broken control steps', async () => {
  await refused(
    program((s) => {
      s[0]!.params = ctl([1, 3, 7]);
    }),
    'step 0 (Dispatch',
    'must be a later step',
  );
  await refused(
    program((s) => {
      s[2]!.params = ctl([1]);
    }),
    'step 2 (Jump',
    'must be a later step',
  );
  await refused(
    program((s) => {
      s[2]!.params = ctl([2]);
    }),
    'step 2 (Jump',
    'must be a later step',
  );
  await refused(
    program((s) => {
      s[0]!.params = ctl([1, 4, 3]);
    }),
    'targets must increase',
  );
  await refused(
    program((s) => {
      s[0]!.params = ctl([2, 3, 4]);
    }),
    'branch 0 must start at the next step',
  );
  await refused(
    program((s) => {
      s[0]!.params = ctl([1, 2, 3, 4]);
    }),
    'gate width 2 differs from the number of branches 3',
  );
  await refused(
    program((s) => {
      s[0]!.params = undefined;
    }),
    'expected ControlParams',
  );
  await refused(
    program((s) => {
      s[2]!.params = ctl([4, 5]);
    }),
    'expected 1 target',
  );
  await refused(
    program((_, t) => {
      t[3]!.shape = [1, 4];
    }),
    'step 4 (Exit',
    'differ in size',
  );
  await refused(
    program((s) => {
      s[4]!.params = ctl([], { metric: 2, threshold: 0.5 });
    }),
    'metric 2 unknown',
  );
  await refused(
    program((s) => {
      s[4]!.params = ctl([], { threshold: Number.NaN });
    }),
    'threshold must be finite',
  );
  await refused(
    program((_, t) => {
      t[0]!.dtype = fb.DType.I32;
    }),
    'step 0 (Dispatch',
    'input must be F32',
  );
});

test('random control targets: every bundle is refused cleanly or runs to the end (forward jumps only)', async () => {
  let seed = 99;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let ran = 0,
    refusedCount = 0;
  for (let trial = 0; trial < 60; trial++) {
    // half near-valid layouts [1, a, b] (so some load), half anything in [-1, 6]
    const a = 2 + rnd(4);
    const d = trial % 2 === 0 ? [1, a, a + rnd(8 - a)] : [rnd(8) - 1, rnd(8) - 1, rnd(8) - 1].slice(0, 1 + rnd(3));
    const j = [rnd(8) - 1];
    const bundle = program((s) => {
      s[0]!.params = ctl(d);
      s[2]!.params = ctl(j);
    });
    for (const build of ['simd', 'scalar'] as const) {
      let m;
      try {
        m = await load(bundle, { build });
      } catch (e) {
        assert.instance(e, BundleError, String(e));
        refusedCount++;
        continue;
      }
      const r = m.runDetailed({ g: new Float32Array([0.5, 0.25]), x: new Float32Array([1, -2, 3]) });
      assert.ok(r.samples[0]!.macs === 0 && r.outputs.out!.length === 3);
      ran++;
    }
  }
  assert.ok(ran > 0 && refusedCount > 0, `ran ${ran}, refused ${refusedCount}`);
});

test.run();
