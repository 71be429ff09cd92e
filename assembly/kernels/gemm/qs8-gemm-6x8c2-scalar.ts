// qs8 GEMM, scalar tile 6 rows × 8 columns over the c2 blocks of qs8-gemm-4x8c2-wasmsimd.ts's packing, the scalar
// build's main tile (what wasm3 runs on microcontrollers): y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]), the
// same bytes as the reference (integer-exact). Three rows share each i64 multiply: a row triple is packed once into
// P[k] = a[m,k] + 2^21·a[m+1,k] + 2^42·a[m+2,k] (exact integers), so over a chunk of at most CHUNK_K k's the sum
// B + Σ P[k]·w[n,k] = (β + L0) + 2^21·(β + L1) + 2^42·(β + L2) with every product in [−16256, 16384], so
// −1040384 ≤ Li ≤ 1048576 and each lane β + Li in [0, 2^21) (β = LANE_BIAS): read back with a mask and a logical
// shift, no sign handling. Two triples × 8 columns share every load: per k pair 4 stream loads and 16 weight loads
// for 96 products (wasm3 pays ≈ 22 Cortex-M instructions per load, ≈ 15 per i64 add or multiply). The i32 sums wrap
// like the reference's.

/** k's per chunk (even): 64 products of at most 2^14 in magnitude keep every lane's β + Li inside [0, 2^21). */
const CHUNK_K = 64;
/** Added to each lane so it is never negative: 2^20 − 4096 ≥ 64·16256 and 2^20 − 4096 + 64·16384 < 2^21. */
const LANE_BIAS: i32 = (1 << 20) - 4096;
const LANES_BIAS: i64 = <i64>LANE_BIAS * (1 + ((<i64>1) << 21) + ((<i64>1) << 42));
const LANE_MASK: i64 = (1 << 21) - 1;
/** Largest K taken (the streams are Kp·16 bytes of heap); larger K stays on the 2×2 tile. */
const MAX_K = 8192;
/** Two row triples' streams interleaved (P0[k], P1[k]: i64 × 2Kp), then the 48 sums of a 6×8 tile (i32 [6][8]). */
let scratch: usize = 0;
let scratchBytes: i32 = 0;

/** Whole 8-column blocks [0, N & ~7) of y, every row; returns the first column left to the 2×2 tile. */
export function gemmQs8Scalar6x8(
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
  const need = (Kp << 4) + 192;
  if (need > scratchBytes) {
    scratch = (heap.alloc(<usize>need + 16) + 15) & ~(<usize>15);
    scratchBytes = need;
  }
  const P = scratch,
    pe = P + ((<usize>Kp) << 4),
    T = pe;
  // chunks of equal even length ≤ CHUNK_K (K = 64: one)
  const chunks = (Kp + CHUNK_K - 1) / CHUNK_K,
    kc = ((Kp + chunks - 1) / chunks + 1) & ~1,
    ck = (<usize>kc) << 4;
  // each chunk run adds β to every lane
  const unbias = ((Kp + kc - 1) / kc) * LANE_BIAS;
  for (let m = 0; m < M; m += 6) {
    const rows = min(6, M - m);
    packRows(a + <usize>m * <usize>lda, lda, rows, K, Kp, P);
    const y0 = y + <usize>m * <usize>ldy;
    for (let n = 0; n < N8; n += 8) {
      const wb = w + <usize>n * <usize>Kp;
      memory.fill(T, 0, 192);
      // a group of ≤ 3 rows (M ≤ 3, or M's last rows) leaves the second triple out
      for (let pp = P; pp < pe; pp += ck)
        if (rows > 3) tile6x8(pp, min(pe, pp + ck), wb + ((pp - P) >> 1), T);
        else tile3x8(pp, min(pe, pp + ck), wb + ((pp - P) >> 1), T);
      requant6x8(T, rows, qc + ((<usize>n) << 2), qcStride, unbias, y0 + <usize>n, ldy, zp, lo, hi);
    }
  }
  return N8;
}

/** The tile's sums (T [6][8], each + unbias) requantised into rows 0..rows−1 of y (8 columns from y0): the columns'
 * constants in locals, one row per pass, so each output costs its arithmetic and no loop or pointer step. */
function requant6x8(
  T: usize,
  rows: i32,
  qc: usize,
  stride: i32,
  unbias: i32,
  y0: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  const q1 = qc + ((<usize>stride) << 2),
    q2 = qc + ((<usize>stride) << 3);
  const b0 = load<i32>(qc) - unbias,
    b1 = load<i32>(qc, 4) - unbias,
    b2 = load<i32>(qc, 8) - unbias,
    b3 = load<i32>(qc, 12) - unbias,
    b4 = load<i32>(qc, 16) - unbias,
    b5 = load<i32>(qc, 20) - unbias,
    b6 = load<i32>(qc, 24) - unbias,
    b7 = load<i32>(qc, 28) - unbias;
  const m0 = <i64>load<i32>(q1),
    m1 = <i64>load<i32>(q1, 4),
    m2 = <i64>load<i32>(q1, 8),
    m3 = <i64>load<i32>(q1, 12),
    m4 = <i64>load<i32>(q1, 16),
    m5 = <i64>load<i32>(q1, 20),
    m6 = <i64>load<i32>(q1, 24),
    m7 = <i64>load<i32>(q1, 28);
  const s0 = <i64>load<i32>(q2),
    s1 = <i64>load<i32>(q2, 4),
    s2 = <i64>load<i32>(q2, 8),
    s3 = <i64>load<i32>(q2, 12),
    s4 = <i64>load<i32>(q2, 16),
    s5 = <i64>load<i32>(q2, 20),
    s6 = <i64>load<i32>(q2, 24),
    s7 = <i64>load<i32>(q2, 28);
  const r0 = (<i64>1) << (s0 - 1),
    r1 = (<i64>1) << (s1 - 1),
    r2 = (<i64>1) << (s2 - 1),
    r3 = (<i64>1) << (s3 - 1),
    r4 = (<i64>1) << (s4 - 1),
    r5 = (<i64>1) << (s5 - 1),
    r6 = (<i64>1) << (s6 - 1),
    r7 = (<i64>1) << (s7 - 1);
  const z = <i64>zp,
    l = <i64>lo,
    h = <i64>hi;
  let t = T,
    yp = y0;
  for (let r = 0; r < rows; r++) {
    store<i8>(yp, <i8>clampQ(((<i64>(b0 + load<i32>(t)) * m0 + r0) >> s0) + z, l, h));
    store<i8>(yp, <i8>clampQ(((<i64>(b1 + load<i32>(t, 4)) * m1 + r1) >> s1) + z, l, h), 1);
    store<i8>(yp, <i8>clampQ(((<i64>(b2 + load<i32>(t, 8)) * m2 + r2) >> s2) + z, l, h), 2);
    store<i8>(yp, <i8>clampQ(((<i64>(b3 + load<i32>(t, 12)) * m3 + r3) >> s3) + z, l, h), 3);
    store<i8>(yp, <i8>clampQ(((<i64>(b4 + load<i32>(t, 16)) * m4 + r4) >> s4) + z, l, h), 4);
    store<i8>(yp, <i8>clampQ(((<i64>(b5 + load<i32>(t, 20)) * m5 + r5) >> s5) + z, l, h), 5);
    store<i8>(yp, <i8>clampQ(((<i64>(b6 + load<i32>(t, 24)) * m6 + r6) >> s6) + z, l, h), 6);
    store<i8>(yp, <i8>clampQ(((<i64>(b7 + load<i32>(t, 28)) * m7 + r7) >> s7) + z, l, h), 7);
    t += 32;
    yp += <usize>ldy;
  }
}

/** requantQs8's clamp (qs8-requant.ts), on the shifted value. */
// @ts-ignore: decorator
@inline function clampQ(v: i64, lo: i64, hi: i64): i64 {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

/** Rows m..m+rows−1 (rows ≤ 6) into the two interleaved streams; missing rows are zeros, an odd K's last k too. */
function packRows(r0: usize, lda: i32, rows: i32, K: i32, Kp: i32, P: usize): void {
  const ld = <usize>lda;
  // a missing row reads row 0 again, times 0
  const r1 = rows > 1 ? r0 + ld : r0,
    r2 = rows > 2 ? r0 + 2 * ld : r0,
    r3 = rows > 3 ? r0 + 3 * ld : r0,
    r4 = rows > 4 ? r0 + 4 * ld : r0,
    r5 = rows > 5 ? r0 + 5 * ld : r0;
  const f1: i64 = rows > 1 ? 1 << 21 : 0,
    f2: i64 = rows > 2 ? (<i64>1) << 42 : 0,
    f3: i64 = rows > 3 ? 1 : 0,
    f4: i64 = rows > 4 ? 1 << 21 : 0,
    f5: i64 = rows > 5 ? (<i64>1) << 42 : 0;
  let d = P;
  for (let k = 0; k < K; k++) {
    const o = <usize>k;
    store<i64>(d, <i64>load<i8>(r0 + o) + f1 * <i64>load<i8>(r1 + o) + f2 * <i64>load<i8>(r2 + o));
    store<i64>(d, f3 * <i64>load<i8>(r3 + o) + f4 * <i64>load<i8>(r4 + o) + f5 * <i64>load<i8>(r5 + o), 8);
    d += 16;
  }
  if (K & 1) {
    store<i64>(d, 0);
    store<i64>(d, 0, 8);
  }
}

/** One chunk [pp, pe) of both streams against 8 columns (wp: their c2 block at the chunk's first k pair): each of
 * the 16 lane sums (β + Li) added into T [6][8] (i32). */
function tile6x8(pp: usize, pe: usize, wp: usize, T: usize): void {
  let a0 = LANES_BIAS,
    a1 = LANES_BIAS,
    a2 = LANES_BIAS,
    a3 = LANES_BIAS,
    a4 = LANES_BIAS,
    a5 = LANES_BIAS,
    a6 = LANES_BIAS,
    a7 = LANES_BIAS;
  let b0 = LANES_BIAS,
    b1 = LANES_BIAS,
    b2 = LANES_BIAS,
    b3 = LANES_BIAS,
    b4 = LANES_BIAS,
    b5 = LANES_BIAS,
    b6 = LANES_BIAS,
    b7 = LANES_BIAS;
  do {
    const p0 = load<i64>(pp),
      q0 = load<i64>(pp, 8),
      p1 = load<i64>(pp, 16),
      q1 = load<i64>(pp, 24);
    let u = <i64>load<i8>(wp),
      v = <i64>load<i8>(wp, 1);
    a0 += p0 * u + p1 * v;
    b0 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 2);
    v = <i64>load<i8>(wp, 3);
    a1 += p0 * u + p1 * v;
    b1 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 4);
    v = <i64>load<i8>(wp, 5);
    a2 += p0 * u + p1 * v;
    b2 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 6);
    v = <i64>load<i8>(wp, 7);
    a3 += p0 * u + p1 * v;
    b3 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 8);
    v = <i64>load<i8>(wp, 9);
    a4 += p0 * u + p1 * v;
    b4 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 10);
    v = <i64>load<i8>(wp, 11);
    a5 += p0 * u + p1 * v;
    b5 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 12);
    v = <i64>load<i8>(wp, 13);
    a6 += p0 * u + p1 * v;
    b6 += q0 * u + q1 * v;
    u = <i64>load<i8>(wp, 14);
    v = <i64>load<i8>(wp, 15);
    a7 += p0 * u + p1 * v;
    b7 += q0 * u + q1 * v;
    pp += 32;
    wp += 16;
  } while (pp < pe);
  addLanes(a0, T);
  addLanes(a1, T + 4);
  addLanes(a2, T + 8);
  addLanes(a3, T + 12);
  addLanes(a4, T + 16);
  addLanes(a5, T + 20);
  addLanes(a6, T + 24);
  addLanes(a7, T + 28);
  addLanes(b0, T + 96);
  addLanes(b1, T + 100);
  addLanes(b2, T + 104);
  addLanes(b3, T + 108);
  addLanes(b4, T + 112);
  addLanes(b5, T + 116);
  addLanes(b6, T + 120);
  addLanes(b7, T + 124);
}

/** tile6x8 for the first triple only (rows 0..2 of T). */
function tile3x8(pp: usize, pe: usize, wp: usize, T: usize): void {
  let a0 = LANES_BIAS,
    a1 = LANES_BIAS,
    a2 = LANES_BIAS,
    a3 = LANES_BIAS,
    a4 = LANES_BIAS,
    a5 = LANES_BIAS,
    a6 = LANES_BIAS,
    a7 = LANES_BIAS;
  do {
    const p0 = load<i64>(pp),
      p1 = load<i64>(pp, 16);
    let u = <i64>load<i8>(wp),
      v = <i64>load<i8>(wp, 1);
    a0 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 2);
    v = <i64>load<i8>(wp, 3);
    a1 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 4);
    v = <i64>load<i8>(wp, 5);
    a2 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 6);
    v = <i64>load<i8>(wp, 7);
    a3 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 8);
    v = <i64>load<i8>(wp, 9);
    a4 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 10);
    v = <i64>load<i8>(wp, 11);
    a5 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 12);
    v = <i64>load<i8>(wp, 13);
    a6 += p0 * u + p1 * v;
    u = <i64>load<i8>(wp, 14);
    v = <i64>load<i8>(wp, 15);
    a7 += p0 * u + p1 * v;
    pp += 32;
    wp += 16;
  } while (pp < pe);
  addLanes(a0, T);
  addLanes(a1, T + 4);
  addLanes(a2, T + 8);
  addLanes(a3, T + 12);
  addLanes(a4, T + 16);
  addLanes(a5, T + 20);
  addLanes(a6, T + 24);
  addLanes(a7, T + 28);
}

/** s = Σ (β + Li)·2^(21i), every lane in [0, 2^21): adds lane i to the i32 at t + 32i (rows 8 sums apart). */
// @ts-ignore: decorator
@inline function addLanes(s: i64, t: usize): void {
  store<i32>(t, load<i32>(t) + <i32>(s & LANE_MASK));
  store<i32>(t, load<i32>(t, 32) + <i32>((s >>> 21) & LANE_MASK), 32);
  store<i32>(t, load<i32>(t, 64) + <i32>(s >>> 42), 64);
}
