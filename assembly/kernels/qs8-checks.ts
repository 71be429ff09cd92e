// Load-time contract checks of the int8 steps (KernelId *_QS8): '' = fine, else the message (validate.ts prefixes
// the step). Dispatched by qs8-steps.ts checkQs8Step; shapes, dtypes, params and qc constants of each kernel's inputs.
import {
  Model,
  StepInfo,
  TensorInfo,
  DT_F32,
  DT_I8,
  DT_I32,
  P_CONV,
  P_POOL,
  P_DENSE,
  P_BINARY,
  P_SOFTMAX,
} from '../bundle/model';
import { lineGroup } from './conv/qs8-conv2d-1xk';

function shapeStr(s: StaticArray<i32>): string {
  let r = '[';
  for (let i = 0; i < s.length; i++) r += (i > 0 ? ',' : '') + s[i].toString();
  return r + ']';
}
function dtName(d: i32): string {
  return d == DT_F32 ? 'F32' : d == DT_I8 ? 'I8' : d == DT_I32 ? 'I32' : 'U8';
}

export class Checker {
  msg: string = '';
  constructor(
    public m: Model,
    public s: StepInfo,
  ) {}
  ok(): bool {
    return this.msg.length == 0;
  }
  fail(msg: string): bool {
    if (this.msg.length == 0) this.msg = msg;
    return false;
  }
  counts(minIn: i32, maxIn: i32): bool {
    if (this.s.inputs.length < minIn || this.s.inputs.length > maxIn)
      return this.fail(
        'has ' +
          this.s.inputs.length.toString() +
          ' inputs, expected ' +
          minIn.toString() +
          (minIn == maxIn ? '' : '..' + maxIn.toString()),
      );
    if (this.s.outputs.length != 1)
      return this.fail('has ' + this.s.outputs.length.toString() + ' outputs, expected 1');
    return true;
  }
  params(type: i32, name: string): bool {
    return this.s.paramsType == type
      ? true
      : this.fail('expects ' + name + ' params, found params type ' + this.s.paramsType.toString());
  }
  tensor(input: bool, i: i32, role: string, dtype: i32): TensorInfo | null {
    const ids = input ? this.s.inputs : this.s.outputs;
    const id = ids[i];
    if (id < 0 || id >= this.m.tensors.length) {
      this.fail(role + ' names tensor ' + id.toString() + ', out of range');
      return null;
    }
    const t = this.m.tensors[id];
    if (t.dtype != dtype) {
      this.fail(role + " '" + t.name + "' must be " + dtName(dtype) + ', found ' + dtName(t.dtype));
      return null;
    }
    if (!input && t.constant) {
      this.fail("output '" + t.name + "' is a constant");
      return null;
    }
    return t;
  }
  shape(t: TensorInfo, role: string, want: StaticArray<i32>): bool {
    let same = t.shape.length == want.length;
    for (let i = 0; same && i < want.length; i++) same = t.shape[i] == want[i];
    return same
      ? true
      : this.fail(role + " '" + t.name + "' has shape " + shapeStr(t.shape) + ', expected ' + shapeStr(want));
  }
  rank(t: TensorInfo, role: string, r: i32): bool {
    return t.shape.length == r
      ? true
      : this.fail(role + " '" + t.name + "' has shape " + shapeStr(t.shape) + ', expected rank ' + r.toString());
  }
  zeroPoint(t: TensorInfo): bool {
    return t.zeroPoint >= -128 && t.zeroPoint <= 127
      ? true
      : this.fail("tensor '" + t.name + "' zero point " + t.zeroPoint.toString() + ' is outside [-128, 127]');
  }
  clamp(): bool {
    const p = this.s.p;
    return p.qMin >= -128 && p.qMin <= p.qMax && p.qMax <= 127
      ? true
      : this.fail(
          'q_min ' +
            p.qMin.toString() +
            ' / q_max ' +
            p.qMax.toString() +
            ' must satisfy -128 <= q_min <= q_max <= 127',
        );
  }
  /** The qc of a conv / dense step: [3, n] fixed point (mult ≥ 0, shift in [1, 62]), or for fp32 [2, n] whose row 1
   *  holds positive finite f32 scales (the kernels convert a clamped value, never NaN). */
  qcOf(fp32: bool, n: i32): bool {
    if (!fp32) return this.qc(2, 3, n, 1, 2);
    const t = this.tensor(true, 2, 'qc', DT_I32);
    if (t === null) return false;
    if (!t.constant) return this.fail("qc '" + t.name + "' must be a constant");
    if (!this.shape(t, 'qc', StaticArray.fromArray<i32>([2, n]))) return false;
    for (let c = 0; c < n; c++) {
      const v = load<f32>(t.ptr + ((<usize>(n + c)) << 2));
      if (!(v > 0 && v < f32.POSITIVE_INFINITY))
        return this.fail(
          "qc '" + t.name + "' column " + c.toString() + ': scale ' + v.toString() + ' is not positive and finite',
        );
    }
    return true;
  }
  /** qc constant [1] (I32) at input i holding one positive finite f32 scale (the fp32 Mul / GAP variants). */
  qcScale(i: i32): bool {
    const t = this.tensor(true, i, 'qc', DT_I32);
    if (t === null) return false;
    if (!t.constant) return this.fail("qc '" + t.name + "' must be a constant");
    if (!this.shape(t, 'qc', StaticArray.fromArray<i32>([1]))) return false;
    const v = load<f32>(t.ptr);
    return v > 0 && v < f32.POSITIVE_INFINITY
      ? true
      : this.fail("qc '" + t.name + "': scale " + v.toString() + ' is not positive and finite');
  }
  /** qc constant [4]: three positive finite f32 scales, then an i32 zero point zr with |zr − zp| ≤ 128 (onnxruntime's: zp + 128). */
  qcAddFp32(i: i32, zp: i32): bool {
    const t = this.tensor(true, i, 'qc', DT_I32);
    if (t === null) return false;
    if (!t.constant) return this.fail("qc '" + t.name + "' must be a constant");
    if (!this.shape(t, 'qc', StaticArray.fromArray<i32>([4]))) return false;
    for (let k = 0; k < 3; k++) {
      const v = load<f32>(t.ptr + ((<usize>k) << 2));
      if (!(v > 0 && v < f32.POSITIVE_INFINITY))
        return this.fail("qc '" + t.name + "': scale " + v.toString() + ' is not positive and finite');
    }
    const zr = load<i32>(t.ptr, 12);
    if (zr < zp - 128 || zr > zp + 128)
      return this.fail(
        "qc '" + t.name + "': rounding zero point " + zr.toString() + ' is not within 128 of ' + zp.toString(),
      );
    return true;
  }
  /** qc constant [rows, n] whose multiplier row `mRow` is ≥ 0 and shift row `sRow` in [1, 62] (per column). */
  qc(i: i32, rows: i32, n: i32, mRow: i32, sRow: i32): bool {
    const t = this.tensor(true, i, 'qc', DT_I32);
    if (t === null) return false;
    if (!t.constant) return this.fail("qc '" + t.name + "' must be a constant");
    if (rows == 1) {
      if (!this.shape(t, 'qc', StaticArray.fromArray<i32>([n]))) return false;
    } else if (!this.shape(t, 'qc', StaticArray.fromArray<i32>([rows, n]))) return false;
    const cols = rows == 1 ? 1 : n;
    for (let c = 0; c < cols; c++) {
      const mult = load<i32>(t.ptr + ((<usize>(mRow * cols + c)) << 2)),
        sh = load<i32>(t.ptr + ((<usize>(sRow * cols + c)) << 2));
      if (mult < 0 || sh < 1 || sh > 62)
        return this.fail(
          "qc '" +
            t.name +
            "' column " +
            c.toString() +
            ': multiplier ' +
            mult.toString() +
            ' / shift ' +
            sh.toString() +
            ' outside [0, 2^31) / [1, 62]',
        );
    }
    return true;
  }
}

function outDim(inp: i32, k: i32, stride: i32, dil: i32, p0: i32, p1: i32): i32 {
  const num = <i64>inp + <i64>p0 + <i64>p1 - (<i64>dil * <i64>(k - 1) + 1);
  return num < 0 ? 0 : <i32>(num / <i64>stride + 1);
}

function checkWindowParams(c: Checker, conv: bool): bool {
  const p = c.s.p;
  if (p.kh < 1 || p.kw < 1 || p.sh < 1 || p.sw < 1 || (conv && (p.dh < 1 || p.dw < 1)))
    return c.fail('kernel, stride and dilation must be >= 1');
  if (p.pt < 0 || p.pl < 0 || p.pb < 0 || p.pr < 0) return c.fail('negative padding');
  return true;
}

/** The int8 conv contract's common part: input, weights, output, NHWC rank 4, output size of the window. */
class ConvIo {
  constructor(
    public w: TensorInfo,
    public y: TensorInfo,
    public n: i32,
    public c: i32,
    public oh: i32,
    public ow: i32,
    public co: i32,
  ) {}
}

function checkConvIo(c: Checker): ConvIo | null {
  const p = c.s.p;
  const x = c.tensor(true, 0, 'input', DT_I8);
  if (x === null) return null;
  const w = c.tensor(true, 1, 'weights', DT_I8);
  if (w === null) return null;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return null;
  if (!c.zeroPoint(x) || !c.zeroPoint(y) || !c.rank(x, 'input', 4) || !c.rank(y, 'output', 4)) return null;
  const OH = outDim(x.shape[1], p.kh, p.sh, p.dh, p.pt, p.pb),
    OW = outDim(x.shape[2], p.kw, p.sw, p.dw, p.pl, p.pr);
  if (OH < 1 || OW < 1) {
    c.fail('window larger than the padded input');
    return null;
  }
  return new ConvIo(w, y, x.shape[0], x.shape[3], OH, OW, y.shape[3]);
}

/** Conv1xK_QS8 (rows) / ConvKx1_QS8 (columns): Conv2D_QS8's contract with G = 1, a 1-tap short axis, dilation 1
 *  along the long one, and a scratch of R padded rows / columns (lineGroup), absent for an unpadded 1×k. */
export function checkConvLineQs8(c: Checker, rows: bool, fp32: bool): void {
  if (!c.counts(3, 4) || !c.params(P_CONV, 'ConvParams') || !c.clamp() || !checkWindowParams(c, true)) return;
  const p = c.s.p;
  const k = rows ? p.kw : p.kh,
    short = rows ? p.kh : p.kw,
    dil = rows ? p.dw : p.dh;
  if (short != 1 || k < 2 || dil != 1 || p.groups != 1) {
    c.fail(
      'needs a ' +
        (rows ? '1xk' : 'kx1') +
        ' kernel (k >= 2) with dilation 1 along it and groups 1, found ' +
        p.kh.toString() +
        'x' +
        p.kw.toString() +
        ' dilation ' +
        p.dh.toString() +
        'x' +
        p.dw.toString() +
        ' groups ' +
        p.groups.toString(),
    );
    return;
  }
  const io = checkConvIo(c);
  if (io === null) return;
  const w = io.w,
    y = io.y,
    N = io.n,
    C = io.c,
    OH = io.oh,
    OW = io.ow,
    Co = io.co;
  if (!c.shape(y, 'output', StaticArray.fromArray<i32>([N, OH, OW, Co]))) return;
  const K = <i64>k * <i64>C;
  if (K > 0x1000000) {
    c.fail('reduction of ' + K.toString() + ' taps is too long for i32 accumulators');
    return;
  }
  if (!c.shape(w, 'weights', StaticArray.fromArray<i32>([1, Co, (<i32>K + 1) & ~1]))) return;
  if (!c.qcOf(fp32, Co)) return;
  // i64: a hostile stride must not wrap the scratch size the kernel then writes
  const L64 = rows ? <i64>(OW - 1) * <i64>p.sw + <i64>k : <i64>(OH - 1) * <i64>p.sh + <i64>k;
  const R = rows ? lineGroup(OW, OH) : lineGroup(OH, OW);
  if (<i64>R * L64 * <i64>C > 0x40000000) {
    c.fail('line scratch of ' + (<i64>R * L64).toString() + ' pixels is too large');
    return;
  }
  const L = <i32>L64;
  if (c.s.inputs.length == 4 && c.s.inputs[3] >= 0) {
    const s = c.tensor(true, 3, 'scratch', DT_I8);
    if (s === null) return;
    if (s.constant) {
      c.fail("scratch '" + s.name + "' must be an arena tensor");
      return;
    }
    c.shape(s, 'scratch', StaticArray.fromArray<i32>([R * L, C]));
  } else if (!rows || p.pt != 0 || p.pl != 0 || p.pb != 0 || p.pr != 0) {
    c.fail('needs a ' + (rows ? 'row' : 'column') + ' scratch tensor (input 3)' + (rows ? ' unless unpadded' : ''));
  }
}

export function checkConvQs8(c: Checker, depthwise: bool, fp32: bool): void {
  if (!c.counts(3, depthwise ? 3 : 4) || !c.params(P_CONV, 'ConvParams') || !c.clamp() || !checkWindowParams(c, true))
    return;
  const p = c.s.p;
  const io = checkConvIo(c);
  if (io === null) return;
  const w = io.w,
    y = io.y,
    N = io.n,
    C = io.c,
    OH = io.oh,
    OW = io.ow,
    Co = io.co;
  if (depthwise) {
    if (p.mult < 1) {
      c.fail('depth_multiplier must be >= 1');
      return;
    }
    if (!c.shape(y, 'output', StaticArray.fromArray<i32>([N, OH, OW, C * p.mult]))) return;
    if (!c.shape(w, 'weights', StaticArray.fromArray<i32>([p.kh, p.kw, Co]))) return;
    c.qcOf(fp32, Co);
    return;
  }
  const G = p.groups;
  if (G < 1 || C % G != 0 || Co % G != 0) {
    c.fail(
      'groups ' +
        G.toString() +
        ' must divide input channels ' +
        C.toString() +
        ' and output channels ' +
        Co.toString(),
    );
    return;
  }
  if (!c.shape(y, 'output', StaticArray.fromArray<i32>([N, OH, OW, Co]))) return;
  const cig = C / G,
    cog = Co / G;
  const K = <i64>p.kh * <i64>p.kw * <i64>cig;
  if (K > 0x1000000) {
    c.fail('reduction of ' + K.toString() + ' taps is too long for i32 accumulators');
    return;
  }
  const Kp = (<i32>K + 7) & ~7;
  if (!c.shape(w, 'weights', StaticArray.fromArray<i32>([G, cog, (<i32>K + 1) & ~1]))) return;
  if (!c.qcOf(fp32, Co)) return;
  const direct =
    p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0 && G == 1;
  if (c.s.inputs.length == 4 && c.s.inputs[3] >= 0) {
    const s = c.tensor(true, 3, 'scratch', DT_I8);
    if (s === null) return;
    if (s.constant) {
      c.fail("scratch '" + s.name + "' must be an arena tensor");
      return;
    }
    c.shape(s, 'scratch', StaticArray.fromArray<i32>([OH * OW, Kp]));
  } else if (!direct) c.fail('needs an im2col scratch tensor (input 3) unless 1x1, stride 1, unpadded and ungrouped');
}

/** Conv2DWino_QS8: a 3×3, stride 1, dilation 1, ungrouped conv; U' packed [ceil(Co/8), 16, ceil(Ci/8)·4, 32] bytes
 *  (kernels/conv/qs8-conv2d-wino-wasmsimd.ts), no scratch. */
export function checkConvWinoQs8(c: Checker, fp32: bool): void {
  if (!c.counts(3, 3) || !c.params(P_CONV, 'ConvParams') || !c.clamp() || !checkWindowParams(c, true)) return;
  const p = c.s.p;
  if (p.kh != 3 || p.kw != 3 || p.sh != 1 || p.sw != 1 || p.dh != 1 || p.dw != 1 || p.groups != 1) {
    c.fail('Winograd needs a 3x3 kernel, stride 1, dilation 1 and groups 1');
    return;
  }
  const io = checkConvIo(c);
  if (io === null) return;
  const Co = io.co;
  if (!c.shape(io.y, 'output', StaticArray.fromArray<i32>([io.n, io.oh, io.ow, Co]))) return;
  if (!c.shape(io.w, 'weights', StaticArray.fromArray<i32>([(Co + 7) >> 3, 16, ((io.c + 7) >> 3) << 2, 32]))) return;
  c.qcOf(fp32, Co);
}

export function checkDenseQs8(c: Checker, fp32: bool): void {
  if (!c.counts(3, 3) || !c.params(P_DENSE, 'DenseParams') || !c.clamp()) return;
  const x = c.tensor(true, 0, 'input', DT_I8);
  if (x === null) return;
  const w = c.tensor(true, 1, 'weights', DT_I8);
  if (w === null) return;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return;
  if (!c.zeroPoint(x) || !c.zeroPoint(y) || !c.rank(x, 'input', 2) || !c.rank(y, 'output', 2)) return;
  const M = x.shape[0],
    K = x.shape[1],
    N = y.shape[1];
  if (K > 0x1000000) {
    c.fail('K ' + K.toString() + ' is too long for i32 accumulators');
    return;
  }
  if (!c.shape(y, 'output', StaticArray.fromArray<i32>([M, N]))) return;
  if (!c.shape(w, 'weights', StaticArray.fromArray<i32>([N, (K + 1) & ~1]))) return;
  c.qcOf(fp32, N);
}

export function checkPoolQs8(c: Checker, raw: bool): void {
  if (!c.counts(1, 1) || !c.params(P_POOL, 'PoolParams') || !checkWindowParams(c, false)) return;
  const p = c.s.p;
  if (raw && p.countIncludePad) {
    c.fail('the raw-sum average counts in-bounds taps only (count_include_pad must be false)');
    return;
  }
  if (p.pt >= p.kh || p.pb >= p.kh || p.pl >= p.kw || p.pr >= p.kw) {
    c.fail('padding must be smaller than the window');
    return;
  }
  const x = c.tensor(true, 0, 'input', DT_I8);
  if (x === null) return;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return;
  if (!c.zeroPoint(x) || !c.rank(x, 'input', 4)) return;
  if (x.zeroPoint != y.zeroPoint || x.scale != y.scale) {
    c.fail("input '" + x.name + "' and output '" + y.name + "' must share scale and zero point");
    return;
  }
  const OH = outDim(x.shape[1], p.kh, p.sh, 1, p.pt, p.pb),
    OW = outDim(x.shape[2], p.kw, p.sw, 1, p.pl, p.pr);
  if (OH < 1 || OW < 1) {
    c.fail('window larger than the padded input');
    return;
  }
  c.shape(y, 'output', StaticArray.fromArray<i32>([x.shape[0], OH, OW, x.shape[3]]));
}

/** GlobalAvgPool_QS8 (qc [2]: mult, shift) or its fp32 variant (qc [1]: f32 scale). */
export function checkGapQs8(c: Checker, fp32: bool): void {
  if (!c.counts(2, 2)) return;
  const x = c.tensor(true, 0, 'input', DT_I8);
  if (x === null) return;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return;
  if (!c.zeroPoint(x) || !c.zeroPoint(y) || !c.rank(x, 'input', 4)) return;
  if (<i64>x.shape[1] * <i64>x.shape[2] > 0x800000) {
    c.fail('H·W too large for i32 sums');
    return;
  }
  if (!c.shape(y, 'output', StaticArray.fromArray<i32>([x.shape[0], 1, 1, x.shape[3]]))) return;
  if (fp32) c.qcScale(1);
  else c.qc(1, 1, 2, 0, 1);
}

export function checkSoftmaxQs8(c: Checker): void {
  if (!c.counts(2, 2) || !c.params(P_SOFTMAX, 'SoftmaxParams')) return;
  const x = c.tensor(true, 0, 'input', DT_I8);
  if (x === null) return;
  const t = c.tensor(true, 1, 'table', DT_F32);
  if (t === null) return;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return;
  if (!c.zeroPoint(x) || !c.zeroPoint(y) || !c.shape(t, 'table', StaticArray.fromArray<i32>([256]))) return;
  const p = c.s.p;
  if (p.outer < 1 || p.axis < 1 || p.inner != 1 || <u64>p.outer * <u64>p.axis != x.elems) {
    c.fail('expects SoftmaxParams outer x axis = input elements and inner 1 (softmax over the last axis)');
    return;
  }
  if (x.elems != y.elems) {
    c.fail("input '" + x.name + "' and output '" + y.name + "' differ in element count");
    return;
  }
  if (!(y.scale > 0 && y.scale < f32.POSITIVE_INFINITY))
    c.fail("tensor '" + y.name + "' needs a positive finite scale");
}

export function checkLutQs8(c: Checker): void {
  if (!c.counts(2, 2)) return;
  const x = c.tensor(true, 0, 'input', DT_I8);
  if (x === null) return;
  const t = c.tensor(true, 1, 'table', DT_I8);
  if (t === null) return;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return;
  if (!c.shape(t, 'table', StaticArray.fromArray<i32>([256]))) return;
  if (x.elems != y.elems) c.fail("input '" + x.name + "' and output '" + y.name + "' differ in element count");
}

function stridedFits(c: Checker, shape: StaticArray<i32>, strides: StaticArray<i32>, elems: u64, role: string): bool {
  if (strides.length != shape.length)
    return c.fail(role + ' strides have ' + strides.length.toString() + ' entries for rank ' + shape.length.toString());
  let hi: i64 = 0;
  for (let k = 0; k < shape.length; k++) {
    if (strides[k] < 0) return c.fail(role + ' strides must be >= 0');
    hi += <i64>(shape[k] - 1) * <i64>strides[k];
  }
  return hi < <i64>elems
    ? true
    : c.fail(role + ' strides reach element ' + hi.toString() + ' of a ' + elems.toString() + '-element tensor');
}

/** Add_QS8 (qc [3]: mult_a, mult_b, shift), Mul_QS8_FP32 (`mul`, qc [1]: f32 scale) or Add_QS8_FP32 (`fp32`, qc [4]:
 *  three f32 scales and onnxruntime's rounding zero point): the same strided operands. */
export function checkAddQs8(c: Checker, mul: bool, fp32: bool = false): void {
  if (!c.counts(3, 3) || !c.params(P_BINARY, 'BinaryParams') || !c.clamp()) return;
  const p = c.s.p;
  if (p.op != (mul ? 2 : 0)) {
    c.fail(mul ? 'op must be Mul' : 'op must be Add');
    return;
  }
  const a = c.tensor(true, 0, 'input a', DT_I8);
  if (a === null) return;
  const b = c.tensor(true, 1, 'input b', DT_I8);
  if (b === null) return;
  const y = c.tensor(false, 0, 'output', DT_I8);
  if (y === null) return;
  if (!c.zeroPoint(a) || !c.zeroPoint(b) || !c.zeroPoint(y)) return;
  if (p.shape.length < 1 || p.shape.length > 6) {
    c.fail('shape rank must be 1..6');
    return;
  }
  let n: u64 = 1;
  for (let k = 0; k < p.shape.length; k++) {
    if (p.shape[k] < 1) {
      c.fail('shape ' + shapeStr(p.shape) + ' has a dimension < 1');
      return;
    }
    n *= <u64>p.shape[k];
    if (n > 0x40000000) {
      c.fail('shape too large');
      return;
    }
  }
  if (n != y.elems) {
    c.fail('shape ' + shapeStr(p.shape) + " does not cover output '" + y.name + "'");
    return;
  }
  if (!stridedFits(c, p.shape, p.aStrides, a.elems, 'a') || !stridedFits(c, p.shape, p.bStrides, b.elems, 'b')) return;
  if (mul) {
    c.qcScale(2);
    return;
  }
  if (fp32) {
    c.qcAddFp32(2, y.zeroPoint);
    return;
  }
  // mult_a ≥ 0; mult_b may be negative (Sub is Add_QS8 with b's multiplier negated), above −2^31
  c.qc(2, 1, 3, 0, 2);
  if (c.ok() && load<i32>(c.m.tensors[c.s.inputs[2]].ptr, 4) == i32.MIN_VALUE) c.fail('qc multiplier of b is −2^31');
}

export function checkElementwise(c: Checker, xd: i32, yd: i32, withQc: bool): void {
  if (!c.counts(withQc ? 2 : 1, withQc ? 2 : 1)) return;
  const x = c.tensor(true, 0, 'input', xd);
  if (x === null) return;
  const y = c.tensor(false, 0, 'output', yd);
  if (y === null) return;
  if ((xd == DT_I8 && !c.zeroPoint(x)) || (yd == DT_I8 && !c.zeroPoint(y))) return;
  if (x.elems != y.elems) {
    c.fail("input '" + x.name + "' and output '" + y.name + "' differ in element count");
    return;
  }
  const q = xd == DT_F32 ? y : x;
  if (!withQc && !(q.scale > 0 && q.scale < f32.POSITIVE_INFINITY)) {
    c.fail("tensor '" + q.name + "' needs a positive finite scale");
    return;
  }
  if (withQc) c.qc(1, 1, 2, 0, 1);
}
