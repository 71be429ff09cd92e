// Conv2D_QS8 through the qs8 GEMM: x i8 [N,H,W,Ci] → y i8 [N,OH,OW,Co]. Per image and group, im2col
// writes scratch [OH·OW, Kp] (K = KH·KW·Ci/G in (kh, kw, ci) order, padded taps = zp_in, Kp = K rounded up to 8),
// then gemmQs8 over it with the group's packed weights; 1x1 / stride 1 / unpadded / G = 1 (scratch 0)
// runs the GEMM on x directly. Integer-exact (see qs8-gemm-4x8c2.ts).
import { StepParams } from '../../bundle/model';
import { gemmQs8, qs8GemmPackedSize } from '../gemm/qs8-gemm-4x8c2';

export function conv2dQs8(x: usize, w: usize, qc: usize, scratch: usize, y: usize, N: i32, H: i32, W: i32, Ci: i32,
                          OH: i32, OW: i32, Co: i32, p: StepParams, zpIn: i32, zpOut: i32): void {
  const G = p.groups, cig = Ci / G, cog = Co / G;
  if (scratch == 0) {
    gemmQs8(x, Ci, N * H * W, Ci, w, qc, Co, Co, y, Co, zpOut, p.qMin, p.qMax);
    return;
  }
  const K = p.kh * p.kw * cig, Kp = (K + 7) & ~7;
  const groupBytes = <usize>qs8GemmPackedSize(cog, K);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      im2colQs8(x, scratch, n, H, W, Ci, OH, OW, g * cig, cig, Kp, p, zpIn);
      gemmQs8(scratch, Kp, OH * OW, K, w + <usize>g * groupBytes, qc + (<usize>(g * cog) << 2), Co, cog,
              y + <usize>n * <usize>(OH * OW * Co) + <usize>(g * cog), Co, zpOut, p.qMin, p.qMax);
    }
  }
}

/** Rows of `Kp` bytes, one per output pixel: taps (kh, kw) of channels [c0, c0+cig); padding = zp. */
export function im2colQs8(x: usize, s: usize, n: i32, H: i32, W: i32, Ci: i32, OH: i32, OW: i32,
                          c0: i32, cig: i32, Kp: i32, p: StepParams, zp: i32): void {
  const K = p.kh * p.kw * cig;
  let row = s;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      let d = row;
      for (let kh = 0; kh < p.kh; kh++) {
        const ih = oh * p.sh - p.pt + kh * p.dh;
        for (let kw = 0; kw < p.kw; kw++) {
          const iw = ow * p.sw - p.pl + kw * p.dw;
          const out = ih < 0 || ih >= H || iw < 0 || iw >= W;
          if (cig >= 16) {
            if (out) memory.fill(d, <u8>zp, <usize>cig);
            else memory.copy(d, x + <usize>(((n * H + ih) * W + iw) * Ci + c0), <usize>cig);
          } else if (out) {
            for (let c = 0; c < cig; c++) store<u8>(d + <usize>c, <u8>zp);
          } else {
            // few channels (first layers): a byte loop beats a bulk-memory call per tap
            const src = x + <usize>(((n * H + ih) * W + iw) * Ci + c0);
            for (let c = 0; c < cig; c++) store<u8>(d + <usize>c, load<u8>(src + <usize>c));
          }
          d += <usize>cig;
        }
      }
      if (Kp > K) memory.fill(d, 0, <usize>(Kp - K));
      row += <usize>Kp;
    }
  }
}
