// Calibration observers: each sees the float32 values of one activation tensor sample by sample
// and returns the [min, max] range to quantise it to (always containing 0). Min-max is exact;
// percentile and entropy (TensorRT's KL method) work on a 2048-bin histogram over the min-max range.

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/** Fraction of values the percentile observer may clip on each side (99.99 % kept per side). */
export const PERCENTILE_TAIL = 1e-4;
export const HISTOGRAM_BINS = 2048;

export interface Range {
  min: number;
  max: number;
}

/** Running min / max over every value seen. */
export class MinMaxObserver {
  min = Infinity;
  max = -Infinity;
  observe(x: ArrayLike<number>): void {
    let lo = this.min,
      hi = this.max;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min = lo;
    this.max = hi;
  }
  range(): Range {
    if (this.min > this.max) return { min: 0, max: 0 };
    return { min: Math.min(this.min, 0), max: Math.max(this.max, 0) };
  }
}

/**
 * Histogram of values over a fixed [lo, hi] (from a min-max pass); values outside clamp into the
 * end bins. Bin i covers [lo + i·w, lo + (i+1)·w), w = (hi − lo) / bins.
 */
export class Histogram {
  readonly counts: Float64Array;
  readonly width: number;
  constructor(
    readonly lo: number,
    readonly hi: number,
    readonly bins = HISTOGRAM_BINS,
  ) {
    this.counts = new Float64Array(bins);
    this.width = hi > lo ? (hi - lo) / bins : 1;
  }
  observe(x: ArrayLike<number>): void {
    const { lo, width, bins, counts } = this;
    for (let i = 0; i < x.length; i++) {
      let b = Math.floor((x[i]! - lo) / width);
      if (b < 0) b = 0;
      else if (b >= bins) b = bins - 1;
      counts[b]! += 1;
    }
  }
  total(): number {
    let s = 0;
    for (const c of this.counts) s += c;
    return s;
  }
}

/**
 * Percentile range: the smallest value v with at least `tail` of the mass below it and the
 * largest with at least `tail` above, read off bin edges (a bin counts as clipped only whole).
 */
export function percentileRange(h: Histogram, tail = PERCENTILE_TAIL): Range {
  const total = h.total();
  if (total === 0 || h.hi <= h.lo) return { min: Math.min(h.lo, 0), max: Math.max(h.hi, 0) };
  const limit = tail * total;
  let lo = 0,
    acc = 0;
  while (lo < h.bins - 1 && acc + h.counts[lo]! <= limit) acc += h.counts[lo++]!;
  let hi = h.bins - 1;
  acc = 0;
  while (hi > lo && acc + h.counts[hi]! <= limit) acc += h.counts[hi--]!;
  const min = h.lo + lo * h.width,
    max = h.lo + (hi + 1) * h.width;
  return { min: Math.min(min, 0), max: Math.max(max, 0) };
}

/** Floor for an empty Q bin where P has mass (as MXNet's smooth_distribution, eps = 1e-4). */
const KL_EPS = 1e-4;

/** KL(p ‖ q) over bins where p > 0, p and q normalised here; q = 0 there counts as KL_EPS. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0,
    sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  if (sp === 0) return 0;
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    if (pi === 0) continue;
    const qi = sq > 0 ? q[i]! / sq : 0;
    d += pi * Math.log(pi / (qi > 0 ? qi : KL_EPS));
  }
  return d;
}

/**
 * TensorRT's entropy calibration on a one-sided histogram `counts` (bin 0 starts at 0): for each
 * threshold i ≥ levels, P = counts[0..i) with the clipped tail added to bin i−1, Q = counts[0..i)
 * merged into `levels` groups and spread back evenly over the group's bins where P is non-empty;
 * returns the i with the smallest KL(P ‖ Q) (all occupied bins when there are at most `levels`).
 */
export function entropyThresholdBins(histogram: ArrayLike<number>, levels: number): number {
  // bin 0 holds the exact zeros (half of a post-ReLU tensor): as pytorch-quantization does, count it as
  // bin 1 so the spike does not decide the threshold
  const counts = Float64Array.from(histogram);
  if (counts.length > 1) counts[0] = counts[1]!;
  const n = counts.length;
  let last = n;
  while (last > 0 && counts[last - 1] === 0) last--;
  if (last <= levels) return Math.max(last, 1);
  let best = last,
    bestKl = Infinity;
  const p = new Float64Array(n),
    q = new Float64Array(n);
  for (let i = levels; i <= last; i++) {
    let outliers = 0;
    for (let k = i; k < n; k++) outliers += counts[k]!;
    for (let k = 0; k < i; k++) p[k] = counts[k]!;
    p[i - 1]! += outliers;
    const step = i / levels;
    for (let j = 0; j < levels; j++) {
      const a = Math.floor(j * step),
        b = j === levels - 1 ? i : Math.floor((j + 1) * step);
      let sum = 0,
        nonzero = 0;
      for (let k = a; k < b; k++) {
        sum += counts[k]!;
        if (p[k] !== 0) nonzero++;
      }
      for (let k = a; k < b; k++) q[k] = p[k] !== 0 && nonzero > 0 ? sum / nonzero : 0;
    }
    const kl = klDivergence(p.subarray(0, i), q.subarray(0, i));
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

/**
 * Entropy range from a histogram over [lo, hi]. A one-sided tensor (lo ≥ 0, e.g. after ReLU) uses
 * all 256 int8 levels for [0, T]; a two-sided one folds |x| into a histogram over [0, max|x|] and
 * uses 128 levels per side (TensorRT's symmetric method), giving [max(lo, −T), min(hi, T)].
 */
export function entropyRange(h: Histogram): Range {
  if (h.total() === 0 || h.hi <= h.lo) return { min: Math.min(h.lo, 0), max: Math.max(h.hi, 0) };
  if (h.lo >= 0) {
    // bins relative to 0: the histogram starts at lo ≥ 0, so pad the [0, lo) part with empty bins
    const offset = Math.round(h.lo / h.width);
    const counts = new Float64Array(offset + h.bins);
    counts.set(h.counts, offset);
    const t = entropyThresholdBins(counts, 256);
    return { min: 0, max: Math.min(t * h.width, h.hi) };
  }
  if (h.hi <= 0) {
    const offset = Math.round(-h.hi / h.width);
    const counts = new Float64Array(offset + h.bins);
    for (let i = 0; i < h.bins; i++) counts[offset + i] = h.counts[h.bins - 1 - i]!;
    const t = entropyThresholdBins(counts, 256);
    return { min: Math.max(-t * h.width, h.lo), max: 0 };
  }
  // |x| folded around 0 on the same bin width (the bin holding 0 splits evenly enough at 2048 bins)
  const zeroBin = (0 - h.lo) / h.width;
  const n = Math.ceil(Math.max(-h.lo, h.hi) / h.width);
  const counts = new Float64Array(n);
  for (let i = 0; i < h.bins; i++) {
    const centre = Math.abs(i + 0.5 - zeroBin);
    counts[Math.min(Math.floor(centre), n - 1)]! += h.counts[i]!;
  }
  const t = entropyThresholdBins(counts, 128) * h.width;
  return { min: Math.max(-t, h.lo), max: Math.min(t, h.hi) };
}

/** Range of one tensor by method, from its min-max observer and (for percentile/entropy) histogram. */
export function methodRange(method: CalibrationMethod, mm: MinMaxObserver, h?: Histogram): Range {
  if (method === 'minmax' || !h) return mm.range();
  return method === 'percentile' ? percentileRange(h) : entropyRange(h);
}
