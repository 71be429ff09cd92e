// Conv2DWino_QS8: a 3×3 stride-1 dilation-1 ungrouped int8 conv as an exact integer Winograd F(2×2, 3×3).
// x i8 [N,H,W,Ci] → y i8 [N,OH,OW,Co]. w: U' = (2G)·g·(2G)ᵀ = 4·GgGᵀ per (co, ci), i16 as byte pairs, blocks of 8
// output channels [ceil(Co/8)][16 ξ][Cip/2][8 co][2 ci] (Cip = Ci rounded up to 8; zero past Co and Ci;
// compiler/kernels/pack.ts packQs8Wino). Per group of 4 output tiles (2×2 pixels each, row-major over the image):
// V = BᵀdB of every tile's 4×4 raw input window (padding = zp_in; |V| ≤ 510, i16) into an i16 panel
// [16 ξ][Cip/8][4 tiles][8 ci] (one 16-byte store per tile, ξ and 8 channels; lanes past Ci meet zero weights); per
// 8-channel block and ξ the 4×8 i32 product sums Σ_ci U'·V (per channel pair a 4-byte splat per tile and
// i32x4.dot_i16x8_s, as qs8-gemm-4x8c2-wasmsimd.ts) into a [16 ξ][4][8] buffer; then 4Y = AᵀMA, Y = 4Y >> 2,
// acc = Y + bias (bias − zp_in·Σw folded), requantised as the direct conv (8 channels at a time as the GEMM tile,
// its one-shift i32 path included). Exact: every step is a ring operation mod 2^32 until 4Y, and |4Y| ≤ 512·Σ|w| < 2^31 (the compiler
// picks this kernel only then), so 4Y is exact and acc is the direct conv's accumulator bit for bit.
// Reference: assembly/reference/qs8-wino.ts. Compiled into the simd and relaxed builds (the scalar one: -scalar.ts).
import { StepParams } from '../../bundle/model';
import { requant4At, requantAt } from '../gemm/qs8-requant';
import { store8, uniformShift } from '../gemm/qs8-gemm-4x8c2-wasmsimd';

// One heap block on the first run (static data would pass the builds' initial memory), grown when a step has wider
// input, kept for later runs: the V panel, then mbuf (product sums of one 8-channel block, [16 ξ][4 tiles][8] i32),
// then tailBuf (one pixel's last Ci mod 8 channels zero-extended: a whole 8-byte load would read past the tensor).
let panel: usize = 0;
let panelCip: i32 = 0;
let mbuf: usize = 0;
let tailBuf: usize = 0;

/** Bytes of the packed U' for Co × Ci (the packer writes this). */
export function qs8WinoPackedSize(Co: i32, Ci: i32): i32 {
  return ((Co + 7) >> 3) * ((Ci + 7) & ~7) * 256;
}

export function conv2dWinoQs8<R>(
  x: usize,
  w: usize,
  qc: usize,
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
  const Cip = (Ci + 7) & ~7;
  if (Cip > panelCip) {
    panelCip = max(Cip, 64);
    panel = (heap.alloc(<usize>(panelCip << 7) + 2048 + 32) + 15) & ~(<usize>15);
    mbuf = panel + <usize>(panelCip << 7);
    tailBuf = mbuf + 2048;
  }
  const tW = (OW + 1) >> 1,
    T = ((OH + 1) >> 1) * tW;
  const fs = uniformShift<R>(qc, Co, Co);
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zpOut * (1 << (fs - 32)) : 0);
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>(H * W * Ci),
      yn = y + <usize>n * <usize>(OH * OW * Co);
    for (let t0 = 0; t0 < T; t0 += 4) {
      const nt = min(4, T - t0);
      for (let t = 0; t < nt; t++) {
        const th = (t0 + t) / tW,
          tw = (t0 + t) % tW;
        inputTile(xn, H, W, Ci, Cip, 2 * th - p.pt, 2 * tw - p.pl, t, zpIn);
      }
      for (let c0 = 0; c0 < Co; c0 += 8) {
        products(w + <usize>(c0 >> 3) * <usize>(Cip << 8), Cip);
        for (let t = 0; t < nt; t++) {
          const th = (t0 + t) / tW,
            tw = (t0 + t) % tW;
          outputTile<R>(yn, qc, OH, OW, Co, c0, 2 * th, 2 * tw, t, p, zpOut, fs, rz);
        }
      }
    }
  }
}

/** 8 channels of input pixel (ih, iw) widened to i16, zp_in outside the image. */
// @ts-ignore: decorator
@inline function pix(x: usize, H: i32, W: i32, Ci: i32, c: i32, ih: i32, iw: i32, full: bool, zv: v128): v128 {
  if (ih < 0 || ih >= H || iw < 0 || iw >= W) return zv;
  const a = x + <usize>((ih * W + iw) * Ci + c);
  if (full) return v128.load8x8_s(a);
  store<u64>(tailBuf, 0);
  memory.copy(tailBuf, a, <usize>(Ci - c));
  return v128.load8x8_s(tailBuf);
}

/** V = BᵀdB of one tile's 4×4 window at (ih0, iw0) into panel slot t, 8 channels at a time: each window row times
 *  B (b_i0 = e0 − e2, b_i1 = e1 + e2, b_i2 = e2 − e1, b_i3 = e1 − e3), then Bᵀ down the columns. */
function inputTile(x: usize, H: i32, W: i32, Ci: i32, Cip: i32, ih0: i32, iw0: i32, t: i32, zp: i32): void {
  const zv = i16x8.splat(<i16>zp);
  const xs = <usize>(Cip << 3);
  for (let c = 0; c < Ci; c += 8) {
    const full = c + 8 <= Ci;
    let e0 = pix(x, H, W, Ci, c, ih0, iw0, full, zv),
      e1 = pix(x, H, W, Ci, c, ih0, iw0 + 1, full, zv),
      e2 = pix(x, H, W, Ci, c, ih0, iw0 + 2, full, zv),
      e3 = pix(x, H, W, Ci, c, ih0, iw0 + 3, full, zv);
    const b00 = i16x8.sub(e0, e2),
      b01 = i16x8.add(e1, e2),
      b02 = i16x8.sub(e2, e1),
      b03 = i16x8.sub(e1, e3);
    e0 = pix(x, H, W, Ci, c, ih0 + 1, iw0, full, zv);
    e1 = pix(x, H, W, Ci, c, ih0 + 1, iw0 + 1, full, zv);
    e2 = pix(x, H, W, Ci, c, ih0 + 1, iw0 + 2, full, zv);
    e3 = pix(x, H, W, Ci, c, ih0 + 1, iw0 + 3, full, zv);
    const b10 = i16x8.sub(e0, e2),
      b11 = i16x8.add(e1, e2),
      b12 = i16x8.sub(e2, e1),
      b13 = i16x8.sub(e1, e3);
    e0 = pix(x, H, W, Ci, c, ih0 + 2, iw0, full, zv);
    e1 = pix(x, H, W, Ci, c, ih0 + 2, iw0 + 1, full, zv);
    e2 = pix(x, H, W, Ci, c, ih0 + 2, iw0 + 2, full, zv);
    e3 = pix(x, H, W, Ci, c, ih0 + 2, iw0 + 3, full, zv);
    const b20 = i16x8.sub(e0, e2),
      b21 = i16x8.add(e1, e2),
      b22 = i16x8.sub(e2, e1),
      b23 = i16x8.sub(e1, e3);
    e0 = pix(x, H, W, Ci, c, ih0 + 3, iw0, full, zv);
    e1 = pix(x, H, W, Ci, c, ih0 + 3, iw0 + 1, full, zv);
    e2 = pix(x, H, W, Ci, c, ih0 + 3, iw0 + 2, full, zv);
    e3 = pix(x, H, W, Ci, c, ih0 + 3, iw0 + 3, full, zv);
    const b30 = i16x8.sub(e0, e2),
      b31 = i16x8.add(e1, e2),
      b32 = i16x8.sub(e2, e1),
      b33 = i16x8.sub(e1, e3);
    // ξ = 4i + j: V_0j = b0j − b2j, V_1j = b1j + b2j, V_2j = b2j − b1j, V_3j = b1j − b3j
    const d = panel + <usize>(c << 3) + <usize>(t << 4);
    v128.store(d, i16x8.sub(b00, b20));
    v128.store(d + xs, i16x8.sub(b01, b21));
    v128.store(d + 2 * xs, i16x8.sub(b02, b22));
    v128.store(d + 3 * xs, i16x8.sub(b03, b23));
    v128.store(d + 4 * xs, i16x8.add(b10, b20));
    v128.store(d + 5 * xs, i16x8.add(b11, b21));
    v128.store(d + 6 * xs, i16x8.add(b12, b22));
    v128.store(d + 7 * xs, i16x8.add(b13, b23));
    v128.store(d + 8 * xs, i16x8.sub(b20, b10));
    v128.store(d + 9 * xs, i16x8.sub(b21, b11));
    v128.store(d + 10 * xs, i16x8.sub(b22, b12));
    v128.store(d + 11 * xs, i16x8.sub(b23, b13));
    v128.store(d + 12 * xs, i16x8.sub(b10, b30));
    v128.store(d + 13 * xs, i16x8.sub(b11, b31));
    v128.store(d + 14 * xs, i16x8.sub(b12, b32));
    v128.store(d + 15 * xs, i16x8.sub(b13, b33));
  }
}

/** M[ξ][t][co] = Σ_ci U'[ξ][co][ci]·V[ξ][ci][t] for the 4 panel tiles × 8 channels of one weight block (i32, mod 2^32
 *  like every sum before 4Y): per channel pair two 16-byte weight loads (columns 0–3, 4–7), a 4-byte splat per tile. */
function products(wb: usize, Cip: i32): void {
  const xs = <usize>(Cip << 3);
  let q = wb;
  for (let xi = 0; xi < 16; xi++) {
    let p = panel + <usize>xi * xs;
    const pe = p + xs;
    const z = i32x4.splat(0);
    let c00 = z,
      c01 = z,
      c10 = z,
      c11 = z,
      c20 = z,
      c21 = z,
      c30 = z,
      c31 = z;
    // per 8 channels (64 panel bytes: 4 tiles × 16) 4 channel pairs at offsets 0, 4, 8, 12 of each tile's 16
    while (p < pe) {
      const pj = p + 16;
      for (let j = p; j < pj; j += 4) {
        const wl = v128.load(q),
          wh = v128.load(q, 16);
        const x0 = v128.load32_splat(j);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
        const x1 = v128.load32_splat(j, 16);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
        const x2 = v128.load32_splat(j, 32);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
        const x3 = v128.load32_splat(j, 48);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
        q += 32;
      }
      p += 64;
    }
    const m = mbuf + ((<usize>xi) << 7);
    v128.store(m, c00);
    v128.store(m, c01, 16);
    v128.store(m, c10, 32);
    v128.store(m, c11, 48);
    v128.store(m, c20, 64);
    v128.store(m, c21, 80);
    v128.store(m, c30, 96);
    v128.store(m, c31, 112);
  }
}

/** One output pixel's 4 channels from 4·Y: Y = 4Y >> 2 (exact), + bias, requantised; the last Co mod 4 one by one. */
// @ts-ignore: decorator
@inline function emit<R>(y: usize, v: v128, qc: usize, Co: i32, c: i32, zp: i32, lo: i32, hi: i32): void {
  const a = i32x4.shr_s(v, 2);
  if (c + 4 <= Co) {
    const r = requant4At<R>(i32x4.add(a, v128.load(qc + ((<usize>c) << 2))), qc, Co, c, zp, lo, hi);
    const h = i16x8.narrow_i32x4_s(r, r);
    v128.store32_lane(y + <usize>c, i8x16.narrow_i16x8_s(h, h), 0);
    return;
  }
  v128.store(tailBuf, a);
  for (let l = 0; c + l < Co; l++) {
    const acc = load<i32>(tailBuf + ((<usize>l) << 2)) + load<i32>(qc + ((<usize>(c + l)) << 2));
    store<i8>(y + <usize>(c + l), <i8>requantAt<R>(acc, qc, Co, c + l, zp, lo, hi));
  }
}

/** 4Y = AᵀMA for panel tile t and channels [c0, c0 + 8) (rows s0 = m0 + m1 + m2, s1 = m1 − m2 − m3, then the same
 *  along the columns), the pixels of the 2×2 tile at (oh0, ow0) inside the output. */
function outputTile<R>(
  y: usize,
  qc: usize,
  OH: i32,
  OW: i32,
  Co: i32,
  c0: i32,
  oh0: i32,
  ow0: i32,
  t: i32,
  p: StepParams,
  zp: i32,
  fs: i32,
  rz: v128,
): void {
  const right = ow0 + 1 < OW,
    down = oh0 + 1 < OH;
  const y0 = y + <usize>((oh0 * OW + ow0) * Co),
    y1 = y0 + <usize>(OW * Co);
  const m = mbuf + <usize>(t << 5);
  if (c0 + 8 > Co) {
    for (let c = c0; c < Co; c += 4) outputHalf<R>(y0, y1, m + <usize>((c - c0) << 2), qc, Co, c, right, down, p, zp);
    return;
  }
  const lo = p.qMin,
    hi = p.qMax;
  const lov = i16x8.splat(<i16>lo),
    hiv = i16x8.splat(<i16>hi);
  const m0 = v128.load(qc + ((<usize>(Co + c0)) << 2)),
    m1 = v128.load(qc + ((<usize>(Co + c0)) << 2), 16);
  const b0 = v128.load(qc + ((<usize>c0) << 2)),
    b1 = v128.load(qc + ((<usize>c0) << 2), 16);
  const n = mbuf + <usize>(t << 5) + 16;
  // the 4 pixels' 4Y of channels c0..c0+3 (m) and c0+4..c0+7 (n), then Y + bias
  const s00 = i32x4.add(i32x4.add(v128.load(m), v128.load(m, 512)), v128.load(m, 1024)),
    s01 = i32x4.add(i32x4.add(v128.load(m, 128), v128.load(m, 640)), v128.load(m, 1152)),
    s02 = i32x4.add(i32x4.add(v128.load(m, 256), v128.load(m, 768)), v128.load(m, 1280)),
    s03 = i32x4.add(i32x4.add(v128.load(m, 384), v128.load(m, 896)), v128.load(m, 1408));
  const u00 = i32x4.add(i32x4.add(v128.load(n), v128.load(n, 512)), v128.load(n, 1024)),
    u01 = i32x4.add(i32x4.add(v128.load(n, 128), v128.load(n, 640)), v128.load(n, 1152)),
    u02 = i32x4.add(i32x4.add(v128.load(n, 256), v128.load(n, 768)), v128.load(n, 1280)),
    u03 = i32x4.add(i32x4.add(v128.load(n, 384), v128.load(n, 896)), v128.load(n, 1408));
  const a0 = bias(i32x4.add(i32x4.add(s00, s01), s02), b0),
    a1 = bias(i32x4.add(i32x4.add(u00, u01), u02), b1);
  store8<R>(y0, c0, a0, a1, qc, Co, fs, m0, m1, rz, lov, hiv, zp, lo, hi);
  if (right) {
    const e0 = bias(i32x4.sub(i32x4.sub(s01, s02), s03), b0),
      e1 = bias(i32x4.sub(i32x4.sub(u01, u02), u03), b1);
    store8<R>(y0 + <usize>Co, c0, e0, e1, qc, Co, fs, m0, m1, rz, lov, hiv, zp, lo, hi);
  }
  if (!down) return;
  const s10 = i32x4.sub(i32x4.sub(v128.load(m, 512), v128.load(m, 1024)), v128.load(m, 1536)),
    s11 = i32x4.sub(i32x4.sub(v128.load(m, 640), v128.load(m, 1152)), v128.load(m, 1664)),
    s12 = i32x4.sub(i32x4.sub(v128.load(m, 768), v128.load(m, 1280)), v128.load(m, 1792)),
    s13 = i32x4.sub(i32x4.sub(v128.load(m, 896), v128.load(m, 1408)), v128.load(m, 1920));
  const u10 = i32x4.sub(i32x4.sub(v128.load(n, 512), v128.load(n, 1024)), v128.load(n, 1536)),
    u11 = i32x4.sub(i32x4.sub(v128.load(n, 640), v128.load(n, 1152)), v128.load(n, 1664)),
    u12 = i32x4.sub(i32x4.sub(v128.load(n, 768), v128.load(n, 1280)), v128.load(n, 1792)),
    u13 = i32x4.sub(i32x4.sub(v128.load(n, 896), v128.load(n, 1408)), v128.load(n, 1920));
  const f0 = bias(i32x4.add(i32x4.add(s10, s11), s12), b0),
    f1 = bias(i32x4.add(i32x4.add(u10, u11), u12), b1);
  store8<R>(y1, c0, f0, f1, qc, Co, fs, m0, m1, rz, lov, hiv, zp, lo, hi);
  if (right) {
    const g0 = bias(i32x4.sub(i32x4.sub(s11, s12), s13), b0),
      g1 = bias(i32x4.sub(i32x4.sub(u11, u12), u13), b1);
    store8<R>(y1 + <usize>Co, c0, g0, g1, qc, Co, fs, m0, m1, rz, lov, hiv, zp, lo, hi);
  }
}

/** acc = 4Y >> 2 (exact) + bias. */
// @ts-ignore: decorator
@inline function bias(v: v128, b: v128): v128 {
  return i32x4.add(i32x4.shr_s(v, 2), b);
}

/** outputTile for the last Co mod 8 channels, 4 at a time (m: their column of the product sums). */
function outputHalf<R>(
  y0: usize,
  y1: usize,
  m: usize,
  qc: usize,
  Co: i32,
  c: i32,
  right: bool,
  down: bool,
  p: StepParams,
  zp: i32,
): void {
  const lo = p.qMin,
    hi = p.qMax;
  const s00 = i32x4.add(i32x4.add(v128.load(m), v128.load(m, 512)), v128.load(m, 1024)),
    s01 = i32x4.add(i32x4.add(v128.load(m, 128), v128.load(m, 640)), v128.load(m, 1152)),
    s02 = i32x4.add(i32x4.add(v128.load(m, 256), v128.load(m, 768)), v128.load(m, 1280)),
    s03 = i32x4.add(i32x4.add(v128.load(m, 384), v128.load(m, 896)), v128.load(m, 1408));
  emit<R>(y0, i32x4.add(i32x4.add(s00, s01), s02), qc, Co, c, zp, lo, hi);
  if (right) emit<R>(y0 + <usize>Co, i32x4.sub(i32x4.sub(s01, s02), s03), qc, Co, c, zp, lo, hi);
  if (!down) return;
  const s10 = i32x4.sub(i32x4.sub(v128.load(m, 512), v128.load(m, 1024)), v128.load(m, 1536)),
    s11 = i32x4.sub(i32x4.sub(v128.load(m, 640), v128.load(m, 1152)), v128.load(m, 1664)),
    s12 = i32x4.sub(i32x4.sub(v128.load(m, 768), v128.load(m, 1280)), v128.load(m, 1792)),
    s13 = i32x4.sub(i32x4.sub(v128.load(m, 896), v128.load(m, 1408)), v128.load(m, 1920));
  emit<R>(y1, i32x4.add(i32x4.add(s10, s11), s12), qc, Co, c, zp, lo, hi);
  if (right) emit<R>(y1 + <usize>Co, i32x4.sub(i32x4.sub(s11, s12), s13), qc, Co, c, zp, lo, hi);
}
