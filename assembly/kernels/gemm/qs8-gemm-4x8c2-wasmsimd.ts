// qs8 GEMM, SIMD tile 4 rows x 8 columns, c2 packing (the columns of whole 8-column blocks; qs8-gemm.ts runs the
// rest through qs8-gemm-2x2-scalar.ts): y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]). a i8 [M, lda] (first K
// used), packed w i8: blocks of 8 columns [Kp/2][8][2] (Kp = K rounded up to 2; per k pair the 8 columns' two
// weights side by side, zero past K; compiler/kernels/pack.ts), qc i32 [3, qcStride] (bias with −zp_in·Σw folded
// in, multiplier, shift), y i8 rows of ldy bytes. Rows are widened to i16 in row blocks (as many 4-row tiles
// [Kp/2][4][2] as fit 128 KiB, rows interleaved per k pair, 16 bytes), and per row block each 8-column weight block
// is widened once to i16 [Kp/2][8][2] (32 bytes per k pair), which every tile of the block then runs over (blocks of
// ≥ 3 tiles, Kp ≤ 1024; else the i8 weights, two widening loads per k pair, one tile per block): per k pair a 4-byte
// splat per row, two plain weight loads and i32x4.dot_i16x8_s into 8 accumulators of 4 consecutive columns,
// started at the bias, requantised two rows at a time (one i8x16 narrowing, two 8-byte stores); when every channel
// shares one shift in [33, 54] (checked once per call) the requantisation runs on the high words in i32 (8 lanes); when
// it is one s ≤ 40 and the biases are small enough (shiftE40), the weights are widened times 2^(40−s) and the biases
// scaled alike, so the shift is the constant 40 (requantE40: high words, narrow to i16, `psraw 8`; V8 emits four
// instructions for a shift by a variable): 173 → 138 x64 instructions per tile outside the k loop.
// The row loop is compiled once per epilogue (rows4<R, E>), so the tile's loop has no branch but the k loop's. Kp ≤ 32
// with all weights widened fitting `wide`: the loops swapped (qs8-gemm-4x8c2-smallk-wasmsimd.ts, tiles outer).
// Integer-exact (reference: assembly/reference/qs8.ts); compiled into the simd build only.
import { requant4, requant4At, requantFp32m, requantFp32n, fp32mMin, fp32mZp, qcAt, FP32N_LIMIT } from './qs8-requant';
import { requantE40 } from '../conv/qs8-dwconv2d-requant';
import { rowsSmallK, smallK, fp32Lows, EpiFp32L } from './qs8-gemm-4x8c2-smallk-wasmsimd';
import { touchAheadPerTile, touchAhead } from './qs8-touch-ahead';

/** Longest Kp this tile takes (qs8-gemm.ts sends longer K to the scalar 2×2 tile). */
export const QS8_SIMD_PANEL_K = 1 << 20;

/** The i16 buffers. The one-row tiles' row panel (qs8-gemm-1x8c2-wasmsimd.ts, Kp·2 bytes): static 8 KiB, a longer
 *  K takes a heap block, kept. This tile's: a row block of 4-row tiles (Kp·8 bytes each, as many as fit
 *  ROW_BLOCK_BYTES, at least one; a heap block made on the first call, kept, a longer K takes a new one) and one
 *  8-column block's weights widened (Kp·16 bytes, static 16 KiB). Weights are widened for row blocks of at least
 *  WIDE_MIN_TILES tiles and Kp ≤ WIDE_MAX_K (the widened block a third of a 48 KiB L1 at most); other row blocks run
 *  on the i8 weights. Row blocks of 2^17 and 2^19 bytes ran alike on int8 MobileNetV2, 2^15 1 % slower (the 7²
 *  project layers, K = 960, 5 %); test/assembly/qs8-gemm-row-blocks.test.ts picks its K from these constants. */
const STATIC_K = 4096;
const ROW_BLOCK_BYTES = 1 << 17;
/** Bytes widen4 may write past a row block: its last step's k pairs past Kp (3 of 16 bytes at most). */
const ROW_BLOCK_SLACK = 48;
export const WIDE_MIN_TILES = 3;
const WIDE_MAX_K = 1024;
const staticPanel: usize = ASC_FEATURE_SIMD ? memory.data(STATIC_K << 1, 16) : 0;
let panel: usize = staticPanel;
let panelK: i32 = STATIC_K;
export let rowBlock: usize = 0;
let rowBlockBytes: i32 = 0;
/** Bytes of `wide`: the widened weights, then (E40 epilogues) the block's 8 biases times 2^e (rowsSmallK: all blocks'
 *  weights, then all N8 biases). */
export const WIDE_BYTES = (WIDE_MAX_K << 4) + 32;
export let wide: usize = ASC_FEATURE_SIMD ? memory.data(WIDE_BYTES, 16) : 0;

/** 16-byte aligned heap block of `bytes`. */
function alignedBlock(bytes: i32): usize {
  return (heap.alloc(<usize>bytes + 16) + 15) & ~(<usize>15);
}

/** Threaded build (assembly/threads.ts): a worker instance packs into buffers of its own heap, not the static ones
 *  (its row block is made on its first call, in its heap). */
export function privatePanel(): void {
  panel = alignedBlock(STATIC_K << 1);
  wide = alignedBlock(WIDE_BYTES);
}

/** This tile's row block for Kp. */
function ensureRowBlock(Kp: i32): void {
  if (Kp << 3 <= rowBlockBytes) return;
  rowBlockBytes = max(Kp << 3, ROW_BLOCK_BYTES);
  rowBlock = alignedBlock(rowBlockBytes + ROW_BLOCK_SLACK);
}

/** The one-row tiles' i16 row panel (Kp·2 bytes). */
export function i16Panel(Kp: i32): usize {
  if (Kp > panelK) {
    panel = alignedBlock(Kp << 1);
    panelK = Kp;
  }
  return panel;
}

/** 8 requantised columns (accumulators with the bias already in) as 8 bytes at y. m0, m1: their multipliers (R = f32:
 *  scales); lov, hiv: lo and hi as i16; rz: the fast path's rounding and zero point (fastShift 0: unused). */
// @ts-ignore: decorator
@inline export function store8<R>(
  y: usize,
  c: i32,
  a0: v128,
  a1: v128,
  qc: usize,
  qs: i32,
  fastShift: i32,
  m0: v128,
  m1: v128,
  rz: v128,
  lov: v128,
  hiv: v128,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  let h: v128;
  if (fastShift) {
    // every channel shares one shift s in [33, 54], t = s − 32: with P = acc·mult = H·2^32 + L (H the signed
    // high word, 0 ≤ L < 2^32), floor((P + 2^(s−1)) / 2^s) = floor((H + 2^(s−33) + L/2^32) / 2^t)
    // = (H + 2^(s−33)) >> t, the fraction never reaching the next multiple of 2^t; adding zp·2^t before the
    // shift adds zp after it. |H| ≤ 2^30, 2^(s−33) ≤ 2^21, |zp·2^t| ≤ 2^29: no i32 overflow.
    // rz = 2^(s−33) + zp·2^t; lov / hiv the clamps as i16
    const a = i64x2.extmul_low_i32x4_s(a0, m0),
      b = i64x2.extmul_high_i32x4_s(a0, m0);
    const d = i64x2.extmul_low_i32x4_s(a1, m1),
      e = i64x2.extmul_high_i32x4_s(a1, m1);
    const t = fastShift - 32;
    const u0 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(a, b, 1, 3, 5, 7), rz), t);
    const u1 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(d, e, 1, 3, 5, 7), rz), t);
    // saturating to i16 first and clamping there = clamping in i32 ([lo, hi] ⊂ i8); the full range [−128, 127]
    // (no activation, or a ReLU6 whose range is the tensor's) is the narrowing's own saturation: no clamp
    h = i16x8.narrow_i32x4_s(u0, u1);
    if (lo > -128 || hi < 127) h = i16x8.min_s(i16x8.max_s(h, lov), hiv);
  } else if (isFloat<R>()) {
    // m0, m1: the f32 scales. requantFp32m's lanes are ≥ lo; the saturating narrowing then the min with hi (a no-op at
    // 127) clamps the rest. Its constants made here (callers' rz / lov mean the fixed-point ones); the hot 4-row
    // tiles hold them instead (requantRows2)
    const vmin = fp32mMin(zp, lo),
      vzp = fp32mZp(zp);
    h = i16x8.min_s(i16x8.narrow_i32x4_s(requantFp32m(a0, m0, vmin, vzp), requantFp32m(a1, m1, vmin, vzp)), hiv);
  } else {
    h = i16x8.narrow_i32x4_s(requant4At<R>(a0, qc, qs, c, zp, lo, hi), requant4At<R>(a1, qc, qs, c + 4, zp, lo, hi));
  }
  v128.store64_lane(y + <usize>c, i8x16.narrow_i16x8_s(h, h), 0);
}

/** The shift every one of channels [0, N) shares when it is in [33, 54] (the 8-lane fast path), else 0 (and for
 *  R = f32, whose qc has no shift row). */
export function uniformShift<R>(qc: usize, qs: i32, N: i32): i32 {
  if (isFloat<R>() || N <= 0) return 0;
  const s = qcAt(qc, qs, 2, 0);
  if (s < 33 || s > 54) return 0;
  for (let n = 1; n < N; n++) if (qcAt(qc, qs, 2, n) != s) return 0;
  return s;
}

/** Whether every one of channels [0, N8) has |acc|·scale ≤ FP32N_LIMIT for any accumulator, |acc| ≤ |folded bias| +
 *  K·2^14 (|x·w| ≤ 2^14): requantFp32n's bound (qs8-requant.ts, its proof), so with [q_min, q_max] = [−128, 127]
 *  the fp32 epilogue needs no clamp but the narrowings' (EpiFp32N: 4 ops per 4 lanes, not 5, and no i8 min). R = f32's
 *  qc: bias, f32 scale bits. */
export function fp32Bounded(qc: usize, qs: i32, N8: i32, K: i32): bool {
  for (let n = 0; n < N8; n++) {
    const b = abs<f64>(<f64>qcAt(qc, qs, 0, n));
    if ((b + <f64>K * 16384) * <f64>reinterpret<f32>(qcAt(qc, qs, 1, n)) > FP32N_LIMIT) return false;
  }
  return true;
}

/** Columns [0, N8) of y (N8 a multiple of 8), every row. */
export function gemmQs8Simd4x8c2<R>(
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N8: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  ensureRowBlock((K + 1) & ~1);
  const clamp = lo > -128 || hi < 127;
  const s40 = shiftE40<R>(qc, qcStride, N8, M, K);
  // one copy of the row loop per epilogue, chosen once per call: the store8 form (a branch on fs and on the clamp in
  // every row's epilogue) kept V8 from holding the accumulators and constants in registers across it
  const t = ((K + 1) & ~1) >= TOUCH_MIN_K;
  if (isFloat<R>() && !clamp && fp32Bounded(qc, qcStride, N8, K)) {
    if (smallK(M, K, N8) && fp32Lows(qc, qcStride, N8, K, zp))
      rowsSmallK<R, EpiFp32L>(a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, 0);
    else rowsT<R, EpiFp32N>(t, a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, 0);
    return;
  }
  if (s40 > 0) {
    if (clamp) rowsT<R, EpiE40Clamp>(t, a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, s40);
    else rowsT<R, EpiE40>(t, a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, s40);
    return;
  }
  const fs = uniformShift<R>(qc, qcStride, N8);
  if (fs == 0) rowsT<R, EpiGeneral>(t, a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, 0);
  else if (clamp) rowsT<R, EpiHighClamp>(t, a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, fs);
  else rowsT<R, EpiHigh>(t, a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, fs);
}

/** Wasm has no prefetch, and a weight block's widening (rows4) reads it in a burst the hardware prefetcher cannot run
 *  ahead of: between two blocks the tiles read only L1-resident data. So for Kp ≥ TOUCH_MIN_K the tiles of each block
 *  load one word of every 64-byte line of the next block, spread over them, and that block is near when its widening
 *  starts. A copy of the row loop of its own (rowsT<R, E>): the touch loop in every copy made V8 slower on small-K
 *  layers, which have nothing to gain (a block of 1–4 lines, thousands of tiles). */
const TOUCH_MIN_K = 128;
class Touch {}
class NoTouch {}
/** Where the touched words go, so no engine drops the loads (read by nothing). */
let touchSink: i32 = 0;
/** Keeps a touch loop's loads (this tile's and the one-row GEMV's). */
// @ts-ignore: decorator
@inline export function keepTouched(sink: i32): void {
  touchSink ^= sink;
}

// @ts-ignore: decorator
@inline function rowsT<R, E>(
  touch: bool,
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N8: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
): void {
  if (touch) rows4<R, E, Touch>(a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, fs);
  else if (smallK(M, K, N8)) rowsSmallK<R, E>(a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, fs);
  else rows4<R, E, NoTouch>(a, lda, M, K, w, qc, qcStride, N8, y, ldy, zp, lo, hi, fs);
}

/** The shift s every one of channels [0, N8) shares when the weights and biases can be scaled by 2^e, e = 40 − s, so
 *  the requantisation shifts by the constant 40 (the E40 epilogues), else 0. Exact when (with |x|, |w| ≤ 2^7):
 *  - s ∈ [32, 40], so e ∈ [0, 8]: w·2^e is an i16 (|w|·2^e ≤ 2^15, −128·2^8 = −32768 included), and a dot of two such
 *    products with row values is below 2^23;
 *  - |bias_n| + K·2^14 ≤ 2^(31−e) − 1 for every n: the accumulator |bias_n + Σk x·w| ≤ 2^(31−e) − 1, so acc·2^e (the
 *    scaled bias plus the scaled dots, summed in wrapping i32, exact mod 2^32) is the exact i32 it must be, and the
 *    bias·2^e too; then requantE40 (proof there, and the BigInt test over this range in
 *    test/assembly/qs8-gemm-requant.test.ts) gives requantQs8's bytes;
 *  - the weights are widened (Kp ≤ WIDE_MAX_K, M > 8: the E40 rows4 widens every row block, even a last one of one or
 *    two tiles, since only the widened weights are scaled).
 *  MobileNetV2's 1×1 convs have s ∈ [36, 40] (but the last project, 41) and |bias| < 2^19, K ≤ 576: all but that one
 *  qualify. R = f32 (no shift row): 0. */
export function shiftE40<R>(qc: usize, qs: i32, N8: i32, M: i32, K: i32): i32 {
  if (isFloat<R>() || N8 <= 0 || ((K + 1) & ~1) > WIDE_MAX_K || M <= (WIDE_MIN_TILES - 1) << 2) return 0;
  const s = qcAt(qc, qs, 2, 0);
  if (s < 32 || s > 40) return 0;
  // 2^(31−e) = 2^(s−9); K ≤ 1024: K·2^14 ≤ 2^24, so the limit may be negative (no bias fits)
  const lim: i64 = ((1 as i64) << ((s - 9) as i64)) - 1 - (K as i64) * 16384;
  if (lim < 0) return 0;
  for (let n = 0; n < N8; n++) {
    const b = <i64>qcAt(qc, qs, 0, n);
    if (qcAt(qc, qs, 2, n) != s || b > lim || b < -lim) return 0;
  }
  return s;
}

/** Epilogues of rows4, as type arguments (so each instance is compiled with its own, no branch): requant4At per 4
 *  columns; the high-word path of store8 without and with the clamp; requantE40 (weights and bias scaled by 2^(40−s))
 *  without and with the clamp. */
class EpiGeneral {}
class EpiHigh {}
class EpiHighClamp {}
class EpiE40 {}
class EpiE40Clamp {}
class EpiFp32N {}
export const EPI_GENERAL = 1,
  EPI_HIGH = 2,
  EPI_HIGH_CLAMP = 3,
  EPI_E40 = 4,
  EPI_E40_CLAMP = 5,
  EPI_FP32N = 6;
// @ts-ignore: decorator
@inline export function epiOf<E>(): i32 {
  return idof<E>() == idof<EpiE40>()
    ? EPI_E40
    : idof<E>() == idof<EpiE40Clamp>()
      ? EPI_E40_CLAMP
      : idof<E>() == idof<EpiHigh>()
        ? EPI_HIGH
        : idof<E>() == idof<EpiHighClamp>()
          ? EPI_HIGH_CLAMP
          : idof<E>() == idof<EpiFp32N>()
            ? EPI_FP32N
            : EPI_GENERAL;
}

/** Rows m..m+3 of a widened into a row tile [Kp/2][4][2] at d0 (rows past M repeat the last row; zero past K). */
export function widen4(a: usize, lda: i32, M: i32, m: i32, K: i32, Kp: i32, d0: usize): void {
  const r0 = a + <usize>m * <usize>lda;
  let r1 = r0 + <usize>lda,
    r2 = r1 + <usize>lda,
    r3 = r2 + <usize>lda;
  if (m + 4 > M) {
    const last = a + <usize>(M - 1) * <usize>lda;
    if (m + 1 >= M) r1 = last;
    if (m + 2 >= M) r2 = last;
    r3 = last;
  }
  // The last 8 columns whole when K mod 8 ≠ 0 and every row of the tile is followed by another at least that far on
  // (lda ≥ K rounded up to 8, not the matrix's last row: no read past a): the stem's im2col rows (K 27 in rows of 32
  // bytes) take one widening step instead of 4 columns × 4 rows of scalar ones (the stem 394 → 382 µs, bench/gemm-ab.ts).
  // The tile reads one column past K at most (K odd), against a zero weight; the k pairs past Kp land in the next
  // tile's first ones (widened after this one) or the row block's slack.
  const K8 = (K + 7) & ~7;
  const Kv = lda >= K8 && m + 4 < M ? K8 : K;
  let k = 0;
  for (; k + 8 <= Kv; k += 8) {
    // 4 rows × 4 k pairs (i32 lanes) transposed to 4 k pairs × 4 rows
    const q0 = v128.load8x8_s(r0 + <usize>k),
      q1 = v128.load8x8_s(r1 + <usize>k);
    const q2 = v128.load8x8_s(r2 + <usize>k),
      q3 = v128.load8x8_s(r3 + <usize>k);
    const t0 = v128.shuffle<i32>(q0, q1, 0, 4, 1, 5),
      t1 = v128.shuffle<i32>(q2, q3, 0, 4, 1, 5);
    const t2 = v128.shuffle<i32>(q0, q1, 2, 6, 3, 7),
      t3 = v128.shuffle<i32>(q2, q3, 2, 6, 3, 7);
    const d = d0 + ((<usize>k) << 3);
    v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
    v128.store(d, v128.shuffle<i64>(t0, t1, 1, 3), 16);
    v128.store(d, v128.shuffle<i64>(t2, t3, 0, 2), 32);
    v128.store(d, v128.shuffle<i64>(t2, t3, 1, 3), 48);
  }
  for (; k < Kp; k++) {
    const d = d0 + ((<usize>(k >> 1)) << 4) + ((<usize>(k & 1)) << 1);
    const inK = k < K;
    store<i16>(d, inK ? <i16>load<i8>(r0 + <usize>k) : 0);
    store<i16>(d, inK ? <i16>load<i8>(r1 + <usize>k) : 0, 4);
    store<i16>(d, inK ? <i16>load<i8>(r2 + <usize>k) : 0, 8);
    store<i16>(d, inK ? <i16>load<i8>(r3 + <usize>k) : 0, 12);
  }
}

/** One 8-column weight block [Kp/2][8][2] i8 (bytes = Kp·8) widened to i16 at d (Kp·16 bytes); consecutive blocks
 *  alike (the stem kernel widens all of its Co/8 at once). */
export function widenBlock(q: usize, bytes: usize, d: usize): void {
  for (let o: usize = 0; o < bytes; o += 16) {
    v128.store(d + (o << 1), v128.load8x8_s(q + o));
    v128.store(d + (o << 1), v128.load8x8_s(q + o, 8), 16);
  }
}

/** widenBlock times f = 2^e (i16 lanes, e ≤ 8: shiftE40); a multiply, one instruction where V8 emits four for a shift
 *  by a variable. */
export function widenBlockScaled(q: usize, bytes: usize, d: usize, f: i32): void {
  const v = i16x8.splat(<i16>f);
  for (let o: usize = 0; o < bytes; o += 16) {
    v128.store(d + (o << 1), i16x8.mul(v128.load8x8_s(q + o), v));
    v128.store(d + (o << 1), i16x8.mul(v128.load8x8_s(q + o, 8), v), 16);
  }
}

/** store8's high-word path up to the i16 narrowing: (H + rz) >> t of 8 columns (proof in store8). */
// @ts-ignore: decorator
@inline function highWords8(a0: v128, a1: v128, m0: v128, m1: v128, rz: v128, t: i32): v128 {
  const a = i64x2.extmul_low_i32x4_s(a0, m0),
    b = i64x2.extmul_high_i32x4_s(a0, m0);
  const d = i64x2.extmul_low_i32x4_s(a1, m1),
    e = i64x2.extmul_high_i32x4_s(a1, m1);
  const u0 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(a, b, 1, 3, 5, 7), rz), t);
  const u1 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(d, e, 1, 3, 5, 7), rz), t);
  return i16x8.narrow_i32x4_s(u0, u1);
}

/** Two rows' 8 columns (accumulators with the bias in) requantised to i8: row 0 in bytes 0–7, row 1 in 8–15. */
// @ts-ignore: decorator
@inline export function requantRows2<R>(
  epi: i32,
  a0: v128,
  a1: v128,
  b0: v128,
  b1: v128,
  qc: usize,
  qs: i32,
  n: i32,
  m0: v128,
  m1: v128,
  rz: v128,
  t: i32,
  lo8: v128,
  hi8: v128,
  vmin: v128,
  vzp: v128,
  zp: i32,
  lo: i32,
  hi: i32,
): v128 {
  if (epi == EPI_E40 || epi == EPI_E40_CLAMP) {
    // rz = 2^7 + zp·2^8; requantE40 saturates to [−128, 127] (its i16 lanes), the i8 narrowing keeps them
    const v = i8x16.narrow_i16x8_s(
      requantE40(a0, a1, m0, m1, rz, lo8, hi8, false),
      requantE40(b0, b1, m0, m1, rz, lo8, hi8, false),
    );
    return epi == EPI_E40_CLAMP ? i8x16.min_s(i8x16.max_s(v, lo8), hi8) : v;
  }
  if (epi == EPI_FP32N) {
    // fp32Bounded and [−128, 127]: requantFp32n, the narrowings' saturation the only clamp
    const ha = i16x8.narrow_i32x4_s(requantFp32n(a0, m0, vzp), requantFp32n(a1, m1, vzp));
    const hb = i16x8.narrow_i32x4_s(requantFp32n(b0, m0, vzp), requantFp32n(b1, m1, vzp));
    return i8x16.narrow_i16x8_s(ha, hb);
  }
  if (epi != EPI_GENERAL) {
    const v = i8x16.narrow_i16x8_s(highWords8(a0, a1, m0, m1, rz, t), highWords8(b0, b1, m0, m1, rz, t));
    // saturating to i16, then i8, then clamping = clamping in i32 ([lo, hi] ⊂ i8); at [−128, 127] the narrowing is
    // the clamp (no activation, or a ReLU6 whose range is the tensor's)
    return epi == EPI_HIGH_CLAMP ? i8x16.min_s(i8x16.max_s(v, lo8), hi8) : v;
  }
  if (isFloat<R>()) {
    // m0, m1: the 8 columns' f32 scales. requantFp32m (5 ops per 4 lanes) leaves lanes ≥ lo but may exceed hi (up to
    // 2^30): the saturating narrowings take them to 127 at most, the i8 min to hi (a no-op at 127)
    const ha = i16x8.narrow_i32x4_s(requantFp32m(a0, m0, vmin, vzp), requantFp32m(a1, m1, vmin, vzp));
    const hb = i16x8.narrow_i32x4_s(requantFp32m(b0, m0, vmin, vzp), requantFp32m(b1, m1, vmin, vzp));
    return i8x16.min_s(i8x16.narrow_i16x8_s(ha, hb), hi8);
  }
  const ha = i16x8.narrow_i32x4_s(requant4(a0, qc, qs, n, zp, lo, hi), requant4(a1, qc, qs, n + 4, zp, lo, hi));
  const hb = i16x8.narrow_i32x4_s(requant4(b0, qc, qs, n, zp, lo, hi), requant4(b1, qc, qs, n + 4, zp, lo, hi));
  return i8x16.narrow_i16x8_s(ha, hb);
}

/** The row loop of gemmQs8Simd4x8c2 with epilogue E. */
function rows4<R, E, T>(
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N8: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
): void {
  const epi = epiOf<E>();
  const e40 = epi == EPI_E40 || epi == EPI_E40_CLAMP;
  const Kp = (K + 1) & ~1;
  const tileBytes = <usize>(Kp << 3);
  const t = fs - 32;
  // E40: fs = s ∈ [32, 40], weights and bias times 2^e (shiftE40), the total shift 40: rz = 2^7 + zp·2^8
  const e = 40 - fs;
  const rz = i32x4.splat(e40 ? 128 + zp * 256 : fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const f: i32 = 1 << (e & 15);
  const lo8 = i8x16.splat(<i8>lo),
    hi8 = i8x16.splat(<i8>hi);
  // R = f32: requantFp32m's constants
  const vmin = fp32mMin(zp, lo),
    vzp = fp32mZp(zp);
  // row tiles [Kp/2][4 rows][2] i16: per k pair 16 bytes, the splat of every row a constant offset; as many tiles
  // as fit the row block buffer form a row block, and every 8-column block's weights are widened once per row block.
  // Where no block would be widened, one tile per block: the tile's panel stays in L1 while the weights stream by.
  const canWiden = Kp <= WIDE_MAX_K && M > (WIDE_MIN_TILES - 1) << 2;
  const rowsPerBlock = canWiden ? (rowBlockBytes / (Kp << 3)) << 2 : 4;
  // Touch: also the next step's weights, when the executor set a region (qs8-touch-ahead.ts), spread over the tiles
  const ahead = idof<T>() == idof<Touch>() ? touchAheadPerTile(((M + 3) >> 2) * (N8 >> 3)) : 0;
  for (let mb = 0; mb < M; mb += rowsPerBlock) {
    const me = min(M, mb + rowsPerBlock);
    // in ascending order: widen4 may run into the next tile's first k pairs
    for (let m = mb; m < me; m += 4) widen4(a, lda, M, m, K, Kp, rowBlock + <usize>((m - mb) >> 2) * tileBytes);
    const we = wide + (tileBytes << 1);
    // a row block of few tiles reads each weight block too few times to repay widening it (Dense 4×2048→1024 1.3×
    // slower widened, 8×2048→1024 1.13×, 16×512→512 1.0)
    // (the E40 epilogues need the scaled weights: every row block widened, shiftE40 checked canWiden)
    const widened = e40 || (canWiden && me - mb > (WIDE_MIN_TILES - 1) << 2);
    for (let n = 0; n < N8; n += 8) {
      const wb = w + <usize>(n >> 3) * tileBytes,
        wbe = wb + tileBytes;
      if (e40) widenBlockScaled(wb, tileBytes, wide, f);
      else if (widened) widenBlock(wb, tileBytes, wide);
      const b0 = v128.load(qc + ((<usize>n) << 2)),
        b1 = v128.load(qc + ((<usize>n) << 2), 16);
      // E40: the biases times 2^e, stored beside the weights and loaded per tile: as values V8 shifted them again in
      // every tile (a variable shift, 4 instructions each)
      const bs = wide + (WIDE_MAX_K << 4);
      if (e40) {
        v128.store(bs, i32x4.shl(b0, e));
        v128.store(bs, i32x4.shl(b1, e), 16);
      }
      let p = rowBlock;
      // Touch: the next block's lines, ⌈lines / tiles⌉ per tile (none after the last block)
      const nb = idof<T>() == idof<Touch>() && widened && n + 8 < N8 ? wbe : 0,
        nbe = nb ? nb + tileBytes : 0;
      const tiles = (me - mb + 3) >> 2;
      const perTile = (<i32>(tileBytes >> 6) + tiles - 1) / tiles;
      let tl = nb,
        sink: i32 = 0;
      for (let m = mb; m < me; m += 4) {
        if (idof<T>() == idof<Touch>()) for (let j = 0; j < perTile && tl < nbe; j++, tl += 64) sink ^= load<i32>(tl);
        if (idof<T>() == idof<Touch>() && ahead > 0) sink ^= touchAhead(ahead);
        // accumulators start at the bias (columns n..n+7 are all below N here)
        const d0 = e40 ? v128.load(bs) : b0,
          d1 = e40 ? v128.load(bs, 16) : b1;
        let c00 = d0,
          c01 = d1,
          c10 = d0,
          c11 = d1,
          c20 = d0,
          c21 = d1,
          c30 = d0,
          c31 = d1;
        if (widened) {
          // i16 weights: two plain loads per k pair (a widening load costs V8 a vector op besides the load: the loop
          // ran 44 GMAC/s on i8 weights, 49 on i16, L1-resident). The splats stay loads (`vbroadcastss`): made by
          // lane shuffles the loop fits Turboshaft's ×4 unrolling (≤ 60 ops, now 63: ×3) but ran 1.03–1.12× slower
          let q = wide;
          while (q < we) {
            const wl = v128.load(q),
              wh = v128.load(q, 16);
            const x0 = v128.load32_splat(p);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
            const x1 = v128.load32_splat(p, 4);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
            const x2 = v128.load32_splat(p, 8);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
            const x3 = v128.load32_splat(p, 12);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
            q += 32;
            p += 16;
          }
        } else {
          // the i8 weights, two widening 8-byte loads per k pair
          let q = wb;
          while (q < wbe) {
            const wl = v128.load8x8_s(q),
              wh = v128.load8x8_s(q, 8);
            const x0 = v128.load32_splat(p);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
            const x1 = v128.load32_splat(p, 4);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
            const x2 = v128.load32_splat(p, 8);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
            const x3 = v128.load32_splat(p, 12);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
            q += 16;
            p += 16;
          }
        }
        const mp = qc + ((<usize>(qcStride + n)) << 2);
        const m0 = v128.load(mp),
          m1 = v128.load(mp, 16);
        const v01 = requantRows2<R>(
          epi,
          c00,
          c01,
          c10,
          c11,
          qc,
          qcStride,
          n,
          m0,
          m1,
          rz,
          t,
          lo8,
          hi8,
          vmin,
          vzp,
          zp,
          lo,
          hi,
        );
        const v23 = requantRows2<R>(
          epi,
          c20,
          c21,
          c30,
          c31,
          qc,
          qcStride,
          n,
          m0,
          m1,
          rz,
          t,
          lo8,
          hi8,
          vmin,
          vzp,
          zp,
          lo,
          hi,
        );
        // rows past M (repeats of the last row, so the same bytes) store over the last row: no branch per store
        const y0 = y + <usize>m * <usize>ldy + <usize>n;
        const yl = y + <usize>(M - 1) * <usize>ldy + <usize>n;
        v128.store64_lane(y0, v01, 0);
        v128.store64_lane(m + 1 < M ? y0 + <usize>ldy : yl, v01, 1);
        v128.store64_lane(m + 2 < M ? y0 + <usize>(2 * ldy) : yl, v23, 0);
        v128.store64_lane(m + 3 < M ? y0 + <usize>(3 * ldy) : yl, v23, 1);
      }
      if (idof<T>() == idof<Touch>()) keepTouched(sink);
    }
  }
}
