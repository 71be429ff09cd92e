// ONNX op handlers for float ops: each maps one ONNX node onto IR nodes through the Importer
// (which tracks ONNX shapes and the NCHW/NHWC layout of every value). Layout-sensitive ops
// (Conv, pools, BatchNorm) take NHWC; reshape-like ops read NCHW element order.

import { numElements } from '../../ir/graph.ts';
import type { Attrs, OpType, QuantParams } from '../../ir/graph.ts';
import { FLOAT32_MAX } from '../../ir/ops/helpers.ts';
import { ONNX_DTYPE, onnxDtypeName } from './decode.ts';
import type { OnnxAttr, OnnxNode } from './decode.ts';
import { broadcastShapes, permute, permuteData, reshapeTarget, TO_NCHW, TO_NHWC } from './shapes.ts';
import type { ActValue, Handler, Importer, Value } from './importer.ts';

export function unary(op: OpType, attrs: (c: Importer) => Attrs = () => ({})): Handler {
  return (c, n) => {
    const x = c.act(0);
    const ir = c.produce(n.outputs[0], x.shape, x.layout);
    c.addNode(op, [x.ir], [ir], attrs(c), n.name);
  };
}

/** Elementwise binary op with numpy broadcasting; constants follow the activation's layout. */
function binary(c: Importer, op: OpType, va: Value, vb: Value, names: [string, string], out: string, name: string): void {
  const sa = va.kind === 'const' ? va.t.dims : va.shape;
  const sb = vb.kind === 'const' ? vb.t.dims : vb.shape;
  [va, vb].forEach((v, i) => { if (v.kind === 'const') c.checkFloat(v.t, i); });
  const shape = broadcastShapes(sa, sb);
  if (!shape) c.fail('inputs', `expected broadcastable shapes, found [${sa}] and [${sb}]`);
  const acts = [va, vb].filter((v): v is ActValue => v.kind === 'act');
  const nhwc = shape.length === 4 && acts.some((v) => v.layout === 'nhwc')
    && [va, vb].every((v) => (v.kind === 'const' ? v.t.dims.length <= 4 : v.shape.length === 4));
  const irOf = (v: Value, i: number): string => {
    if (v.kind === 'act') return nhwc ? c.toNhwc(v) : c.toPlain(v);
    if (!nhwc) return c.constIR(v.t.values, v.t.dims, names[i]);
    const dims4 = [...new Array(4 - v.t.dims.length).fill(1), ...v.t.dims];
    return c.constIR(permuteData(v.t.values, dims4, TO_NHWC), permute(dims4, TO_NHWC), `${names[i]}__nhwc`);
  };
  const a = irOf(va, 0);
  const b = irOf(vb, 1);
  const ir = c.produce(out, shape.length === 0 ? [1] : shape, nhwc ? 'nhwc' : 'plain');
  c.addNode(op, [a, b], [ir], {}, name);
}

export function binaryHandler(op: OpType): Handler {
  return (c, n) => {
    if (n.inputs.length !== 2) c.fail('inputs', `expected 2 inputs, found ${n.inputs.length}`);
    const a = c.input(0)!;
    let b = c.input(1)!;
    const rankA = a.kind === 'const' ? a.t.dims.length : a.shape.length;
    const dimsB = b.kind === 'const' ? b.t.dims : b.shape;
    // Opset < 7: B aligned at `axis` (Add/Sub/Mul/Div with broadcast=1), PRelu slope [C] on axis 1.
    let axis: number | undefined;
    if (c.opset < 7 && op === 'PRelu' && dimsB.length === 1 && rankA > 2 && dimsB[0] > 1) axis = 1;
    if (c.opset < 7 && op !== 'PRelu' && c.int('broadcast', 0) === 1 && dimsB.length < rankA) {
      axis = c.int('axis', rankA - dimsB.length);
      if (axis < 0) axis += rankA;
    }
    if (axis !== undefined) {
      const aligned = [...dimsB, ...new Array(rankA - axis - dimsB.length).fill(1)];
      if (b.kind === 'const') b = { ...b, t: { ...b.t, dims: aligned } };
      else {
        const name = c.fresh(`${n.inputs[1]}__aligned`);
        c.reshapeTo(b, aligned, name);
        b = c.values.get(name)!;
      }
    }
    binary(c, op, a, b, [n.inputs[0], n.inputs[1]], n.outputs[0], n.name);
  };
}

/** ONNX Max/Min take 1..N inputs: chained pairwise. */
function variadic(op: OpType): Handler {
  return (c, n) => {
    if (n.inputs.length === 1) { c.alias(n.outputs[0], c.act(0)); return; }
    let acc = c.input(0)!;
    let accName = n.inputs[0];
    for (let i = 1; i < n.inputs.length; i++) {
      const last = i === n.inputs.length - 1;
      const out = last ? n.outputs[0] : c.fresh(`${n.outputs[0]}__${i}`);
      binary(c, op, acc, c.input(i)!, [accName, n.inputs[i]], out, last ? n.name : `${n.name}/${i}`);
      acc = c.values.get(out)!;
      accName = out;
    }
  };
}

interface Spatial { kernel: number[]; strides: number[]; dilations: number[]; pads: number[]; out: number[] }

/** Resolves ONNX pads/auto_pad/ceil_mode to explicit [top,left,bottom,right] pads for a 2-D window. */
function spatial(c: Importer, hw: number[], kernel: number[], allowCeil: boolean): Spatial {
  const strides = c.ints('strides') ?? [1, 1];
  const dilations = c.ints('dilations') ?? [1, 1];
  const autoPad = c.str('auto_pad', 'NOTSET');
  let pads = c.ints('pads') ?? [0, 0, 0, 0];
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4 || kernel.length !== 2) {
    c.fail('attrs', 'expected a 2-D window (kernel_shape, strides, dilations of 2, pads of 4), found another rank (only 2-D spatial ops are supported)');
  }
  const eff = kernel.map((k, i) => (k - 1) * dilations[i] + 1);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = hw.map((h, i) => Math.max((Math.ceil(h / strides[i]) - 1) * strides[i] + eff[i] - h, 0));
    const small = total.map((t) => Math.floor(t / 2));
    const begin = autoPad === 'SAME_UPPER' ? small : total.map((t, i) => t - small[i]);
    pads = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
  } else if (autoPad === 'VALID') {
    pads = [0, 0, 0, 0];
  } else if (autoPad !== 'NOTSET') {
    c.fail(`attr 'auto_pad'`, `expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, found ${autoPad}`);
  }
  const ceil = c.int('ceil_mode', 0) === 1;
  if (ceil && !allowCeil) c.fail(`attr 'ceil_mode'`, 'expected 0, found 1');
  const out = hw.map((h, i) => {
    const span = h + pads[i] + pads[i + 2] - eff[i];
    if (span < 0) c.fail('inputs', `window ${eff[i]} is larger than padded input ${h + pads[i] + pads[i + 2]}`);
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // ONNX/PyTorch drop a last window that would start in the end padding.
    if (ceil && (o - 1) * strides[i] >= h + pads[i]) o--;
    return o;
  });
  if (ceil) {
    // Emulate ceil_mode with extra end padding that no window ever reads as data.
    pads = [...pads];
    for (let i = 0; i < 2; i++) {
      const need = (out[i] - 1) * strides[i] + eff[i] - (hw[i] + pads[i] + pads[i + 2]);
      if (need > 0) pads[i + 2] += need;
    }
  }
  return { kernel, strides, dilations, pads, out };
}

export function conv(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W] (2-D convolution), found shape [${x.shape}]`);
  const w = c.constInput(1, 'weights W');
  c.checkFloat(w, 1);
  const group = c.int('group', 1);
  if (w.dims.length !== 4) c.fail('inputs[1]', `expected 4-D weights [Co,Ci/group,KH,KW], found [${w.dims}]`);
  const [co, cig, kh, kw] = w.dims;
  const ci = x.shape[1];
  if (cig * group !== ci) c.fail('inputs[1]', `weights [${w.dims}] with group ${group} expected ${cig * group} input channels, found ${ci}`);
  const kernel = c.ints('kernel_shape') ?? [kh, kw];
  if (kernel[0] !== kh || kernel[1] !== kw) c.fail(`attr 'kernel_shape'`, `expected [${kh},${kw}] as in W, found [${kernel}]`);
  const s = spatial(c, x.shape.slice(2), kernel, false);
  // Per-output-channel quant (axis 0) stays axis 0 in OHWI.
  const inputs = [c.toNhwc(x), c.constIR(permuteData(w.values, w.dims, TO_NHWC), [co, kh, kw, cig], `${n.inputs[1]}__ohwi`, c.quantOf(1))];
  const b = c.optConst(2, 'bias B');
  if (b) {
    c.checkFloat(b, 2);
    if (numElements(b.dims) !== co) c.fail('inputs[2]', `expected ${co} bias values, found dims [${b.dims}]`);
    inputs.push(c.constIR(b.values, [co], n.inputs[2], c.quantOf(2)));
  }
  const ir = c.produce(n.outputs[0], [x.shape[0], co, ...s.out], 'nhwc');
  c.addNode('Conv2D', inputs, [ir], {
    strides: s.strides, dilations: s.dilations, padding: s.pads, groups: group,
  }, n.name);
}

function pool(op: 'MaxPool' | 'AvgPool'): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W] (2-D pooling), found shape [${x.shape}]`);
    if (n.outputs.length > 1 && n.outputs[1]) c.fail('outputs[1]', 'expected no Indices output, found one (argmax indices are not supported)');
    const kernel = c.ints('kernel_shape');
    if (!kernel) c.fail(`attr 'kernel_shape'`, 'expected it, found nothing');
    const countIncludePad = op === 'AvgPool' && c.int('count_include_pad', 0) === 1;
    const before = c.ints('pads') ?? [0, 0, 0, 0];
    const s = spatial(c, x.shape.slice(2), kernel!, true);
    if ((s.dilations[0] !== 1 || s.dilations[1] !== 1)) c.fail(`attr 'dilations'`, `expected [1,1], found [${s.dilations}]`);
    if (countIncludePad && c.int('ceil_mode', 0) === 1 && s.pads.some((p, i) => p !== before[i])) {
      c.fail(`attr 'ceil_mode'`, 'expected 0 with count_include_pad=1 when the last window overhangs, found 1');
    }
    const ir = c.produce(n.outputs[0], [x.shape[0], x.shape[1], ...s.out], 'nhwc');
    const attrs: Attrs = { kernel: s.kernel, strides: s.strides, padding: s.pads };
    if (op === 'AvgPool') attrs.countIncludePad = countIncludePad;
    c.addNode(op, [c.toNhwc(x)], [ir], attrs, n.name);
  };
}

function globalPool(op: 'avg' | 'max'): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W], found shape [${x.shape}]`);
    const ir = c.produce(n.outputs[0], [x.shape[0], x.shape[1], 1, 1], 'nhwc');
    if (op === 'avg') c.addNode('GlobalAvgPool', [c.toNhwc(x)], [ir], {}, n.name);
    else {
      const k = x.shape.slice(2);
      c.addNode('MaxPool', [c.toNhwc(x)], [ir], { kernel: k, strides: k, padding: 'valid' }, n.name);
    }
  };
}

function batchNorm(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  if (c.int('training_mode', 0) !== 0) c.fail(`attr 'training_mode'`, 'expected 0 (inference), found 1');
  if (n.outputs.slice(1).some((o) => o)) c.fail('outputs', 'expected only Y (inference), found running mean/var outputs');
  const eps = c.float('epsilon', 1e-5);
  const ch = x.shape[1];
  const params = [1, 2, 3, 4].map((i) => {
    const t = c.constInput(i, ['scale', 'B', 'mean', 'var'][i - 1]);
    c.checkFloat(t, i);
    if (numElements(t.dims) !== ch) c.fail(`inputs[${i}]`, `expected ${ch} values (one per channel), found dims [${t.dims}]`);
    return c.constIR(t.values, [ch], n.inputs[i]);
  });
  if (x.shape.length === 4) {
    const ir = c.produce(n.outputs[0], x.shape, 'nhwc');
    c.addNode('BatchNorm', [c.toNhwc(x), ...params], [ir], { epsilon: eps }, n.name);
  } else if (x.shape.length === 2) {
    const ir = c.produce(n.outputs[0], x.shape, 'plain');
    c.addNode('BatchNorm', [x.ir, ...params], [ir], { epsilon: eps }, n.name);
  } else if (x.shape.length === 3) {
    const t = c.fresh(`${n.name}/nlc`);
    c.addAct(t, [x.shape[0], x.shape[2], x.shape[1]]);
    c.addNode('Transpose', [c.toPlain(x)], [t], { perm: [0, 2, 1] });
    const y = c.fresh(`${n.name}/y_nlc`);
    c.addAct(y, [x.shape[0], x.shape[2], x.shape[1]]);
    c.addNode('BatchNorm', [t, ...params], [y], { epsilon: eps }, n.name);
    const ir = c.produce(n.outputs[0], x.shape, 'plain');
    c.addNode('Transpose', [y], [ir], { perm: [0, 2, 1] });
  } else {
    c.fail('inputs[0]', `expected 2-D, 3-D or 4-D input, found shape [${x.shape}]`);
  }
}

function clip(c: Importer, n: OnnxNode): void {
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

function gemmLike(c: Importer, n: OnnxNode, a: ActValue, weights: Float64Array, outF: number, inF: number,
  bias: Float64Array | undefined, out: string, wq?: QuantParams, bq?: QuantParams): void {
  const w = c.constIR(weights, [outF, inF], `${n.inputs[1]}__dense`, wq);
  const inputs = [c.toPlain(a), w];
  if (bias) inputs.push(c.constIR(bias, [outF], `${n.inputs[2] || n.name}__bias`, bq));
  const ir = c.produce(out, [a.shape[0], outF], 'plain');
  c.addNode('Dense', inputs, [ir], {}, n.name);
}

export function gemm(c: Importer, n: OnnxNode): void {
  let a = c.act(0);
  if (a.shape.length !== 2) c.fail('inputs[0]', `expected 2-D A, found shape [${a.shape}]`);
  if (c.int('transA', 0)) {
    const t = c.fresh(`${n.name}/At`);
    c.addAct(t, [a.shape[1], a.shape[0]]);
    c.addNode('Transpose', [c.toPlain(a)], [t], { perm: [1, 0] });
    a = { kind: 'act', ir: t, shape: [a.shape[1], a.shape[0]], layout: 'plain' };
  }
  const b = c.constInput(1, 'B');
  c.checkFloat(b, 1);
  const alpha = c.float('alpha', 1);
  const beta = c.float('beta', 1);
  const transB = c.int('transB', 0) === 1;
  if (b.dims.length !== 2) c.fail('inputs[1]', `expected 2-D B, found [${b.dims}]`);
  const [k, nOut] = transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (k !== a.shape[1]) c.fail('inputs[1]', `expected B with K=${a.shape[1]}, found dims [${b.dims}]${transB ? ' (transB)' : ''}`);
  const wt = transB ? Float64Array.from(b.values) : permuteData(b.values, b.dims, [1, 0]);
  for (let i = 0; i < wt.length; i++) wt[i] *= alpha;
  const cv = n.inputs[2] ? c.input(2) : undefined;
  let bias: Float64Array | undefined;
  let extra: Value | undefined;
  if (cv?.kind === 'const') {
    c.checkFloat(cv.t, 2);
    const cnt = numElements(cv.t.dims);
    const rowLike = cv.t.dims.length <= 1 || cv.t.dims.slice(0, -1).every((d) => d === 1);
    if (cnt === 1) bias = new Float64Array(nOut).fill(cv.t.values[0] * beta);
    else if (rowLike && cnt === nOut) bias = cv.t.values.map((v) => v * beta);
    else extra = cv;
  } else if (cv) extra = cv;
  // B [K,N] quantised per column (axis 1) becomes per row of the [N,K] Dense weights (axis 0).
  const wq = c.quantOf(1, (ax) => (transB ? ax : 1 - ax), alpha);
  const bq = bias && cv?.kind === 'const' && numElements(cv.t.dims) === nOut ? c.quantOf(2, () => 0, beta) : undefined;
  if (!extra) { gemmLike(c, n, a, wt, nOut, k, bias, n.outputs[0], wq, bq); return; }
  // C that varies over rows (or is computed) is added after the product.
  const mid = c.fresh(`${n.outputs[0]}__ab`);
  gemmLike(c, n, a, wt, nOut, k, undefined, mid, wq);
  let cv2: Value = extra;
  if (beta !== 1) {
    if (extra.kind !== 'const') c.fail(`attr 'beta'`, 'expected 1 when C is computed, found another value');
    cv2 = { kind: 'const', t: { ...extra.t, values: extra.t.values.map((v) => v * beta) } };
  }
  binary(c, 'Add', c.values.get(mid)!, cv2, [mid, `${n.inputs[2]}__beta`], n.outputs[0], `${n.name}/addC`);
}

export function matmul(c: Importer, n: OnnxNode): void {
  const a = c.act(0);
  const bv = c.input(1)!;
  if (bv.kind !== 'const') c.fail('inputs[1]', `expected B as a constant (MatMul of two computed tensors is not supported), found '${n.inputs[1]}'`);
  const b = bv.t;
  c.checkFloat(b, 1);
  if (b.dims.length !== 2) c.fail('inputs[1]', `expected 2-D constant B [K,N], found dims [${b.dims}]`);
  const [k, nOut] = b.dims;
  const ka = a.shape[a.shape.length - 1];
  if (ka !== k) c.fail('inputs[1]', `expected B with K=${ka}, found dims [${b.dims}]`);
  const wt = permuteData(b.values, b.dims, [1, 0]);
  const wq = c.quantOf(1, (ax) => 1 - ax);
  if (a.shape.length === 2) { gemmLike(c, n, a, wt, nOut, k, undefined, n.outputs[0], wq); return; }
  const rows = numElements(a.shape) / k;
  const flat = c.fresh(`${n.name}/rows`);
  c.reshapeTo(a, [rows, k], flat);
  const flatV = c.values.get(flat) as ActValue;
  const mid = c.fresh(`${n.outputs[0]}__2d`);
  gemmLike(c, n, flatV, wt, nOut, k, undefined, mid, wq);
  const midV = c.values.get(mid) as ActValue;
  c.reshapeTo(midV, [...a.shape.slice(0, -1), nOut], n.outputs[0]);
}

function flatten(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  let axis = c.int('axis', 1);
  if (axis < 0) axis += x.shape.length;
  const shape = [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))];
  c.reshapeTo(x, shape, n.outputs[0]);
}

function reshape(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const spec = c.opset < 5 ? c.ints('shape') ?? [] : [...c.constInput(1, 'shape').values];
  const target = reshapeTarget(x.shape, spec, c.int('allowzero', 0) === 1);
  if (typeof target === 'string') c.fail('inputs[1]', `expected a shape for [${x.shape}], found [${spec}] (${target})`);
  c.reshapeTo(x, target, n.outputs[0]);
}

function axesArg(c: Importer, idx: number, attr: string): number[] | undefined {
  if (c.opset >= 13) {
    const t = c.optConst(idx, 'axes');
    return t ? [...t.values] : undefined;
  }
  return c.ints(attr);
}

function squeeze(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = (axesArg(c, 1, 'axes') ?? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0))
    .map((a) => (a < 0 ? a + r : a));
  for (const a of axes) if (x.shape[a] !== 1) c.fail('axes', `expected axis ${a} of size 1, found ${x.shape[a]}`);
  c.reshapeTo(x, x.shape.filter((_, i) => !axes.includes(i)), n.outputs[0]);
}

function unsqueeze(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const axes = axesArg(c, 1, 'axes');
  if (!axes) c.fail('axes', 'expected axes, found none');
  const r = x.shape.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : x.shape[j++]);
  c.reshapeTo(x, out, n.outputs[0]);
}

function transpose(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const perm = c.ints('perm') ?? x.shape.map((_, i) => r - 1 - i);
  const shape = permute(x.shape, perm);
  // On NHWC data the ONNX perm composes with the layout: IR axis i holds ONNX axis TO_NHWC[i].
  const irPerm = x.layout === 'nhwc' ? perm.map((p) => TO_NCHW[p]) : perm;
  if (irPerm.every((p, i) => p === i) && !c.g.tensors.get(x.ir)?.data) {
    if (!c.graphOutputs.has(n.outputs[0])) {
      c.alias(n.outputs[0], { kind: 'act', ir: x.ir, shape, layout: 'plain' });
      return;
    }
  }
  const ir = c.produce(n.outputs[0], shape, 'plain');
  c.addNode('Transpose', [x.ir], [ir], { perm: irPerm }, n.name);
}

function concat(c: Importer, n: OnnxNode): void {
  const vals = n.inputs.map((_, i) => c.input(i)!);
  const shapes = vals.map((v) => (v.kind === 'const' ? v.t.dims : v.shape));
  const r = shapes[0].length;
  let axis = c.int('axis', NaN);
  if (Number.isNaN(axis)) c.fail(`attr 'axis'`, 'expected it, found nothing');
  if (axis < 0) axis += r;
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((s, d) => s + d[axis], 0);
  vals.forEach((v, i) => { if (v.kind === 'const') c.checkFloat(v.t, i); });
  const nhwc = r === 4 && vals.some((v) => v.kind === 'act' && v.layout === 'nhwc');
  const irs = vals.map((v, i) => {
    if (v.kind === 'act') return nhwc ? c.toNhwc(v) : c.toPlain(v);
    return nhwc
      ? c.constIR(permuteData(v.t.values, v.t.dims, TO_NHWC), permute(v.t.dims, TO_NHWC), `${n.inputs[i]}__nhwc`)
      : c.constIR(v.t.values, v.t.dims, n.inputs[i]);
  });
  const ir = c.produce(n.outputs[0], shape, nhwc ? 'nhwc' : 'plain');
  c.addNode('Concat', irs, [ir], { axis: nhwc ? TO_NCHW[axis] : axis }, n.name);
}

function softmax(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let axis = c.int('axis', c.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  if (c.opset >= 13 || axis === r - 1) {
    const ir = c.produce(n.outputs[0], x.shape, x.layout);
    c.addNode('Softmax', [x.ir], [ir], { axis: x.layout === 'nhwc' ? TO_NCHW[axis] : axis }, n.name);
    return;
  }
  // Opset < 13: softmax over the flattened trailing dims [d_axis … d_r-1].
  const flat = c.fresh(`${n.name}/2d`);
  c.reshapeTo(x, [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))], flat);
  const fv = c.values.get(flat) as ActValue;
  const sm = c.fresh(`${n.name}/sm`);
  const smIr = c.produce(sm, fv.shape, 'plain');
  c.addNode('Softmax', [fv.ir], [smIr], { axis: -1 }, n.name);
  c.reshapeTo({ kind: 'act', ir: smIr, shape: fv.shape, layout: 'plain' }, x.shape, n.outputs[0]);
}

function pad(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const mode = c.str('mode', 'constant');
  if (mode !== 'constant') c.fail(`attr 'mode'`, `expected 'constant', found '${mode}'`);
  let pads: number[];
  let value = 0;
  if (c.opset < 11) {
    pads = c.ints('pads') ?? [];
    value = c.float('value', 0);
  } else {
    pads = [...c.constInput(1, 'pads').values];
    const cv = c.optConst(2, 'constant_value');
    if (cv) value = cv.values[0] ?? 0;
    const axesT = c.optConst(3, 'axes');
    if (axesT) {
      const full = new Array(2 * r).fill(0);
      const axes = [...axesT.values].map((a) => (a < 0 ? a + r : a));
      axes.forEach((a, i) => { full[a] = pads[i]; full[a + r] = pads[i + axes.length]; });
      pads = full;
    }
  }
  if (pads.length !== 2 * r) c.fail('pads', `expected ${2 * r} values, found ${pads.length}`);
  if (pads.some((p) => p < 0)) c.fail('pads', `expected pads ≥ 0 (cropping is not supported), found [${pads}]`);
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  const nhwc = x.layout === 'nhwc';
  const irPads = nhwc ? [...permute(pads.slice(0, r), TO_NHWC), ...permute(pads.slice(r), TO_NHWC)] : pads;
  const ir = c.produce(n.outputs[0], shape, x.layout);
  c.addNode('Pad', [x.ir], [ir], { pads: irPads, value: Math.min(Math.max(value, -FLOAT32_MAX), FLOAT32_MAX) }, n.name);
}

/** Output dim of a static ONNX slice along one axis. */
function sliceDim(d: number, start: number, end: number, step: number): number {
  const clampS = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) { s = clampS(s, 0, d); e = clampS(e, 0, d); return Math.max(0, Math.ceil((e - s) / step)); }
  s = clampS(s, 0, d - 1); e = clampS(e, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

function slice(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let starts: number[]; let ends: number[]; let axes: number[] | undefined; let steps: number[] | undefined;
  if (c.opset < 10) {
    starts = c.ints('starts') ?? []; ends = c.ints('ends') ?? []; axes = c.ints('axes');
  } else {
    starts = [...c.constInput(1, 'starts').values];
    ends = [...c.constInput(2, 'ends').values];
    const at = c.optConst(3, 'axes');
    const st = c.optConst(4, 'steps');
    axes = at ? [...at.values] : undefined;
    steps = st ? [...st.values] : undefined;
  }
  axes = (axes ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  steps ??= starts.map(() => 1);
  if (steps.includes(0)) c.fail('steps', 'expected non-zero steps, found 0');
  const big = 2 ** 31 - 1;
  const clampBig = (v: number) => Math.min(Math.max(v, -big), big);
  starts = starts.map(clampBig); ends = ends.map(clampBig);
  const shape = [...x.shape];
  axes.forEach((a, i) => { shape[a] = sliceDim(x.shape[a], starts[i], ends[i], steps![i]); });
  if (shape.some((d) => d === 0)) c.fail('inputs', `expected a non-empty slice, found output shape [${shape}]`);
  const ir = c.produce(n.outputs[0], shape, x.layout);
  c.addNode('Slice', [x.ir], [ir], {
    starts, ends, axes: x.layout === 'nhwc' ? axes.map((a) => TO_NCHW[a]) : axes, steps,
  }, n.name);
}

function identity(c: Importer, n: OnnxNode): void {
  if (n.opType === 'Dropout' && n.outputs[1]) c.fail('outputs[1]', 'expected no mask output (inference), found one');
  if (n.opType === 'Dropout' && n.inputs[2]) {
    const training = c.constInput(2, 'training_mode');
    if (training.values[0] !== 0) c.fail('inputs[2]', 'expected training_mode false (inference), found true');
  }
  const v = c.input(0)!;
  c.alias(n.outputs[0], v);
}

function neg(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const m = c.constIR([-1], [1], `${n.name}__minus1`);
  const ir = c.produce(n.outputs[0], x.shape, x.layout);
  c.addNode('Mul', [x.ir, m], [ir], {}, n.name);
}

/**
 * Runs `handler` on a synthetic ONNX node (the float op inside a QLinear* node); inputs and
 * outputs are value names already known to the importer.
 */
export function runAs(c: Importer, handler: Handler, n: OnnxNode, opType: string, inputs: string[], outputs: string[],
  attrs: Map<string, OnnxAttr> = new Map()): void {
  const saved = c.cur;
  const node: OnnxNode = { name: `${n.name}/${opType}`, opType, domain: '', inputs, outputs, attrs };
  c.cur = node;
  try {
    handler(c, node);
  } finally {
    c.cur = saved;
  }
}

/** A constant value with a fresh name (float32 data). */
function constValue(c: Importer, base: string, values: number[], dims: number[]): string {
  const name = c.fresh(base);
  c.setConst(name, { name: '', dtype: ONNX_DTYPE.FLOAT, dims, values: Float64Array.from(values, Math.fround) });
  return name;
}

/** Conv / pools on 3-D [N,C,L] data run as their 2-D form on [N,C,1,L] with a 1×k window. */
function with1d(handler: Handler, hasWeights: boolean): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 3) { handler(c, n); return; }
    const [batch, ch, len] = x.shape;
    const x4 = c.fresh(`${n.inputs[0]}__2d`);
    c.reshapeTo(x, [batch, ch, 1, len], x4);
    const inputs = [x4, ...n.inputs.slice(1)];
    if (hasWeights) {
      const wv = c.input(1);
      const w = c.constInput(1, 'weights W');
      inputs[1] = c.fresh(`${n.inputs[1]}__2d`);
      c.setConst(inputs[1], { ...w, dims: [w.dims[0], w.dims[1], 1, ...w.dims.slice(2)] }, wv?.kind === 'const' ? wv.quant : undefined);
    }
    const attrs = new Map(n.attrs);
    for (const k of ['kernel_shape', 'strides', 'dilations']) {
      const a = attrs.get(k);
      if (a?.kind === 'ints') attrs.set(k, { kind: 'ints', value: [1, ...a.value] });
    }
    const pads = attrs.get('pads');
    if (pads?.kind === 'ints') attrs.set('pads', { kind: 'ints', value: [0, pads.value[0], 0, pads.value[1]] });
    const y4 = c.fresh(`${n.outputs[0]}__2d`);
    runAs(c, handler, n, n.opType, inputs, [y4, ...n.outputs.slice(1)], attrs);
    const yv = c.values.get(y4) as ActValue;
    c.reshapeTo(yv, [yv.shape[0], yv.shape[1], yv.shape[3]], n.outputs[0]);
  };
}

/** HardSigmoid = Clip(alpha·x + beta, 0, 1); HardSwish = x · HardSigmoid(x) with alpha 1/6, beta 1/2. */
function hardSigmoidTo(c: Importer, n: OnnxNode, alpha: number, beta: number, out: string): void {
  const ax = c.fresh(`${out}__ax`);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [n.inputs[0], constValue(c, `${n.name}__alpha`, [alpha], [])], [ax]);
  const axb = c.fresh(`${out}__axb`);
  runAs(c, binaryHandler('Add'), n, 'Add', [ax, constValue(c, `${n.name}__beta`, [beta], [])], [axb]);
  runAs(c, unary('Clip', () => ({ min: 0, max: 1 })), n, 'Clip', [axb], [out]);
}

function hardSigmoid(c: Importer, n: OnnxNode): void {
  hardSigmoidTo(c, n, c.float('alpha', 0.2), c.float('beta', 0.5), n.outputs[0]);
}

function hardSwish(c: Importer, n: OnnxNode): void {
  const hs = c.fresh(`${n.outputs[0]}__hsig`);
  hardSigmoidTo(c, n, 1 / 6, 0.5, hs);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [n.inputs[0], hs], [n.outputs[0]]);
}

/** ReduceMean over H and W of 4-D data (how TF exporters write global average pooling). */
function reduceMean(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = (c.opset >= 18 ? (n.inputs[1] ? [...c.constInput(1, 'axes').values] : undefined) : c.ints('axes'))
    ?.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
  if (r !== 4 || !axes || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
    c.fail('axes', `expected axes [2, 3] of 4-D data (global average pooling), found [${axes ?? 'all'}] of rank ${r}`);
  }
  const keep = c.int('keepdims', 1) === 1;
  const out = keep ? n.outputs[0] : c.fresh(`${n.outputs[0]}__keep`);
  runAs(c, globalPool('avg'), n, 'GlobalAveragePool', [n.inputs[0]], [out]);
  if (!keep) c.reshapeTo(c.values.get(out) as ActValue, [x.shape[0], x.shape[1]], n.outputs[0]);
}

/** Split into static Slices along one axis (sizes from the attr < 13, the input ≥ 13, or equal parts). */
function split(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let axis = c.int('axis', 0);
  if (axis < 0) axis += r;
  const d = x.shape[axis];
  const k = n.outputs.length;
  let sizes = c.opset >= 13 ? (n.inputs[1] ? [...c.constInput(1, 'split').values] : undefined) : c.ints('split');
  if (!sizes) {
    const numOutputs = c.int('num_outputs', k);
    const part = Math.ceil(d / numOutputs);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(part, d - i * part)));
  }
  if (sizes.length !== k || sizes.reduce((a, b) => a + b, 0) !== d || sizes.some((v) => v <= 0)) {
    c.fail('split', `expected ${k} positive sizes summing to ${d}, found [${sizes}]`);
  }
  let start = 0;
  n.outputs.forEach((out, i) => {
    const shape = [...x.shape];
    shape[axis] = sizes![i];
    const ir = c.produce(out, shape, x.layout);
    c.addNode('Slice', [x.ir], [ir], {
      starts: [start], ends: [start + sizes![i]], axes: [x.layout === 'nhwc' ? TO_NCHW[axis] : axis], steps: [1],
    }, `${n.name}/${i}`);
    start += sizes![i];
  });
}

/** Mean of N inputs = their sum times 1/N. */
function mean(c: Importer, n: OnnxNode): void {
  if (n.inputs.length === 1) { c.alias(n.outputs[0], c.act(0)); return; }
  const sum = c.fresh(`${n.outputs[0]}__sum`);
  runAs(c, variadic('Add'), n, 'Sum', n.inputs, [sum]);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [sum, constValue(c, `${n.name}__1_over_n`, [1 / n.inputs.length], [])], [n.outputs[0]]);
}

function reciprocal(c: Importer, n: OnnxNode): void {
  runAs(c, binaryHandler('Div'), n, 'Div', [constValue(c, `${n.name}__one`, [1], []), n.inputs[0]], [n.outputs[0]]);
}

/** Cast of computed data: only float → float (a no-op in float32); constants fold. */
function cast(c: Importer, n: OnnxNode): void {
  const to = c.int('to', ONNX_DTYPE.FLOAT);
  if (to !== ONNX_DTYPE.FLOAT) c.fail(`attr 'to'`, `expected float (1) for computed data, found ${onnxDtypeName(to)}`);
  c.alias(n.outputs[0], c.act(0));
}

export const FLOAT_HANDLERS: Record<string, Handler> = {
  Split: split,
  Mean: mean,
  Reciprocal: reciprocal,
  Cast: cast,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Sum: variadic('Add'),
  ReduceMean: reduceMean,
  Conv: with1d(conv, true),
  Gemm: gemm,
  MatMul: matmul,
  Add: binaryHandler('Add'),
  Sub: binaryHandler('Sub'),
  Mul: binaryHandler('Mul'),
  Div: binaryHandler('Div'),
  Max: variadic('Max'),
  Min: variadic('Min'),
  PRelu: binaryHandler('PRelu'),
  Relu: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  LeakyRelu: unary('LeakyRelu', (c) => ({ alpha: c.float('alpha', 0.01) })),
  Clip: clip,
  Neg: neg,
  MaxPool: with1d(pool('MaxPool'), false),
  AveragePool: with1d(pool('AvgPool'), false),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Softmax: softmax,
  Pad: pad,
  Slice: slice,
  Identity: identity,
  Dropout: identity,
};
