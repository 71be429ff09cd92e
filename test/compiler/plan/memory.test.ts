// Arena planner: random DAGs replayed against a byte-ownership simulation (no live value is ever
// overwritten before its last read; aliases share bytes), arena ≤ the sum of sizes and ≥ the peak of
// live bytes, arena == that lower bound on monotone and uniform chains, in place and views.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { align, planMemory, type MemoryPlan, type PlanInput } from '../../../compiler/plan/memory.ts';
import { rng } from '../ir/build-graph.ts';

const rootOf = (p: PlanInput, i: number): number => {
  while (p.tensors[i]!.aliasOf !== undefined) i = p.tensors[i]!.aliasOf!;
  return i;
};

/** Replays the plan: every read must find the bytes still labelled with the value it expects. */
function simulate(p: PlanInput, plan: MemoryPlan): void {
  const owner = new Int32Array(plan.arenaSize).fill(-1);
  const write = (i: number) => owner.fill(rootOf(p, i), plan.offsets[i]!, plan.offsets[i]! + p.tensors[i]!.size);
  const check = (i: number, when: string) => {
    if (p.tensors[i]!.constant) return;
    const o = plan.offsets[i]!;
    assert.ok(o % 16 === 0, `tensor ${i} offset ${o} not 16-aligned`);
    assert.ok(o + p.tensors[i]!.size <= plan.arenaSize, `tensor ${i} outside arena`);
    for (let k = o; k < o + p.tensors[i]!.size; k++) {
      if (owner[k] !== rootOf(p, i))
        assert.unreachable(`${when}: tensor ${i} byte ${k} was overwritten by ${owner[k]}`);
    }
  };
  p.inputs.forEach(write);
  p.steps.forEach((s, k) => {
    s.inputs.forEach((i) => check(i, `step ${k}`));
    s.outputs.forEach(write);
  });
  p.outputs.forEach((i) => check(i, 'end'));
}

/** Peak over steps of the bytes of distinct storage blocks live at that step. */
function liveBound(p: PlanInput, plan: MemoryPlan): number {
  let peak = 0;
  for (let k = 0; k < p.steps.length; k++) {
    const blocks = new Map<number, number>();
    for (const [b, [s, e]] of plan.lifetimes) if (s <= k && k <= e) blocks.set(b, 0);
    p.tensors.forEach((t, i) => {
      if (blocks.has(plan.block[i]!)) blocks.set(plan.block[i]!, Math.max(blocks.get(plan.block[i]!)!, align(t.size)));
    });
    peak = Math.max(
      peak,
      [...blocks.values()].reduce((a, b) => a + b, 0),
    );
  }
  return peak;
}

function randomDag(seed: number): PlanInput {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const p: PlanInput = { tensors: [], steps: [], inputs: [], outputs: [] };
  const nIn = 1 + int(2);
  for (let i = 0; i < nIn; i++) {
    p.tensors.push({ size: 4 * (1 + int(64)) });
    p.inputs.push(i);
  }
  p.tensors.push({ size: 64, constant: true });
  const nSteps = 3 + int(20);
  for (let k = 0; k < nSteps; k++) {
    const avail = p.tensors.map((_, i) => i);
    const ins = Array.from({ length: 1 + int(3) }, () => avail[int(avail.length)]!);
    const roll = r();
    if (roll < 0.15) {
      // a view: no step, shares its source's bytes
      const src = ins[0]!;
      if (!p.tensors[src]!.constant) {
        p.tensors.push({ size: p.tensors[src]!.size, aliasOf: src });
        continue;
      }
    }
    const inPlace = roll > 0.6;
    const size = inPlace ? p.tensors[ins[0]!]!.size : 4 * (1 + int(100));
    p.tensors.push({ size });
    p.steps.push({ inputs: ins, outputs: [p.tensors.length - 1], inPlace });
  }
  p.outputs.push(p.tensors.length - 1);
  for (let i = 0; i < p.tensors.length; i++)
    if (!p.tensors[i]!.constant && r() < 0.1 && !p.outputs.includes(i)) p.outputs.push(i);
  return p;
}

test('random DAGs: no live value overwritten, arena between the live peak and the sum of sizes', () => {
  let inPlaceSeen = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const p = randomDag(seed);
    const plan = planMemory(p);
    simulate(p, plan);
    const sum = [...new Set(p.tensors.map((t, i) => (t.constant ? -1 : rootOf(p, i))))]
      .filter((i) => i >= 0)
      .reduce((a, i) => a + align(p.tensors[i]!.size), 0);
    assert.ok(plan.arenaSize <= sum, `seed ${seed}: arena ${plan.arenaSize} > sum ${sum}`);
    assert.ok(plan.arenaSize >= liveBound(p, plan), `seed ${seed}: arena below the live peak`);
    p.tensors.forEach((t, i) => {
      if (t.aliasOf !== undefined) assert.is(plan.offsets[i], plan.offsets[t.aliasOf], 'view shares bytes');
    });
    p.steps.forEach((s) => {
      if (s.inPlace && plan.block[s.outputs[0]!] === plan.block[s.inputs[0]!]) inPlaceSeen++;
    });
  }
  assert.ok(inPlaceSeen > 50, `in place used ${inPlaceSeen} times`);
});

function chain(sizes: number[]): PlanInput {
  return {
    tensors: sizes.map((size) => ({ size })),
    steps: sizes.slice(1).map((_, k) => ({ inputs: [k], outputs: [k + 1] })),
    inputs: [0],
    outputs: [sizes.length - 1],
  };
}

test('chains: arena equals the live-bytes lower bound (uniform, increasing, decreasing, mixed)', () => {
  const r = rng(7);
  const cases: number[][] = [
    [64, 64, 64, 64, 64],
    [16, 32, 48, 64, 80, 96],
    [400, 300, 200, 100, 16],
    [100, 10, 90, 95],
    [50, 60, 70],
  ];
  for (let k = 0; k < 50; k++) {
    const n = 2 + Math.floor(r() * 10);
    const base = Array.from({ length: n }, () => 16 * (1 + Math.floor(r() * 20)));
    cases.push(base.sort((a, b) => (k % 2 ? a - b : b - a)));
  }
  for (const sizes of cases) {
    const p = chain(sizes);
    const plan = planMemory(p);
    simulate(p, plan);
    const bound = Math.max(...sizes.slice(1).map((s, k) => align(s) + align(sizes[k]!)));
    assert.is(plan.arenaSize, bound, `chain ${sizes.join(',')}`);
  }
});

test('in place: elementwise chain after a conv reuses one block; graph inputs are never overwritten', () => {
  // x(in) → conv → t1 → relu → t2 → sigmoid → t3 (out)
  const p: PlanInput = {
    tensors: [{ size: 256 }, { size: 256 }, { size: 256 }, { size: 256 }],
    steps: [
      { inputs: [0], outputs: [1] },
      { inputs: [1], outputs: [2], inPlace: true },
      { inputs: [2], outputs: [3], inPlace: true },
    ],
    inputs: [0],
    outputs: [3],
  };
  const plan = planMemory(p);
  simulate(p, plan);
  assert.is(plan.offsets[1], plan.offsets[2]);
  assert.is(plan.offsets[2], plan.offsets[3]);
  assert.is(plan.arenaSize, 512);
  const q: PlanInput = {
    tensors: [{ size: 64 }, { size: 64 }],
    steps: [{ inputs: [0], outputs: [1], inPlace: true }],
    inputs: [0],
    outputs: [1],
  };
  assert.is.not(planMemory(q).offsets[0], planMemory(q).offsets[1]);
});

test('views: a reshape of an intermediate that is a graph output keeps its source alive to the end', () => {
  // x → a; view v of a (output); a → b; b → c (output)
  const p: PlanInput = {
    tensors: [{ size: 32 }, { size: 32 }, { size: 32, aliasOf: 1 }, { size: 32 }, { size: 32 }],
    steps: [
      { inputs: [0], outputs: [1] },
      { inputs: [1], outputs: [3], inPlace: true },
      { inputs: [3], outputs: [4] },
    ],
    inputs: [0],
    outputs: [2, 4],
  };
  const plan = planMemory(p);
  simulate(p, plan);
  assert.is(plan.offsets[2], plan.offsets[1]);
  assert.is.not(plan.block[3], plan.block[1], 'no in place over a value a view still needs');
});

test.run();
