// HardSwish: the Unary_F32 forward (simd, scalar and twins byte-identical; vs float64 within 1e-6·(1 + |y|)), its
// gradient rule against float64 central differences (tolerance as grads.test.ts: 1e-6·(1 + |g|), h = 1e-5), the
// UnaryGrad_F32 boundary convention of PyTorch's hardswish_backward (x = −3 → −0.5·dy, x = 3 → 1.5·dy; exact in
// f32), and ONNX export (HardSigmoid + Mul) re-imported within 1e-6 of the float64 reference (ONNX float attrs hold
// alpha = 1/6 as float32).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph, Node, Tensor } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { buildTrainingGraph } from '../../../compiler/train/training-graph.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { exportOnnx } from '../../../compiler/export/onnx.ts';
import { parseOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { rng, randF32, runAll } from '../../assembly/harness.ts';

const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
  name,
  { name, dtype: 'float32', shape, data },
];

/** x [B,5] → Dense 5→6 → HardSwish → Dense 6→3 logits. */
function hsGraph(batch: number): Graph {
  const r = rng(21);
  const g: Graph = {
    name: 'hs',
    source: 'hs.json',
    inputs: ['x'],
    outputs: ['fc2:y'],
    tensors: new Map([
      t('x', [batch, 5]),
      t('w1', [6, 5], randF32(r, 30, -2, 2)),
      t('b1', [6], randF32(r, 6, -1, 1)),
      t('w2', [3, 6], randF32(r, 18, -1, 1)),
    ]),
    nodes: [
      { name: 'fc1', op: 'Dense', inputs: ['x', 'w1', 'b1'], outputs: ['fc1:y'], attrs: {} },
      { name: 'hs', op: 'HardSwish', inputs: ['fc1:y'], outputs: ['hs:y'], attrs: {} },
      { name: 'fc2', op: 'Dense', inputs: ['hs:y', 'w2', ''], outputs: ['fc2:y'], attrs: {} },
    ],
  };
  inferShapes.run(g);
  return g;
}

test('HardSwish forward: four builds byte-identical, within 1e-6 of float64, exact at the kinks', async () => {
  const xs = Float32Array.from([-5, -3, -2.5, -1, -0.25, 0, 0.5, 1, 2.999, 3, 3.001, 7, ...randF32(rng(3), 28, -6, 6)]);
  const g: Graph = {
    name: 'hsf',
    source: 'hsf.json',
    inputs: ['x'],
    outputs: ['y'],
    tensors: new Map([t('x', [2, 20])]),
    nodes: [{ name: 'hs', op: 'HardSwish', inputs: ['x'], outputs: ['y'], attrs: {} }],
  };
  inferShapes.run(g);
  const got = (await runAll(compileGraph(g).bundle, { x: xs }, 'hardswish')).y!;
  const want = evaluate(g, { x: xs }).y!;
  for (let i = 0; i < xs.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= 1e-6 * (1 + Math.abs(want[i]!))))
      assert.unreachable(`x=${xs[i]}: got ${got[i]} want ${want[i]}`);
  }
  assert.equal([got[0], got[1], got[9], got[11]], [-0, -0, 3, 7]);
});

test('HardSwish gradient rule: every weight gradient matches float64 central differences', () => {
  const tg = buildTrainingGraph(hsGraph(4));
  const g = { ...tg.graph, inputs: [...tg.graph.inputs, ...tg.params], state: new Map(tg.graph.state) };
  for (const p of tg.params) g.state.delete(p);
  const feed: Record<string, Float64Array> = {
    [tg.x]: Float64Array.from(randF32(rng(8), 20, -1.5, 1.5)),
    [tg.labels]: Float64Array.of(0, 2, 1, 2),
    [tg.lr]: Float64Array.of(0.1),
  };
  for (const p of tg.params) feed[p] = Float64Array.from(tg.graph.state!.get(p)!);
  const pre = evaluate(g, feed, { all: true })['fc1:y']!;
  // the inputs of the HardSwish straddle both kinks, away from them by more than h
  assert.ok(
    pre.some((v) => v < -3) && pre.some((v) => v > 3) && pre.some((v) => Math.abs(v) < 3),
    `pre-activations ${Array.from(pre)}`,
  );
  const all = evaluate(g, feed, { all: true });
  let count = 0;
  for (const p of tg.params) {
    const analytic = all[g.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!]!;
    for (let i = 0; i < analytic.length; i++) {
      const at = (d: number) => {
        const w = Float64Array.from(feed[p]!);
        w[i]! += d;
        return evaluate(g, { ...feed, [p]: w })[tg.loss]![0]!;
      };
      const numeric = (at(1e-5) - at(-1e-5)) / 2e-5;
      if (!(Math.abs(analytic[i]! - numeric) <= 1e-6 * (1 + Math.abs(analytic[i]!))))
        assert.unreachable(`d loss / d ${p}[${i}]: analytic ${analytic[i]} numeric ${numeric}`);
      count++;
    }
  }
  assert.is(count, 54);
});

test("UnaryGrad_F32 hardswish: PyTorch's hardswish_backward values, boundaries included, in all four builds", async () => {
  const xs = Float32Array.of(-4, -3.0001, -3, -1.5, 0, 1.5, 3, 3.0001, 4, -3, 3, 0.75);
  const dy = Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, -2, -2, 4);
  const node: Node = {
    name: 'g',
    op: 'ActivationGrad',
    inputs: ['x', 'dy'],
    outputs: ['dx'],
    attrs: { activation: 'hardswish' },
  };
  const g: Graph = {
    name: 'hsg',
    source: 'hsg.json',
    inputs: ['x', 'dy'],
    outputs: ['dx'],
    tensors: new Map([t('x', [12]), t('dy', [12])]),
    nodes: [node],
  };
  inferShapes.run(g);
  const got = (await runAll(compileGraph(g, { skipPasses: true }).bundle, { x: xs, dy }, 'hardswish grad')).dx!;
  // torch: x < -3 → 0; x <= 3 → dy·(x/3 + 0.5); else dy
  assert.equal(Array.from(got), [0, 0, -0.5, 0, 0.5, 1, 1.5, 1, 1, 1, -3, 4 * (0.75 / 3 + 0.5)]);
  assert.equal(Array.from(evaluate(g, { x: xs, dy }).dx!), Array.from(got));
});

test('HardSwish exports as HardSigmoid(1/6, 1/2) · x and re-imports to the same function', () => {
  const g = hsGraph(2);
  const back = parseOnnx(exportOnnx(g), 'hs.onnx');
  const x = Float64Array.from(randF32(rng(4), 10, -3, 3));
  const a = evaluate(g, { x })['fc2:y']!,
    b = evaluate(back, { [back.inputs[0]!]: x })[back.outputs[0]!]!;
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6 * (1 + Math.abs(a[i]!)), `logit ${i}: ${a[i]} vs ${b[i]}`);
  assert.ok(
    back.nodes.some((n) => n.op === 'Clip') && !back.nodes.some((n) => n.op === 'HardSwish'),
    'imported as its definition',
  );
});

test.run();
