// Conv2D_F32_P8's unchecked tile (every tap of its 4 pixels in bounds, a kernel row's taps adjacent in x: the pointwise
// convs' GEMM and the interior of ungrouped undilated convs) and the scratch its partial tiles go through. Layouts,
// summation order and exactness: f32-conv2d-4x8-packed.ts. SIMD build only.
import { activate4 } from '../activation';
import { gW, gCi, gCig, gCog, gKH, gKW, gDH, gAct, gLo, gHi, gK0, gK1, gFirst, gLast } from './f32-conv-geometry';

// 8 floats of bias for a partial panel, then 4 pixels × 8 lanes of results for partial tiles (tileBuf + 32). A global,
// not a constant address: a worker instance of the threads build moves it to its own heap (privateConvTile).
export let tileBuf: usize = memory.data(160, 16);

/** Threaded build (assembly/threads.ts): a worker instance's partial tiles go through scratch of its own heap. */
export function privateConvTile(): void {
  tileBuf = (heap.alloc(176) + 15) & ~(<usize>15);
}

/** tile4x8 when every tap of the tile's 4 pixels is in bounds and a kernel row's taps are adjacent in x (ungrouped,
 *  undilated): per kernel row one loop over KW·Ci floats. xb0..xb3: each pixel's first tap (kh 0, kw 0, ci 0) in x;
 *  y0..y3: each pixel's output at channel 0 of the group. */
export function tileInterior(
  xb0: usize,
  xb1: usize,
  xb2: usize,
  xb3: usize,
  wp0: usize,
  bg: usize,
  y0: usize,
  y1: usize,
  y2: usize,
  y3: usize,
  pi0: i32,
  np: i32,
  npix: i32,
): void {
  const bias8 = tileBuf,
    tile32 = tileBuf + 32;
  const rowLen = gKW * gCig;
  const panelBytes = (<usize>(gKH * rowLen)) << 5;
  const rowBytes = (<usize>(gDH * gW * gCi)) << 2;
  const lo = f32x4.splat(gLo),
    hi = f32x4.splat(gHi),
    act = gLast ? gAct : 0;
  for (let pq = 0; pq < np; pq++) {
    const j = (pi0 + pq) << 3;
    const cols = min(8, gCog - j);
    const jb = (<usize>j) << 2;
    let a00 = f32x4.splat(0),
      a01 = f32x4.splat(0);
    if (!gFirst) {
      if (cols < 8) partialSums(y0 + jb, y1 + jb, y2 + jb, y3 + jb, cols);
    } else if (bg != 0) {
      if (cols == 8) {
        a00 = v128.load(bg + jb);
        a01 = v128.load(bg + jb, 16);
      } else {
        biasLanes(bg + jb, cols);
        a00 = v128.load(bias8);
        a01 = v128.load(bias8, 16);
      }
    }
    let a10 = a00,
      a11 = a01,
      a20 = a00,
      a21 = a01,
      a30 = a00,
      a31 = a01;
    if (!gFirst) {
      const full = cols == 8;
      a00 = v128.load(full ? y0 + jb : tile32);
      a01 = v128.load(full ? y0 + jb : tile32, 16);
      a10 = v128.load(full ? y1 + jb : tile32 + 32);
      a11 = v128.load(full ? y1 + jb : tile32 + 32, 16);
      a20 = v128.load(full ? y2 + jb : tile32 + 64);
      a21 = v128.load(full ? y2 + jb : tile32 + 64, 16);
      a30 = v128.load(full ? y3 + jb : tile32 + 96);
      a31 = v128.load(full ? y3 + jb : tile32 + 96, 16);
    }
    const wp = wp0 + <usize>pq * panelBytes;
    for (let kh = gK0; kh < gK1; kh++) {
      const r = <usize>kh * rowBytes;
      let xp0 = xb0 + r,
        xp1 = xb1 + r,
        xp2 = xb2 + r,
        xp3 = xb3 + r;
      let wq = wp + ((<usize>(kh * rowLen)) << 5);
      for (let i = 0; i < rowLen; i++) {
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
    }
    a00 = activate4(a00, act, lo, hi);
    a01 = activate4(a01, act, lo, hi);
    a10 = activate4(a10, act, lo, hi);
    a11 = activate4(a11, act, lo, hi);
    a20 = activate4(a20, act, lo, hi);
    a21 = activate4(a21, act, lo, hi);
    a30 = activate4(a30, act, lo, hi);
    a31 = activate4(a31, act, lo, hi);
    if (cols == 8 && npix == 4) {
      v128.store(y0 + jb, a00);
      v128.store(y0 + jb, a01, 16);
      v128.store(y1 + jb, a10);
      v128.store(y1 + jb, a11, 16);
      v128.store(y2 + jb, a20);
      v128.store(y2 + jb, a21, 16);
      v128.store(y3 + jb, a30);
      v128.store(y3 + jb, a31, 16);
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
    memory.copy(y0 + jb, tile32, bytes);
    if (npix > 1) memory.copy(y1 + jb, tile32 + 32, bytes);
    if (npix > 2) memory.copy(y2 + jb, tile32 + 64, bytes);
    if (npix > 3) memory.copy(y3 + jb, tile32 + 96, bytes);
  }
}

/** `cols` (< 8) bias values at b into the bias lanes of the scratch, the other lanes 0. */
export function biasLanes(b: usize, cols: i32): void {
  v128.store(tileBuf, f32x4.splat(0));
  v128.store(tileBuf, f32x4.splat(0), 16);
  memory.copy(tileBuf, b, (<usize>cols) << 2);
}

/** The partial sums of `cols` (< 8) channels of 4 pixels into the scratch's tile (8 floats each, lanes past cols 0). */
export function partialSums(o0: usize, o1: usize, o2: usize, o3: usize, cols: i32): void {
  loadPartial(o0, cols, 0);
  loadPartial(o1, cols, 32);
  loadPartial(o2, cols, 64);
  loadPartial(o3, cols, 96);
}

/** The stored partial sums of `cols` channels at o into the scratch's tile + off (lanes past cols zero). */
function loadPartial(o: usize, cols: i32, off: usize): void {
  const at = tileBuf + 32 + off;
  v128.store(at, f32x4.splat(0));
  v128.store(at, f32x4.splat(0), 16);
  memory.copy(at, o, (<usize>cols) << 2);
}
