// The closed-form low-rank factorisations of one weight tensor (float64): truncated SVD of a Dense / 1×1 conv
// matrix, Tai et al. 2016's separable k×1 → 1×k split, and Tucker-2 (HOSVD on the two channel modes).
// Layouts are the IR's: Dense [N,K] (out, in), Conv2D OHWI [Co,KH,KW,Ci]. Each `*Factors` returns the new
// layers' weights in those layouts; at full rank their composition equals the original exactly (up to rounding).
import { svd, type Svd } from './linalg.ts';

/** Sum of squares of the values from index r on (the squared error a truncation to rank r leaves, Eckart–Young). */
export function tailEnergy(s: ArrayLike<number>, r: number): number {
  let t = 0;
  for (let i = r; i < s.length; i++) t += s[i]! ** 2;
  return t;
}

/** Share of Σ s² the first r values hold. */
export function keptEnergy(s: ArrayLike<number>, r: number): number {
  const all = tailEnergy(s, 0);
  return all === 0 ? 1 : 1 - tailEnergy(s, r) / all;
}

// ---------- Dense (and 1×1 conv): W [N,K] ≈ B·A, A [r,K], B [N,r] ----------

export function matrixSvd(w: ArrayLike<number>, n: number, k: number): Svd {
  return svd(Float64Array.from(w), n, k);
}

/** First layer A = √s·Vᵀ [r,K], second B = U·√s [N,r] (the square root split keeps both ranges alike for int8). */
export function svdFactors(d: Svd, n: number, k: number, r: number): { first: Float64Array; second: Float64Array } {
  const first = new Float64Array(r * k),
    second = new Float64Array(n * r);
  for (let j = 0; j < r; j++) {
    const sq = Math.sqrt(d.s[j]!);
    for (let c = 0; c < k; c++) first[j * k + c] = sq * d.v[j]![c]!;
    for (let o = 0; o < n; o++) second[o * r + j] = sq * d.u[j]![o]!;
  }
  return { first, second };
}

// ---------- Tai et al. 2016: k×k conv → (kh×1, r channels) → (1×kw) ----------

export interface ConvShape {
  co: number;
  kh: number;
  kw: number;
  ci: number;
}

/** The (Ci·KH) × (Co·KW) matrix M[(c,y),(o,x)] = W[o,y,x,c] whose SVD gives the optimal separable pair. */
export function taiMatrix(w: ArrayLike<number>, s: ConvShape): Float64Array {
  const { co, kh, kw, ci } = s;
  const m = new Float64Array(ci * kh * co * kw);
  const cols = co * kw;
  for (let o = 0; o < co; o++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let c = 0; c < ci; c++) m[(c * kh + y) * cols + o * kw + x] = w[((o * kh + y) * kw + x) * ci + c]!;
  return m;
}

export function taiSvd(w: ArrayLike<number>, s: ConvShape): Svd {
  return svd(taiMatrix(w, s), s.ci * s.kh, s.co * s.kw);
}

/** Vertical [r,KH,1,Ci] = √s_j·u_j[(c,y)], horizontal [Co,1,KW,r] = √s_j·v_j[(o,x)]. */
export function taiFactors(d: Svd, s: ConvShape, r: number): { vertical: Float64Array; horizontal: Float64Array } {
  const { co, kh, kw, ci } = s;
  const vertical = new Float64Array(r * kh * ci),
    horizontal = new Float64Array(co * kw * r);
  for (let j = 0; j < r; j++) {
    const sq = Math.sqrt(d.s[j]!);
    for (let y = 0; y < kh; y++)
      for (let c = 0; c < ci; c++) vertical[(j * kh + y) * ci + c] = sq * d.u[j]![c * kh + y]!;
    for (let o = 0; o < co; o++)
      for (let x = 0; x < kw; x++) horizontal[(o * kw + x) * r + j] = sq * d.v[j]![o * kw + x]!;
  }
  return { vertical, horizontal };
}

// ---------- Tucker-2: k×k conv → 1×1 (Ci→r_in) → k×k core (r_in→r_out) → 1×1 (r_out→Co) ----------

export interface TuckerModes {
  /** Singular values and left vectors of the input-channel unfolding Ci × (Co·KH·KW). */
  inS: Float64Array;
  inU: Float64Array[];
  /** Of the output-channel unfolding Co × (KH·KW·Ci). */
  outS: Float64Array;
  outU: Float64Array[];
}

export function tuckerModes(w: ArrayLike<number>, s: ConvShape): TuckerModes {
  const { co, kh, kw, ci } = s;
  const rest = kh * kw * ci;
  const byIn = new Float64Array(ci * co * kh * kw);
  for (let o = 0; o < co; o++)
    for (let t = 0; t < kh * kw; t++)
      for (let c = 0; c < ci; c++) byIn[c * co * kh * kw + o * kh * kw + t] = w[o * rest + t * ci + c]!;
  const a = svd(byIn, ci, co * kh * kw),
    b = svd(Float64Array.from(w), co, rest);
  return { inS: a.s, inU: a.u, outS: b.s, outU: b.u };
}

/**
 * HOSVD truncation: first [rIn,1,1,Ci] = U_inᵀ, core [rOut,KH,KW,rIn] = W ×_o U_outᵀ ×_c U_inᵀ, last [Co,1,1,rOut] = U_out.
 * Their composition is W projected on both channel subspaces.
 */
export function tuckerFactors(
  w: ArrayLike<number>,
  m: TuckerModes,
  s: ConvShape,
  rIn: number,
  rOut: number,
): { first: Float64Array; core: Float64Array; last: Float64Array } {
  const { co, kh, kw, ci } = s;
  const taps = kh * kw;
  const first = new Float64Array(rIn * ci),
    last = new Float64Array(co * rOut);
  for (let j = 0; j < rIn; j++) for (let c = 0; c < ci; c++) first[j * ci + c] = m.inU[j]![c]!;
  for (let o = 0; o < co; o++) for (let j = 0; j < rOut; j++) last[o * rOut + j] = m.outU[j]![o]!;
  // half = W ×_c U_inᵀ: [Co, taps, rIn]; core = U_outᵀ · half: [rOut, taps, rIn]
  const half = new Float64Array(co * taps * rIn);
  for (let o = 0; o < co; o++)
    for (let t = 0; t < taps; t++) {
      const wb = (o * taps + t) * ci;
      for (let j = 0; j < rIn; j++) {
        const u = m.inU[j]!;
        let acc = 0;
        for (let c = 0; c < ci; c++) acc += w[wb + c]! * u[c]!;
        half[(o * taps + t) * rIn + j] = acc;
      }
    }
  const core = new Float64Array(rOut * taps * rIn);
  for (let j = 0; j < rOut; j++) {
    const u = m.outU[j]!;
    for (let o = 0; o < co; o++) {
      const c = u[o]!;
      if (c === 0) continue;
      for (let q = 0; q < taps * rIn; q++)
        core[j * taps * rIn + q] = core[j * taps * rIn + q]! + c * half[o * taps * rIn + q]!;
    }
  }
  return { first, core, last };
}
