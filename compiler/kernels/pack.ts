// Weight packers tied to the kernel variants (compiler/kernels/registry.ts names which variant uses which).
// Input: the IR's OHWI / [out, in] weights as numbers (int8 values for qs8); output: the bytes the kernel reads.
// Packers are small monomorphic functions so V8 optimises their loops.

/**
 * c2 GEMM packing: w [N,K] row-major → blocks of 8 columns [Kp/2][8][2] (Kp = K rounded up to 2, zero past K),
 * the last N mod 8 columns as one narrower block [Kp/2][N mod 8][2]: N·Kp bytes, no column padding.
 */
export function packQs8Gemm4x8c2(w: ArrayLike<number>, N: number, K: number): Int8Array {
  const Kp = Math.ceil(K / 2) * 2;
  const out = new Int8Array(N * Kp);
  for (let n = 0; n < N; n++) {
    const b = n & ~7,
      width = Math.min(8, N - b);
    for (let k = 0; k < K; k++) out[b * Kp + (k >> 1) * width * 2 + (n - b) * 2 + (k & 1)] = w[n * K + k]!;
  }
  return out;
}

/** Depthwise: OHWI [C·M,KH,KW,1] → [KH,KW,C·M]. */
export function packQs8Depthwise(w: ArrayLike<number>, co: number, kh: number, kw: number): Int8Array {
  const taps = kh * kw,
    out = new Int8Array(taps * co);
  for (let o = 0; o < co; o++) for (let t = 0; t < taps; t++) out[t * co + o] = w[o * taps + t]!;
  return out;
}

/** OHWI [Co,KH,KW,Ci/G] → [G,KH,KW,Ci/G,Co/G]. */
export function packConvWeights(
  w: Float32Array,
  groups: number,
  co: number,
  kh: number,
  kw: number,
  cig: number,
): Float32Array {
  const cog = co / groups,
    taps = kh * kw;
  const packed = new Float32Array(co * taps * cig);
  for (let o = 0; o < co; o++) {
    const grp = Math.floor(o / cog),
      oo = o % cog;
    for (let y = 0; y < taps; y++) {
      const dst = (grp * taps + y) * cig * cog + oo,
        src = (o * taps + y) * cig;
      for (let c = 0; c < cig; c++) packed[dst + c * cog] = w[src + c]!;
    }
  }
  return packed;
}

/** OHWI [Co,KH,KW,Cig] → Conv2D_F32_P8's panels [G, ceil(Cog/8), KH, KW, Cig, 8] (lanes past Cog stay 0): each
 *  panel's 8 channels × every tap, contiguous in the order the kernel reads them. */
export function packConvWeightsP8(
  w: ArrayLike<number>,
  groups: number,
  co: number,
  kh: number,
  kw: number,
  cig: number,
): Float32Array {
  const cog = co / groups,
    taps = kh * kw,
    panels = Math.ceil(cog / 8);
  const packed = new Float32Array(groups * panels * taps * cig * 8);
  for (let o = 0; o < co; o++) {
    const grp = Math.floor(o / cog),
      oo = o % cog;
    const panel = (grp * panels + Math.floor(oo / 8)) * taps * cig * 8 + (oo % 8);
    for (let t = 0; t < taps; t++)
      for (let c = 0; c < cig; c++) packed[panel + (t * cig + c) * 8] = w[(o * taps + t) * cig + c]!;
  }
  return packed;
}

/** OHWI [C·M,KH,KW,1] → [KH,KW,C·M]. */
export function packDepthwiseWeights(w: Float32Array, co: number, kh: number, kw: number): Float32Array {
  const taps = kh * kw;
  const packed = new Float32Array(taps * co);
  for (let o = 0; o < co; o++) for (let y = 0; y < taps; y++) packed[y * co + o] = w[o * taps + y]!;
  return packed;
}

/** [out,in] = [N,K] → [K,N]. */
export function packDenseWeights(w: Float32Array, n: number, k: number): Float32Array {
  const packed = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) packed[i * n + j] = w[j * k + i]!;
  return packed;
}

/** 2G of Winograd F(2, 3): integer, so U' = (2G)·g·(2G)ᵀ = 4·GgGᵀ is (|U'| ≤ 9·128, i16). */
const G2 = [
  [2, 0, 0],
  [1, 1, 1],
  [1, -1, 1],
  [0, 0, 2],
];

/**
 * Conv2DWino_QS8: OHWI [Co,3,3,Ci] → U' per (co, ci) as little-endian i16 in blocks of 8 output channels
 * [ceil(Co/8)][16 ξ = 4i + j][Cip/2][8 co][2 ci] (Cip = Ci rounded up to 8, zero past Co and Ci): ceil(Co/8)·Cip·256
 * bytes.
 */
export function packQs8Wino(w: ArrayLike<number>, co: number, ci: number): Int8Array {
  const cip = Math.ceil(ci / 8) * 8,
    out = new Int16Array(Math.ceil(co / 8) * cip * 128);
  for (let o = 0; o < co; o++)
    for (let c = 0; c < ci; c++)
      for (let xi = 0; xi < 16; xi++) {
        const gi = G2[xi >> 2]!,
          gj = G2[xi & 3]!;
        let u = 0;
        for (let r = 0; r < 3; r++)
          for (let s = 0; s < 3; s++) u += gi[r]! * w[((o * 3 + r) * 3 + s) * ci + c]! * gj[s]!;
        out[(((o >> 3) * 16 + xi) * (cip / 2) + (c >> 1)) * 16 + (o & 7) * 2 + (c & 1)] = u;
      }
  return new Int8Array(out.buffer);
}
