// Lowering of int8 IR nodes (docs/quantization.md) to the *_QS8 kernels: packs weights into the
// kernel's tile layout (kept int8), folds bias − zp_in·Σw, computes per-channel multipliers/shifts
// (I32 `qc` constants), adds im2col scratch as an arena tensor, and counts MACs. Hooked from lower/index.ts.
import { ModelError, numElements, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import { attrNum, broadcastStrides, convGeometry, toFloat64 } from '../ir/ops/helpers.ts';
import { poolGeometry } from '../ir/ops/pool.ts';
import { gapQs8Scale } from '../ir/ops/global-avg-pool.ts';
import { softmaxTableQs8 } from '../ir/ops/softmax.ts';
import { unaryTableQs8, clampTableQs8 } from '../ir/ops/unary.ts';
import { fb, type ParamsSpec } from '../emit/bundle-writer.ts';
import { isInt8Node } from '../ir/ops/index.ts';
import {
  accumulatorFits,
  addFp32Constants,
  addQs8Multipliers,
  floatRequant,
  mulQs8Scale,
  nodeClamp,
  ortAdd,
  ortAddFixedPoint,
  tensorQuant,
} from '../ir/quant.ts';
import { channelMultipliers, channelScalesF32, quantizeMultiplier, type ChannelRequant } from '../ir/requant.ts';
import type { LoweredStep, LoweredTensor } from './index.ts';
import { packQs8Depthwise, packQs8Gemm4x8c2, packQs8Wino } from '../kernels/pack.ts';
import { kernelById, kernelByName } from '../kernels/registry.ts';
import type { ConvShape } from '../kernels/scratch.ts';

const f32 = Math.fround;

/** What the int8 lowering needs from lower(): tensor ids, new tensors, and the step producing the node's output. */
export interface Int8LowerContext {
  g: Graph;
  idOf(name: string, n: Node): number;
  newTensor(t: LoweredTensor): number;
  push(s: Omit<LoweredStep, 'node' | 'macs' | 'outputs'> & { macs?: number }): void;
  /** KernelIds (registry names) the lowering must not pick: the next matching rule takes the node. */
  disabled: ReadonlySet<string>;
  /** KernelIds (registry names) picked past their speed rule (LowerOptions.forceKernels). */
  forced?: ReadonlySet<string>;
}

/**
 * The grouped / 1×k / k×1 int8 convolutions, first match wins (depthwise is its own family, picked before): all
 * take the GEMM's packed weights [G, Co/G, K₂] and qc [3, Co]; the scratch comes from the KernelId's registry row.
 * 1×k / k×1 (dilation 1 along k, groups 1) read R padded input lines instead of im2col's OH·OW × Kp.
 */
const QS8_CONV_RULES: readonly { kernel: string; match: (c: ConvShape) => boolean; scratchName: string }[] = [
  { kernel: 'Conv1xK_QS8', match: (c) => c.groups === 1 && c.kh === 1 && c.kw > 1 && c.dw === 1, scratchName: 'lines' },
  { kernel: 'ConvKx1_QS8', match: (c) => c.groups === 1 && c.kw === 1 && c.kh > 1 && c.dh === 1, scratchName: 'lines' },
  { kernel: 'Conv2D_QS8', match: () => true, scratchName: 'im2col' },
];

/**
 * Conv2DWino_QS8 (exact Winograd F(2×2, 3×3), kernels/conv/qs8-conv2d-wino-wasmsimd.ts) takes a 3×3 stride-1 ungrouped
 * conv when the A/B in docs/benchmarks.md measured it faster than im2col (winoWins) and every channel keeps
 * 512·Σ|w| < 2^31: then 4·acc stays an exact i32 (|x| ≤ 128, so |4·Σ x·w| ≤ 512·Σ|w|) and the kernel gives the
 * direct conv's accumulators bit for bit.
 */
function winoFits(c: ConvShape, co: number, sumAbsW: (c: number) => number, force: boolean): boolean {
  if (c.kh !== 3 || c.kw !== 3 || c.sh !== 1 || c.sw !== 1 || c.dh !== 1 || c.dw !== 1 || c.groups !== 1) return false;
  if (!force && !winoWins(c, co)) return false;
  for (let o = 0; o < co; o++) if (512 * sumAbsW(o) >= 2 ** 31) return false;
  return true;
}

/** The shapes where Winograd beat im2col + GEMM in bench/tflite-ab.ts (docs/benchmarks.md, "Winograd"). */
function winoWins(c: ConvShape, co: number): boolean {
  return c.ci >= 8 && co >= 8 && c.oh * c.ow >= 16;
}

/** qc [3, n]: bias row, multiplier row, shift row; or for float32 scales (the *_QS8_FP32 kernels) [2, n]: bias row,
 *  scale row (f32 bits). */
function qcBytes(bias: ArrayLike<number>, fp: readonly ChannelRequant[]): Uint8Array {
  const n = fp.length,
    fp32 = n > 0 && 'scale' in fp[0]!,
    a = new Int32Array((fp32 ? 2 : 3) * n),
    f = new Float32Array(a.buffer);
  for (let c = 0; c < n; c++) {
    const r = fp[c]!;
    a[c] = bias[c]!;
    if ('scale' in r) f[n + c] = r.scale;
    else {
      a[n + c] = r.mult;
      a[2 * n + c] = r.shift;
    }
  }
  return new Uint8Array(a.buffer);
}
/** AvgPool_QS8, or for TFLite's arithmetic (its int8 AVERAGE_POOL_2D rounds the raw sum) AvgPool_QS8_RAW. */
const avgPoolKernel = (g: Graph, n: Node) =>
  g.int8Arithmetic === 'tflite' && attrNum(n, 'countIncludePad', 0) === 0
    ? fb.KernelId.AvgPool_QS8_RAW
    : fb.KernelId.AvgPool_QS8;
/** The KernelId of a conv / dense kernel: the *_FP32 variant for graphs with XNNPACK's requantisation. */
const variantId = (g: Graph, name: string) => kernelByName(floatRequant(g) ? `${name}_FP32` : name).id;
const i32Bytes = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
const i8Bytes = (a: Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Lowers one int8 node; false when the generic lowering handles it (data movement, Pad). */
export function lowerInt8Node(ctx: Int8LowerContext, n: Node): boolean {
  const { g } = ctx;
  if (!isInt8Node(g, n) || n.op === 'Pad') return false;
  const err = (d: string): never => {
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, d);
  };
  const t = (name: string): Tensor => g.tensors.get(name)!;
  const x = n.inputs[0]!,
    out = n.outputs[0]!;
  const need = (name: string, dtype: string, what: string) => {
    if (t(name).dtype !== dtype) err(`${what} '${name}' must be ${dtype}, found ${t(name).dtype}`);
  };
  const constTensor = (name: string, dtype: fb.DType, shape: number[], data: Uint8Array) =>
    ctx.newTensor({ name, dtype, shape, data });
  // a binary step's broadcast walk: the output shape (a scalar's as [1]) and each operand's strides into it, rank ≤ 6
  const binaryWalk = (b: string) => {
    const full = t(out).shape;
    const shape = full.length ? full : [1];
    const aStrides = full.length ? broadcastStrides(t(x).shape, full) : [0];
    const bStrides = full.length ? broadcastStrides(t(b).shape, full) : [0];
    if (shape.length > 6) err(`rank ${shape.length} exceeds the runtime's 6`);
    return { full, shape, aStrides, bStrides };
  };
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      return err((e as Error).message);
    }
  };

  switch (n.op) {
    case 'Quantize':
      need(x, 'float32', 'input');
      need(out, 'int8', 'output');
      tensorQuant(g, out, n);
      // ONNX QuantizeLinear rounds half to even (onnxruntime's arithmetic); edgec and TFLite half away from zero
      const rne = g.int8Arithmetic === 'onnxruntime' && !ctx.disabled.has('Quantize_QS8_RNE');
      const kernel = rne ? fb.KernelId.Quantize_QS8_RNE : fb.KernelId.Quantize_QS8;
      ctx.push({ kernel, inputs: [ctx.idOf(x, n)], macs: numElements(t(x).shape) });
      return true;
    case 'Dequantize':
      need(x, 'int8', 'input');
      need(out, 'float32', 'output');
      tensorQuant(g, x, n);
      ctx.push({ kernel: fb.KernelId.Dequantize_QS8, inputs: [ctx.idOf(x, n)], macs: numElements(t(x).shape) });
      return true;
    case 'Requantize': {
      need(x, 'int8', 'input');
      need(out, 'int8', 'output');
      const qi = tensorQuant(g, x, n),
        qo = tensorQuant(g, out, n);
      const [fp] = wrap(() => [quantizeMultiplier(f32(qi.scale) / f32(qo.scale))]);
      const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [2], i32Bytes([fp!.mult, fp!.shift]));
      ctx.push({ kernel: fb.KernelId.Requantize_QS8, inputs: [ctx.idOf(x, n), qc], macs: numElements(t(x).shape) });
      return true;
    }
    case 'Conv2D':
    case 'Dense': {
      const qi = tensorQuant(g, x, n),
        qo = tensorQuant(g, out, n);
      const wt = t(n.inputs[1]!);
      if (wt.dtype !== 'int8' || !wt.data)
        err(
          `weights '${wt.name}' must be a constant int8 tensor, found ${wt.dtype}${wt.data ? '' : ' (not constant)'}`,
        );
      if (!wt.quant) err(`int8 weights '${wt.name}' have no quant params`);
      if (wt.quant!.zeroPoint.some((z) => z !== 0)) err(`int8 weights '${wt.name}' must be symmetric (zero point 0)`);
      const w = toFloat64(wt.data!);
      const co = wt.shape[0]!;
      const bt = n.inputs[2] ? t(n.inputs[2]) : undefined;
      if (bt && (bt.dtype !== 'int32' || !bt.data))
        err(`bias '${bt.name}' must be a constant int32 tensor, found ${bt.dtype}`);
      const bias = bt ? toFloat64(bt.data!) : new Float64Array(co);
      const sW = wt.quant!.scale.length === 1 ? new Array<number>(co).fill(wt.quant!.scale[0]!) : wt.quant!.scale;
      if (sW.length !== co) err(`weights '${wt.name}' have ${sW.length} scales for ${co} output channels`);
      const fp = wrap((): ChannelRequant[] =>
        floatRequant(g) ? channelScalesF32(qi.scale, sW, qo.scale) : channelMultipliers(qi.scale, sW, qo.scale),
      );
      const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
      const qcRows = floatRequant(g) ? 2 : 3;
      const K = numElements(wt.shape.slice(1));
      // every partial sum stays in i32: |bias'| + 128·Σ|w| (raw x in [−128, 127], zp folded) and |bias| + 255·Σ|w|
      // ((x − zp)·w, the reference twins) below 2^31; Σ|w| of the real weights, so an imported −128 counts 128
      const sumW = (c: number, abs: boolean) => {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const v = w[c * K + k]!;
          s += abs ? Math.abs(v) : v;
        }
        return s;
      };
      const folded = new Float64Array(co);
      for (let c = 0; c < co; c++) {
        folded[c] = bias[c]! - qi.zp * sumW(c, false);
        if (!accumulatorFits(bias[c]!, qi.zp, sumW(c, false), sumW(c, true))) {
          err(`channel ${c}: bias ${bias[c]} with ${K} taps can overflow the int32 accumulator`);
        }
      }
      if (n.op === 'Dense') {
        need(x, 'int8', 'input');
        need(out, 'int8', 'output');
        const M = t(x).shape[0]!;
        const wid = constTensor(
          `${wt.name}:packed`,
          fb.DType.I8,
          [co, Math.ceil(K / 2) * 2],
          i8Bytes(packQs8Gemm4x8c2(w, co, K)),
        );
        const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [qcRows, co], qcBytes(folded, fp));
        ctx.push({
          kernel: variantId(g, 'Dense_QS8'),
          inputs: [ctx.idOf(x, n), wid, qc],
          params: { type: 'dense', qMin, qMax },
          macs: M * K * co,
        });
        return true;
      }
      const geo = convGeometry(n, t(x), wt, g.source);
      const { kh, kw, ci, groups } = geo;
      const cig = ci / groups,
        cog = co / groups;
      const depthwise = groups > 1 && groups === ci && co % ci === 0;
      const conv: ParamsSpec = {
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
        groups: depthwise ? 1 : groups,
        depthMultiplier: depthwise ? co / ci : 1,
        qMin,
        qMax,
      };
      const macs = geo.n * geo.oh * geo.ow * co * kh * kw * cig;
      if (depthwise) {
        const wid = constTensor(
          `${wt.name}:packed`,
          fb.DType.I8,
          [kh, kw, co],
          i8Bytes(packQs8Depthwise(w, co, kh, kw)),
        );
        const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [qcRows, co], qcBytes(bias, fp));
        ctx.push({
          kernel: variantId(g, 'DepthwiseConv2D_QS8'),
          inputs: [ctx.idOf(x, n), wid, qc],
          params: conv,
          macs,
        });
        return true;
      }
      if (
        !ctx.disabled.has('Conv2DWino_QS8') &&
        winoFits(geo, co, (c) => sumW(c, true), !!ctx.forced?.has('Conv2DWino_QS8'))
      ) {
        const cb = Math.ceil(co / 8),
          ch = Math.ceil(ci / 8) * 4;
        const wid = constTensor(`${wt.name}:wino`, fb.DType.I8, [cb, 16, ch, 32], i8Bytes(packQs8Wino(w, co, ci)));
        const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [qcRows, co], qcBytes(folded, fp));
        ctx.push({ kernel: variantId(g, 'Conv2DWino_QS8'), inputs: [ctx.idOf(x, n), wid, qc], params: conv, macs });
        return true;
      }
      const Kp2 = Math.ceil(K / 2) * 2;
      const groupBytes = cog * Kp2;
      const packed = new Int8Array(groups * groupBytes);
      for (let gi = 0; gi < groups; gi++)
        packed.set(packQs8Gemm4x8c2(w.subarray(gi * cog * K, (gi + 1) * cog * K), cog, K), gi * groupBytes);
      const wid = constTensor(`${wt.name}:packed`, fb.DType.I8, [groups, cog, Kp2], i8Bytes(packed));
      const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [qcRows, co], qcBytes(folded, fp));
      const rule = QS8_CONV_RULES.find((r) => !ctx.disabled.has(r.kernel) && r.match(geo))!;
      const row = kernelById(variantId(g, rule.kernel))!;
      const inputs = [ctx.idOf(x, n), wid, qc];
      const scratch = row.scratch!(geo);
      if (scratch)
        inputs.push(ctx.newTensor({ name: `${n.name}:${rule.scratchName}`, dtype: fb.DType.I8, shape: scratch }));
      ctx.push({ kernel: row.id, inputs, params: conv, macs });
      return true;
    }
    case 'Add':
    case 'Sub': {
      const b = n.inputs[1]!;
      need(b, 'int8', 'input');
      const qa = tensorQuant(g, x, n),
        qb = tensorQuant(g, b, n),
        qo = tensorQuant(g, out, n);
      const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
      const { full, shape, aStrides, bStrides } = binaryWalk(b);
      const params: ParamsSpec = { type: 'binary', op: fb.BinaryOp.Add, shape, aStrides, bStrides, qMin, qMax };
      // onnxruntime's Add on Add_QS8's fixed point where all 65 536 code pairs give its bytes (ortAddFixedPoint);
      // disabling Add_QS8 keeps every such Add on Add_QS8_FP32 (bench/profile.ts --disable Add_QS8)
      const ort = ortAdd(g, n);
      const proven = ort && !ctx.disabled.has('Add_QS8') ? ortAddFixedPoint(qa, qb, qo, qMin, qMax) : undefined;
      if (ort && !proven && !ctx.disabled.has('Add_QS8_FP32')) {
        // onnxruntime's QLinearAdd: qc [4] = f32 s_a, s_b, s_out, i32 the zero point it rounds with
        const k = addFp32Constants(qa.scale, qb.scale, qo.scale, qo.zp);
        const qc4 = new Int32Array(4);
        new Float32Array(qc4.buffer, 0, 3).set([k.sA, k.sB, k.sOut]);
        qc4[3] = k.zr;
        const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [4], new Uint8Array(qc4.buffer));
        const inputs = [ctx.idOf(x, n), ctx.idOf(b, n), qc];
        ctx.push({ kernel: fb.KernelId.Add_QS8_FP32, inputs, params, macs: numElements(full) });
        return true;
      }
      let m: { multA: number; multB: number; shift: number };
      try {
        m = proven ?? addQs8Multipliers(g, qa.scale, qb.scale, qo.scale);
      } catch (e) {
        return err((e as Error).message);
      }
      // a − b is Add_QS8 with b's multiplier negated (XNNPACK's qs8 subtract, which TFLite's SUB runs)
      if (n.op === 'Sub') m = { ...m, multB: -m.multB };
      const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [3], i32Bytes([m.multA, m.multB, m.shift]));
      ctx.push({
        kernel: fb.KernelId.Add_QS8,
        inputs: [ctx.idOf(x, n), ctx.idOf(b, n), qc],
        params,
        macs: numElements(full),
      });
      return true;
    }
    case 'Mul': {
      const b = n.inputs[1]!;
      need(b, 'int8', 'input');
      const qa = tensorQuant(g, x, n),
        qb = tensorQuant(g, b, n),
        qo = tensorQuant(g, out, n);
      const scale = wrap(() => mulQs8Scale(qa.scale, qb.scale, qo.scale, `node '${n.name}'`));
      const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
      const { full, shape, aStrides, bStrides } = binaryWalk(b);
      const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [1], new Uint8Array(Float32Array.of(scale).buffer));
      ctx.push({
        kernel: fb.KernelId.Mul_QS8_FP32,
        inputs: [ctx.idOf(x, n), ctx.idOf(b, n), qc],
        params: { type: 'binary', op: fb.BinaryOp.Mul, shape, aStrides, bStrides, qMin, qMax },
        macs: numElements(full),
      });
      return true;
    }
    case 'MaxPool':
    case 'AvgPool': {
      const qi = tensorQuant(g, x, n),
        qo = tensorQuant(g, out, n);
      if (f32(qi.scale) !== f32(qo.scale) || qi.zp !== qo.zp)
        err(`int8 pooling needs the output quant equal to the input's (insert a Requantize)`);
      const geo = poolGeometry(n, t(x).shape, g.source);
      ctx.push({
        kernel: n.op === 'MaxPool' ? fb.KernelId.MaxPool_QS8 : avgPoolKernel(g, n),
        inputs: [ctx.idOf(x, n)],
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
      return true;
    }
    case 'GlobalAvgPool': {
      const qi = tensorQuant(g, x, n),
        qo = tensorQuant(g, out, n);
      const [, H, W] = t(x).shape as [number, number, number, number];
      if (g.int8Arithmetic === 'tflite') {
        const scale = wrap(() => gapQs8Scale(qi.scale, qo.scale, H * W, `node '${n.name}'`));
        const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [1], new Uint8Array(Float32Array.of(scale).buffer));
        const k = fb.KernelId.GlobalAvgPool_QS8_FP32;
        ctx.push({ kernel: k, inputs: [ctx.idOf(x, n), qc], macs: numElements(t(x).shape) });
        return true;
      }
      const [fp] = wrap(() => [quantizeMultiplier(f32(qi.scale) / (f32(qo.scale) * H * W))]);
      const qc = constTensor(`${n.name}:qc`, fb.DType.I32, [2], i32Bytes([fp!.mult, fp!.shift]));
      ctx.push({ kernel: fb.KernelId.GlobalAvgPool_QS8, inputs: [ctx.idOf(x, n), qc], macs: numElements(t(x).shape) });
      return true;
    }
    case 'Sigmoid':
    case 'Tanh':
    case 'HardSwish': {
      const qi = tensorQuant(g, x, n),
        qo = tensorQuant(g, out, n);
      const table = wrap(() => unaryTableQs8(n.op, qi.scale, qi.zp, qo.scale, qo.zp));
      const tt = constTensor(`${n.name}:table`, fb.DType.I8, [256], i8Bytes(table));
      ctx.push({ kernel: fb.KernelId.Lut_QS8, inputs: [ctx.idOf(x, n), tt], macs: numElements(t(x).shape) });
      return true;
    }
    case 'Relu':
    case 'Relu6':
    case 'Clip': {
      // left on int8 only when the output's params hold values outside the range (quantize/rewrite.ts)
      const qi = tensorQuant(g, x, n),
        qo = tensorQuant(g, out, n);
      const table = wrap(() => clampTableQs8(n, qi.scale, qi.zp, qo.scale, qo.zp, g.int8Arithmetic === 'tflite'));
      const tt = constTensor(`${n.name}:table`, fb.DType.I8, [256], i8Bytes(table));
      ctx.push({ kernel: fb.KernelId.Lut_QS8, inputs: [ctx.idOf(x, n), tt], macs: numElements(t(x).shape) });
      return true;
    }
    case 'Softmax': {
      const s = t(x).shape;
      let axis = attrNum(n, 'axis', -1);
      if (axis < 0) axis += s.length;
      if (axis !== s.length - 1)
        err(`int8 softmax runs over the last axis only, found axis ${axis} of rank ${s.length}`);
      const qi = tensorQuant(g, x, n);
      tensorQuant(g, out, n);
      const table = softmaxTableQs8(qi.scale);
      const tt = constTensor(`${n.name}:table`, fb.DType.F32, [256], new Uint8Array(table.buffer));
      ctx.push({
        kernel: fb.KernelId.Softmax_QS8,
        inputs: [ctx.idOf(x, n), tt],
        params: { type: 'softmax', outer: numElements(s.slice(0, axis)), axis: s[axis]!, inner: 1 },
        macs: numElements(s),
      });
      return true;
    }
  }
  return false;
}

/** Per-tensor scale and zero point of every int8 bundle tensor named after an IR tensor (Pad, pools and kernels read them). */
export function annotateQuant(g: Graph, tensors: LoweredTensor[]): void {
  for (const lt of tensors) {
    const q = g.tensors.get(lt.name)?.quant;
    if (!q || q.scale.length !== 1 || q.axis !== undefined) continue;
    lt.scale = f32(q.scale[0]!);
    lt.zeroPoint = q.zeroPoint[0] ?? 0;
  }
}
