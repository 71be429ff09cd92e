// ONNX int8 ops as float IR with exact quantisation params: DequantizeLinear of constants folds to
// float32 (q − zp)·s weights carrying Tensor.quant; QuantizeLinear becomes a range Clip whose output
// records scale / zero point; QLinear* ops are the float op between the two (see docs/onnx-support.md).

import { numElements } from '../../../ir/graph.ts';
import type { QuantParams } from '../../../ir/graph.ts';
import { FLOAT32_MAX } from '../../../ir/ops/helpers.ts';
import { ONNX_DTYPE, onnxDtypeName } from '../decode.ts';
import type { OnnxNode, OnnxTensor } from '../decode.ts';
import type { Handler, Importer } from '../importer.ts';
import { runAs } from './compose.ts';
import { conv } from './conv.ts';
import { binaryHandler } from './elementwise.ts';
import { gemm, matmul } from './gemm.ts';

/** Integer range of a quantised ONNX type (QuantizeLinear's saturation bounds). */
const QRANGE: Record<number, [number, number]> = {
  [ONNX_DTYPE.UINT8]: [0, 255],
  [ONNX_DTYPE.INT8]: [-128, 127],
  [ONNX_DTYPE.UINT16]: [0, 65535],
  [ONNX_DTYPE.INT16]: [-32768, 32767],
  [ONNX_DTYPE.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};

function qParams(c: Importer, n: OnnxNode, rank: number): { q: QuantParams; dtype: number } {
  if (c.int('block_size', 0) !== 0)
    c.fail(
      `attr 'block_size'`,
      `expected 0 (per-tensor or per-axis), found ${c.int('block_size', 0)} (blocked quantisation)`,
    );
  const scale = c.constInput(1, 'scale');
  const zp = c.optConst(2, 'zero point');
  const dtype = zp?.dtype ?? ONNX_DTYPE.UINT8;
  if (!QRANGE[dtype])
    c.fail('inputs[2]', `expected a uint8/int8/uint16/int16/int32 zero point, found ${onnxDtypeName(dtype)}`);
  const count = numElements(scale.dims);
  const zeroPoint = zp ? [...zp.values] : new Array(count).fill(0);
  const q: QuantParams = { scale: [...scale.values], zeroPoint };
  if (count > 1 || (scale.dims.length === 1 && n.attrs.has('axis'))) {
    let axis = c.int('axis', 1);
    if (axis < 0) axis += rank;
    if (count > 1) q.axis = axis;
  }
  return { q, dtype };
}

/**
 * DequantizeLinear of a constant folds to float32 weights (q − zp)·scale that keep the exact scale
 * and zero point as `quant`; of an activation (after QuantizeLinear) it is the same tensor.
 */
function dequantize(c: Importer, n: OnnxNode): void {
  const v = c.input(0)!;
  const rank = v.kind === 'const' ? v.t.dims.length : v.shape.length;
  const { q } = qParams(c, n, rank);
  if (v.kind === 'act') {
    c.alias(n.outputs[0], v);
    return;
  }
  const t = v.t;
  const inner = q.axis === undefined ? 1 : numElements(t.dims.slice(q.axis + 1));
  const chans = q.axis === undefined ? 1 : t.dims[q.axis];
  const values = new Float64Array(t.values.length);
  for (let i = 0; i < values.length; i++) {
    const ch = q.axis === undefined ? 0 : Math.floor(i / inner) % chans;
    values[i] = Math.fround((t.values[i] - q.zeroPoint[ch]) * Math.fround(q.scale[ch]));
  }
  c.setConst(n.outputs[0], { name: '', dtype: ONNX_DTYPE.FLOAT, dims: t.dims, values }, q);
}

/**
 * QuantizeLinear of an activation: float IR keeps the value, saturated to the representable range
 * [(qmin − zp)·s, (qmax − zp)·s] by a Clip (that is how QDQ models carry ReLU/ReLU6); its output
 * tensor records the exact scale and zero point for the int8 path.
 */
function quantize(c: Importer, n: OnnxNode): void {
  const v = c.input(0);
  if (v?.kind === 'const') {
    quantizeConstant(c, n, v.t);
    return;
  }
  const x = c.act(0);
  const { q, dtype } = qParams(c, n, x.shape.length);
  if (q.axis !== undefined)
    c.fail('inputs[1]', `expected a per-tensor scale for an activation, found ${q.scale.length} scales`);
  const [qmin, qmax] = QRANGE[dtype];
  const s = Math.fround(q.scale[0]);
  const ir = c.produce(n.outputs[0], x.shape, x.layout);
  c.addNode(
    'Clip',
    [x.ir],
    [ir],
    {
      min: Math.max((qmin - q.zeroPoint[0]) * s, -FLOAT32_MAX),
      max: Math.min((qmax - q.zeroPoint[0]) * s, FLOAT32_MAX),
    },
    n.name,
  );
  c.g.tensors.get(ir)!.quant = q;
}

/** Round half to even, as QuantizeLinear rounds. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** QuantizeLinear of float constants (weights quantised in the graph): folded to the integer values. */
function quantizeConstant(c: Importer, n: OnnxNode, t: OnnxTensor): void {
  const { q, dtype } = qParams(c, n, t.dims.length);
  const [qmin, qmax] = QRANGE[dtype];
  const inner = q.axis === undefined ? 1 : numElements(t.dims.slice(q.axis + 1));
  const chans = q.axis === undefined ? 1 : t.dims[q.axis];
  const values = t.values.map((x, i) => {
    const ch = q.axis === undefined ? 0 : Math.floor(i / inner) % chans;
    return Math.min(Math.max(roundHalfEven(Math.fround(x) / Math.fround(q.scale[ch])) + q.zeroPoint[ch], qmin), qmax);
  });
  c.setConst(n.outputs[0], { name: '', dtype, dims: t.dims, values }, q);
}

/** Dequantises constant input `i` of a QLinear* node (scale i+1, zero point i+2) to a fresh value name. */
function dqInput(c: Importer, n: OnnxNode, i: number, axis: number): string {
  const v = c.input(i);
  if (v?.kind !== 'const') return n.inputs[i];
  const out = c.fresh(`${n.inputs[i]}__dq`);
  runAs(
    c,
    dequantize,
    n,
    'DequantizeLinear',
    [n.inputs[i], n.inputs[i + 1], n.inputs[i + 2]],
    [out],
    new Map([['axis', { kind: 'int', value: axis }]]),
  );
  return out;
}

/** int32 bias of a QLinear* node: scale = s_in · s_w (per channel), zero point 0. */
function dqBias(c: Importer, n: OnnxNode, i: number, inScale: number, wScaleIdx: number): string {
  if (!n.inputs[i]) return '';
  const b = c.constInput(i, 'int32 bias');
  const ws = c.constInput(wScaleIdx, 'weight scale').values;
  const scale = Array.from(b.values, (_, k) => Math.fround(inScale) * Math.fround(ws.length === 1 ? ws[0] : ws[k]));
  const out = c.fresh(`${n.inputs[i]}__dq`);
  c.setConst(
    out,
    {
      name: '',
      dtype: ONNX_DTYPE.FLOAT,
      dims: b.dims,
      values: Float64Array.from(b.values, (q, k) => Math.fround(q * scale[k])),
    },
    { scale, zeroPoint: scale.map(() => 0), axis: 0 },
  );
  return out;
}

/** Quantises the float result `f` into output `y` (QuantizeLinear with scale/zero point names). */
function requantize(c: Importer, n: OnnxNode, f: string, scale: string, zp: string, y: string): void {
  runAs(c, quantize, n, 'QuantizeLinear', [f, scale, zp], [y]);
}

/** QLinearConv(x, xs, xzp, w, ws, wzp, ys, yzp, B) = Q(Conv(DQ(x), DQ(w), DQ(B))); x is already float here. */
function qlinearConv(c: Importer, n: OnnxNode): void {
  const xs = c.constInput(1, 'x scale').values[0];
  const w = dqInput(c, n, 3, 0);
  const b = dqBias(c, n, 8, xs, 4);
  const f = c.fresh(`${n.outputs[0]}__f`);
  runAs(c, conv, n, 'Conv', [n.inputs[0], w, b], [f], n.attrs);
  requantize(c, n, f, n.inputs[6], n.inputs[7], n.outputs[0]);
}

/** QLinearMatMul(a, as, azp, b, bs, bzp, ys, yzp) = Q(MatMul(DQ(a), DQ(b))); per-column b scales → axis 1. */
function qlinearMatMul(c: Importer, n: OnnxNode): void {
  const b = dqInput(c, n, 3, 1);
  const f = c.fresh(`${n.outputs[0]}__f`);
  runAs(c, matmul, n, 'MatMul', [n.inputs[0], b], [f]);
  requantize(c, n, f, n.inputs[6], n.inputs[7], n.outputs[0]);
}

/** com.microsoft QLinearAdd(A, As, Azp, B, Bs, Bzp, Cs, Czp) = Q(DQ(A) + DQ(B)). */
function qlinearAdd(c: Importer, n: OnnxNode): void {
  const a = dqInput(c, n, 0, 1);
  const b = dqInput(c, n, 3, 1);
  const f = c.fresh(`${n.outputs[0]}__f`);
  runAs(c, binaryHandler('Add'), n, 'Add', [a, b], [f]);
  requantize(c, n, f, n.inputs[6], n.inputs[7], n.outputs[0]);
}

/** com.microsoft QGemm(A, as, azp, B, bs, bzp, C?, ys?, yzp?): float output when ys is absent. */
function qgemm(c: Importer, n: OnnxNode): void {
  const as = c.constInput(1, 'A scale').values[0];
  const transB = c.int('transB', 0) === 1;
  const b = dqInput(c, n, 3, transB ? 0 : 1);
  const bias = dqBias(c, n, 6, as, 4);
  const quantOut = Boolean(n.inputs[7]);
  const f = quantOut ? c.fresh(`${n.outputs[0]}__f`) : n.outputs[0];
  const attrs = new Map([...n.attrs].filter(([k]) => k !== 'transA' || c.int('transA', 0) === 1));
  runAs(c, gemm, n, 'Gemm', [n.inputs[0], b, bias], [f], attrs);
  if (quantOut) requantize(c, n, f, n.inputs[7], n.inputs[8] ?? '', n.outputs[0]);
}

export const QUANT_HANDLERS: Record<string, Handler> = {
  QLinearConv: qlinearConv,
  QLinearMatMul: qlinearMatMul,
  QLinearAdd: qlinearAdd,
  QGemm: qgemm,
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
};
