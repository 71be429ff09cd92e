// Quantisation parameters: per-channel weights (scale = max|w|/127, values in [−127, 127]), int32 bias at
// s_in·s_w, per-tensor activation params with an exact zero, rounding half away from zero.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  activationQuant,
  quantizeBias,
  quantizeValue,
  quantizeWeights,
  representableRange,
  roundHalfAway,
} from '../../../compiler/quantize/params.ts';

const f32 = Math.fround;

test('round half away from zero', () => {
  assert.equal([2.5, -2.5, 0.5, -0.5, 1.4999, -1.6].map(roundHalfAway), [3, -3, 1, -1, 1, -2]);
});

test('weights: per-channel scale = max|w|/127 (float32), the max maps to ±127, all in range', () => {
  const w = Float32Array.of(
    1,
    -2,
    0.5,
    0.25, // channel 0: max 2
    -0.03,
    0.01,
    0.02,
    0, // channel 1: max 0.03
    0,
    0,
    0,
    0, // channel 2: zero
  );
  const q = quantizeWeights(w, 3);
  assert.equal(q.quant.scale, [f32(2 / 127), f32(f32(0.03) / 127), 1]);
  assert.equal(q.quant.zeroPoint, [0, 0, 0]);
  assert.is(q.quant.axis, 0);
  assert.is(q.data[1], -127);
  assert.is(q.data[4], -127);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / 4);
    assert.ok(q.data[i]! >= -127 && q.data[i]! <= 127);
    assert.is(q.data[i], roundHalfAway(f32(w[i]! / q.quant.scale[c]!)), `w[${i}]`);
  }
  assert.equal([...q.data.slice(8)], [0, 0, 0, 0]);
});

test('weights: given scales are kept (pre-quantised models), values round and saturate at ±127', () => {
  const q = quantizeWeights(Float32Array.of(0.5, -0.5, 10, -0.25), 2, [0.25, 0.05]);
  assert.equal([...q.data], [2, -2, 127, -5]);
  assert.equal(q.quant.scale, [0.25, f32(0.05)]);
});

test('bias: int32 at s_in·s_w[c], zeros when absent', () => {
  const b = quantizeBias(Float32Array.of(1, -0.5), 2, 0.5, [0.25, 0.125]);
  assert.equal([...b.data], [8, -8]);
  assert.equal(b.quant.scale, [0.125, 0.0625]);
  assert.equal([...quantizeBias(undefined, 3, 0.1, [1, 1, 1]).data], [0, 0, 0]);
});

test('activation params: [0, max] gets zero point −128; 0 is exact; range covers [min, max]', () => {
  const relu = activationQuant({ min: 0, max: 6 });
  assert.equal(relu, { scale: [f32(6 / 255)], zeroPoint: [-128] });
  const q = activationQuant({ min: -1, max: 3 });
  assert.is(q.scale[0], f32(4 / 255));
  assert.is(q.zeroPoint[0], roundHalfAway(-128 + 1 / f32(4 / 255)));
  assert.is(quantizeValue(0, q.scale[0]!, q.zeroPoint[0]!), q.zeroPoint[0]);
  const r = representableRange(q);
  assert.ok(r.min <= -1 + q.scale[0]! / 2 && r.max >= 3 - q.scale[0]! / 2);
  assert.equal(activationQuant({ min: 0, max: 0 }).scale, [1]);
});

test('quantizeValue: round, add zero point, saturate to int8', () => {
  assert.is(quantizeValue(0.3, 0.1, 5), 8);
  assert.is(quantizeValue(-0.25, 0.1, 0), -3); // −2.5 rounds away from zero
  assert.is(quantizeValue(1e6, 0.1, 0), 127);
  assert.is(quantizeValue(-1e6, 0.1, 0), -128);
});

test.run();
