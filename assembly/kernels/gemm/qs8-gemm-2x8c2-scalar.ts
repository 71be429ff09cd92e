// qs8 GEMM, scalar tile 2 rows × 8 columns (one whole c2 block of qs8-gemm-4x8c2-wasmsimd.ts's packing), the scalar
// build's main tile (what wasm3 runs on microcontrollers): y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]), the
// same bytes as the reference (integer-exact). Two rows share each i64 multiply: rows m, m+1 are interleaved once
// into an i64 stream P[k] = u[m,k] + 2^32·u[m+1,k] with u = a + 128 ≥ 0, so Σk P[k]·w[n,k] = L + 2^32·R where L, R
// are the two rows' Σ u·w (|L|, |R| ≤ K·255·128 < 2^31 for K ≤ PAIR_MAX_K: L is the low half as i32, exactly);
// the 128·Σk w[n,k] this adds comes off the bias once per call (mod 2^32, like the i32 sum). Per k pair: 2 stream
// loads, 16 weight loads, 16 multiplies for 32 products, about half the interpreter operations of the 2×2 tile.
import { requantQs8, qcAt } from './qs8-requant';

/** Largest K the pair stream takes (K·255·128 < 2^31; the stream is Kp·8 bytes of heap). */
const PAIR_MAX_K = 8192;
/** Interleaved row pair (i64 × Kp) then folded biases (i32 × N): one heap block, grown when needed, kept. */
let scratch: usize = 0;
let scratchBytes: i32 = 0;

/** Whole 8-column blocks [0, N & ~7) of y, every row; returns the first column left to the 2×2 tile. */
export function gemmQs8Scalar2x8(
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
): i32 {
  const N8 = N & ~7,
    Kp = (K + 1) & ~1;
  if (N8 == 0 || K <= 0 || K > PAIR_MAX_K || M <= 0) return 0;
  const need = (Kp << 3) + (N8 << 2);
  if (need > scratchBytes) {
    scratch = (heap.alloc(<usize>need + 16) + 15) & ~(<usize>15);
    scratchBytes = need;
  }
  const P = scratch,
    bias = scratch + ((<usize>Kp) << 3);
  // bias − 128·Σk w[n,k] (the pad byte past an odd K is 0)
  for (let n = 0; n < N8; n++) {
    let sw = 0,
      wp = w + <usize>(n & ~7) * <usize>Kp + <usize>((n & 7) << 1);
    for (let k = 0; k < Kp; k += 2) {
      sw += <i32>load<i8>(wp) + <i32>load<i8>(wp, 1);
      wp += 16;
    }
    store<i32>(bias + ((<usize>n) << 2), qcAt(qc, qcStride, 0, n) - (sw << 7));
  }
  if (K & 1) store<i64>(P + ((<usize>K) << 3), 0);
  for (let m = 0; m < M; m += 2) {
    const r0 = a + <usize>m * <usize>lda,
      has1 = m + 1 < M;
    if (has1) {
      const r1 = r0 + <usize>lda;
      for (let k = 0; k < K; k++) {
        const p = P + ((<usize>k) << 3);
        store<i32>(p, <i32>load<i8>(r0 + <usize>k) + 128);
        store<i32>(p, <i32>load<i8>(r1 + <usize>k) + 128, 4);
      }
    } else {
      for (let k = 0; k < K; k++) store<i64>(P + ((<usize>k) << 3), <i64>(<i32>load<i8>(r0 + <usize>k) + 128));
    }
    const y0 = y + <usize>m * <usize>ldy;
    for (let n = 0; n < N8; n += 8) {
      let wp = w + <usize>n * <usize>Kp,
        pp = P;
      const pe = P + ((<usize>Kp) << 3);
      let s0: i64 = 0,
        s1: i64 = 0,
        s2: i64 = 0,
        s3: i64 = 0,
        s4: i64 = 0,
        s5: i64 = 0,
        s6: i64 = 0,
        s7: i64 = 0;
      do {
        const p0 = load<i64>(pp),
          p1 = load<i64>(pp, 8);
        s0 += p0 * <i64>load<i8>(wp) + p1 * <i64>load<i8>(wp, 1);
        s1 += p0 * <i64>load<i8>(wp, 2) + p1 * <i64>load<i8>(wp, 3);
        s2 += p0 * <i64>load<i8>(wp, 4) + p1 * <i64>load<i8>(wp, 5);
        s3 += p0 * <i64>load<i8>(wp, 6) + p1 * <i64>load<i8>(wp, 7);
        s4 += p0 * <i64>load<i8>(wp, 8) + p1 * <i64>load<i8>(wp, 9);
        s5 += p0 * <i64>load<i8>(wp, 10) + p1 * <i64>load<i8>(wp, 11);
        s6 += p0 * <i64>load<i8>(wp, 12) + p1 * <i64>load<i8>(wp, 13);
        s7 += p0 * <i64>load<i8>(wp, 14) + p1 * <i64>load<i8>(wp, 15);
        pp += 16;
        wp += 16;
      } while (pp < pe);
      const yp = y0 + <usize>n;
      store2(s0, yp, ldy, has1, bias, qc, qcStride, n, zp, lo, hi);
      store2(s1, yp + 1, ldy, has1, bias, qc, qcStride, n + 1, zp, lo, hi);
      store2(s2, yp + 2, ldy, has1, bias, qc, qcStride, n + 2, zp, lo, hi);
      store2(s3, yp + 3, ldy, has1, bias, qc, qcStride, n + 3, zp, lo, hi);
      store2(s4, yp + 4, ldy, has1, bias, qc, qcStride, n + 4, zp, lo, hi);
      store2(s5, yp + 5, ldy, has1, bias, qc, qcStride, n + 5, zp, lo, hi);
      store2(s6, yp + 6, ldy, has1, bias, qc, qcStride, n + 6, zp, lo, hi);
      store2(s7, yp + 7, ldy, has1, bias, qc, qcStride, n + 7, zp, lo, hi);
    }
  }
  return N8;
}

/** Splits s = L + 2^32·R and stores column n of both rows (row m+1 only if it exists). */
function store2(
  s: i64,
  yp: usize,
  ldy: i32,
  has1: bool,
  bias: usize,
  qc: usize,
  qcStride: i32,
  n: i32,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  const b = load<i32>(bias + ((<usize>n) << 2)),
    mult = qcAt(qc, qcStride, 1, n),
    shift = qcAt(qc, qcStride, 2, n);
  const l = <i32>s;
  store<i8>(yp, <i8>requantQs8(<i64>(b + l), mult, shift, zp, lo, hi));
  if (has1) store<i8>(yp + <usize>ldy, <i8>requantQs8(<i64>(b + <i32>((s - <i64>l) >> 32)), mult, shift, zp, lo, hi));
}
