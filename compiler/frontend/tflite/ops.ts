// One handler per TFLite builtin operator: reads its inputs and options table and emits IR nodes
// (NHWC on both sides). Weights keep the file's quantisation on their IR axis (Conv2D / Dense axis 0).
import type { Attrs, OpType } from '../../ir/graph.ts';
import type { TfliteOp } from './decode.ts';
import type { ActValue, TfliteImporter } from './importer.ts';
import {
  AddOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthwiseConv2DOptions,
  FullyConnectedOptions,
  MulOptions,
  Padding,
  Pool2DOptions,
  ReducerOptions,
  SoftmaxOptions,
  StridedSliceOptions,
  SubOptions,
} from './tflite-schema.generated.ts';

export type TfliteHandler = (c: TfliteImporter, op: TfliteOp) => void;

/** The operator's options table, or a clear error when the file has none of that type. */
function options<T>(c: TfliteImporter, op: TfliteOp, make: new () => T): T {
  const o = op.raw.builtinOptions(new make() as never) as T | null;
  if (!o) c.fail('builtin_options', `expected ${make.name}, found none`);
  return o;
}

const padding = (p: Padding): Attrs['padding'] => (p === Padding.SAME ? 'same' : 'valid');

function conv(c: TfliteImporter, op: TfliteOp): void {
  const o = options(c, op, Conv2DOptions);
  const x = c.act(0);
  const w = c.constInput(1, 'filter [Co,KH,KW,Ci]');
  if (w.shape.length !== 4) c.fail('input 1', `expected a 4-D filter [Co,KH,KW,Ci], found [${w.shape}]`);
  const ci = x.shape[3]!;
  if (ci % w.shape[3]! !== 0) c.fail('input 1', `filter input channels ${w.shape[3]} do not divide ${ci}`);
  const q = w.quant && { ...w.quant, ...(w.quant.axis !== undefined ? { axis: 0 } : {}) };
  if (w.quant?.axis !== undefined && w.quant.axis !== 0)
    c.fail('input 1', `expected per-channel scales on dim 0, found dim ${w.quant.axis}`);
  const wIR = c.constIR(w.values, w.shape, c.tensor(op.inputs[1]!).name, q);
  emitWeighted(c, op, 'Conv2D', x, wIR, w.shape[0]!, {
    strides: [o.strideH(), o.strideW()],
    dilations: [o.dilationHFactor(), o.dilationWFactor()],
    padding: padding(o.padding()),
    groups: ci / w.shape[3]!,
    ...c.fusedAttrs(o.fusedActivationFunction()),
  });
}

function depthwise(c: TfliteImporter, op: TfliteOp): void {
  const o = options(c, op, DepthwiseConv2DOptions);
  const x = c.act(0);
  const w = c.constInput(1, 'filter [1,KH,KW,C·M]');
  if (w.shape.length !== 4 || w.shape[0] !== 1)
    c.fail('input 1', `expected a filter [1,KH,KW,C·M], found [${w.shape}]`);
  const [, kh, kw, co] = w.shape as [number, number, number, number];
  const ci = x.shape[3]!;
  if (co % ci !== 0) c.fail('input 1', `filter channels ${co} are not a multiple of the input's ${ci}`);
  // [1,KH,KW,C·M] → OHWI [C·M,KH,KW,1], groups = C
  const t = new Float64Array(w.values.length);
  for (let k = 0; k < kh * kw; k++) for (let oc = 0; oc < co; oc++) t[oc * kh * kw + k] = w.values[k * co + oc]!;
  if (w.quant?.axis !== undefined && w.quant.axis !== 3)
    c.fail('input 1', `expected per-channel scales on dim 3, found dim ${w.quant.axis}`);
  const q = w.quant && { ...w.quant, ...(w.quant.axis !== undefined ? { axis: 0 } : {}) };
  const wIR = c.constIR(t, [co, kh, kw, 1], c.tensor(op.inputs[1]!).name, q);
  emitWeighted(c, op, 'Conv2D', x, wIR, co, {
    strides: [o.strideH(), o.strideW()],
    dilations: [o.dilationHFactor(), o.dilationWFactor()],
    padding: padding(o.padding()),
    groups: ci,
    ...c.fusedAttrs(o.fusedActivationFunction()),
  });
}

/** Conv2D / Dense with the optional bias (input 2) into output 0. */
function emitWeighted(
  c: TfliteImporter,
  op: TfliteOp,
  kind: OpType,
  x: ActValue,
  w: string,
  co: number,
  attrs: Attrs,
  shape?: number[],
): void {
  const ins = [x.ir, w];
  const b = c.input(2);
  if (b) {
    if (b.kind !== 'const') c.fail('input 2', 'expected the bias as a constant');
    if (b.values.length !== co) c.fail('input 2', `expected ${co} bias values, found ${b.values.length}`);
    ins.push(c.constIR(b.values, [co], c.tensor(op.inputs[2]!).name, b.quant));
  }
  c.addNode(kind, ins, [c.produce(0, shape)], attrs);
}

function fullyConnected(c: TfliteImporter, op: TfliteOp): void {
  const o = options(c, op, FullyConnectedOptions);
  let x = c.act(0);
  const w = c.constInput(1, 'weights [units, in]');
  if (w.shape.length !== 2) c.fail('input 1', `expected 2-D weights [units, in], found [${w.shape}]`);
  const [units, k] = w.shape as [number, number];
  const total = x.shape.reduce((a, b) => a * b, 1);
  if (total % k !== 0) c.fail('input 0', `input of ${total} values is not a multiple of ${k} features`);
  if (x.shape.length !== 2 || x.shape[1] !== k) {
    const flat = c.newAct(`${x.ir}__flat`, [total / k, k], c.g.tensors.get(x.ir)!.quant);
    c.addNode('Reshape', [x.ir], [flat], { shape: [total / k, k] });
    x = { kind: 'act', ir: flat, shape: [total / k, k] };
  }
  const wIR = c.constIR(
    w.values,
    w.shape,
    c.tensor(op.inputs[1]!).name,
    w.quant && { ...w.quant, ...(w.quant.axis !== undefined ? { axis: 0 } : {}) },
  );
  const { shape } = c.outInfo();
  const flatOut = [total / k, units];
  const attrs = c.fusedAttrs(o.fusedActivationFunction());
  if (shape.length === 2 && shape[0] === flatOut[0] && shape[1] === units) {
    emitWeighted(c, op, 'Dense', x, wIR, units, attrs);
    return;
  }
  emitWeighted(c, op, 'Dense', x, wIR, units, attrs, flatOut);
  c.reshapeOut(c.values.get(op.outputs[0]!) as ActValue, shape);
}

function binary(kind: 'Add' | 'Sub' | 'Mul', opts: new () => AddOptions | SubOptions | MulOptions): TfliteHandler {
  return (c, op) => {
    const a = c.act(0),
      b = c.act(1);
    c.addNode(kind, [a.ir, b.ir], [c.produce()], c.fusedAttrs(options(c, op, opts).fusedActivationFunction()));
  };
}

function pool(kind: 'MaxPool' | 'AvgPool'): TfliteHandler {
  return (c, op) => {
    const o = options(c, op, Pool2DOptions);
    const x = c.act(0);
    c.withActivation(
      kind,
      [x.ir],
      {
        kernel: [o.filterHeight(), o.filterWidth()],
        strides: [o.strideH(), o.strideW()],
        padding: padding(o.padding()),
      },
      o.fusedActivationFunction(),
    );
  };
}

function mean(c: TfliteImporter, op: TfliteOp): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = new Set(c.ints(1, 'axes').map((a) => (a < 0 ? a + r : a)));
  options(c, op, ReducerOptions);
  if (r !== 4 || axes.size !== 2 || !axes.has(1) || !axes.has(2))
    c.fail(
      'input 1',
      `expected the mean over H and W of a 4-D tensor (axes [1, 2]), found axes [${[...axes]}] of rank ${r}`,
    );
  const { shape } = c.outInfo();
  const pooled = [x.shape[0]!, 1, 1, x.shape[3]!];
  if (shape.length === 4) {
    c.addNode('GlobalAvgPool', [x.ir], [c.produce()]);
    return;
  }
  const mid = c.newAct(`${c.outInfo().t.name}__mean`, pooled, c.outInfo().quant);
  c.addNode('GlobalAvgPool', [x.ir], [mid]);
  c.reshapeOut({ kind: 'act', ir: mid, shape: pooled }, shape);
}

function reshape(c: TfliteImporter): void {
  c.reshapeOut(c.act(0), c.outInfo().shape);
}

function softmax(c: TfliteImporter, op: TfliteOp): void {
  const beta = options(c, op, SoftmaxOptions).beta();
  let x = c.act(0);
  if (beta !== 1) {
    const k = c.constIR([beta], [1], `${x.ir}__beta`);
    const scaled = c.newAct(`${x.ir}__scaled`, x.shape);
    c.addNode('Mul', [x.ir, k], [scaled]);
    x = { kind: 'act', ir: scaled, shape: x.shape };
  }
  c.addNode('Softmax', [x.ir], [c.produce()], { axis: -1 });
}

function unary(kind: OpType, attrs: Attrs = {}): TfliteHandler {
  return (c) => c.addNode(kind, [c.act(0).ir], [c.produce()], attrs);
}

/** QUANTIZE (float → int8, or int8 → int8 with new params): a range Clip whose output carries the params. */
function quantize(c: TfliteImporter): void {
  const x = c.act(0);
  const { quant } = c.outInfo();
  if (!quant) c.fail('output 0', 'expected a quantised output');
  const s = quant.scale[0]!,
    zp = quant.zeroPoint[0]!;
  c.addNode('Clip', [x.ir], [c.produce()], { min: (-128 - zp) * s, max: (127 - zp) * s });
}

function dequantize(c: TfliteImporter, op: TfliteOp): void {
  const v = c.input(0)!;
  if (v.kind === 'const') {
    c.values.set(op.outputs[0]!, { kind: 'const', values: v.values, shape: v.shape });
    return;
  }
  c.alias(0, v);
}

function pad(c: TfliteImporter, op: TfliteOp): void {
  const x = c.act(0);
  const p = c.ints(1, 'paddings [rank, 2]');
  const r = x.shape.length;
  if (p.length !== 2 * r) c.fail('input 1', `expected ${2 * r} paddings for rank ${r}, found ${p.length}`);
  let value = 0;
  if (op.opName === 'PADV2' && c.input(2)) value = c.constInput(2, 'the pad value').values[0]!;
  const pads = [
    ...Array.from({ length: r }, (_, i) => p[2 * i]!),
    ...Array.from({ length: r }, (_, i) => p[2 * i + 1]!),
  ];
  c.addNode('Pad', [x.ir], [c.produce()], { pads, value });
}

function concatenation(c: TfliteImporter, op: TfliteOp): void {
  const o = options(c, op, ConcatenationOptions);
  const ins = op.inputs.map((_, k) => c.act(k));
  const r = ins[0]!.shape.length;
  const axis = o.axis() < 0 ? o.axis() + r : o.axis();
  c.withActivation(
    'Concat',
    ins.map((v) => v.ir),
    { axis },
    o.fusedActivationFunction(),
  );
}

function transpose(c: TfliteImporter): void {
  const x = c.act(0);
  c.addNode('Transpose', [x.ir], [c.produce()], { perm: c.ints(1, 'the permutation') });
}

function stridedSlice(c: TfliteImporter, op: TfliteOp): void {
  const o = options(c, op, StridedSliceOptions);
  if (o.ellipsisMask() || o.newAxisMask() || o.offset())
    c.fail('builtin_options', 'ellipsis_mask, new_axis_mask and offset are not supported (expected 0 / false)');
  const x = c.act(0);
  const r = x.shape.length;
  const begin = c.ints(1, 'begin'),
    end = c.ints(2, 'end'),
    steps = op.inputs[3] !== undefined && op.inputs[3] >= 0 ? c.ints(3, 'strides') : begin.map(() => 1);
  if (begin.length !== r || end.length !== r || steps.length !== r)
    c.fail(
      'inputs',
      `expected begin, end and strides of length ${r}, found ${begin.length}, ${end.length}, ${steps.length}`,
    );
  const starts: number[] = [],
    ends: number[] = [];
  for (let i = 0; i < r; i++) {
    const d = x.shape[i]!,
      st = steps[i]!;
    let b = begin[i]!,
      e = end[i]!;
    if (o.beginMask() & (1 << i)) b = st > 0 ? 0 : d - 1;
    if (o.endMask() & (1 << i)) e = st > 0 ? d : -d - 1;
    if (o.shrinkAxisMask() & (1 << i)) {
      b = b < 0 ? b + d : b;
      e = b + 1;
      if (st !== 1) c.fail('input 3', `a shrunk axis ${i} needs stride 1, found ${st}`);
    }
    starts.push(b);
    ends.push(e);
  }
  const { shape } = c.outInfo();
  const attrs = { starts, ends, axes: starts.map((_, i) => i), steps };
  if (!o.shrinkAxisMask()) {
    c.addNode('Slice', [x.ir], [c.produce()], attrs);
    return;
  }
  const kept = slicedShape(x.shape, starts, ends, steps);
  const mid = c.newAct(`${c.outInfo().t.name}__slice`, kept, c.outInfo().quant);
  c.addNode('Slice', [x.ir], [mid], attrs);
  c.reshapeOut({ kind: 'act', ir: mid, shape: kept }, shape);
}

/** Shape of the IR Slice (ONNX semantics: negative indices from the end, clamped). */
function slicedShape(shape: number[], starts: number[], ends: number[], steps: number[]): number[] {
  return shape.map((d, i) => {
    const st = steps[i]!;
    let b = starts[i]! < 0 ? starts[i]! + d : starts[i]!,
      e = ends[i]! < 0 ? ends[i]! + d : ends[i]!;
    if (st > 0) {
      b = Math.min(Math.max(b, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      b = Math.min(Math.max(b, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    return Math.max(0, Math.ceil((e - b) / st));
  });
}

export const TFLITE_HANDLERS: Record<string, TfliteHandler> = {
  CONV_2D: conv,
  DEPTHWISE_CONV_2D: depthwise,
  FULLY_CONNECTED: fullyConnected,
  ADD: binary('Add', AddOptions),
  SUB: binary('Sub', SubOptions),
  MUL: binary('Mul', MulOptions),
  AVERAGE_POOL_2D: pool('AvgPool'),
  MAX_POOL_2D: pool('MaxPool'),
  MEAN: mean,
  RESHAPE: reshape,
  SQUEEZE: reshape,
  SOFTMAX: softmax,
  LOGISTIC: unary('Sigmoid'),
  TANH: unary('Tanh'),
  HARD_SWISH: unary('HardSwish'),
  RELU: unary('Relu'),
  RELU6: unary('Relu6'),
  RELU_N1_TO_1: unary('Clip', { min: -1, max: 1 }),
  QUANTIZE: quantize,
  DEQUANTIZE: dequantize,
  PAD: pad,
  PADV2: pad,
  CONCATENATION: concatenation,
  TRANSPOSE: transpose,
  STRIDED_SLICE: stridedSlice,
};
