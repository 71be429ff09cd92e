// qs8 GEMM, scalar tile 3 rows × 4 columns over the c2 blocks of qs8-gemm-4x8c2-wasmsimd.ts's packing, the scalar
// build's main tile (what wasm3 runs on microcontrollers): y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]), the
// same bytes as the reference (integer-exact). Three rows share each i64 multiply: rows m..m+2 are packed once into
// an i64 stream P[k] = a[m,k] + 2^21·a[m+1,k] + 2^42·a[m+2,k] (exact integers), so over a chunk of at most
// CHUNK_K k's Σ P[k]·w[n,k] = L0 + 2^21·L1 + 2^42·L2 with |Li| ≤ 62·128·128 < 2^20: each Li is its 21-bit lane read
// as signed, exactly. Per k pair and column: 2 weight loads and 2 multiplies for 6 products (the 2×2 tile: 4 loads
// and 4 multiplies for 4), what an interpreter such as wasm3 pays for. The i32 sums wrap like the reference's.
import { requantQs8, qcAt } from './qs8-requant';

/** k's per chunk (even): 62·2^14 < 2^20 keeps every lane's sum inside its signed 21 bits. */
const CHUNK_K = 62;
/** Largest K taken (the stream is Kp·8 bytes of heap); larger K stays on the 2×2 tile. */
const MAX_K = 8192;
/** The row triple's stream (i64 × Kp) then the 12 partial sums of a 3×4 tile (i32): one heap block, kept. */
let scratch: usize = 0;
let scratchBytes: i32 = 0;

/** Whole 8-column blocks [0, N & ~7) of y, every row; returns the first column left to the 2×2 tile. */
export function gemmQs8Scalar3x4(
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
  if (N8 == 0 || K <= 0 || K > MAX_K || M <= 0) return 0;
  const need = (Kp << 3) + 48;
  if (need > scratchBytes) {
    scratch = (heap.alloc(<usize>need + 16) + 15) & ~(<usize>15);
    scratchBytes = need;
  }
  const P = scratch,
    T = scratch + ((<usize>Kp) << 3);
  // chunks of equal even length ≤ CHUNK_K (K = 64: two of 32)
  const chunks = (Kp + CHUNK_K - 1) / CHUNK_K,
    ck = ((Kp / chunks + 1) & ~1) << 3;
  if (K & 1) store<i64>(P + ((<usize>K) << 3), 0);
  for (let m = 0; m < M; m += 3) {
    const r0 = a + <usize>m * <usize>lda,
      rows = min(3, M - m);
    const r1 = rows > 1 ? r0 + <usize>lda : r0,
      r2 = rows > 2 ? r1 + <usize>lda : r0;
    const f1: i64 = rows > 1 ? 1 : 0,
      f2: i64 = rows > 2 ? 1 : 0;
    for (let k = 0; k < K; k++) {
      const o = <usize>k;
      const v = <i64>load<i8>(r0 + o) + ((f1 * <i64>load<i8>(r1 + o)) << 21) + ((f2 * <i64>load<i8>(r2 + o)) << 42);
      store<i64>(P + (o << 3), v);
    }
    const pe = P + ((<usize>Kp) << 3),
      y0 = y + <usize>m * <usize>ldy;
    for (let n = 0; n < N8; n += 4) {
      const wb = w + <usize>(n & ~7) * <usize>Kp + <usize>((n & 7) << 1);
      for (let j = 0; j < 12; j++) store<i32>(T + ((<usize>j) << 2), 0);
      let pp = P;
      while (pp < pe) {
        const ce = min(pe, pp + <usize>ck);
        let wp = wb + (pp - P);
        let s0: i64 = 0,
          s1: i64 = 0,
          s2: i64 = 0,
          s3: i64 = 0;
        do {
          const p0 = load<i64>(pp),
            p1 = load<i64>(pp, 8);
          s0 += p0 * <i64>load<i8>(wp) + p1 * <i64>load<i8>(wp, 1);
          s1 += p0 * <i64>load<i8>(wp, 2) + p1 * <i64>load<i8>(wp, 3);
          s2 += p0 * <i64>load<i8>(wp, 4) + p1 * <i64>load<i8>(wp, 5);
          s3 += p0 * <i64>load<i8>(wp, 6) + p1 * <i64>load<i8>(wp, 7);
          pp += 16;
          wp += 16;
        } while (pp < ce);
        lanes(s0, T);
        lanes(s1, T + 12);
        lanes(s2, T + 24);
        lanes(s3, T + 36);
      }
      for (let j = 0; j < 4; j++) {
        const b = qcAt(qc, qcStride, 0, n + j),
          mult = qcAt(qc, qcStride, 1, n + j),
          shift = qcAt(qc, qcStride, 2, n + j),
          t = T + <usize>(j * 12),
          yp = y0 + <usize>(n + j);
        store<i8>(yp, <i8>requantQs8(<i64>(b + load<i32>(t)), mult, shift, zp, lo, hi));
        if (rows > 1) store<i8>(yp + <usize>ldy, <i8>requantQs8(<i64>(b + load<i32>(t, 4)), mult, shift, zp, lo, hi));
        if (rows > 2)
          store<i8>(yp + 2 * <usize>ldy, <i8>requantQs8(<i64>(b + load<i32>(t, 8)), mult, shift, zp, lo, hi));
      }
    }
  }
  return N8;
}

/** s = L0 + 2^21·L1 + 2^42·L2 (|Li| < 2^20): adds L0, L1, L2 to the i32 sums at t. */
function lanes(s: i64, t: usize): void {
  const l0 = (s << 43) >> 43,
    u = (s - l0) >> 21,
    l1 = (u << 43) >> 43,
    l2 = (u - l1) >> 21;
  store<i32>(t, load<i32>(t) + <i32>l0);
  store<i32>(t, load<i32>(t, 4) + <i32>l1, 4);
  store<i32>(t, load<i32>(t, 8) + <i32>l2, 8);
}
