// Conv2D_F32_P8's pointwise steps (1×1, stride 1, unpadded: a GEMM over the N·H·W pixels) in the simd builds: whole
// tiles of 4 consecutive pixels × whole 8-channel panels, 8 v128 accumulators, the bias read without a branch (a zero
// panel when the conv has none) and no partial-sum or partial-tile paths. Panels in pairs run as 2 pixels × 16
// channels twice (2 splats and 4 weight vectors per ci instead of 4 and 2: 2.5 % less time on float MobileNetV2's
// steps, docs/benchmarks.md), a lone panel as 4 pixels × 8. f32-conv2d-4x8-packed.ts calls it per tile
// and leaves a partial last panel (Cog mod 8) to tileInterior, a short last tile (1–3 pixels: a 7×7 image's 49th) to
// tilePointwise1 pixel by pixel. 10–12 % faster than tileInterior on MobileNetV2's pointwise shapes in isolation.
// Layouts (w [G, ceil(Cog/8), 1, 1, Cig, 8]), the summation order (acc = b[co]; ci ascending; then activation) and
// exactness: f32-conv2d-4x8-packed.ts; bit-identical to it and to refConv2dP8 (test/assembly/conv-pointwise.test.ts).
import { activate4 } from '../activation';

// The bias panel of a conv without bias: 8 zeros (+0, what the accumulators start from without one). Read only, so
// the threads build's instances share it.
const ZERO_PANEL: usize = memory.data(32, 16);

/** np whole panels from channel 8·pi of the group (weights wp, bias bg or 0, outputs at y0 + 32·pi) of the 4 pixels
 *  at x0 + k·xs (Cig taps each), outputs y0 + k·ys (channel 0 of the group); act from simdAct. */
export function tilePointwise(
  x0: usize,
  xs: usize,
  wp: usize,
  bg: usize,
  y0: usize,
  ys: usize,
  pi: i32,
  np: i32,
  Cig: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const panelBytes = (<usize>Cig) << 5;
  const bStep: usize = bg == 0 ? 0 : 32;
  const bp = bg == 0 ? ZERO_PANEL : bg + ((<usize>pi) << 5);
  const x1 = x0 + xs,
    x2 = x1 + xs,
    x3 = x2 + xs;
  const o0 = y0 + ((<usize>pi) << 5),
    o1 = o0 + ys,
    o2 = o1 + ys,
    o3 = o2 + ys;
  const vlo = f32x4.splat(lo),
    vhi = f32x4.splat(hi);
  let pq = 0;
  for (; pq + 2 <= np; pq += 2) {
    const jb = (<usize>pq) << 5,
      bq = bp + <usize>pq * bStep;
    const wq = wp + <usize>pq * panelBytes;
    pair2x16(x0, x1, wq, panelBytes, bq, bq + bStep, o0 + jb, o1 + jb, Cig, act, vlo, vhi);
    pair2x16(x2, x3, wq, panelBytes, bq, bq + bStep, o2 + jb, o3 + jb, Cig, act, vlo, vhi);
  }
  for (; pq < np; pq++) {
    const jb = (<usize>pq) << 5,
      bq = bp + <usize>pq * bStep;
    let a00 = v128.load(bq),
      a01 = v128.load(bq, 16);
    let a10 = a00,
      a11 = a01,
      a20 = a00,
      a21 = a01,
      a30 = a00,
      a31 = a01;
    let xp0 = x0,
      xp1 = x1,
      xp2 = x2,
      xp3 = x3;
    let wq = wp + <usize>pq * panelBytes;
    for (let i = 0; i < Cig; i++) {
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
    v128.store(o0 + jb, activate4(a00, act, vlo, vhi));
    v128.store(o0 + jb, activate4(a01, act, vlo, vhi), 16);
    v128.store(o1 + jb, activate4(a10, act, vlo, vhi));
    v128.store(o1 + jb, activate4(a11, act, vlo, vhi), 16);
    v128.store(o2 + jb, activate4(a20, act, vlo, vhi));
    v128.store(o2 + jb, activate4(a21, act, vlo, vhi), 16);
    v128.store(o3 + jb, activate4(a30, act, vlo, vhi));
    v128.store(o3 + jb, activate4(a31, act, vlo, vhi), 16);
  }
}

/** tilePointwise for one pixel (x at x0, outputs at y0): 2 accumulators per panel. The 4-pixel tile would run the pixel
 *  4 times over (a short tile repeats its last pixel); alone it is bound by its 2 add chains, ~half that tile's time
 *  per ci (7×7 pointwise convs: 49 pixels, the 13th tile 1 pixel). Same order per output as tilePointwise. */
export function tilePointwise1(
  x0: usize,
  wp: usize,
  bg: usize,
  y0: usize,
  pi: i32,
  np: i32,
  Cig: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const panelBytes = (<usize>Cig) << 5;
  const bStep: usize = bg == 0 ? 0 : 32;
  const bp = bg == 0 ? ZERO_PANEL : bg + ((<usize>pi) << 5);
  const o0 = y0 + ((<usize>pi) << 5);
  const vlo = f32x4.splat(lo),
    vhi = f32x4.splat(hi);
  for (let pq = 0; pq < np; pq++) {
    const bq = bp + <usize>pq * bStep;
    let a0 = v128.load(bq),
      a1 = v128.load(bq, 16);
    let xp = x0;
    let wq = wp + <usize>pq * panelBytes;
    for (let i = 0; i < Cig; i++) {
      const v = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wq)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wq, 16)));
      xp += 4;
      wq += 32;
    }
    const o = o0 + ((<usize>pq) << 5);
    v128.store(o, activate4(a0, act, vlo, vhi));
    v128.store(o, activate4(a1, act, vlo, vhi), 16);
  }
}

/** 2 pixels (x at xa, xb; outputs at ya, yb) × 2 panels (weights wq, wq + panelBytes; biases ba, bb): 8 accumulators,
 *  2 splats and 4 weight vectors per ci. */
// @ts-ignore: decorator
@inline function pair2x16(
  xa: usize,
  xb: usize,
  wq: usize,
  panelBytes: usize,
  ba: usize,
  bb: usize,
  ya: usize,
  yb: usize,
  Cig: i32,
  act: i32,
  vlo: v128,
  vhi: v128,
): void {
  let a0 = v128.load(ba),
    a1 = v128.load(ba, 16),
    a2 = v128.load(bb),
    a3 = v128.load(bb, 16);
  let c0 = a0,
    c1 = a1,
    c2 = a2,
    c3 = a3;
  let wa = wq,
    wb = wq + panelBytes;
  for (let i = 0; i < Cig; i++) {
    const w0 = v128.load(wa),
      w1 = v128.load(wa, 16),
      w2 = v128.load(wb),
      w3 = v128.load(wb, 16);
    const u = v128.load32_splat(xa),
      v = v128.load32_splat(xb);
    a0 = f32x4.add(a0, f32x4.mul(u, w0));
    a1 = f32x4.add(a1, f32x4.mul(u, w1));
    a2 = f32x4.add(a2, f32x4.mul(u, w2));
    a3 = f32x4.add(a3, f32x4.mul(u, w3));
    c0 = f32x4.add(c0, f32x4.mul(v, w0));
    c1 = f32x4.add(c1, f32x4.mul(v, w1));
    c2 = f32x4.add(c2, f32x4.mul(v, w2));
    c3 = f32x4.add(c3, f32x4.mul(v, w3));
    xa += 4;
    xb += 4;
    wa += 32;
    wb += 32;
  }
  v128.store(ya, activate4(a0, act, vlo, vhi));
  v128.store(ya, activate4(a1, act, vlo, vhi), 16);
  v128.store(ya, activate4(a2, act, vlo, vhi), 32);
  v128.store(ya, activate4(a3, act, vlo, vhi), 48);
  v128.store(yb, activate4(c0, act, vlo, vhi));
  v128.store(yb, activate4(c1, act, vlo, vhi), 16);
  v128.store(yb, activate4(c2, act, vlo, vhi), 32);
  v128.store(yb, activate4(c3, act, vlo, vhi), 48);
}
