// Reference twins of the int8 kernels: one output at a time, index formulas straight from
// docs/quantization.md and the packed layouts (conv/dense read the packed c2 weights by formula,
// padded taps as zp_in against the folded bias). Slow on purpose; the fast kernels must match byte for byte. Conv and
// dense take R as their fast twins do: i64 edgec's fixed-point requantisation, f32 XNNPACK's (qs8-requant.ts requantAt).
import { StepParams } from '../bundle/model';
import { requantQs8, requantAt, requantFp32, quantizeQs8, dequantizeQs8, qcAt } from '../kernels/gemm/qs8-requant';
import { divRoundQs8 } from '../kernels/pool/qs8-pool';
import { roundProbQs8 } from '../kernels/elementwise/qs8-softmax';
import { broadcastCount, broadcastOffset } from './elementwise';

/** Packed c2 weight of column n (of N), row k, for K rows: 8-column blocks [Kp/2][8][2], last [Kp/2][N mod 8][2]. */
// @ts-ignore: decorator
@inline function wPacked(w: usize, K: i32, N: i32, n: i32, k: i32): i32 {
  const Kp = (K + 1) & ~1, b = n & ~7, width = min(8, N - b);
  return <i32>load<i8>(w + <usize>(b * Kp + (k >> 1) * width * 2 + (n - b) * 2 + (k & 1)));
}

export function refGemmQs8<R>(a: usize, lda: i32, M: i32, K: i32, w: usize, qc: usize, qcStride: i32, N: i32,
                           y: usize, ldy: i32, zp: i32, lo: i32, hi: i32): void {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = qcAt(qc, qcStride, 0, n);
      for (let k = 0; k < K; k++) acc += <i32>load<i8>(a + <usize>(m * lda + k)) * wPacked(w, K, N, n, k);
      store<i8>(y + <usize>(m * ldy + n), <i8>requantAt<R>(acc, qc, qcStride, n, zp, lo, hi));
    }
}

export function refConv2dQs8<R>(x: usize, w: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, Ci: i32,
                             OH: i32, OW: i32, Co: i32, p: StepParams, zpIn: i32, zpOut: i32): void {
  const G = p.groups, cig = Ci / G, cog = Co / G, K = p.kh * p.kw * cig;
  const groupBytes = cog * ((K + 1) & ~1);
  for (let n = 0; n < N; n++)
  for (let oh = 0; oh < OH; oh++)
  for (let ow = 0; ow < OW; ow++)
  for (let co = 0; co < Co; co++) {
    const g = co / cog, j = co % cog;
    let acc = qcAt(qc, Co, 0, co);
    for (let kh = 0; kh < p.kh; kh++)
    for (let kw = 0; kw < p.kw; kw++)
    for (let ci = 0; ci < cig; ci++) {
      const ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
      const xv = ih < 0 || ih >= H || iw < 0 || iw >= W ? zpIn : <i32>load<i8>(x + <usize>(((n * H + ih) * W + iw) * Ci + g * cig + ci));
      acc += xv * wPacked(w + <usize>(g * groupBytes), K, cog, j, (kh * p.kw + kw) * cig + ci);
    }
    store<i8>(y + <usize>(((n * OH + oh) * OW + ow) * Co + co), <i8>requantAt<R>(acc, qc, Co, co, zpOut, p.qMin, p.qMax));
  }
}

export function refDwconv2dQs8<R>(x: usize, w: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, C: i32,
                               OH: i32, OW: i32, p: StepParams, zpIn: i32, zpOut: i32): void {
  const M = p.mult, Co = C * M;
  for (let n = 0; n < N; n++)
  for (let oh = 0; oh < OH; oh++)
  for (let ow = 0; ow < OW; ow++)
  for (let o = 0; o < Co; o++) {
    let acc = qcAt(qc, Co, 0, o);
    for (let kh = 0; kh < p.kh; kh++)
    for (let kw = 0; kw < p.kw; kw++) {
      const ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      acc += (<i32>load<i8>(x + <usize>(((n * H + ih) * W + iw) * C + o / M)) - zpIn) * <i32>load<i8>(w + <usize>((kh * p.kw + kw) * Co + o));
    }
    store<i8>(y + <usize>(((n * OH + oh) * OW + ow) * Co + o), <i8>requantAt<R>(acc, qc, Co, o, zpOut, p.qMin, p.qMax));
  }
}

export function refPoolQs8(isMax: bool, x: usize, y: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, p: StepParams, zp: i32): void {
  for (let n = 0; n < N; n++)
  for (let oh = 0; oh < OH; oh++)
  for (let ow = 0; ow < OW; ow++)
  for (let c = 0; c < C; c++) {
    let acc = isMax ? -128 : 0, cnt = 0, padded = 0;
    for (let kh = 0; kh < p.kh; kh++)
    for (let kw = 0; kw < p.kw; kw++) {
      const ih = oh * p.sh - p.pt + kh, iw = ow * p.sw - p.pl + kw;
      if (ih >= -p.pt && ih < H + p.pb && iw >= -p.pl && iw < W + p.pr) padded++;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const v = <i32>load<i8>(x + <usize>(((n * H + ih) * W + iw) * C + c));
      if (isMax) acc = max(acc, v); else acc += v - zp;
      cnt++;
    }
    let out = isMax ? acc : zp + divRoundQs8(acc, p.countIncludePad ? padded : cnt);
    out = min(max(out, -128), 127);
    store<i8>(y + <usize>(((n * OH + oh) * OW + ow) * C + c), <i8>out);
  }
}

export function refGlobalAvgPoolQs8<R>(x: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, C: i32, zpIn: i32, zpOut: i32): void {
  for (let n = 0; n < N; n++)
  for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) acc += <i32>load<i8>(x + <usize>(((n * H + h) * W + w) * C + c)) - zpIn;
    const v = isFloat<R>() ? requantFp32(acc, load<f32>(qc), zpOut, -128, 127) : requantQs8(<i64>acc, load<i32>(qc), load<i32>(qc, 4), zpOut, -128, 127);
    store<i8>(y + <usize>(n * C + c), <i8>v);
  }
}

/** Mul_QS8_FP32: clamp(round_half_even(f32((a − zp_a)·(b − zp_b))·scale) + zp, q_min, q_max), qc [1] = f32 scale. */
export function refMulQs8(a: usize, b: usize, qc: usize, y: usize, p: StepParams, zpA: i32, zpB: i32, zpOut: i32): void {
  const n = broadcastCount(p), scale = load<f32>(qc);
  for (let i = 0; i < n; i++) {
    const ao = broadcastOffset(p, p.aStrides, i), bo = broadcastOffset(p, p.bStrides, i);
    const acc = (<i32>load<i8>(a + <usize>ao) - zpA) * (<i32>load<i8>(b + <usize>bo) - zpB);
    store<i8>(y + <usize>i, <i8>requantFp32(acc, scale, zpOut, p.qMin, p.qMax));
  }
}

export function refAddQs8(a: usize, b: usize, qc: usize, y: usize, p: StepParams, zpA: i32, zpB: i32, zpOut: i32): void {
  const n = broadcastCount(p);
  for (let i = 0; i < n; i++) {
    const ao = broadcastOffset(p, p.aStrides, i), bo = broadcastOffset(p, p.bStrides, i);
    const va = <i64>(<i32>load<i8>(a + <usize>ao) - zpA), vb = <i64>(<i32>load<i8>(b + <usize>bo) - zpB);
    const sh = load<i32>(qc, 8);
    let v = ((va * <i64>load<i32>(qc) + vb * <i64>load<i32>(qc, 4) + (<i64>1 << <i64>(sh - 1))) >> <i64>sh) + <i64>zpOut;
    v = min(max(v, <i64>p.qMin), <i64>p.qMax);
    store<i8>(y + <usize>i, <i8>v);
  }
}

/**
 * Add_QS8_FP32 (onnxruntime's QLinearAdd), qc [4] = f32 s_a, s_b, s_out, i32 zr: each float32 step of its formula one
 * statement, the rounding of f32(v + zr) half to even written out (floor, then the fraction against one half).
 */
export function refAddQs8Fp32(a: usize, b: usize, qc: usize, y: usize, p: StepParams, zpA: i32, zpB: i32, zpOut: i32): void {
  const n = broadcastCount(p);
  for (let i = 0; i < n; i++) {
    const ao = broadcastOffset(p, p.aStrides, i), bo = broadcastOffset(p, p.bStrides, i);
    const fa: f32 = load<f32>(qc) * <f32>(<i32>load<i8>(a + <usize>ao) - zpA);
    const fb: f32 = load<f32>(qc, 4) * <f32>(<i32>load<i8>(b + <usize>bo) - zpB);
    const sum: f32 = fa + fb;
    let v: f32 = sum / load<f32>(qc, 8);
    if (v < <f32>(p.qMin - zpOut)) v = <f32>(p.qMin - zpOut);
    if (v > <f32>(p.qMax - zpOut)) v = <f32>(p.qMax - zpOut);
    const zr = load<i32>(qc, 12);
    const t: f32 = v + <f32>zr;
    store<i8>(y + <usize>i, <i8>(roundHalfEvenRef(t) - (zr - zpOut)));
  }
}

/** t (finite, |t| < 2^31) rounded to the nearest integer, ties to the even one. */
function roundHalfEvenRef(t: f32): i32 {
  const r = Mathf.floor(t), d: f32 = t - r;
  let k = <i32>r;
  if (d > 0.5 || (d == 0.5 && (k & 1) != 0)) k++;
  return k;
}

/** Quantize_QS8_RNE (ONNX QuantizeLinear): round(f32(x / scale)) half to even, + zp, saturated; NaN → zp. */
export function refQuantizeQs8Rne(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  for (let i = 0; i < n; i++) {
    const t: f32 = load<f32>(x + (<usize>i << 2)) / scale;
    let q: i32;
    if (t != t) q = zp;
    else if (t >= 256) q = 127;
    else if (t <= -256) q = -128;
    else q = min(127, max(-128, roundHalfEvenRef(t) + zp));
    store<i8>(y + <usize>i, <i8>q);
  }
}

export function refQuantizeQs8(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  for (let i = 0; i < n; i++) store<i8>(y + <usize>i, <i8>quantizeQs8(load<f32>(x + (<usize>i << 2)), scale, zp));
}

export function refDequantizeQs8(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), dequantizeQs8(<i32>load<i8>(x + <usize>i), scale, zp));
}

export function refRequantizeQs8(x: usize, qc: usize, y: usize, n: i32, zpIn: i32, zpOut: i32): void {
  for (let i = 0; i < n; i++) store<i8>(y + <usize>i, <i8>requantQs8(<i64>(<i32>load<i8>(x + <usize>i) - zpIn),
      load<i32>(qc), load<i32>(qc, 4), zpOut, -128, 127));
}

/** Softmax_QS8 (kernels/elementwise/qs8-softmax.ts): TFLite's table softmax, one row and one element at a time. */
export function refSoftmaxQs8(x: usize, table: usize, y: usize, rows: i32, n: i32, sOut: f32, zpOut: i32): void {
  for (let r = 0; r < rows; r++) {
    let m: i32 = -128;
    for (let j = 0; j < n; j++) m = max(m, <i32>load<i8>(x + <usize>(r * n + j)));
    let sum: f32 = 0;
    for (let j = 0; j < n; j++) sum += load<f32>(table + <usize>(4 * (255 - m + <i32>load<i8>(x + <usize>(r * n + j)))));
    const inv: f32 = <f32>1 / (sum * sOut);
    for (let j = 0; j < n; j++) {
      const e = load<f32>(table + <usize>(4 * (255 - m + <i32>load<i8>(x + <usize>(r * n + j)))));
      store<i8>(y + <usize>(r * n + j), <i8>min(127, max(-128, roundProbQs8(e * inv) + zpOut)));
    }
  }
}

/** Lut_QS8 (kernels/elementwise/qs8-lut.ts): y = table[x + 128], one element at a time. */
export function refLutQs8(x: usize, table: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i8>(y + <usize>i, load<i8>(table + <usize>(<i32>load<i8>(x + <usize>i) + 128)));
}
