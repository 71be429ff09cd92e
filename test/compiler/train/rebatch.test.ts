// withBatch on real exported models whose Reshape targets hard-code batch 1 (fashion_cnn: the NCHW → NHWC
// reshape of its 1-channel input and the flatten after the global pool; mnist-8: the same pair): the rebatched
// graph computes every sample as the batch-1 graph does (float64 reference, exact), a training bundle at
// batch 32 compiles and steps, one step at batch 3 matches the float64 step; what cannot be rebatched is
// refused by node name. Wasm vs float64 tolerance: 1e-5 · (1 + |want|) (a 12-layer CNN in f32).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { loadModelJson } from '../../../compiler/frontend/model-json/index.ts';
import { ModelError, type Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { buildTrainingGraph, withBatch } from '../../../compiler/train/training-graph.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { load } from '../../../runtime/node.ts';
import { rng, randF32 } from '../../assembly/harness.ts';

const MODELS = ['fashion_cnn', 'mnist-8'];

for (const name of MODELS) {
  test(`${name} at batch 4: each sample's logits equal the batch-1 graph's (float64 reference, exact)`, () => {
    const g1 = loadOnnx(`test/fixtures/onnx/${name}.onnx`);
    const g4 = withBatch(g1, 4);
    const x = g1.inputs[0]!,
      out = g1.outputs[0]!;
    assert.equal(g4.tensors.get(x)!.shape, [4, 1, 28, 28]);
    assert.equal(g4.tensors.get(out)!.shape, [4, 10]);
    const data = Float64Array.from(randF32(rng(5), 4 * 784, 0, 1));
    const got = evaluate(g4, { [x]: data })[out]!;
    for (let s = 0; s < 4; s++) {
      const want = evaluate(g1, { [x]: data.subarray(s * 784, (s + 1) * 784) })[out]!;
      assert.equal(Array.from(got.subarray(s * 10, s * 10 + 10)), Array.from(want), `sample ${s}`);
    }
  });
}

// model.json stores no intermediate shapes: the flatten's hard-coded [1,256] is found only once they are inferred
test('examples/mnist/model.json (no intermediate shapes stored) rebatches like its ONNX original', () => {
  const g1 = loadModelJson('examples/mnist/model.json');
  const x = g1.inputs[0]!,
    out = g1.outputs[0]!;
  const g4 = withBatch(g1, 4);
  assert.equal(g4.tensors.get(out)!.shape, [4, 10]);
  const data = Float64Array.from(randF32(rng(6), 4 * 784, 0, 1));
  const got = evaluate(g4, { [x]: data })[out]!;
  for (let s = 0; s < 4; s++) {
    const want = evaluate(g1, { [x]: data.subarray(s * 784, (s + 1) * 784) })[out]!;
    assert.equal(Array.from(got.subarray(s * 10, s * 10 + 10)), Array.from(want), `sample ${s}`);
  }
});

test('fashion_cnn trains at batch 32 (bundle compiles, a step runs, loss finite) and one step at batch 3 matches float64', async () => {
  const g1 = loadOnnx('test/fixtures/onnx/fashion_cnn.onnx');
  const tg32 = buildTrainingGraph(withBatch(g1, 32), { optimizer: { kind: 'sgd', momentum: 0.9 } });
  const m32 = await load(compileGraph(tg32.graph, { skipPasses: true }).bundle, { build: 'simd' });
  const r = rng(11);
  const out32 = m32.run({
    [tg32.x]: randF32(r, 32 * 784, 0, 1),
    [tg32.labels]: Int32Array.from({ length: 32 }, (_, i) => i % 10),
    [tg32.lr]: Float32Array.of(0.01),
  });
  assert.ok(Number.isFinite(out32[tg32.loss]![0]!), `loss ${out32[tg32.loss]![0]}`);
  assert.equal(Array.from(out32[tg32.logits]!).length, 320);

  const tg = buildTrainingGraph(withBatch(g1, 3));
  const feed = {
    [tg.x]: randF32(r, 3 * 784, 0, 1),
    [tg.labels]: Int32Array.of(3, 0, 7),
    [tg.lr]: Float32Array.of(0.05),
  };
  const want = evaluate(tg.graph, feed, { all: true });
  const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: 'scalar' });
  const got = m.run(feed);
  const upd = new Map(tg.graph.nodes.filter((n) => n.op === 'SgdUpdate').map((n) => [n.inputs[0]!, n.outputs[0]!]));
  const check = (label: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
    assert.is(a.length, b.length, label);
    for (let i = 0; i < b.length; i++) {
      if (!(Math.abs(a[i]! - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!))))
        assert.unreachable(`${label}[${i}]: got ${a[i]} want ${b[i]}`);
    }
  };
  check('loss', got[tg.loss]!, want[tg.loss]!);
  for (const p of tg.params) check(p, m.readVariable(p), want[upd.get(p)!]!);
});

function flatGraph(flatten: 'flatten0' | 'reshape-all'): Graph {
  const g: Graph = {
    name: 'flat',
    source: 'flat.json',
    inputs: ['x'],
    outputs: ['y'],
    tensors: new Map([
      ['x', { name: 'x', dtype: 'float32', shape: [1, 2, 2, 3] }],
      ['w', { name: 'w', dtype: 'float32', shape: [4, 12], data: randF32(rng(1), 48) }],
    ]),
    nodes: [
      flatten === 'flatten0'
        ? { name: 'flat0', op: 'Flatten', inputs: ['x'], outputs: ['f'], attrs: { axis: 0 } }
        : { name: 'all', op: 'Reshape', inputs: ['x'], outputs: ['f'], attrs: { shape: [-1] } },
      ...(flatten === 'flatten0'
        ? []
        : [{ name: 'back', op: 'Reshape' as const, inputs: ['f'], outputs: ['f2'], attrs: { shape: [1, 12] } }]),
      { name: 'fc', op: 'Dense', inputs: [flatten === 'flatten0' ? 'f' : 'f2', 'w'], outputs: ['y'], attrs: {} },
    ],
  };
  inferShapes.run(g);
  return g;
}

test('what folds the batch into another axis is refused by node name', () => {
  assert.throws(
    () => withBatch(flatGraph('flatten0'), 8),
    (e: Error) =>
      e instanceof ModelError &&
      /node 'flat0' \(Flatten\): output \[1,96\] does not keep the batch in axis 0, so the batch cannot become 8/.test(
        e.message,
      ),
  );
  // Reshape [-1] keeps 12 elements per sample at batch 1 but flattens the whole batch at 8
  assert.throws(
    () => withBatch(flatGraph('reshape-all'), 8),
    (e: Error) =>
      e instanceof ModelError && /node 'all' \(Reshape\): output \[96\] does not keep the batch/.test(e.message),
  );
  assert.throws(() => withBatch(flatGraph('reshape-all'), 0), /batch: must be a positive integer, found 0/);
});

test.run();
