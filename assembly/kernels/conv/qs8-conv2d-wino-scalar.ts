// Conv2DWino_QS8 in the scalar build (wasm3 on microcontrollers; the simd builds run qs8-conv2d-wino-wasmsimd.ts):
// the same F(2×2, 3×3) on the same packed U' (layout in the simd file), one tile at a time: V = BᵀdB of every input
// channel into an i32 buffer [16 ξ][Ci], then per output channel the 16 sums Σ_ci U'·V, 4Y = AᵀMA, Y = 4Y >> 2,
// + bias, requantised. Same exactness argument as the simd file (ring operations mod 2^32 until an exact 4Y).
// `edgec compile --target scalar` never picks this kernel (the direct one is as fast without SIMD); it runs the
// Winograd steps of bundles compiled for the simd builds. Reference: assembly/reference/qs8-wino.ts.
import { StepParams } from '../../bundle/model';
import { requantAt, qcAt } from '../gemm/qs8-requant';

/** The V buffer [16 ξ][Ci] i32 and two 16-word rows (window·B, the 16 sums): one heap block on the first run, grown
 *  when a step has more input channels (kept). */
let vbuf: usize = 0;
let vbufCi: i32 = 0;
let rows: usize = 0;

export function conv2dWinoQs8Scalar<R>(
  x: usize,
  w: usize,
  qc: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  p: StepParams,
  zpIn: i32,
  zpOut: i32,
): void {
  if (Ci > vbufCi) {
    vbufCi = max(Ci, 16);
    vbuf = heap.alloc(<usize>(vbufCi << 6) + 128);
    rows = vbuf + <usize>(vbufCi << 6);
  }
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>(H * W * Ci),
      yn = y + <usize>n * <usize>(OH * OW * Co);
    for (let oh = 0; oh < OH; oh += 2) {
      for (let ow = 0; ow < OW; ow += 2) {
        for (let c = 0; c < Ci; c++) inputTileScalar(xn, H, W, Ci, c, oh - p.pt, ow - p.pl, zpIn);
        for (let co = 0; co < Co; co++) outputTileScalar<R>(yn, w, qc, OH, OW, Ci, Co, co, oh, ow, p, zpOut);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function px(x: usize, H: i32, W: i32, Ci: i32, c: i32, ih: i32, iw: i32, zp: i32): i32 {
  return ih < 0 || ih >= H || iw < 0 || iw >= W ? zp : <i32>load<i8>(x + <usize>((ih * W + iw) * Ci + c));
}

/** V[ξ][c] of channel c: each window row times B, then Bᵀ down the columns. */
function inputTileScalar(x: usize, H: i32, W: i32, Ci: i32, c: i32, ih0: i32, iw0: i32, zp: i32): void {
  const b = rows;
  for (let i = 0; i < 4; i++) {
    const e0 = px(x, H, W, Ci, c, ih0 + i, iw0, zp),
      e1 = px(x, H, W, Ci, c, ih0 + i, iw0 + 1, zp);
    const e2 = px(x, H, W, Ci, c, ih0 + i, iw0 + 2, zp),
      e3 = px(x, H, W, Ci, c, ih0 + i, iw0 + 3, zp);
    const r = b + ((<usize>i) << 4);
    store<i32>(r, e0 - e2);
    store<i32>(r, e1 + e2, 4);
    store<i32>(r, e2 - e1, 8);
    store<i32>(r, e1 - e3, 12);
  }
  const cs = <usize>(Ci << 2);
  const v = vbuf + ((<usize>c) << 2);
  for (let j = 0; j < 4; j++) {
    const q = b + ((<usize>j) << 2);
    const b0 = load<i32>(q),
      b1 = load<i32>(q, 16),
      b2 = load<i32>(q, 32),
      b3 = load<i32>(q, 48);
    store<i32>(v + <usize>j * cs, b0 - b2);
    store<i32>(v + <usize>(4 + j) * cs, b1 + b2);
    store<i32>(v + <usize>(8 + j) * cs, b2 - b1);
    store<i32>(v + <usize>(12 + j) * cs, b1 - b3);
  }
}

/** Channel co of the 2×2 tile at (oh0, ow0): the 16 sums, AᵀMA, the pixels inside the output. */
function outputTileScalar<R>(
  y: usize,
  w: usize,
  qc: usize,
  OH: i32,
  OW: i32,
  Ci: i32,
  Co: i32,
  co: i32,
  oh0: i32,
  ow0: i32,
  p: StepParams,
  zp: i32,
): void {
  const m = rows + 64;
  const Cip = (Ci + 7) & ~7;
  const xs = <usize>(Cip << 4);
  const wc = w + <usize>(co >> 3) * <usize>(Cip << 8) + <usize>((co & 7) << 2);
  for (let xi = 0; xi < 16; xi++) {
    const v = vbuf + <usize>xi * <usize>(Ci << 2),
      u = wc + <usize>xi * xs;
    let s = 0;
    for (let c = 0; c < Ci; c++)
      s += <i32>load<i16>(u + <usize>((c >> 1) << 5) + <usize>((c & 1) << 1)) * load<i32>(v + ((<usize>c) << 2));
    store<i32>(m + ((<usize>xi) << 2), s);
  }
  const bias = qcAt(qc, Co, 0, co);
  for (let a = 0; a < 2; a++) {
    if (oh0 + a >= OH) break;
    // row a of Aᵀ: [1, 1, 1, 0] or [0, 1, −1, −1]
    const r = m + <usize>(a << 4);
    const s0 = a
      ? load<i32>(r, 0) - load<i32>(r, 16) - load<i32>(r, 32)
      : load<i32>(r) + load<i32>(r, 16) + load<i32>(r, 32);
    const s1 = a
      ? load<i32>(r, 4) - load<i32>(r, 20) - load<i32>(r, 36)
      : load<i32>(r, 4) + load<i32>(r, 20) + load<i32>(r, 36);
    const s2 = a
      ? load<i32>(r, 8) - load<i32>(r, 24) - load<i32>(r, 40)
      : load<i32>(r, 8) + load<i32>(r, 24) + load<i32>(r, 40);
    const s3 = a
      ? load<i32>(r, 12) - load<i32>(r, 28) - load<i32>(r, 44)
      : load<i32>(r, 12) + load<i32>(r, 28) + load<i32>(r, 44);
    const yr = y + <usize>(((oh0 + a) * OW + ow0) * Co + co);
    store<i8>(yr, <i8>requantAt<R>(((s0 + s1 + s2) >> 2) + bias, qc, Co, co, zp, p.qMin, p.qMax));
    if (ow0 + 1 < OW)
      store<i8>(yr + <usize>Co, <i8>requantAt<R>(((s1 - s2 - s3) >> 2) + bias, qc, Co, co, zp, p.qMin, p.qMax));
  }
}
