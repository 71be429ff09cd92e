// What compression is judged by, measured on edgec's own runtime: bundle bytes, latency of one sample on
// the simd build (median of timed runs after warm-up; wall time, host copies included), top-1 accuracy
// on labelled data, and agreement of two models' outputs (top-1 and relative squared error, float64 sums).
import { load } from '../../runtime/node.ts';

/** Runs every sample through the bundle (simd build) and returns the first output of each as float64. */
export async function runSamples(
  bundle: Uint8Array,
  input: string,
  samples: readonly Float32Array[],
): Promise<Float64Array[]> {
  const model = await load(bundle, { build: 'simd' });
  const out = model.info.outputs[0]!.name;
  return samples.map((x) => Float64Array.from(model.run({ [input]: x })[out]! as ArrayLike<number>));
}

/** Median wall time of one run of `sample` on the simd build, in ms (3 warm-up runs, then ≥ 15 runs or 300 ms). */
export async function latencyMs(bundle: Uint8Array, input: string, sample: Float32Array): Promise<number> {
  const model = await load(bundle, { build: 'simd' });
  for (let i = 0; i < 3; i++) model.run({ [input]: sample });
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 15 || (performance.now() - start < 300 && times.length < 500)) {
    const t0 = performance.now();
    model.run({ [input]: sample });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

const argmax = (v: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
};

/** Share of samples whose output argmax is the label. */
export function top1(outputs: readonly Float64Array[], labels: ArrayLike<number | bigint>): number {
  let hit = 0;
  outputs.forEach((o, i) => {
    if (argmax(o) === Number(labels[i]!)) hit++;
  });
  return hit / outputs.length;
}

export interface Agreement {
  /** Share of samples with the same argmax. */
  top1: number;
  /** Σ (b − a)² / Σ a² over every output value of every sample. */
  relError: number;
}

export function agreement(a: readonly Float64Array[], b: readonly Float64Array[]): Agreement {
  let same = 0,
    num = 0,
    den = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    if (argmax(x) === argmax(y)) same++;
    for (let k = 0; k < x.length; k++) {
      num += (y[k]! - x[k]!) ** 2;
      den += x[k]! ** 2;
    }
  });
  return { top1: same / a.length, relError: den === 0 ? num : num / den };
}
