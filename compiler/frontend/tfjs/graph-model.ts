// TF.js graph-models (a TensorFlow GraphDef as JSON in `modelTopology.node`, Const values in the weight shards)
// → IR. TF data is NHWC like the IR; conv filters HWIO and depthwise [KH,KW,C,M] are re-laid to OHWI.
// Inputs are the Placeholders (a -1 batch becomes 1); outputs the signature's, else nodes nothing reads.
import { numElements } from '../../ir/graph.ts';
import type { Attrs } from '../../ir/graph.ts';
import { FLOAT32_MAX } from '../../ir/ops/helpers.ts';
import { Builder, depthwiseToOhwi, hwioToOhwi, inputShape, transpose2d, unsupportedMessage } from './builder.ts';
import type { TfjsWeight } from './weights.ts';
import type { TfjsImportOptions } from './index.ts';
import { allConst, foldConst, SHAPE_OPS } from './graph-shape-ops.ts';
import { IMAGE_OPS } from './graph-image-ops.ts';
import {
  isObject,
  NodeContext,
  padding,
  splitRef,
  window,
  type ConstValue,
  type GraphNode,
  type Handler,
  type Value,
} from './graph-context.ts';

/** The fused ops of _FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul: bias, then one activation. */
function fusedTail(c: NodeContext, first: number): { bias?: ConstValue; attrs: Attrs; after?: (y: string) => Value } {
  const ops = c.strs('fused_ops');
  if (ops.length === 0) return { attrs: {} };
  if (ops[0] !== 'BiasAdd') c.fail(`attr 'fused_ops'`, `expected BiasAdd first, found [${ops}]`);
  const bias = c.constant(first, 'the bias');
  const act = ops[1];
  if (ops.length > 2) c.fail(`attr 'fused_ops'`, `expected BiasAdd and at most one activation, found [${ops}]`);
  if (act === undefined) return { bias, attrs: {} };
  if (act === 'Relu') return { bias, attrs: { activation: 'relu' } };
  if (act === 'Relu6') return { bias, attrs: { activation: 'clip', clip: [0, 6] } };
  if (act === 'Sigmoid') return { bias, attrs: {}, after: (y) => c.add('Sigmoid', [y]) };
  if (act === 'LeakyRelu')
    return { bias, attrs: {}, after: (y) => c.add('LeakyRelu', [y], { alpha: c.float('leakyrelu_alpha', 0.2) }) };
  if (act === 'Prelu') return { bias, attrs: {}, after: (y) => c.add('PRelu', [y, c.act(first + 1)]) };
  return c.fail(`attr 'fused_ops'`, `expected Relu, Relu6, Sigmoid, LeakyRelu or Prelu after BiasAdd, found ${act}`);
}

function conv(depthwise: boolean): Handler {
  return (c) => {
    c.nhwc();
    const x = c.act(0);
    const ci = c.b.shape(x)[3];
    const f = c.constant(1, 'the filter');
    if (f.shape.length !== 4 || f.shape[2] !== ci)
      c.fail('input[1]', `expected a filter [KH,KW,${ci},${depthwise ? 'M' : 'Co'}], found [${f.shape}]`);
    const [kh, kw, , m] = f.shape as [number, number, number, number];
    const co = depthwise ? ci! * m : m;
    const w = depthwise ? depthwiseToOhwi(f.data, f.shape) : hwioToOhwi(f.data, f.shape);
    const inputs = [x, c.b.constant(`${c.n.name}/filter`, [co, kh, kw, depthwise ? 1 : ci!], w)];
    const tail = fusedTail(c, 2);
    if (tail.bias) {
      if (numElements(tail.bias.shape) !== co)
        c.fail('input[2]', `expected ${co} bias values, found [${tail.bias.shape}]`);
      inputs.push(c.b.constant(`${c.n.name}/bias`, [co], Float32Array.from(tail.bias.data)));
    }
    const attrs: Attrs = {
      strides: window(c, 'strides'),
      dilations: window(c, 'dilations'),
      padding: padding(c),
      ...tail.attrs,
    };
    if (depthwise) attrs.groups = ci!;
    if (!tail.after) return c.add('Conv2D', inputs, attrs);
    return tail.after(c.add('Conv2D', inputs, attrs, `${c.n.name}/conv`).ir);
  };
}

function matMul(c: NodeContext): Value {
  if (c.bool('transpose_a')) c.fail(`attr 'transpose_a'`, 'expected false, found true');
  const x = c.act(0);
  const [, k] = c.b.shape(x) as [number, number];
  const w = c.constant(1, 'the weights');
  const tb = c.bool('transpose_b');
  if (w.shape.length !== 2 || w.shape[tb ? 1 : 0] !== k)
    c.fail(
      'input[1]',
      `expected ${tb ? `[units,${k}]` : `[${k},units]`} weights for ${k} input features, found [${w.shape}]`,
    );
  const units = w.shape[tb ? 0 : 1]!;
  const inputs = [
    x,
    c.b.constant(`${c.n.name}/weights`, [units, k], tb ? Float32Array.from(w.data) : transpose2d(w.data, k, units)),
  ];
  const tail = fusedTail(c, 2);
  if (tail.bias) inputs.push(c.b.constant(`${c.n.name}/bias`, [units], Float32Array.from(tail.bias.data)));
  if (!tail.after) return c.add('Dense', inputs, tail.attrs);
  return tail.after(c.add('Dense', inputs, tail.attrs, `${c.n.name}/dense`).ir);
}

function binary(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Min'): Handler {
  return (c) => {
    const consts = allConst(c);
    if (consts) return foldConst(c, op, consts, {});
    return c.add(op, [c.act(0), c.act(1)]);
  };
}

function pool(op: 'MaxPool' | 'AvgPool'): Handler {
  return (c) => {
    c.nhwc();
    const attrs: Attrs = { kernel: window(c, 'ksize'), strides: window(c, 'strides'), padding: padding(c) };
    if (op === 'AvgPool') attrs.countIncludePad = false;
    return c.add(op, [c.act(0)], attrs);
  };
}

/** Mean / Max over H and W of 4-D data: global average / max pooling (how Keras global pools convert). */
function reduceHW(op: 'avg' | 'max'): Handler {
  return (c) => {
    const x = c.act(0);
    const s = c.b.shape(x);
    const axes = [...c.constant(1, 'the axes').data].map((a) => (a < 0 ? a + s.length : a)).sort();
    if (s.length !== 4 || axes.join() !== '1,2')
      c.fail(
        'input[1]',
        `expected axes [1, 2] of 4-D data (global ${op} pooling), found [${axes}] of rank ${s.length}`,
      );
    const keep = c.bool('keep_dims');
    const out = keep ? c.n.name : `${c.n.name}/pool`;
    const y =
      op === 'avg'
        ? c.b.add('GlobalAvgPool', [x], {}, out)
        : c.b.add('MaxPool', [x], { kernel: [s[1]!, s[2]!], strides: [s[1]!, s[2]!], padding: 'valid' }, out);
    return keep ? { kind: 'act', ir: y } : c.add('Reshape', [y], { shape: [s[0]!, s[3]!] });
  };
}

/**
 * StridedSlice with constant begin/end/strides → IR Slice (same index rules: negatives count from the end,
 * clamped), then a Reshape for shrink_axis_mask. begin_mask / end_mask take the whole axis; ellipsis and
 * new-axis masks are refused.
 */
function stridedSlice(c: NodeContext): Value {
  const v = c.input(0);
  const s = v.kind === 'const' ? v.shape : c.b.shape(v.ir);
  const [begin, end, strides] = [1, 2, 3].map((i) => [...c.constant(i, ['begin', 'end', 'strides'][i - 1]!).data]);
  const mask = (k: string) => Number(c.attr(k)?.i ?? 0);
  for (const k of ['ellipsis_mask', 'new_axis_mask'])
    if (mask(k) !== 0) c.fail(`attr '${k}'`, `expected 0, found ${mask(k)}`);
  const [bm, em, sm] = [mask('begin_mask'), mask('end_mask'), mask('shrink_axis_mask')];
  if (begin!.length > s.length) c.fail('input[1]', `expected at most ${s.length} begin values, found ${begin!.length}`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  begin!.forEach((b, i) => {
    const d = s[i]!;
    const st = strides![i] ?? 1;
    if (sm & (1 << i)) {
      const b0 = b < 0 ? b + d : b;
      (starts.push(b0), ends.push(b0 + 1), steps.push(1));
      return;
    }
    starts.push(bm & (1 << i) ? (st > 0 ? 0 : d - 1) : b);
    ends.push(em & (1 << i) ? (st > 0 ? d : -d - 1) : end![i]!);
    steps.push(st);
  });
  const attrs = { starts, ends, axes: starts.map((_, i) => i), steps };
  if (v.kind === 'const') {
    const y = foldConst(c, 'Slice', [v], attrs);
    return { ...y, shape: y.shape.filter((_, i) => !(sm & (1 << i))) };
  }
  if (!sm) return c.add('Slice', [v.ir], attrs);
  const y = c.b.add('Slice', [v.ir], attrs, `${c.n.name}/slice`);
  const shape = c.b.shape(y).filter((_, i) => !(sm & (1 << i)));
  return c.add('Reshape', [y], { shape: shape.length ? shape : [1] });
}

function pad(c: NodeContext): Value {
  const x = c.act(0);
  const r = c.b.shape(x).length;
  const p = c.constant(1, 'the paddings');
  if (p.shape.join() !== `${r},2`) c.fail('input[1]', `expected paddings [${r},2], found [${p.shape}]`);
  const pads = [
    ...Array.from({ length: r }, (_, i) => p.data[2 * i]!),
    ...Array.from({ length: r }, (_, i) => p.data[2 * i + 1]!),
  ];
  const v = c.n.op === 'PadV2' ? c.constant(2, 'the pad value').data[0]! : 0;
  // ±∞ (ONNX-converted max-pool padding) → ±the largest float32: the same max of any window with one real value
  const value = Math.max(-FLOAT32_MAX, Math.min(FLOAT32_MAX, v));
  return c.add('Pad', [x], { pads, value });
}

function reshape(c: NodeContext): Value {
  const v = c.input(0);
  const x = v.kind === 'act' ? v.ir : '';
  const xs = v.kind === 'act' ? c.b.shape(x) : v.shape;
  let shape: number[];
  if (c.n.op === 'Reshape') shape = [...c.constant(1, 'the shape').data];
  else if (c.n.op === 'Squeeze') {
    const s = xs;
    const dims = c.ints('squeeze_dims', []).map((a) => (a < 0 ? a + s.length : a));
    shape = s.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1));
  } else {
    const s = [...xs];
    const a = c.constant(1, 'the axis').data[0]!;
    s.splice(a < 0 ? a + s.length + 1 : a, 0, 1);
    shape = s;
  }
  if (v.kind === 'const') {
    const y = foldConst(c, 'Reshape', [v], { shape: shape.length ? shape : [1] });
    return shape.length ? y : { ...y, shape: [] };
  }
  return c.add('Reshape', [x], { shape: shape.length ? shape : [1] });
}

function concat(c: NodeContext): Value {
  const n = c.inputCount - 1;
  const axis = c.constant(n, 'the axis').data[0]!;
  const consts = allConst(c);
  if (consts) return foldConst(c, 'Concat', consts.slice(0, n), { axis });
  return c.add(
    'Concat',
    Array.from({ length: n }, (_, i) => c.act(i)),
    { axis },
  );
}

function addN(c: NodeContext): Value {
  let y = c.act(0);
  for (let i = 1; i < c.inputCount; i++)
    y = c.add('Add', [y, c.act(i)], {}, i === c.inputCount - 1 ? c.n.name : `${c.n.name}/${i}`).ir;
  return { kind: 'act', ir: y };
}

function batchNorm(c: NodeContext): Value {
  c.nhwc();
  if (c.bool('is_training')) c.fail(`attr 'is_training'`, 'expected false (inference), found true');
  const params = [1, 2, 3, 4].map((i) => c.act(i));
  return c.add('BatchNorm', [c.act(0), ...params], { epsilon: c.float('epsilon', 1e-3) });
}

const OPS: Record<string, Handler> = {
  Identity: (c) => c.input(0),
  StopGradient: (c) => c.input(0),
  Snapshot: (c) => c.input(0),
  _FusedConv2D: conv(false),
  Conv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2dNative: conv(true),
  _FusedMatMul: matMul,
  MatMul: matMul,
  BiasAdd: (c) => (c.nhwc(), c.add('Add', [c.act(0), c.act(1)])),
  Add: binary('Add'),
  AddV2: binary('Add'),
  AddN: addN,
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Relu: (c) => c.add('Relu', [c.act(0)]),
  Relu6: (c) => c.add('Relu6', [c.act(0)]),
  LeakyRelu: (c) => c.add('LeakyRelu', [c.act(0)], { alpha: c.float('alpha', 0.2) }),
  Prelu: (c) => c.add('PRelu', [c.act(0), c.act(1)]),
  Sigmoid: (c) => c.add('Sigmoid', [c.act(0)]),
  Tanh: (c) => c.add('Tanh', [c.act(0)]),
  Exp: (c) => c.add('Exp', [c.act(0)]),
  Softmax: (c) => c.add('Softmax', [c.act(0)], { axis: -1 }),
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AvgPool'),
  Mean: reduceHW('avg'),
  Max: reduceHW('max'),
  StridedSlice: stridedSlice,
  Pad: pad,
  PadV2: pad,
  ConcatV2: concat,
  Reshape: reshape,
  Squeeze: reshape,
  ExpandDims: reshape,
  Transpose: (c) => c.add('Transpose', [c.act(0)], { perm: [...c.constant(1, 'the permutation').data] }),
  FusedBatchNorm: batchNorm,
  FusedBatchNormV3: batchNorm,
  ...SHAPE_OPS,
  ...IMAGE_OPS,
};

/** Graph-model ops edgec maps (besides Const, Placeholder and NoOp); docs/tfjs-support.md lists the same. */
export const SUPPORTED_GRAPH_OPS = Object.keys(OPS);

function readNodes(b: Builder, topology: Record<string, unknown>): GraphNode[] {
  b.where = 'modelTopology';
  if (!Array.isArray(topology.node)) b.fail('node', 'expected the GraphDef node list');
  return topology.node.map((n, i) => {
    if (!isObject(n) || typeof n.name !== 'string' || typeof n.op !== 'string')
      b.fail(`node[${i}]`, 'expected {name, op, input?, attr?}');
    const input = n.input ?? [];
    if (!Array.isArray(input) || !input.every((s) => typeof s === 'string'))
      b.fail(`node[${i}].input`, 'expected a list of names');
    return { name: n.name, op: n.op, input, attr: isObject(n.attr) ? (n.attr as GraphNode['attr']) : {} };
  });
}

/** Inline Const values (small tensors the converter left in the GraphDef): float_val / int_val. */
function inlineConst(c: NodeContext): ConstValue | undefined {
  const t = c.attr('value')?.tensor;
  if (!isObject(t)) return undefined;
  const dims = (isObject(t.tensorShape) && Array.isArray(t.tensorShape.dim) ? t.tensorShape.dim : []).map((d) =>
    Number((d as { size?: string }).size ?? 0),
  );
  const vals = (t.floatVal ?? t.intVal) as unknown[] | undefined;
  if (!Array.isArray(vals)) return undefined;
  const n = numElements(dims);
  const data = (t.floatVal ? new Float32Array(n) : new Int32Array(n)).fill(Number(vals[0] ?? 0));
  vals.forEach((v, i) => (data[i] = Number(v)));
  return { kind: 'const', shape: dims, data };
}

/** Converts a graph-model (model.json GraphDef + decoded weights) into `b`'s graph. */
export function importGraphModel(
  b: Builder,
  json: Record<string, unknown>,
  weights: Map<string, TfjsWeight>,
  opts: TfjsImportOptions,
): void {
  const nodes = readNodes(b, json.modelTopology as Record<string, unknown>);
  const bad = new Map<string, string[]>();
  for (const n of nodes)
    if (!OPS[n.op] && n.op !== 'Const' && n.op !== 'Placeholder' && n.op !== 'NoOp')
      bad.set(n.op, [...(bad.get(n.op) ?? []), n.name]);
  if (bad.size > 0) b.fail('ops', unsupportedMessage(bad, 'graph-model ops'));
  const values = new Map<string, Value>();
  const consumed = new Set<string>();
  for (const n of nodes) for (const r of n.input) consumed.add(splitRef(r.replace(/^\^/, ''))[0]);
  // Keep GraphDef order when it is topological (the converter writes it so); otherwise wait for inputs.
  const pending = nodes.filter((n) => n.op !== 'NoOp');
  while (pending.length > 0) {
    const k = pending.findIndex((n) => n.input.every((r) => r.startsWith('^') || values.has(splitRef(r)[0])));
    if (k < 0) {
      const n = pending[0]!;
      b.where = `node '${n.name}' (${n.op})`;
      const missing = n.input.find((r) => !r.startsWith('^') && !values.has(splitRef(r)[0]));
      b.fail('input', `expected nodes computed before it, found '${missing}' (no such node, or a cycle)`);
    }
    const n = pending.splice(k, 1)[0]!;
    b.where = `node '${n.name}' (${n.op})`;
    const c = new NodeContext(b, n, values);
    if (n.op === 'Const') {
      const w = weights.get(n.name);
      const v = w ? { kind: 'const' as const, shape: w.shape, data: w.data } : inlineConst(c);
      if (!v) b.fail('value', `expected its value in the weightsManifest (weight '${n.name}'), found none`);
      values.set(n.name, v);
    } else if (n.op === 'Placeholder') {
      const dtype = c.attr('dtype')?.type;
      if (dtype !== undefined && dtype !== 'DT_FLOAT')
        b.fail(`attr 'dtype'`, `expected DT_FLOAT (edgec models take float32 inputs), found ${JSON.stringify(dtype)}`);
      const shape = c.attr('shape')?.shape as { dim?: { size?: string }[]; unknownRank?: boolean } | undefined;
      if (!shape || shape.unknownRank) b.fail(`attr 'shape'`, `expected a known rank; pass --shape ${n.name}=DIMS`);
      const dims = (shape.dim ?? []).map((d) => Number(d.size ?? -1));
      values.set(n.name, { kind: 'act', ir: b.input(n.name, inputShape(b, n.name, dims, opts)) });
    } else values.set(n.name, OPS[n.op]!(c));
  }
  b.where = 'modelTopology';
  const sig = (json.signature ?? (json.userDefinedMetadata as Record<string, unknown> | undefined)?.signature) as
    { outputs?: Record<string, { name?: string }> } | undefined;
  const outs = sig?.outputs
    ? Object.entries(sig.outputs).map(([k, v]) => v.name ?? k)
    : nodes
        .filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp' && n.op !== 'Placeholder')
        .map((n) => n.name);
  for (const ref of outs) {
    const [name, port] = splitRef(ref);
    const v = values.get(name);
    if (!v || port !== 0) b.fail('signature.outputs', `expected output 0 of a node, found '${ref}'`);
    if (v.kind === 'const') b.fail('outputs', `expected a computed output, found the Const '${name}'`);
    // outputs keep the TF node's name (what tfjs's execute() is asked for)
    const ir =
      v.ir === name && !b.g.outputs.includes(name) ? name : b.add('Reshape', [v.ir], { shape: b.shape(v.ir) }, name);
    b.g.outputs.push(ir);
  }
}
