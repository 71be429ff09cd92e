// The stem's output pixels 2 × 2 at a time (qs8-conv2d-3x3s2c3-wasmsimd.ts, simd build): the pixel pairs' F(2, 2)
// (qs8-conv2d-3x3s2c3-pairs-wasmsimd.ts: y(c) = A + B, y(c + 1) = B + C along a kernel row) along the kernel's
// columns too. Output rows r, r + 1 read input rows R0..R4; with V0 = R0 − R2, V1 = R1, V2 = R2, V3 = R4 − R2,
// V4 = R3 and Wk the kernel row kh = k as a 1×3 stride-2 conv:
//   row r     = W0∘R0 + W1∘R1 + W2∘R2 = [W0∘V0 + W1∘V1] + (W0 + W2)∘V2 = A' + B'
//   row r + 1 = W0∘R2 + W1∘R3 + W2∘R4 = (W0 + W2)∘V2 + [W2∘V3 + W1∘V4] = B' + C'
// and each row term split along the row as A, B, C: y(r, c) = AA' + BA' + AB' + BB', y(r, c + 1) = BA' + CA' + BB' +
// CB', y(r + 1, c) = AB' + BB' + AC' + BC', y(r + 1, c + 1) = BB' + CB' + BC' + CC' (hv: the taps of h on the row terms
// of v), an integer identity, so the same sums and bytes as im2col + GEMM. Taps per 2 × 2 pixels: AA' AC' CA' CC' 12
// each, AB' BA' BC' CB' 6, BB' 3 (+ a zero-weight one): 38 k pairs where the pairs run 46 and the 4-pixel tile 56.
// Exact in i16 lanes: taps in [−510, 510] (differences of differences), weights sums of up to 4 int8 in [−512, 508];
// `i32x4.dot_i16x8_s` multiplies i16 lanes into i32 exactly, each pair's sum well inside i32.
// A tile: 4 quads (output rows r, r + 1 × 8 columns, every tap inside the image, the 8-byte loads too) × 8 columns.
// Per 8-column block the 9 groups run as 9 k loops written out one after another (one loop with a segment switch
// between them ran 1.17× slower: V8 spilled the accumulators around the switch) over the quads' taps (rowQ, QROW
// bytes per quad, qs8-conv2d-3x3s2c3-quadtaps-wasmsimd.ts): BA' and BC' from zero, kept; BB' from the bias, kept
// (S1); AB' on, kept (S2); + BA', AA' on: y(r, c); S2 + BC', AC' on: y(r + 1, c); S1, CB' on, kept (S3); + BA', CA'
// on: y(r, c + 1); S3 + BC', CC' on: y(r + 1, c + 1).
import { fp32mMin, fp32mZp } from '../gemm/qs8-requant';
import {
  BLOCKQ,
  QROW,
  keep8,
  keepQ,
  quadTaps,
  requantStore4,
  stemEpi,
  rowQ,
  wideQ,
} from './qs8-conv2d-3x3s2c3-quadtaps-wasmsimd';

/**
 * nt quad tiles of output rows oh, oh + 1 (y: row oh's first tile's first pixel, Co bytes each, rows ys bytes apart;
 * x: that pixel's top-left tap, input rows rs bytes apart); epilogue E as in pairRow, wideQ from quadWeights.
 */
export function quadRow<R, E>(
  x: usize,
  rs: usize,
  y: usize,
  ys: usize,
  nt: i32,
  qc: usize,
  Co: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
): void {
  const epi = stemEpi<E>();
  const t = fs - 32;
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lo8 = i8x16.splat(<i8>lo),
    hi8 = i8x16.splat(<i8>hi);
  const vmin = fp32mMin(zp, lo),
    vzp = fp32mZp(zp);
  const wEnd = wideQ + <usize>((Co >> 3) * BLOCKQ);
  const co = <usize>Co;
  const kp = keepQ;
  for (let i = 0; i < nt; i++) {
    quadTaps(x, rs, rowQ);
    quadTaps(x + 12, rs, rowQ + QROW);
    quadTaps(x + 24, rs, rowQ + 2 * QROW);
    quadTaps(x + 36, rs, rowQ + 3 * QROW);
    let q = wideQ,
      n = 0;
    while (q < wEnd) {
      const z = i32x4.splat(0);
      let c00 = z,
        c01 = z,
        c10 = z,
        c11 = z,
        c20 = z,
        c21 = z,
        c30 = z,
        c31 = z;
      let s = rowQ;
      let qe: usize = 0;
      const mp = qc + ((<usize>(Co + n)) << 2);
      const m0 = v128.load(mp),
        m1 = v128.load(mp, 16);
      const b0 = v128.load(qc + ((<usize>n) << 2)),
        b1 = v128.load(qc + ((<usize>n) << 2), 16);
      {
        // BA' from zero, kept
        qe = q + <usize>(3 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        keep8(kp + 0, c00, c01, c10, c11, c20, c21, c30, c31);
        c00 = z;
        c01 = z;
        c10 = z;
        c11 = z;
        c20 = z;
        c21 = z;
        c30 = z;
        c31 = z;
        // BC' from zero, kept
        qe = q + <usize>(3 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        keep8(kp + 128, c00, c01, c10, c11, c20, c21, c30, c31);
        c00 = b0;
        c01 = b1;
        c10 = b0;
        c11 = b1;
        c20 = b0;
        c21 = b1;
        c30 = b0;
        c31 = b1;
        // BB' from the bias: S1
        qe = q + <usize>(2 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        keep8(kp + 256, c00, c01, c10, c11, c20, c21, c30, c31);
        // AB' on: S2
        qe = q + <usize>(3 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        keep8(kp + 384, c00, c01, c10, c11, c20, c21, c30, c31);
        c00 = i32x4.add(c00, v128.load(kp, 0));
        c01 = i32x4.add(c01, v128.load(kp, 16));
        c10 = i32x4.add(c10, v128.load(kp, 32));
        c11 = i32x4.add(c11, v128.load(kp, 48));
        c20 = i32x4.add(c20, v128.load(kp, 64));
        c21 = i32x4.add(c21, v128.load(kp, 80));
        c30 = i32x4.add(c30, v128.load(kp, 96));
        c31 = i32x4.add(c31, v128.load(kp, 112));
        // + BA', AA' on: y(r, c)
        qe = q + <usize>(6 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        {
          // prettier-ignore
          requantStore4<R>(epi, c00, c01, c10, c11, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi,
                           y + <usize>n, co);
        }
        c00 = i32x4.add(v128.load(kp, 384), v128.load(kp, 128));
        c01 = i32x4.add(v128.load(kp, 400), v128.load(kp, 144));
        c10 = i32x4.add(v128.load(kp, 416), v128.load(kp, 160));
        c11 = i32x4.add(v128.load(kp, 432), v128.load(kp, 176));
        c20 = i32x4.add(v128.load(kp, 448), v128.load(kp, 192));
        c21 = i32x4.add(v128.load(kp, 464), v128.load(kp, 208));
        c30 = i32x4.add(v128.load(kp, 480), v128.load(kp, 224));
        c31 = i32x4.add(v128.load(kp, 496), v128.load(kp, 240));
        // S2 + BC', AC' on: y(r + 1, c)
        qe = q + <usize>(6 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        {
          // prettier-ignore
          requantStore4<R>(epi, c00, c01, c10, c11, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi,
                           y + <usize>n + ys, co);
        }
        c00 = v128.load(kp, 256);
        c01 = v128.load(kp, 272);
        c10 = v128.load(kp, 288);
        c11 = v128.load(kp, 304);
        c20 = v128.load(kp, 320);
        c21 = v128.load(kp, 336);
        c30 = v128.load(kp, 352);
        c31 = v128.load(kp, 368);
        // S1, CB' on: S3
        qe = q + <usize>(3 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        keep8(kp + 512, c00, c01, c10, c11, c20, c21, c30, c31);
        c00 = i32x4.add(c00, v128.load(kp, 0));
        c01 = i32x4.add(c01, v128.load(kp, 16));
        c10 = i32x4.add(c10, v128.load(kp, 32));
        c11 = i32x4.add(c11, v128.load(kp, 48));
        c20 = i32x4.add(c20, v128.load(kp, 64));
        c21 = i32x4.add(c21, v128.load(kp, 80));
        c30 = i32x4.add(c30, v128.load(kp, 96));
        c31 = i32x4.add(c31, v128.load(kp, 112));
        // + BA', CA' on: y(r, c + 1)
        qe = q + <usize>(6 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        {
          // prettier-ignore
          requantStore4<R>(epi, c00, c01, c10, c11, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi,
                           y + <usize>n + co, co);
        }
        c00 = i32x4.add(v128.load(kp, 512), v128.load(kp, 128));
        c01 = i32x4.add(v128.load(kp, 528), v128.load(kp, 144));
        c10 = i32x4.add(v128.load(kp, 544), v128.load(kp, 160));
        c11 = i32x4.add(v128.load(kp, 560), v128.load(kp, 176));
        c20 = i32x4.add(v128.load(kp, 576), v128.load(kp, 192));
        c21 = i32x4.add(v128.load(kp, 592), v128.load(kp, 208));
        c30 = i32x4.add(v128.load(kp, 608), v128.load(kp, 224));
        c31 = i32x4.add(v128.load(kp, 624), v128.load(kp, 240));
        // S3 + BC', CC' on: y(r + 1, c + 1)
        qe = q + <usize>(6 * 32);
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, QROW);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * QROW);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * QROW);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        {
          // prettier-ignore
          requantStore4<R>(epi, c00, c01, c10, c11, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi,
                           y + <usize>n + ys + co, co);
        }
      }
      n += 8;
    }
    x += 48;
    y += 8 * co;
  }
}
