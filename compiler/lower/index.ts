// Lowering: optimised IR → bundle tensors and steps (docs/bundle-format.md), before memory planning.
// Packs weights for the kernels (Conv2D OHWI → [G,KH,KW,Ci/G,Co/G], depthwise → [KH,KW,C·M],
// Dense [out,in] → [K,N], absent bias → zeros), resolves padding, computes broadcast/gather strides.
import { ModelError, numElements, type DType, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import {
  activationOf,
  attrNum,
  attrNums,
  broadcastStrides,
  convGeometry,
  rowStrides,
  toFloat64,
} from '../ir/ops/helpers.ts';
import { poolGeometry } from '../ir/ops/pool.ts';
import { sliceGeometry } from '../ir/ops/slice.ts';
import { transposePerm } from '../ir/ops/transpose.ts';
import { fb, type ParamsSpec } from '../emit/bundle-writer.ts';
import { annotateQuant, lowerInt8Node } from './int8.ts';
import { packDenseWeights, packConvWeightsP8 } from '../kernels/pack.ts';

/** A float Dense on one row with at least this many MACs lowers to Conv2D_F32_P8 (assembly/threads.ts MIN_SPLIT_MACS:
 *  the size from which threads split it); smaller ones keep Dense_F32 and its unpadded [K,N] weights. */
const SPLIT_DENSE_MACS = 400_000;
import { f32ConvRule, type F32Conv } from './conv-f32.ts';
import { kernelByName } from '../kernels/registry.ts';
import { lowerTrainNode } from '../train/lower.ts';

export const MAX_RANK = 6;

export interface LoweredTensor {
  name: string;
  dtype: fb.DType;
  shape: number[];
  /** Bytes of a constant (already packed); undefined for arena tensors. */
  data?: Uint8Array;
  /** Arena tensor that is a view (reshape) of another arena tensor: shares its bytes. */
  aliasOf?: number;
  /** int8 tensors: per-tensor scale (float32) and zero point (docs/quantization.md). */
  scale?: number;
  zeroPoint?: number;
  /** Training state (Graph.state): pinned in the arena, set at load from constant tensor `init` or zeros. */
  variable?: boolean;
  init?: number;
}

export interface LoweredStep {
  kernel: fb.KernelId;
  inputs: number[];
  outputs: number[];
  params?: ParamsSpec;
  macs: number;
  node: string;
  /** Elementwise step: its output may take the storage of a same-size input that dies here. */
  inPlace?: boolean;
}

export interface Lowered {
  tensors: LoweredTensor[];
  steps: LoweredStep[];
  inputs: number[];
  outputs: number[];
}

const DTYPES: Partial<Record<DType, fb.DType>> = {
  float32: fb.DType.F32,
  int8: fb.DType.I8,
  uint8: fb.DType.U8,
  int32: fb.DType.I32,
};
export const DTYPE_BYTES: Record<fb.DType, number> = {
  [fb.DType.F32]: 4,
  [fb.DType.I8]: 1,
  [fb.DType.U8]: 1,
  [fb.DType.I32]: 4,
};

const BINARY: Record<string, fb.BinaryOp> = {
  Add: fb.BinaryOp.Add,
  Sub: fb.BinaryOp.Sub,
  Mul: fb.BinaryOp.Mul,
  Div: fb.BinaryOp.Div,
  Max: fb.BinaryOp.Max,
  Min: fb.BinaryOp.Min,
  PRelu: fb.BinaryOp.PRelu,
};

const f32Bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** Bundle tensor dims: rank 0 → [1]; above the runtime's rank 6 the leading dims merge (same row-major bytes). */
function bundleShape(s: readonly number[]): number[] {
  if (s.length === 0) return [1];
  if (s.length <= MAX_RANK) return [...s];
  return [numElements(s.slice(0, s.length - MAX_RANK + 1)), ...s.slice(s.length - MAX_RANK + 1)];
}

function tensorBytes(t: Tensor, dtype: fb.DType): Uint8Array {
  const d = t.data!;
  switch (dtype) {
    case fb.DType.F32:
      return f32Bytes(d instanceof Float32Array ? d : Float32Array.from(toFloat64(d)));
    case fb.DType.I32: {
      const a = d instanceof Int32Array ? d : Int32Array.from(toFloat64(d));
      return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    }
    case fb.DType.I8: {
      const a = d instanceof Int8Array ? d : Int8Array.from(toFloat64(d));
      return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    }
    case fb.DType.U8:
      return d instanceof Uint8Array ? d : Uint8Array.from(toFloat64(d));
  }
}

function activationParams(n: Node): { activation: fb.Activation; actMin: number; actMax: number } {
  const a = activationOf(n);
  if (a.kind === 'relu') return { activation: fb.Activation.Relu, actMin: 0, actMax: 0 };
  if (a.kind === 'clip') return { activation: fb.Activation.Clip, actMin: a.min, actMax: a.max };
  return { activation: fb.Activation.None, actMin: 0, actMax: 0 };
}

export interface LowerOptions {
  /** KernelIds (registry names) the lowering must not pick, e.g. ['Conv1xK_QS8', 'ConvKx1_QS8'] to run 1×k convs
   *  through im2col (benches, tests): the next lowering rule that matches takes the node. */
  disableKernels?: readonly string[];
  /** KernelIds (registry names) the lowering picks wherever they can run, past their speed rule (tests, benches):
   *  ['Conv2DWino_QS8'] for every 3×3 stride-1 int8 conv Winograd runs exactly. */
  forceKernels?: readonly string[];
}

export function lower(g: Graph, opts: LowerOptions = {}): Lowered {
  const disabled = new Set((opts.disableKernels ?? []).map((k) => kernelByName(k).name));
  const forced = new Set((opts.forceKernels ?? []).map((k) => kernelByName(k).name));
  const tensors: LoweredTensor[] = [];
  const steps: LoweredStep[] = [];
  const ids = new Map<string, number>();
  const err = (n: Node, d: string): never => {
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, d);
  };

  const dtypeOf = (t: Tensor, where: string): fb.DType => {
    const d = DTYPES[t.dtype];
    if (d === undefined)
      throw new ModelError(
        g.source,
        where,
        `tensor '${t.name}' has dtype ${t.dtype}, which the runtime does not support`,
      );
    return d;
  };
  const newTensor = (t: LoweredTensor): number => {
    tensors.push(t);
    return tensors.length - 1;
  };
  /** Bundle id of an IR tensor (constants are added on first use, as stored). */
  const idOf = (name: string, n?: Node): number => {
    let id = ids.get(name);
    if (id !== undefined) return id;
    const t = g.tensors.get(name);
    if (!t) throw new ModelError(g.source, n ? `node '${n.name}'` : 'graph', `tensor '${name}' is not defined`);
    if (!t.data)
      throw new ModelError(
        g.source,
        n ? `node '${n.name}'` : 'graph',
        `tensor '${name}' is used before it is computed`,
      );
    const dtype = dtypeOf(t, n ? `node '${n.name}'` : 'graph');
    id = newTensor({ name, dtype, shape: bundleShape(t.shape), data: tensorBytes(t, dtype) });
    ids.set(name, id);
    return id;
  };
  const defineOutput = (name: string, n: Node, extra: Partial<LoweredTensor> = {}): number => {
    const t = g.tensors.get(name)!;
    const id = newTensor({ name, dtype: dtypeOf(t, `node '${n.name}'`), shape: bundleShape(t.shape), ...extra });
    ids.set(name, id);
    return id;
  };
  const tensorOf = (name: string) => g.tensors.get(name)!;
  const constData = (n: Node, name: string, what: string): Float32Array => {
    const t = g.tensors.get(name);
    if (!t?.data) err(n, `${what} '${name}' must be a constant`);
    return t!.data instanceof Float32Array ? t!.data : Float32Array.from(toFloat64(t!.data!));
  };
  const requireF32 = (n: Node, name: string) => {
    if (tensorOf(name).dtype !== 'float32') err(n, `input '${name}' must be float32, found ${tensorOf(name).dtype}`);
  };

  for (const i of g.inputs) {
    const t = g.tensors.get(i)!;
    ids.set(i, newTensor({ name: i, dtype: dtypeOf(t, `input '${i}'`), shape: bundleShape(t.shape) }));
  }
  for (const [name, initial] of g.state ?? []) {
    const t = g.tensors.get(name)!;
    const init = initial
      ? newTensor({ name: `${name}:init`, dtype: fb.DType.F32, shape: bundleShape(t.shape), data: f32Bytes(initial) })
      : undefined;
    ids.set(
      name,
      newTensor({ name, dtype: dtypeOf(t, `state '${name}'`), shape: bundleShape(t.shape), variable: true, init }),
    );
  }

  for (const n of g.nodes) {
    const x = n.inputs[0]!;
    const out = n.outputs[0]!;
    const push = (
      s: Omit<LoweredStep, 'node' | 'macs' | 'outputs'> & { macs?: number },
      extra: Partial<LoweredTensor> = {},
    ) => {
      const inputs = s.inputs;
      steps.push({ ...s, inputs, outputs: [defineOutput(out, n, extra)], macs: s.macs ?? 0, node: n.name });
    };
    if (lowerInt8Node({ g, idOf, newTensor, push: (s) => push(s), disabled, forced }, n)) continue;
    if (lowerTrainNode({ g, idOf, newTensor, defineOutput, steps, tensors }, n)) continue;
    switch (n.op) {
      case 'Conv2D': {
        requireF32(n, x);
        const xt = tensorOf(x),
          wt = tensorOf(n.inputs[1]!);
        const geo: F32Conv = { ...convGeometry(n, xt, wt, g.source), constWeights: wt.data !== undefined };
        const { kh, kw, co, ci } = geo;
        const rule = f32ConvRule(geo, disabled);
        const wshape = rule.wshape(geo);
        let wid: number, bid: number;
        if (!wt.data) {
          // trained weights are state in OHWI: one strided gather per run gives the kernel's packed layout
          wid = newTensor({ name: `${wt.name}:packed`, dtype: fb.DType.F32, shape: wshape });
          steps.push({
            kernel: fb.KernelId.Transpose,
            inputs: [idOf(wt.name, n)],
            outputs: [wid],
            params: { type: 'transpose', shape: wshape, strides: rule.gather!(geo), offset: 0 },
            macs: 0,
            node: n.name,
          });
          bid = n.inputs[2] ? idOf(n.inputs[2], n) : -1;
        } else {
          const w = constData(n, wt.name, 'weights');
          const bias = n.inputs[2] ? constData(n, n.inputs[2], 'bias') : new Float32Array(geo.co);
          wid = newTensor({
            name: `${wt.name}:packed`,
            dtype: fb.DType.F32,
            shape: wshape,
            data: f32Bytes(rule.pack(w, geo)),
          });
          bid = newTensor({
            name: `${n.inputs[2] || n.name + ':bias'}:packed`,
            dtype: fb.DType.F32,
            shape: [co],
            data: f32Bytes(bias),
          });
        }
        if (rule.kernel === 'Dense_F32') {
          const M = geo.n * geo.h * geo.w;
          const src = idOf(x, n),
            srcT = tensors[src]!;
          const rows = srcT.data
            ? newTensor({ name: `${x}:rows`, dtype: srcT.dtype, shape: [M, ci], data: srcT.data })
            : newTensor({ name: `${x}:rows`, dtype: srcT.dtype, shape: [M, ci], aliasOf: src });
          const yRows = newTensor({ name: `${out}:rows`, dtype: fb.DType.F32, shape: [M, co] });
          steps.push({
            kernel: fb.KernelId.Dense_F32,
            inputs: [rows, wid, bid],
            outputs: [yRows],
            params: { type: 'dense', ...activationParams(n) },
            macs: M * ci * co,
            node: n.name,
          });
          ids.set(
            out,
            newTensor({ name: out, dtype: fb.DType.F32, shape: bundleShape(tensorOf(out).shape), aliasOf: yRows }),
          );
          break;
        }
        push({
          kernel: kernelByName(rule.kernel).id,
          inputs: bid < 0 ? [idOf(x, n), wid] : [idOf(x, n), wid, bid],
          params: {
            type: 'conv',
            kernelH: kh,
            kernelW: kw,
            strideH: geo.sh,
            strideW: geo.sw,
            dilationH: geo.dh,
            dilationW: geo.dw,
            padTop: geo.pad[0],
            padLeft: geo.pad[1],
            padBottom: geo.pad[2],
            padRight: geo.pad[3],
            ...rule.grouping(geo),
            ...activationParams(n),
          },
          macs: geo.n * geo.oh * geo.ow * co * kh * kw * (ci / geo.groups),
        });
        break;
      }
      case 'Dense': {
        requireF32(n, x);
        const wt = tensorOf(n.inputs[1]!);
        const [N, K] = wt.shape as [number, number];
        if (!wt.data) {
          // trained weights are state in the IR layout [out,in]: one transpose per run gives the kernel's [K,N]
          const wid = newTensor({ name: `${wt.name}:kn`, dtype: fb.DType.F32, shape: [K, N] });
          steps.push({
            kernel: fb.KernelId.Transpose,
            inputs: [idOf(wt.name, n)],
            outputs: [wid],
            params: { type: 'transpose', shape: [K, N], strides: [1, K], offset: 0 },
            macs: 0,
            node: n.name,
          });
          const b = n.inputs[2];
          const bid = b ? idOf(b, n) : -1;
          push({
            kernel: fb.KernelId.Dense_F32,
            inputs: bid < 0 ? [idOf(x, n), wid] : [idOf(x, n), wid, bid],
            params: { type: 'dense', ...activationParams(n) },
            macs: tensorOf(x).shape[0]! * K * N,
          });
          break;
        }
        const w = constData(n, wt.name, 'weights');
        const M = tensorOf(x).shape[0]!;
        if (M === 1 && K * N >= SPLIT_DENSE_MACS && !disabled.has('Conv2D_F32_P8')) {
          // one row of a large Dense (a classifier): the 1×1 conv of a 1×1×K image, Conv2D_F32_P8 (same sums in the
          // same order: bias, k ascending, so the same bits). Its 8-column panels of w ([N,K] is OHWI [N,1,1,K]) are
          // K·32 contiguous bytes each: threads split them (assembly/threads-float.ts), where a column slice of [K,N]
          // walks all K rows at stride N (two slices on 2 threads ran no faster than the whole)
          const src = idOf(x, n),
            srcT = tensors[src]!;
          const xv = srcT.data
            ? newTensor({ name: `${x}:nhwc`, dtype: srcT.dtype, shape: [1, 1, 1, K], data: srcT.data })
            : newTensor({ name: `${x}:nhwc`, dtype: srcT.dtype, shape: [1, 1, 1, K], aliasOf: src });
          const yv = newTensor({ name: `${out}:nhwc`, dtype: fb.DType.F32, shape: [1, 1, 1, N] });
          const bias = n.inputs[2] ? constData(n, n.inputs[2], 'bias') : new Float32Array(N);
          const wp = newTensor({
            name: `${wt.name}:packed`,
            dtype: fb.DType.F32,
            shape: [1, Math.ceil(N / 8), 1, 1, K, 8],
            data: f32Bytes(packConvWeightsP8(w, 1, N, 1, 1, K)),
          });
          const bp = newTensor({
            name: `${n.inputs[2] || n.name + ':bias'}:packed`,
            dtype: fb.DType.F32,
            shape: [N],
            data: f32Bytes(bias),
          });
          steps.push({
            kernel: fb.KernelId.Conv2D_F32_P8,
            inputs: [xv, wp, bp],
            outputs: [yv],
            params: {
              type: 'conv',
              kernelH: 1,
              kernelW: 1,
              strideH: 1,
              strideW: 1,
              dilationH: 1,
              dilationW: 1,
              groups: 1,
              depthMultiplier: 1,
              ...activationParams(n),
            },
            macs: K * N,
            node: n.name,
          });
          ids.set(
            out,
            newTensor({ name: out, dtype: fb.DType.F32, shape: bundleShape(tensorOf(out).shape), aliasOf: yv }),
          );
          break;
        }
        const packed = packDenseWeights(w, N, K);
        const bias = n.inputs[2] ? constData(n, n.inputs[2], 'bias') : new Float32Array(N);
        const wid = newTensor({
          name: `${wt.name}:packed`,
          dtype: fb.DType.F32,
          shape: [K, N],
          data: f32Bytes(packed),
        });
        const bid = newTensor({
          name: `${n.inputs[2] || n.name + ':bias'}:packed`,
          dtype: fb.DType.F32,
          shape: [N],
          data: f32Bytes(bias),
        });
        push({
          kernel: fb.KernelId.Dense_F32,
          inputs: [idOf(x, n), wid, bid],
          params: { type: 'dense', ...activationParams(n) },
          macs: tensorOf(x).shape[0]! * K * N,
        });
        break;
      }
      case 'MaxPool':
      case 'AvgPool': {
        requireF32(n, x);
        const geo = poolGeometry(n, tensorOf(x).shape, g.source);
        push({
          kernel: n.op === 'MaxPool' ? fb.KernelId.MaxPool_F32 : fb.KernelId.AvgPool_F32,
          inputs: [idOf(x, n)],
          params: {
            type: 'pool',
            kernelH: geo.kh,
            kernelW: geo.kw,
            strideH: geo.sh,
            strideW: geo.sw,
            padTop: geo.pad[0],
            padLeft: geo.pad[1],
            padBottom: geo.pad[2],
            padRight: geo.pad[3],
            countIncludePad: attrNum(n, 'countIncludePad', 0) !== 0,
          },
          macs: geo.n * geo.oh * geo.ow * geo.c * geo.kh * geo.kw,
        });
        break;
      }
      case 'GlobalAvgPool':
        requireF32(n, x);
        push({ kernel: fb.KernelId.GlobalAvgPool_F32, inputs: [idOf(x, n)], macs: numElements(tensorOf(x).shape) });
        break;
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
      case 'Max':
      case 'Min':
      case 'PRelu': {
        requireF32(n, x);
        requireF32(n, n.inputs[1]!);
        const full = tensorOf(out).shape;
        const a = tensorOf(x).shape,
          b = tensorOf(n.inputs[1]!).shape;
        const [shape, aStrides, bStrides] = collapseDims(full, [broadcastStrides(a, full), broadcastStrides(b, full)]);
        if (shape.length > MAX_RANK)
          err(n, `rank ${shape.length} exceeds the runtime's ${MAX_RANK} even after merging dims`);
        push({
          kernel: fb.KernelId.Binary_F32,
          inputs: [idOf(x, n), idOf(n.inputs[1]!, n)],
          inPlace: true,
          params: {
            type: 'binary',
            op: BINARY[n.op]!,
            shape,
            aStrides: aStrides!,
            bStrides: bStrides!,
            ...activationParams(n),
          },
          macs: numElements(full),
        });
        break;
      }
      case 'Relu':
      case 'Relu6':
      case 'Clip':
      case 'LeakyRelu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Exp':
      case 'HardSwish': {
        requireF32(n, x);
        const params: ParamsSpec =
          n.op === 'Relu'
            ? { type: 'unary', op: fb.UnaryOp.Relu }
            : n.op === 'Relu6'
              ? { type: 'unary', op: fb.UnaryOp.Clip, alpha: 0, beta: 6 }
              : n.op === 'Clip'
                ? {
                    type: 'unary',
                    op: fb.UnaryOp.Clip,
                    alpha: attrNum(n, 'min', -Infinity),
                    beta: attrNum(n, 'max', Infinity),
                  }
                : n.op === 'LeakyRelu'
                  ? { type: 'unary', op: fb.UnaryOp.LeakyRelu, alpha: attrNum(n, 'alpha', 0.01) }
                  : n.op === 'HardSwish'
                    ? { type: 'unary', op: fb.UnaryOp.HardSwish }
                    : {
                        type: 'unary',
                        op:
                          n.op === 'Sigmoid' ? fb.UnaryOp.Sigmoid : n.op === 'Tanh' ? fb.UnaryOp.Tanh : fb.UnaryOp.Exp,
                      };
        push({
          kernel: fb.KernelId.Unary_F32,
          inputs: [idOf(x, n)],
          params,
          inPlace: true,
          macs: numElements(tensorOf(x).shape),
        });
        break;
      }
      case 'Softmax': {
        requireF32(n, x);
        const s = tensorOf(x).shape;
        let axis = attrNum(n, 'axis', -1);
        if (axis < 0) axis += s.length;
        push({
          kernel: fb.KernelId.Softmax_F32,
          inputs: [idOf(x, n)],
          params: {
            type: 'softmax',
            outer: numElements(s.slice(0, axis)),
            axis: s[axis]!,
            inner: numElements(s.slice(axis + 1)),
          },
          macs: numElements(s),
        });
        break;
      }
      case 'Transpose':
      case 'Slice': {
        const s = tensorOf(x).shape,
          rs = rowStrides(s);
        const outShape = tensorOf(out).shape;
        let strides: number[],
          offset = 0;
        if (n.op === 'Transpose') strides = transposePerm(n, s.length, g.source).map((p) => rs[p]!);
        else {
          const geo = sliceGeometry(n, s, g.source);
          strides = rs.map((v, k) => v * geo.steps[k]!);
          offset = geo.starts.reduce((p, v, k) => p + v * rs[k]!, 0);
        }
        const [shape, gathered] = collapseDims(outShape, [strides]);
        if (shape.length > MAX_RANK)
          err(n, `rank ${shape.length} exceeds the runtime's ${MAX_RANK} even after merging dims`);
        push({
          kernel: fb.KernelId.Transpose,
          inputs: [idOf(x, n)],
          params: { type: 'transpose', shape, strides: gathered!, offset },
        });
        break;
      }
      case 'Concat': {
        const shape = tensorOf(out).shape;
        let axis = attrNum(n, 'axis', 0);
        if (axis < 0) axis += shape.length;
        push({
          kernel: fb.KernelId.Concat,
          inputs: n.inputs.map((i) => idOf(i, n)),
          params: {
            type: 'concat',
            outer: numElements(shape.slice(0, axis)),
            sizes: n.inputs.map((i) => numElements(tensorOf(i).shape.slice(axis))),
          },
        });
        break;
      }
      case 'Pad': {
        const s = tensorOf(x).shape,
          r = s.length;
        if (r > MAX_RANK) err(n, `rank ${r} exceeds the runtime's ${MAX_RANK}`);
        const pads = attrNums(n, 'pads', []);
        push({
          kernel: fb.KernelId.Pad,
          inputs: [idOf(x, n)],
          params: {
            type: 'pad',
            shape: bundleShape(tensorOf(out).shape),
            inShape: bundleShape(s),
            before: r ? pads.slice(0, r) : [0],
            value: attrNum(n, 'value', 0),
          },
        });
        break;
      }
      case 'Reshape':
      case 'Flatten': {
        const src = idOf(x, n);
        const srcT = tensors[src]!;
        if (srcT.data) {
          // a view of a constant is the same constant bytes under another shape
          ids.set(
            out,
            newTensor({ name: out, dtype: srcT.dtype, shape: bundleShape(tensorOf(out).shape), data: srcT.data }),
          );
        } else if (g.outputs.includes(out) && rootIsInput(tensors, src, g, ids)) {
          // graph input → graph output: the host-facing buffers must not be the same bytes
          push({ kernel: fb.KernelId.Copy, inputs: [src] });
        } else {
          ids.set(
            out,
            newTensor({ name: out, dtype: srcT.dtype, shape: bundleShape(tensorOf(out).shape), aliasOf: src }),
          );
        }
        break;
      }
      case 'BatchNorm':
        err(n, `BatchNorm needs constant scale, bias, mean and var to be lowered`);
        break;
    }
  }

  const outputs = g.outputs.map((o) => {
    let id = ids.get(o);
    if (id === undefined && g.tensors.get(o)?.data) id = idOf(o);
    if (id === undefined) throw new ModelError(g.source, `output '${o}'`, `is never produced`);
    const c = tensors[id]!;
    if (c.data) {
      // outputs are arena tensors the host reads: a constant output is copied there
      c.name = `${o}:const`;
      const out = newTensor({ name: o, dtype: c.dtype, shape: [...c.shape] });
      steps.push({ kernel: fb.KernelId.Copy, inputs: [id], outputs: [out], macs: 0, node: o });
      ids.set(o, out);
      return out;
    }
    return id;
  });
  annotateQuant(g, tensors);
  return { tensors, steps, inputs: g.inputs.map((i) => ids.get(i)!), outputs };
}

function rootIsInput(tensors: LoweredTensor[], id: number, g: Graph, ids: Map<string, number>): boolean {
  let r = id;
  while (tensors[r]!.aliasOf !== undefined) r = tensors[r]!.aliasOf!;
  return g.inputs.some((i) => ids.get(i) === r);
}

/**
 * Merges adjacent output dims that every operand walks contiguously (stride[i] = stride[i+1]·dim[i+1],
 * including both 0 for a broadcast), and drops dims of 1: fewer, longer loops for the kernel, and
 * ranks above 6 that reduce to ≤ 6 still lower. Returns [shape, ...strides] (at least rank 1).
 */
export function collapseDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): [number[], ...number[][]] {
  const dims: number[] = [];
  const outs: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((st, k) => outs[k]![last] === st[i]! * shape[i]!)) {
      dims[last]! *= shape[i]!;
      strides.forEach((st, k) => {
        outs[k]![last] = st[i]!;
      });
    } else {
      dims.push(shape[i]!);
      strides.forEach((st, k) => outs[k]!.push(st[i]!));
    }
  }
  if (dims.length === 0) return [[1], ...strides.map(() => [0])];
  return [dims, ...outs];
}
