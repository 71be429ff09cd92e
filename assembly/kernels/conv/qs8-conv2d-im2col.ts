// Conv2D_QS8 through the qs8 GEMM: x i8 [N,H,W,Ci] → y i8 [N,OH,OW,Co]. Per image and group, im2col
// writes scratch [OH·OW, Kp] (K = KH·KW·Ci/G in (kh, kw, ci) order, padded taps = zp_in, Kp = K rounded up to 8),
// then gemmQs8 over it with the group's packed weights; 1x1 / stride 1 / unpadded / G = 1 (scratch 0)
// runs the GEMM on x directly. Integer-exact (see gemm/qs8-gemm.ts).
import { StepParams } from '../../bundle/model';
import { gemmQs8, qs8GemmPackedSize } from '../gemm/qs8-gemm';
import { padWindow } from './qs8-dwconv2d';
import { conv3x3s2c3Fits, conv3x3s2c3Qs8 } from './qs8-conv2d-3x3s2c3-wasmsimd';

/** Channels up to this take im2colPadded when some tap falls outside the image (SIMD builds). */
const PAD_MAX_C = 4;

export function conv2dQs8<R>(
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
  const G = p.groups,
    cig = Ci / G,
    cog = Co / G;
  if (scratch == 0) {
    gemmQs8<R>(x, Ci, N * H * W, Ci, w, qc, Co, Co, y, Co, zpOut, p.qMin, p.qMax);
    return;
  }
  // the 3-channel 3×3 stride-2 stems: taps widened straight from x (no scratch pass); the relaxed build keeps its tile
  if (ASC_FEATURE_SIMD && !ASC_FEATURE_RELAXED_SIMD && Ci == 3 && conv3x3s2c3Fits(p, Co)) {
    conv3x3s2c3Qs8<R>(x, w, qc, y, N, H, W, OH, OW, Co, p, zpIn, zpOut);
    return;
  }
  const K = p.kh * p.kw * cig,
    Kp = (K + 7) & ~7;
  const groupBytes = <usize>qs8GemmPackedSize(cog, K);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      im2colQs8(x, scratch, n, H, W, Ci, OH, OW, g * cig, cig, Kp, p, zpIn);
      gemmQs8<R>(
        scratch,
        Kp,
        OH * OW,
        K,
        w + <usize>g * groupBytes,
        qc + ((<usize>(g * cog)) << 2),
        Co,
        cog,
        y + <usize>n * <usize>(OH * OW * Co) + <usize>(g * cog),
        Co,
        zpOut,
        p.qMin,
        p.qMax,
      );
    }
  }
}

/**
 * n bytes from src to d (short runs: no bulk-memory call): 8-byte moves, the last one overlapping the one before
 * it instead of a byte loop; under 8 bytes two overlapping 4- or 2-byte moves. Never touches a byte outside n.
 */
// @ts-ignore: decorator
@inline function copyShort(d: usize, src: usize, n: i32): void {
  if (n >= 8) {
    let i = 0;
    for (; i + 8 <= n; i += 8) store<u64>(d + <usize>i, load<u64>(src + <usize>i));
    if (i < n) store<u64>(d + <usize>(n - 8), load<u64>(src + <usize>(n - 8)));
  } else if (n >= 4) {
    const t = load<u32>(src + <usize>(n - 4));
    store<u32>(d, load<u32>(src));
    store<u32>(d + <usize>(n - 4), t);
  } else if (n >= 2) {
    const t = load<u16>(src + <usize>(n - 2));
    store<u16>(d, load<u16>(src));
    store<u16>(d + <usize>(n - 2), t);
  } else if (n == 1) {
    store<u8>(d, load<u8>(src));
  }
}

/** copyShort, or memory.copy from 64 bytes on. */
// @ts-ignore: decorator
@inline function copyShortOrBulk(d: usize, src: usize, n: i32): void {
  if (n >= 64) memory.copy(d, src, <usize>n);
  else copyShort(d, src, n);
}

/** n bytes of v at d (short runs: no bulk-memory call), with the same overlapping moves as copyShort. */
// @ts-ignore: decorator
@inline function fillShort(d: usize, v: i32, n: i32): void {
  const v8 = <u64>(v & 0xff) * 0x0101010101010101;
  if (n >= 8) {
    let i = 0;
    for (; i + 8 <= n; i += 8) store<u64>(d + <usize>i, v8);
    if (i < n) store<u64>(d + <usize>(n - 8), v8);
  } else if (n >= 4) {
    store<u32>(d, <u32>v8);
    store<u32>(d + <usize>(n - 4), <u32>v8);
  } else if (n >= 2) {
    store<u16>(d, <u16>v8);
    store<u16>(d + <usize>(n - 2), <u16>v8);
  } else if (n == 1) {
    store<u8>(d, <u8>v);
  }
}

/**
 * Rows of `Kp` bytes, one per output pixel: taps (kh, kw) of channels [c0, c0+cig); padding = zp.
 * With one group and dilation 1 along w, the KW taps of an in-bounds row are KW·Ci contiguous input bytes:
 * one copy per kernel row (the 3-channel first layers would otherwise move 3 bytes per tap).
 */
export function im2colQs8(
  x: usize,
  s: usize,
  n: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  c0: i32,
  cig: i32,
  Kp: i32,
  p: StepParams,
  zp: i32,
): void {
  const KH = p.kh,
    KW = p.kw,
    sh = p.sh,
    sw = p.sw,
    pt = p.pt,
    pl = p.pl,
    dh = p.dh,
    dw = p.dw;
  const K = KH * KW * cig,
    span = KW * cig;
  const rowCopy = cig == Ci && dw == 1;
  // SIMD builds: the output columns whose taps are all in bounds (iw0 ≥ 0, iw0 + KW ≤ W) of a row whose kernel rows
  // all are, as KH span copies from pointers walked by sw·Ci (the generic walk below recomputes and checks every
  // tap's address per pixel: 1/3 of MobileNetV2's 3×3×3 stem). Not in the scalar build (its wasm3 nesting budget).
  let owLo = 0,
    owHi = 0;
  if (ASC_FEATURE_SIMD && rowCopy) {
    owLo = min(OW, (pl + sw - 1) / sw);
    owHi = W - KW + pl < 0 ? 0 : min(OW, (W - KW + pl) / sw + 1);
    if (owHi < owLo) owHi = owLo;
    const inside = owLo == 0 && owHi == OW && pt <= 0 && (OH - 1) * sh - pt + (KH - 1) * dh < H;
    if (!inside && Ci <= PAD_MAX_C && OH > 0 && OW > 0 && im2colPadded(x, s, n, H, W, Ci, OH, OW, K, Kp, p, zp)) return;
  }
  let row = s;
  for (let oh = 0; oh < OH; oh++) {
    const ihTop = oh * sh - pt;
    const fastRow = ASC_FEATURE_SIMD && owLo < owHi && ihTop >= 0 && ihTop + (KH - 1) * dh < H;
    if (fastRow) {
      const rs = <usize>(dh * W * Ci),
        ps = <usize>(sw * Ci);
      let src = x + <usize>(((n * H + ihTop) * W + owLo * sw - pl) * Ci),
        d = row + <usize>(owLo * Kp);
      for (let ow = owLo; ow < owHi; ow++) {
        let e = d,
          t = src;
        for (let kh = 0; kh < KH; kh++) {
          copyShortOrBulk(e, t, span);
          e += <usize>span;
          t += rs;
        }
        fillShort(e, 0, Kp - K);
        d += <usize>Kp;
        src += ps;
      }
    }
    for (let ow = 0; ow < OW; ow++) {
      if (fastRow && ow == owLo) {
        // columns [owLo, owHi) written above
        row += <usize>((owHi - owLo) * Kp);
        ow = owHi - 1;
        continue;
      }
      let d = row;
      const iw0 = ow * sw - pl;
      const inW = rowCopy && iw0 >= 0 && iw0 + KW <= W;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh * dh;
        if (ih < 0 || ih >= H) {
          if (span >= 64) memory.fill(d, <u8>zp, <usize>span);
          else fillShort(d, zp, span);
          d += <usize>span;
          continue;
        }
        const xrow = x + <usize>((n * H + ih) * W * Ci + c0);
        if (inW) {
          const src = xrow + <usize>(iw0 * Ci);
          if (span >= 64) memory.copy(d, src, <usize>span);
          else copyShort(d, src, span);
          d += <usize>span;
          continue;
        }
        for (let kw = 0; kw < KW; kw++) {
          const iw = iw0 + kw * dw;
          if (iw < 0 || iw >= W) {
            if (cig >= 64) memory.fill(d, <u8>zp, <usize>cig);
            else fillShort(d, zp, cig);
          } else {
            const src = xrow + <usize>(iw * Ci);
            if (cig >= 64) memory.copy(d, src, <usize>cig);
            else copyShort(d, src, cig);
          }
          d += <usize>cig;
        }
      }
      fillShort(d, 0, Kp - K);
      row += <usize>Kp;
    }
  }
}

/**
 * im2colQs8 for one group with few channels (SIMD builds): the input window of every tap is copied once with zp_in
 * outside the image (padWindow), then every pixel is KH copies of KW·Ci bytes, no bounds checks (the border pixels of a
 * small map, e.g. KWS's 10×4 stride-2 first conv on 49×10, would otherwise move one byte per tap). False (nothing
 * written) when the window passes the padded block's limit.
 */
function im2colPadded(
  x: usize,
  s: usize,
  n: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  K: i32,
  Kp: i32,
  p: StepParams,
  zp: i32,
): bool {
  const Hp = (OH - 1) * p.sh + (p.kh - 1) * p.dh + 1,
    Wp = (OW - 1) * p.sw + p.kw;
  const pad = padWindow(x, n, H, W, Ci, -p.pt, Hp, -p.pl, Wp, zp);
  if (pad == 0) return false;
  const KH = p.kh,
    span = p.kw * Ci,
    rs = <usize>(p.dh * Wp * Ci),
    ps = <usize>(p.sw * Ci),
    os = <usize>(p.sh * Wp * Ci);
  // spans of ≤ 16 bytes (the 3-channel stems: 9): one 16-byte load and store per kernel row, each store's surplus
  // overwritten by the next row's and the last one's by 16 zero bytes at K (Kp − K < 8), whose surplus the next
  // pixels overwrite (rows are written in order, each in full); so the pixels whose stores would pass the scratch's
  // end, or whose loads the window's, take the short copies
  const wide = span <= 16 && OH * OW * Kp >= K + 16;
  const winEnd = pad + <usize>(Hp * Wp * Ci),
    lastStore = s + <usize>(OH * OW) * <usize>Kp - <usize>(K + 16),
    down = <usize>(KH - 1) * rs;
  let d = s;
  for (let oh = 0; oh < OH; oh++) {
    let src = pad + <usize>oh * os;
    for (let ow = 0; ow < OW; ow++) {
      let t = src;
      if (wide && KH == 3 && d <= lastStore && src + down + 16 <= winEnd) {
        // the 3×3 stems: the three loads ahead of the stores (stem 0.95–0.99× of the loop below, bench/profile.ts)
        const l0 = v128.load(t),
          l1 = v128.load(t + rs),
          l2 = v128.load(t + 2 * rs);
        v128.store(d, l0);
        v128.store(d + <usize>span, l1);
        v128.store(d + <usize>(2 * span), l2);
        v128.store(d + <usize>K, i8x16.splat(0));
        d += <usize>Kp;
      } else if (wide && d <= lastStore && src + down + 16 <= winEnd) {
        let e = d;
        for (let kh = 0; kh < KH; kh++) {
          v128.store(e, v128.load(t));
          e += <usize>span;
          t += rs;
        }
        v128.store(d + <usize>K, i8x16.splat(0));
        d += <usize>Kp;
      } else {
        for (let kh = 0; kh < KH; kh++) {
          copyShort(d, t, span);
          d += <usize>span;
          t += rs;
        }
        fillShort(d, 0, Kp - K);
        d += <usize>(Kp - K);
      }
      src += ps;
    }
  }
  return true;
}
