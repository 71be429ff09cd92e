// --init he|xavier: the bounds follow each weight's fan-in / fan-out (Dense [out,in], Conv2D OHWI),
// biases become 0, frozen nodes keep their weights, and the bytes depend on the seed alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initWeights } from '../../../compiler/train/init.ts';
import { cnnGraph, mlpGraph } from './mlp.ts';

const data = (g: ReturnType<typeof mlpGraph>, k: string) => g.tensors.get(k)!.data as Float32Array;
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test('he / xavier bounds per fan, biases 0, statistics of a uniform draw', () => {
  const g = mlpGraph(4);
  assert.equal(initWeights(g, 'he', 3), ['w1', 'b1', 'w2', 'b2', 'w3']);
  for (const [k, fanIn] of [
    ['w1', 6],
    ['w2', 8],
    ['w3', 5],
  ] as const) {
    const a = Math.sqrt(6 / fanIn),
      w = data(g, k);
    assert.ok(maxAbs(w) <= a && maxAbs(w) > 0.5 * a, `${k}: max ${maxAbs(w)} vs bound ${a}`);
  }
  assert.ok(data(g, 'b1').every((v) => v === 0) && data(g, 'b2').every((v) => v === 0));
  const c = cnnGraph(2);
  initWeights(c, 'xavier', 1);
  // w1 [4,3,3,2]: fan-in 3·3·2 = 18, fan-out 4·3·3 = 36; depthwise w2 [8,3,3,1]: 9 and 72
  for (const [k, a] of [
    ['w1', Math.sqrt(6 / 54)],
    ['w2', Math.sqrt(6 / 81)],
    ['w4', Math.sqrt(6 / 19)],
  ] as const) {
    const w = data(c, k);
    assert.ok(maxAbs(w) <= a && maxAbs(w) > 0.5 * a, `${k}: max ${maxAbs(w)} vs bound ${a}`);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    assert.ok(
      Math.abs(mean) < 0.35 * a && Math.abs(variance / ((a * a) / 3) - 1) < 0.4,
      `${k}: mean ${mean}, variance ${variance}`,
    );
  }
});

test('same seed same bytes, another seed other bytes, frozen nodes untouched', () => {
  const [a, b, c] = [mlpGraph(4), mlpGraph(4), mlpGraph(4)];
  const before = Float32Array.from(data(c, 'w2'));
  initWeights(a, 'he', 7);
  initWeights(b, 'he', 7);
  initWeights(c, 'he', 8, ['fc2']);
  assert.equal(data(a, 'w1'), data(b, 'w1'));
  assert.equal(data(a, 'w3'), data(b, 'w3'));
  assert.not.equal(data(a, 'w1'), data(c, 'w1'));
  assert.equal(data(c, 'w2'), before);
});

test.run();
