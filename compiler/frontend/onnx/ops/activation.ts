// ONNX activations that need more than one IR op or an input-borne range: Clip (min/max as attrs < 11,
// as inputs ≥ 11; bounds clamped to finite float32), HardSigmoid, HardSwish.
import { FLOAT32_MAX } from '../../../ir/ops/helpers.ts';
import type { OnnxNode } from '../decode.ts';
import type { Importer } from '../importer.ts';
import { constValue, runAs } from './compose.ts';
import { binaryHandler, unary } from './elementwise.ts';

export function clip(c: Importer, n: OnnxNode): void {
  let lo = -FLOAT32_MAX;
  let hi = FLOAT32_MAX;
  if (c.opset < 11) {
    lo = c.float('min', lo);
    hi = c.float('max', hi);
  } else {
    const mn = c.optConst(1, 'min');
    const mx = c.optConst(2, 'max');
    if (mn) lo = mn.values[0];
    if (mx) hi = mx.values[0];
  }
  const clamp = (v: number) => Math.min(Math.max(v, -FLOAT32_MAX), FLOAT32_MAX);
  unary('Clip', () => ({ min: clamp(lo), max: clamp(hi) }))(c, n);
}

/** HardSigmoid = Clip(alpha·x + beta, 0, 1); HardSwish = x · HardSigmoid(x) with alpha 1/6, beta 1/2. */
function hardSigmoidTo(c: Importer, n: OnnxNode, alpha: number, beta: number, out: string): void {
  const ax = c.fresh(`${out}__ax`);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [n.inputs[0], constValue(c, `${n.name}__alpha`, [alpha], [])], [ax]);
  const axb = c.fresh(`${out}__axb`);
  runAs(c, binaryHandler('Add'), n, 'Add', [ax, constValue(c, `${n.name}__beta`, [beta], [])], [axb]);
  runAs(
    c,
    unary('Clip', () => ({ min: 0, max: 1 })),
    n,
    'Clip',
    [axb],
    [out],
  );
}

export function hardSigmoid(c: Importer, n: OnnxNode): void {
  hardSigmoidTo(c, n, c.float('alpha', 0.2), c.float('beta', 0.5), n.outputs[0]);
}

export function hardSwish(c: Importer, n: OnnxNode): void {
  const hs = c.fresh(`${n.outputs[0]}__hsig`);
  hardSigmoidTo(c, n, 1 / 6, 0.5, hs);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [n.inputs[0], hs], [n.outputs[0]]);
}
