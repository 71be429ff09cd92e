// Conv2D, f32 (pointwise convs go to gemm/f32-gemm.ts). x [N,H,W,Ci] NHWC, w [G,KH,KW,Ci/G,Co/G],
// b [Co] or none, y [N,OH,OW,Co]; offsets in bytes. Summation order per output (the contract):
// acc = b[co]; for kh, kw, ci ascending (padded taps skipped) acc += x·w; then activation.
// SIMD: per row and 8-channel block, tiles of 4 pixels x 8 channels (8 v128 accumulators) over
// the interior columns, tap-checked 4x8 tiles at the left/right edges, 1-pixel tiles for what
// is left, 4-wide and scalar channel tails. Scalar build: one pixel at a time, 4 channels in
// local accumulators. Both are bit-identical to the reference.
import { StepParams } from '../../bundle/model';
import { activate, activate4 } from '../activation';
import {
  gH,
  gW,
  gCi,
  gCo,
  gCig,
  gCog,
  gKH,
  gKW,
  gSH,
  gSW,
  gDH,
  gDW,
  gPT,
  gPL,
  gAct,
  gLo,
  gHi,
  gK0,
  gK1,
  gFirst,
  gLast,
  setConvGeometry,
  setKernelRows,
} from './f32-conv-geometry';

const L1_WEIGHT_BYTES: i32 = 16384;

export function conv2dF32(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  G: i32,
  p: StepParams,
): void {
  setConvGeometry(H, W, Ci, OH, OW, Co, G, p);
  const Cig = gCig,
    Cog = gCog;
  // Interior columns: every kw tap in bounds, so 4-pixel tiles need no per-pixel checks.
  let owLo = (p.pl + p.sw - 1) / p.sw;
  const lastStart = W - 1 + p.pl - (p.kw - 1) * p.dw;
  let owHi = lastStart >= 0 ? lastStart / p.sw + 1 : 0;
  if (owHi > OW) owHi = OW;
  if (owLo > owHi) owLo = owHi;
  const gStrideW = (<usize>(p.kh * p.kw * Cig * Cog)) << 2;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let g = 0; g < G; g++) {
        const xg = x + ((<usize>n * H * W * Ci + <usize>(g * Cig)) << 2);
        const wg = w + <usize>g * gStrideW;
        const bg: usize = b == 0 ? 0 : b + ((<usize>(g * Cog)) << 2);
        const yrow = y + ((<usize>(n * OH + oh) * OW * Co + <usize>(g * Cog)) << 2);
        if (ASC_FEATURE_SIMD) {
          // Channel blocks outermost within a row: one block's weights (KH·KW·Cig·8 floats, or a
          // chunk of its kernel rows) stay in L1 while the row's pixels stream past them.
          let j = 0;
          for (; j + 4 <= Cog; j += j + 8 <= Cog ? 8 : 4) {
            const wide = j + 8 <= Cog;
            const rowsPerChunk = max(1, L1_WEIGHT_BYTES / (p.kw * Cig * 32));
            for (let k0 = 0; k0 < p.kh; k0 += rowsPerChunk) {
              setKernelRows(k0, min(k0 + rowsPerChunk, p.kh), p.kh);
              let ow = 0;
              if (wide) {
                // Left edge in checked 4-pixel tiles while they fit, then unchecked interior tiles.
                for (; ow < owLo && ow + 4 <= OW; ow += 4)
                  tile4x8Checked(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j);
              }
              for (; ow < owLo; ow++) pixelChecked(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j, wide);
              for (; ow + 4 <= owHi; ow += 4) {
                if (wide) tile4x8(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j);
                else tile4x4(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j);
              }
              if (wide) {
                for (; ow + 4 <= OW; ow += 4) tile4x8Checked(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j);
              }
              for (; ow < OW; ow++) pixelChecked(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j, wide);
            }
          }
          if (j < Cog) {
            for (let ow = 0; ow < OW; ow++)
              channelsScalar(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow, j, Cog);
          }
        } else {
          for (let ow = 0; ow < OW; ow++) pixelScalar(xg, wg, bg, yrow + ((<usize>(ow * Co)) << 2), oh, ow);
        }
      }
    }
  }
}

/** Scalar build: one output pixel, channels 4 at a time in locals (no v128), then 1 at a time. */
function pixelScalar(xg: usize, wg: usize, bg: usize, yp: usize, oh: i32, ow: i32): void {
  const Cig = gCig,
    Cog = gCog,
    KW = gKW;
  const ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL;
  const wStep = (<usize>Cog) << 2;
  let j = 0;
  for (; j + 4 <= Cog; j += 4) {
    const bj = bg + ((<usize>j) << 2);
    let a0: f32 = bg == 0 ? 0 : load<f32>(bj),
      a1: f32 = bg == 0 ? 0 : load<f32>(bj, 4);
    let a2: f32 = bg == 0 ? 0 : load<f32>(bj, 8),
      a3: f32 = bg == 0 ? 0 : load<f32>(bj, 12);
    for (let kh = 0; kh < gKH; kh++) {
      const ih = ih0 + kh * gDH;
      if (ih < 0 || ih >= gH) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * gDW;
        if (iw < 0 || iw >= gW) continue;
        let xp = xg + ((<usize>((ih * gW + iw) * gCi)) << 2);
        let wp = wg + ((<usize>((kh * KW + kw) * Cig * Cog + j)) << 2);
        for (let ci = 0; ci < Cig; ci++) {
          const xv = load<f32>(xp);
          a0 += xv * load<f32>(wp);
          a1 += xv * load<f32>(wp, 4);
          a2 += xv * load<f32>(wp, 8);
          a3 += xv * load<f32>(wp, 12);
          xp += 4;
          wp += wStep;
        }
      }
    }
    const o = yp + ((<usize>j) << 2);
    store<f32>(o, activate(a0, gAct, gLo, gHi));
    store<f32>(o, activate(a1, gAct, gLo, gHi), 4);
    store<f32>(o, activate(a2, gAct, gLo, gHi), 8);
    store<f32>(o, activate(a3, gAct, gLo, gHi), 12);
  }
  if (j < Cog) channelsScalar(xg, wg, bg, yp, oh, ow, j, Cog);
}

/** Channels [j0, j1) of one pixel, one output at a time, tap-checked (tails and edges). */
function channelsScalar(xg: usize, wg: usize, bg: usize, yp: usize, oh: i32, ow: i32, j0: i32, j1: i32): void {
  const Cig = gCig,
    Cog = gCog,
    KW = gKW;
  const ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL;
  for (let j = j0; j < j1; j++) {
    let acc: f32 = bg == 0 ? 0 : load<f32>(bg + ((<usize>j) << 2));
    for (let kh = 0; kh < gKH; kh++) {
      const ih = ih0 + kh * gDH;
      if (ih < 0 || ih >= gH) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * gDW;
        if (iw < 0 || iw >= gW) continue;
        let xp = xg + ((<usize>((ih * gW + iw) * gCi)) << 2);
        let wp = wg + ((<usize>((kh * KW + kw) * Cig * Cog + j)) << 2);
        for (let ci = 0; ci < Cig; ci++) {
          acc += load<f32>(xp) * load<f32>(wp);
          xp += 4;
          wp += (<usize>Cog) << 2;
        }
      }
    }
    store<f32>(yp + ((<usize>j) << 2), activate(acc, gAct, gLo, gHi));
  }
}

/** One pixel with tap checks, channels [j, j+8) (wide) or [j, j+4). */
function pixelChecked(xg: usize, wg: usize, bg: usize, yp: usize, oh: i32, ow: i32, j: i32, wide: bool): void {
  const Cig = gCig,
    Cog = gCog,
    KW = gKW;
  const ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL;
  const wStep = (<usize>Cog) << 2;
  const lo = f32x4.splat(gLo),
    hi = f32x4.splat(gHi),
    act = gLast ? gAct : 0;
  const yj = yp + ((<usize>j) << 2);
  let a0 = !gFirst ? v128.load(yj) : bg == 0 ? f32x4.splat(0) : v128.load(bg + ((<usize>j) << 2));
  let a1 = !wide
    ? f32x4.splat(0)
    : !gFirst
      ? v128.load(yj, 16)
      : bg == 0
        ? f32x4.splat(0)
        : v128.load(bg + ((<usize>j) << 2), 16);
  for (let kh = gK0; kh < gK1; kh++) {
    const ih = ih0 + kh * gDH;
    if (ih < 0 || ih >= gH) continue;
    for (let kw = 0; kw < KW; kw++) {
      const iw = iw0 + kw * gDW;
      if (iw < 0 || iw >= gW) continue;
      let xp = xg + ((<usize>((ih * gW + iw) * gCi)) << 2);
      let wp = wg + ((<usize>((kh * KW + kw) * Cig * Cog + j)) << 2);
      if (wide) {
        for (let ci = 0; ci < Cig; ci++) {
          const xv = f32x4.splat(load<f32>(xp));
          a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
          a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
          xp += 4;
          wp += wStep;
        }
      } else {
        for (let ci = 0; ci < Cig; ci++) {
          a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(load<f32>(xp)), v128.load(wp)));
          xp += 4;
          wp += wStep;
        }
      }
    }
  }
  v128.store(yp + ((<usize>j) << 2), activate4(a0, act, lo, hi));
  if (wide) v128.store(yp + ((<usize>j) << 2), activate4(a1, act, lo, hi), 16);
}

/** Four interior pixels ow..ow+3 (no column checks) x channels [j, j+8): 8 v128 accumulators. */
function tile4x8(xg: usize, wg: usize, bg: usize, yp: usize, oh: i32, ow: i32, j: i32): void {
  const Cig = gCig,
    Cog = gCog,
    KW = gKW,
    Ci = gCi;
  const ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL;
  const wStep = (<usize>Cog) << 2;
  const pStep = (<usize>(gSW * Ci)) << 2; // next pixel's input, bytes
  const yStep = (<usize>gCo) << 2; // next pixel's output, bytes
  const lo = f32x4.splat(gLo),
    hi = f32x4.splat(gHi),
    act = gLast ? gAct : 0;
  const b0 = bg == 0 ? f32x4.splat(0) : v128.load(bg + ((<usize>j) << 2));
  const b1 = bg == 0 ? f32x4.splat(0) : v128.load(bg + ((<usize>j) << 2), 16);
  const o = yp + ((<usize>j) << 2);
  let a00 = b0,
    a01 = b1,
    a10 = b0,
    a11 = b1,
    a20 = b0,
    a21 = b1,
    a30 = b0,
    a31 = b1;
  if (!gFirst) {
    a00 = v128.load(o);
    a01 = v128.load(o, 16);
    a10 = v128.load(o + yStep);
    a11 = v128.load(o + yStep, 16);
    a20 = v128.load(o + 2 * yStep);
    a21 = v128.load(o + 2 * yStep, 16);
    a30 = v128.load(o + 3 * yStep);
    a31 = v128.load(o + 3 * yStep, 16);
  }
  for (let kh = gK0; kh < gK1; kh++) {
    const ih = ih0 + kh * gDH;
    if (ih < 0 || ih >= gH) continue;
    for (let kw = 0; kw < KW; kw++) {
      let xp = xg + ((<usize>((ih * gW + iw0 + kw * gDW) * Ci)) << 2);
      let wp = wg + ((<usize>((kh * KW + kw) * Cig * Cog + j)) << 2);
      for (let ci = 0; ci < Cig; ci++) {
        const w0 = v128.load(wp),
          w1 = v128.load(wp, 16);
        const x0 = v128.load32_splat(xp);
        const x1 = v128.load32_splat(xp + pStep);
        const x2 = v128.load32_splat(xp + 2 * pStep);
        const x3 = v128.load32_splat(xp + 3 * pStep);
        a00 = f32x4.add(a00, f32x4.mul(x0, w0));
        a01 = f32x4.add(a01, f32x4.mul(x0, w1));
        a10 = f32x4.add(a10, f32x4.mul(x1, w0));
        a11 = f32x4.add(a11, f32x4.mul(x1, w1));
        a20 = f32x4.add(a20, f32x4.mul(x2, w0));
        a21 = f32x4.add(a21, f32x4.mul(x2, w1));
        a30 = f32x4.add(a30, f32x4.mul(x3, w0));
        a31 = f32x4.add(a31, f32x4.mul(x3, w1));
        xp += 4;
        wp += wStep;
      }
    }
  }
  v128.store(o, activate4(a00, act, lo, hi));
  v128.store(o, activate4(a01, act, lo, hi), 16);
  v128.store(o + yStep, activate4(a10, act, lo, hi));
  v128.store(o + yStep, activate4(a11, act, lo, hi), 16);
  v128.store(o + 2 * yStep, activate4(a20, act, lo, hi));
  v128.store(o + 2 * yStep, activate4(a21, act, lo, hi), 16);
  v128.store(o + 3 * yStep, activate4(a30, act, lo, hi));
  v128.store(o + 3 * yStep, activate4(a31, act, lo, hi), 16);
}

/** Four interior pixels x channels [j, j+4) (the Co % 8 >= 4 tail). */
function tile4x4(xg: usize, wg: usize, bg: usize, yp: usize, oh: i32, ow: i32, j: i32): void {
  const Cig = gCig,
    Cog = gCog,
    KW = gKW,
    Ci = gCi;
  const ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL;
  const wStep = (<usize>Cog) << 2;
  const pStep = (<usize>(gSW * Ci)) << 2;
  const yStep = (<usize>gCo) << 2;
  const lo = f32x4.splat(gLo),
    hi = f32x4.splat(gHi),
    act = gLast ? gAct : 0;
  const b0 = bg == 0 ? f32x4.splat(0) : v128.load(bg + ((<usize>j) << 2));
  const o = yp + ((<usize>j) << 2);
  let a0 = b0,
    a1 = b0,
    a2 = b0,
    a3 = b0;
  if (!gFirst) {
    a0 = v128.load(o);
    a1 = v128.load(o + yStep);
    a2 = v128.load(o + 2 * yStep);
    a3 = v128.load(o + 3 * yStep);
  }
  for (let kh = gK0; kh < gK1; kh++) {
    const ih = ih0 + kh * gDH;
    if (ih < 0 || ih >= gH) continue;
    for (let kw = 0; kw < KW; kw++) {
      let xp = xg + ((<usize>((ih * gW + iw0 + kw * gDW) * Ci)) << 2);
      let wp = wg + ((<usize>((kh * KW + kw) * Cig * Cog + j)) << 2);
      for (let ci = 0; ci < Cig; ci++) {
        const w0 = v128.load(wp);
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), w0));
        a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(xp + pStep), w0));
        a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(xp + 2 * pStep), w0));
        a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(xp + 3 * pStep), w0));
        xp += 4;
        wp += wStep;
      }
    }
  }
  v128.store(o, activate4(a0, act, lo, hi));
  v128.store(o + yStep, activate4(a1, act, lo, hi));
  v128.store(o + 2 * yStep, activate4(a2, act, lo, hi));
  v128.store(o + 3 * yStep, activate4(a3, act, lo, hi));
}

/** Four pixels ow..ow+3 that may touch the left/right padding x channels [j, j+8): a tap valid
 *  for all four runs the 4x8 loop; otherwise each pixel with a valid tap runs its own 1x8 loop
 *  (same per-output order as the reference: taps ascending, ci ascending, invalid taps skipped). */
function tile4x8Checked(xg: usize, wg: usize, bg: usize, yp: usize, oh: i32, ow: i32, j: i32): void {
  const Cig = gCig,
    Cog = gCog,
    KW = gKW,
    Ci = gCi,
    W = gW;
  const ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL,
    SW = gSW;
  const wStep = (<usize>Cog) << 2;
  const pStep = (<usize>(SW * Ci)) << 2;
  const yStep = (<usize>gCo) << 2;
  const lo = f32x4.splat(gLo),
    hi = f32x4.splat(gHi),
    act = gLast ? gAct : 0;
  const b0 = bg == 0 ? f32x4.splat(0) : v128.load(bg + ((<usize>j) << 2));
  const b1 = bg == 0 ? f32x4.splat(0) : v128.load(bg + ((<usize>j) << 2), 16);
  const o = yp + ((<usize>j) << 2);
  let a00 = b0,
    a01 = b1,
    a10 = b0,
    a11 = b1,
    a20 = b0,
    a21 = b1,
    a30 = b0,
    a31 = b1;
  if (!gFirst) {
    a00 = v128.load(o);
    a01 = v128.load(o, 16);
    a10 = v128.load(o + yStep);
    a11 = v128.load(o + yStep, 16);
    a20 = v128.load(o + 2 * yStep);
    a21 = v128.load(o + 2 * yStep, 16);
    a30 = v128.load(o + 3 * yStep);
    a31 = v128.load(o + 3 * yStep, 16);
  }
  for (let kh = gK0; kh < gK1; kh++) {
    const ih = ih0 + kh * gDH;
    if (ih < 0 || ih >= gH) continue;
    for (let kw = 0; kw < KW; kw++) {
      const iw = iw0 + kw * gDW; // pixel q reads column iw + q·SW
      const v0 = iw >= 0 && iw < W,
        v1 = iw + SW >= 0 && iw + SW < W;
      const v2 = iw + 2 * SW >= 0 && iw + 2 * SW < W,
        v3 = iw + 3 * SW >= 0 && iw + 3 * SW < W;
      // Column offsets are only formed for valid pixels, so no pointer leaves the row.
      const xrow = xg + ((<usize>(ih * W * Ci)) << 2);
      const wp0 = wg + ((<usize>((kh * KW + kw) * Cig * Cog + j)) << 2);
      if (v0 && v1 && v2 && v3) {
        let xp = xrow + ((<usize>(iw * Ci)) << 2),
          wp = wp0;
        for (let ci = 0; ci < Cig; ci++) {
          const w0 = v128.load(wp),
            w1 = v128.load(wp, 16);
          const x0 = v128.load32_splat(xp),
            x1 = v128.load32_splat(xp + pStep);
          const x2 = v128.load32_splat(xp + 2 * pStep),
            x3 = v128.load32_splat(xp + 3 * pStep);
          a00 = f32x4.add(a00, f32x4.mul(x0, w0));
          a01 = f32x4.add(a01, f32x4.mul(x0, w1));
          a10 = f32x4.add(a10, f32x4.mul(x1, w0));
          a11 = f32x4.add(a11, f32x4.mul(x1, w1));
          a20 = f32x4.add(a20, f32x4.mul(x2, w0));
          a21 = f32x4.add(a21, f32x4.mul(x2, w1));
          a30 = f32x4.add(a30, f32x4.mul(x3, w0));
          a31 = f32x4.add(a31, f32x4.mul(x3, w1));
          xp += 4;
          wp += wStep;
        }
        continue;
      }
      if (v0) {
        let xp = xrow + ((<usize>(iw * Ci)) << 2),
          wp = wp0;
        for (let ci = 0; ci < Cig; ci++) {
          const x = v128.load32_splat(xp);
          a00 = f32x4.add(a00, f32x4.mul(x, v128.load(wp)));
          a01 = f32x4.add(a01, f32x4.mul(x, v128.load(wp, 16)));
          xp += 4;
          wp += wStep;
        }
      }
      if (v1) {
        let xp = xrow + ((<usize>((iw + SW) * Ci)) << 2),
          wp = wp0;
        for (let ci = 0; ci < Cig; ci++) {
          const x = v128.load32_splat(xp);
          a10 = f32x4.add(a10, f32x4.mul(x, v128.load(wp)));
          a11 = f32x4.add(a11, f32x4.mul(x, v128.load(wp, 16)));
          xp += 4;
          wp += wStep;
        }
      }
      if (v2) {
        let xp = xrow + ((<usize>((iw + 2 * SW) * Ci)) << 2),
          wp = wp0;
        for (let ci = 0; ci < Cig; ci++) {
          const x = v128.load32_splat(xp);
          a20 = f32x4.add(a20, f32x4.mul(x, v128.load(wp)));
          a21 = f32x4.add(a21, f32x4.mul(x, v128.load(wp, 16)));
          xp += 4;
          wp += wStep;
        }
      }
      if (v3) {
        let xp = xrow + ((<usize>((iw + 3 * SW) * Ci)) << 2),
          wp = wp0;
        for (let ci = 0; ci < Cig; ci++) {
          const x = v128.load32_splat(xp);
          a30 = f32x4.add(a30, f32x4.mul(x, v128.load(wp)));
          a31 = f32x4.add(a31, f32x4.mul(x, v128.load(wp, 16)));
          xp += 4;
          wp += wStep;
        }
      }
    }
  }
  v128.store(o, activate4(a00, act, lo, hi));
  v128.store(o, activate4(a01, act, lo, hi), 16);
  v128.store(o + yStep, activate4(a10, act, lo, hi));
  v128.store(o + yStep, activate4(a11, act, lo, hi), 16);
  v128.store(o + 2 * yStep, activate4(a20, act, lo, hi));
  v128.store(o + 2 * yStep, activate4(a21, act, lo, hi), 16);
  v128.store(o + 3 * yStep, activate4(a30, act, lo, hi));
  v128.store(o + 3 * yStep, activate4(a31, act, lo, hi), 16);
}
