// Conv2D_F32_P8: Conv2D f32 over weights packed at compile time in 8-channel panels. x [N,H,W,Ci] NHWC,
// w [G, P = ceil(Cog/8), KH, KW, Cig, 8] (lanes past Cog are 0), b [Co] or none, y [N,OH,OW,Co]; offsets in bytes.
// Summation order per output (the contract, as Conv2D_F32): acc = b[co]; kh, kw, ci ascending (padded taps skipped)
// acc += x·w; then activation. SIMD: register tiles of 4 output pixels × 8 channels (8 v128 accumulators) reading
// one panel contiguously. The N·OH·OW output pixels are one sequence cut into tiles of 4 (a tile may span rows and
// images; the last 1–3 pixels fill a tile by repeating the last one, whose extra lanes are not stored). A tap in the
// padding for some pixels of a tile runs for all of them and the skipped pixels' accumulators are put back afterwards,
// so their sums never see it. A kernel row whose taps are all in bounds for the 4 pixels of an ungrouped, undilated
// conv is one loop over KW·Ci contiguous floats (pointwise convs: a GEMM over the N·H·W pixels). Loop order by the
// size of a group's weights: ≤ 32 KiB tile → every panel; ≤ 256 KiB pixel blocks (x and y in L2) → panel →
// kernel-row chunk → tiles; bigger: panel → chunk → all tiles (pointwise: a pair of panels where it says panel). The
// scalar build runs f32-conv2d-4x8-packed-scalar.ts. Both builds are bit-identical to refConv2dP8
// (assembly/reference/conv.ts) and to Conv2D_F32. The unchecked tile and the partial-tile scratch:
// f32-conv2d-4x8-packed-interior.ts; pointwise whole tiles: f32-conv2d-1x1-4x8-packed.ts. `yStride` (simd, pointwise
// only; 0: Co): the output's pixel stride in floats, so threads can run a slice of the panels (assembly/threads-float.ts).
import { StepParams } from '../../bundle/model';
import { activate4 } from '../activation';
import { conv2dF32P8Scalar } from './f32-conv2d-4x8-packed-scalar';
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
  gOH,
  gOW,
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
import { tileBuf, tileInterior, biasLanes, partialSums } from './f32-conv2d-4x8-packed-interior';
import { tilePointwise, tilePointwise1 } from './f32-conv2d-1x1-4x8-packed';

const L1_PANEL_BYTES: i32 = 16384;
// A group's panels up to this size stay in L1 whole: each tile then runs all of them (x of its pixels read once,
// y rows written whole); bigger ones sweep all pixels one panel (and kernel-row chunk) at a time.
const L1_WEIGHT_BYTES: usize = 32768;
// Bigger weights up to this size run blocks of pixels (x and y of a block: BLOCK_BYTES) so all stay in L2; beyond it,
// all pixels per panel chunk (the weights then are read once).
const L2_WEIGHT_BYTES: usize = 262144;
const BLOCK_BYTES: i32 = 131072;

export function conv2dF32P8(
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
  yStride: i32 = 0,
): void {
  const pointwise = isPointwise(p);
  if (pointwise) {
    // pointwise: the pixels of all images are one row (same sums; longer rows leave fewer partial tiles)
    W = N * H * W;
    OW = W;
    N = 1;
    H = 1;
    OH = 1;
  }
  if (!ASC_FEATURE_SIMD) {
    conv2dF32P8Scalar(x, w, b, y, N, H, W, Ci, OH, OW, Co, G, p, pointwise);
    return;
  }
  setConvGeometry(H, W, Ci, OH, OW, Co, G, p);
  const Cig = gCig,
    Cog = gCog;
  const P = (Cog + 7) >> 3;
  const panelBytes = (<usize>(p.kh * p.kw * Cig)) << 5;
  const gStrideW = <usize>P * panelBytes;
  const T = N * OH * OW;
  const inner = gStrideW <= L1_WEIGHT_BYTES;
  // panels per sweep: all (weights in L1), else 1, or 2 for a pointwise conv (tilePointwise's 2 pixels × 2 panels tile)
  const np = inner ? P : pointwise ? min(2, P) : 1;
  const rowsPerChunk = inner ? p.kh : max(1, L1_PANEL_BYTES / (p.kw * Cig * 32));
  // weights that fit L2 sweep blocks of pixels whose x and y stay in L2 too
  const B =
    inner || <usize>G * gStrideW > L2_WEIGHT_BYTES ? T : max(16, (BLOCK_BYTES / ((Ci * p.sh * p.sw + Co) * 4)) & ~3);
  for (let t0 = 0; t0 < T; t0 += B) {
    const tEnd = min(T, t0 + B);
    for (let g = 0; g < G; g++) {
      const xg = x + ((<usize>(g * Cig)) << 2);
      const yg = y + ((<usize>(g * Cog)) << 2);
      const bg: usize = b == 0 ? 0 : b + ((<usize>(g * Cog)) << 2);
      for (let pi = 0; pi < P; pi += np) {
        const nq = min(np, P - pi); // a pair of pointwise panels may end on one
        const wp = w + <usize>g * gStrideW + <usize>pi * panelBytes;
        for (let k0 = 0; k0 < p.kh; k0 += rowsPerChunk) {
          setKernelRows(k0, min(k0 + rowsPerChunk, p.kh), p.kh);
          // pixel t0's image, row and column, then stepped (no divisions per tile)
          let n = t0 / (OH * OW),
            oh = (t0 % (OH * OW)) / OW,
            ow = t0 % OW;
          if (pointwise) {
            // a GEMM: pixel t's taps are its Ci floats at x + t·Ci; whole panels on tilePointwise (4 pixels) or, for a
            // short last tile, tilePointwise1 per pixel (kh 1: one kernel-row chunk, so every sum starts from the bias)
            const xs = (<usize>Ci) << 2,
              ys = (<usize>(yStride > 0 ? yStride : Co)) << 2;
            const whole = min(nq, (Cog >> 3) - pi),
              act = gLast ? gAct : 0;
            for (let t = t0; t < tEnd; t += 4) {
              const q = min(4, tEnd - t);
              const x0 = xg + <usize>t * xs,
                y0 = yg + <usize>t * ys;
              if (whole > 0) {
                if (q == 4) tilePointwise(x0, xs, wp, bg, y0, ys, pi, whole, Cig, act, gLo, gHi);
                else
                  for (let k = 0; k < q; k++)
                    tilePointwise1(x0 + <usize>k * xs, wp, bg, y0 + <usize>k * ys, pi, whole, Cig, act, gLo, gHi);
              }
              const done = whole;
              if (done == nq) continue;
              const d1 = <usize>min(1, q - 1),
                d2 = <usize>min(2, q - 1),
                d3 = <usize>(q - 1);
              tileInterior(
                x0,
                x0 + d1 * xs,
                x0 + d2 * xs,
                x0 + d3 * xs,
                wp + <usize>done * panelBytes,
                bg,
                y0,
                y0 + d1 * ys,
                y0 + d2 * ys,
                y0 + d3 * ys,
                pi + done,
                nq - done,
                q,
              );
            }
            continue;
          }
          for (let t = t0; t < tEnd; t += 4) {
            tile4x8(xg, wp, bg, yg, t, min(4, tEnd - t), pi, nq, n, oh, ow);
            ow += 4;
            while (ow >= OW) {
              ow -= OW;
              if (++oh == OH) {
                oh = 0;
                n++;
              }
            }
          }
        }
      }
    }
  }
}

/** Output pixels t..t+npix-1 (npix 1..4, counted over N·OH·OW; pixel t is image n, row oh, column ow) × the np
 *  panels from wp0 (channels 8·pi0 .. of the group). */
function tile4x8(
  xg: usize,
  wp0: usize,
  bg: usize,
  yg: usize,
  t: i32,
  npix: i32,
  pi0: i32,
  np: i32,
  n: i32,
  oh: i32,
  ow: i32,
): void {
  const bias8 = tileBuf,
    tile32 = tileBuf + 32;
  const Cig = gCig,
    KW = gKW,
    Ci = gCi,
    H = gH,
    W = gW,
    DW = gDW;
  // pixel q of the tile is output pixel t + min(q, npix - 1): a short tile repeats its last pixel
  const t1 = t + min(1, npix - 1),
    t2 = t + min(2, npix - 1),
    t3 = t + npix - 1;
  const yStep = (<usize>gCo) << 2;
  // each pixel's image (as a pointer to its x), first input row and column; pixels q > 0 stepped from pixel 0's
  const imgBytes = (<usize>(gH * W) * Ci) << 2;
  const x0 = xg + <usize>n * imgBytes,
    ih0 = oh * gSH - gPT,
    iw0 = ow * gSW - gPL;
  pN = n;
  pOH = oh;
  pOW = ow;
  if (npix > 1) nextPixel(pN, pOH, pOW);
  const x1 = xg + <usize>pN * imgBytes,
    ih1 = pOH * gSH - gPT,
    iw1 = pOW * gSW - gPL;
  if (npix > 2) nextPixel(pN, pOH, pOW);
  const x2 = xg + <usize>pN * imgBytes,
    ih2 = pOH * gSH - gPT,
    iw2 = pOW * gSW - gPL;
  if (npix > 3) nextPixel(pN, pOH, pOW);
  const x3 = xg + <usize>pN * imgBytes,
    ih3 = pOH * gSH - gPT,
    iw3 = pOW * gSW - gPL;
  if (
    DW == 1 &&
    Cig == Ci &&
    min(min(iw0, iw1), min(iw2, iw3)) >= 0 &&
    max(max(iw0, iw1), max(iw2, iw3)) + KW - 1 < W &&
    min(min(ih0, ih1), min(ih2, ih3)) + gK0 * gDH >= 0 &&
    max(max(ih0, ih1), max(ih2, ih3)) + (gK1 - 1) * gDH < H
  ) {
    const rb = (<usize>(W * Ci)) << 2;
    tileInterior(
      x0 + <usize>ih0 * rb + ((<usize>(iw0 * Ci)) << 2),
      x1 + <usize>ih1 * rb + ((<usize>(iw1 * Ci)) << 2),
      x2 + <usize>ih2 * rb + ((<usize>(iw2 * Ci)) << 2),
      x3 + <usize>ih3 * rb + ((<usize>(iw3 * Ci)) << 2),
      wp0,
      bg,
      yg + <usize>t * yStep,
      yg + <usize>t1 * yStep,
      yg + <usize>t2 * yStep,
      yg + <usize>t3 * yStep,
      pi0,
      np,
      npix,
    );
    return;
  }
  const panelBytes = (<usize>(gKH * KW * Cig)) << 5;
  for (let pq = 0; pq < np; pq++) {
    const j = (pi0 + pq) << 3,
      wp = wp0 + <usize>pq * panelBytes;
    const cols = min(8, gCog - j);
    const o0 = yg + ((<usize>t * gCo + <usize>j) << 2),
      o1 = o0 + <usize>(t1 - t) * yStep,
      o2 = o0 + <usize>(t2 - t) * yStep,
      o3 = o0 + <usize>(t3 - t) * yStep;
    const jb = (<usize>j) << 2;
    let a00 = f32x4.splat(0),
      a01 = f32x4.splat(0);
    if (!gFirst) {
      if (cols < 8) partialSums(o0, o1, o2, o3, cols);
    } else if (bg != 0) {
      if (cols < 8) biasLanes(bg + jb, cols);
      a00 = v128.load(cols == 8 ? bg + jb : bias8);
      a01 = v128.load(cols == 8 ? bg + jb : bias8, 16);
    }
    let a10 = a00,
      a11 = a01,
      a20 = a00,
      a21 = a01,
      a30 = a00,
      a31 = a01;
    if (!gFirst) {
      // partial sums of the earlier kernel-row chunks
      const full = cols == 8;
      a00 = v128.load(full ? o0 : tile32);
      a01 = v128.load(full ? o0 : tile32, 16);
      a10 = v128.load(full ? o1 : tile32 + 32);
      a11 = v128.load(full ? o1 : tile32 + 32, 16);
      a20 = v128.load(full ? o2 : tile32 + 64);
      a21 = v128.load(full ? o2 : tile32 + 64, 16);
      a30 = v128.load(full ? o3 : tile32 + 96);
      a31 = v128.load(full ? o3 : tile32 + 96, 16);
    }
    const rowLen = KW * Cig;
    for (let kh = gK0; kh < gK1; kh++) {
      const d = kh * gDH;
      const r0 = ih0 + d >= 0 && ih0 + d < H,
        r1 = ih1 + d >= 0 && ih1 + d < H;
      const r2 = ih2 + d >= 0 && ih2 + d < H,
        r3 = ih3 + d >= 0 && ih3 + d < H;
      if (!(r0 || r1 || r2 || r3)) continue;
      // a pixel whose row is in the padding reads a valid pixel's row (its accumulators are put back below)
      const anyX = r0 ? x0 : r1 ? x1 : r2 ? x2 : x3,
        anyIh = r0 ? ih0 : r1 ? ih1 : r2 ? ih2 : ih3;
      const xr0 = r0 ? x0 + ((<usize>((ih0 + d) * W) * Ci) << 2) : anyX + ((<usize>((anyIh + d) * W) * Ci) << 2),
        xr1 = r1 ? x1 + ((<usize>((ih1 + d) * W) * Ci) << 2) : anyX + ((<usize>((anyIh + d) * W) * Ci) << 2),
        xr2 = r2 ? x2 + ((<usize>((ih2 + d) * W) * Ci) << 2) : anyX + ((<usize>((anyIh + d) * W) * Ci) << 2),
        xr3 = r3 ? x3 + ((<usize>((ih3 + d) * W) * Ci) << 2) : anyX + ((<usize>((anyIh + d) * W) * Ci) << 2);
      const wrow = wp + ((<usize>(kh * rowLen)) << 5);
      for (let kw = 0; kw < KW; kw++) {
        const e = kw * DW;
        const c0 = r0 && iw0 + e >= 0 && iw0 + e < W,
          c1 = r1 && iw1 + e >= 0 && iw1 + e < W;
        const c2 = r2 && iw2 + e >= 0 && iw2 + e < W,
          c3 = r3 && iw3 + e >= 0 && iw3 + e < W;
        if (!(c0 || c1 || c2 || c3)) continue;
        // a pixel whose tap is in the padding reads a valid pixel's tap and gets its accumulators back after
        const any = c0
          ? xr0 + ((<usize>((iw0 + e) * Ci)) << 2)
          : c1
            ? xr1 + ((<usize>((iw1 + e) * Ci)) << 2)
            : c2
              ? xr2 + ((<usize>((iw2 + e) * Ci)) << 2)
              : xr3 + ((<usize>((iw3 + e) * Ci)) << 2);
        let xp0 = c0 ? xr0 + ((<usize>((iw0 + e) * Ci)) << 2) : any,
          xp1 = c1 ? xr1 + ((<usize>((iw1 + e) * Ci)) << 2) : any,
          xp2 = c2 ? xr2 + ((<usize>((iw2 + e) * Ci)) << 2) : any,
          xp3 = c3 ? xr3 + ((<usize>((iw3 + e) * Ci)) << 2) : any;
        const s00 = a00,
          s01 = a01,
          s10 = a10,
          s11 = a11,
          s20 = a20,
          s21 = a21,
          s30 = a30,
          s31 = a31;
        let wq = wrow + ((<usize>(kw * Cig)) << 5);
        for (let ci = 0; ci < Cig; ci++) {
          const w0 = v128.load(wq),
            w1 = v128.load(wq, 16);
          const v0 = v128.load32_splat(xp0),
            v1 = v128.load32_splat(xp1);
          const v2 = v128.load32_splat(xp2),
            v3 = v128.load32_splat(xp3);
          a00 = f32x4.add(a00, f32x4.mul(v0, w0));
          a01 = f32x4.add(a01, f32x4.mul(v0, w1));
          a10 = f32x4.add(a10, f32x4.mul(v1, w0));
          a11 = f32x4.add(a11, f32x4.mul(v1, w1));
          a20 = f32x4.add(a20, f32x4.mul(v2, w0));
          a21 = f32x4.add(a21, f32x4.mul(v2, w1));
          a30 = f32x4.add(a30, f32x4.mul(v3, w0));
          a31 = f32x4.add(a31, f32x4.mul(v3, w1));
          xp0 += 4;
          xp1 += 4;
          xp2 += 4;
          xp3 += 4;
          wq += 32;
        }
        if (!c0) {
          a00 = s00;
          a01 = s01;
        }
        if (!c1) {
          a10 = s10;
          a11 = s11;
        }
        if (!c2) {
          a20 = s20;
          a21 = s21;
        }
        if (!c3) {
          a30 = s30;
          a31 = s31;
        }
      }
    }
    const lo = f32x4.splat(gLo),
      hi = f32x4.splat(gHi),
      act = gLast ? gAct : 0;
    a00 = activate4(a00, act, lo, hi);
    a01 = activate4(a01, act, lo, hi);
    a10 = activate4(a10, act, lo, hi);
    a11 = activate4(a11, act, lo, hi);
    a20 = activate4(a20, act, lo, hi);
    a21 = activate4(a21, act, lo, hi);
    a30 = activate4(a30, act, lo, hi);
    a31 = activate4(a31, act, lo, hi);
    if (cols == 8 && npix == 4) {
      v128.store(o0, a00);
      v128.store(o0, a01, 16);
      v128.store(o1, a10);
      v128.store(o1, a11, 16);
      v128.store(o2, a20);
      v128.store(o2, a21, 16);
      v128.store(o3, a30);
      v128.store(o3, a31, 16);
      continue;
    }
    v128.store(tile32, a00);
    v128.store(tile32, a01, 16);
    v128.store(tile32, a10, 32);
    v128.store(tile32, a11, 48);
    v128.store(tile32, a20, 64);
    v128.store(tile32, a21, 80);
    v128.store(tile32, a30, 96);
    v128.store(tile32, a31, 112);
    const bytes = (<usize>cols) << 2;
    for (let q = 0; q < npix; q++) memory.copy(o0 + <usize>q * yStep, tile32 + ((<usize>q) << 5), bytes);
  }
}

// The pixel after (n, oh, ow) in N·OH·OW order, in pN, pOH, pOW (a tile's pixels without divisions). A short tile
// does not step past its last pixel, which its remaining slots repeat.
let pN: i32 = 0,
  pOH: i32 = 0,
  pOW: i32 = 0;
// @ts-ignore: decorator
@inline function nextPixel(n: i32, oh: i32, ow: i32): void {
  pN = n;
  pOH = oh;
  pOW = ow + 1;
  if (pOW == gOW) {
    pOW = 0;
    if (++pOH == gOH) {
      pOH = 0;
      pN++;
    }
  }
}

/** A 1×1 stride-1 conv without padding: a GEMM over the N·H·W pixels (also how threads split it). */
export function isPointwise(p: StepParams): bool {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
}
