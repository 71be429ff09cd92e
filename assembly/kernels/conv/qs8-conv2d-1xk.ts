// Conv1xK_QS8 / ConvKx1_QS8 (groups 1, dilation 1 along k): x i8 [N,H,W,Ci] → y i8 [N,OH,OW,Co], im2col's packed
// weights. A 1×k window is a contiguous k·Ci slice of its zp_in-padded input row (scratch [R·L, Ci]), so gemmQs8 runs
// on overlapping rows (lda = sw·Ci); k×1 the same on padded columns (ldy = OW·Co). Integer-exact (gemm/qs8-gemm.ts).
import { StepParams } from '../../bundle/model';
import { gemmQs8 } from '../gemm/qs8-gemm';

/** Lines (rows / columns) per scratch group: R lines at a fixed pitch let the last OW mod 4 (OH mod 4) outputs
 *  of R lines run as one 4-row GEMM tile instead of a mostly wasted tile per line (the compiler sizes the
 *  scratch with the same rule). */
export function lineGroup(outLong: i32, outShort: i32): i32 {
  return (outLong & 3) != 0 ? min(4, outShort) : 1;
}

/** One zp_in-padded line of L pixels at d: pixels [0, before) and [before + mid, L) are zp_in, the mid
 *  pixels between come from src, `step` bytes apart. */
// @ts-ignore: decorator
@inline function padLine(d: usize, src: usize, step: usize, Ci: i32, L: i32, before: i32, mid: i32, zp: i32): void {
  const ci = <usize>Ci;
  memory.fill(d, <u8>zp, <usize>before * ci);
  let o = d + <usize>before * ci;
  if (step == ci) {
    memory.copy(o, src, <usize>mid * ci);
    o += <usize>mid * ci;
  } else if (Ci >= 16) {
    for (let j = 0; j < mid; j++) {
      memory.copy(o, src, ci);
      o += ci;
      src += step;
    }
  } else {
    // few channels: a byte loop beats a bulk-memory call per pixel (as im2col)
    for (let j = 0; j < mid; j++) {
      for (let c: usize = 0; c < ci; c++) store<u8>(o + c, load<u8>(src + c));
      o += ci;
      src += step;
    }
  }
  memory.fill(o, <u8>zp, <usize>(L - before - mid) * ci);
}

/** 1×k: scratch 0 only when the step has no padding (every window then lies inside its input row). */
export function conv1xkQs8<R>(
  x: usize,
  w: usize,
  qc: usize,
  scratch: usize,
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
  const k = p.kw,
    sw = p.sw,
    L = (OW - 1) * sw + k,
    K = k * Ci;
  const rowBytes = <usize>(W * Ci),
    lBytes = <usize>(L * Ci),
    yRow = <usize>(OW * Co);
  // windows inside the row read x itself: no left padding and the last window inside W
  const inRow = p.pl == 0 && L <= W;
  const left = min(p.pl, L),
    mid = max(0, min(W, L - p.pl));
  const R = lineGroup(OW, OH),
    main = OW & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh0 = 0; oh0 < OH; oh0 += R) {
      const rows = min(R, OH - oh0),
        ih0 = oh0 * p.sh - p.pt;
      const ihLast = ih0 + (rows - 1) * p.sh;
      let a = scratch,
        pitch = lBytes;
      if (inRow && ih0 >= 0 && ihLast < H) {
        a = x + <usize>(n * H + ih0) * rowBytes;
        pitch = <usize>p.sh * rowBytes;
      } else {
        for (let j = 0; j < rows; j++) {
          const ih = ih0 + j * p.sh,
            d = scratch + <usize>j * lBytes;
          if (ih < 0 || ih >= H) memory.fill(d, <u8>zpIn, lBytes);
          else padLine(d, x + <usize>(n * H + ih) * rowBytes, <usize>Ci, Ci, L, left, mid, zpIn);
        }
      }
      const y0 = y + <usize>(n * OH + oh0) * yRow;
      if (main > 0) {
        for (let j = 0; j < rows; j++)
          gemmQs8<R>(
            a + <usize>j * pitch,
            sw * Ci,
            main,
            K,
            w,
            qc,
            Co,
            Co,
            y0 + <usize>j * yRow,
            Co,
            zpOut,
            p.qMin,
            p.qMax,
          );
      }
      // the last OW mod 4 pixels of the group's rows: one GEMM per pixel column, rows `pitch` apart
      for (let ow = main; ow < OW; ow++) {
        gemmQs8<R>(
          a + <usize>(ow * sw * Ci),
          <i32>pitch,
          rows,
          K,
          w,
          qc,
          Co,
          Co,
          y0 + <usize>(ow * Co),
          <i32>yRow,
          zpOut,
          p.qMin,
          p.qMax,
        );
      }
    }
  }
}

/** k×1: padded input columns (their pixels are W·Ci apart in x, so always copied). */
export function convKx1Qs8<R>(
  x: usize,
  w: usize,
  qc: usize,
  scratch: usize,
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
  const k = p.kh,
    sh = p.sh,
    L = (OH - 1) * sh + k,
    K = k * Ci;
  const pitch = <usize>(W * Ci),
    lBytes = <usize>(L * Ci),
    yRow = <usize>(OW * Co);
  const top = min(p.pt, L),
    mid = max(0, min(H, L - p.pt));
  const R = lineGroup(OH, OW),
    main = OH & ~3;
  for (let n = 0; n < N; n++) {
    for (let ow0 = 0; ow0 < OW; ow0 += R) {
      const cols = min(R, OW - ow0);
      for (let j = 0; j < cols; j++) {
        const iw = (ow0 + j) * p.sw - p.pl,
          d = scratch + <usize>j * lBytes;
        if (iw < 0 || iw >= W) memory.fill(d, <u8>zpIn, lBytes);
        else padLine(d, x + <usize>(n * H) * pitch + <usize>(iw * Ci), pitch, Ci, L, top, mid, zpIn);
      }
      const y0 = y + <usize>(n * OH) * yRow + <usize>(ow0 * Co);
      if (main > 0) {
        for (let j = 0; j < cols; j++)
          gemmQs8<R>(
            scratch + <usize>j * lBytes,
            sh * Ci,
            main,
            K,
            w,
            qc,
            Co,
            Co,
            y0 + <usize>(j * Co),
            <i32>yRow,
            zpOut,
            p.qMin,
            p.qMax,
          );
      }
      // the last OH mod 4 outputs of the group's columns: one GEMM per output row, columns L·Ci apart
      for (let oh = main; oh < OH; oh++) {
        gemmQs8<R>(
          scratch + <usize>(oh * sh * Ci),
          <i32>lBytes,
          cols,
          K,
          w,
          qc,
          Co,
          Co,
          y0 + <usize>oh * yRow,
          Co,
          zpOut,
          p.qMin,
          p.qMax,
        );
      }
    }
  }
}
