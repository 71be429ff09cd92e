// The bench's one timing loop, shared by the Node table (bench/run.ts) and the Chromium page
// (bench/browser-page.ts): no Node imports, so esbuild can bundle it for the page.
export type Runner = () => unknown;

/**
 * Whether a runner's result must be awaited: only promises are (ort's and tfjs's runs). `await` on anything else
 * still costs a microtask turn inside the timed span, added to every runtime alike (a ratio of ~10 µs runs, AD's,
 * drifts towards 1): 0.1–0.2 µs a run on the Node table's AD rows (edgec q8 9.51 → 9.33, 9.39 → 9.27 µs), within
 * the noise of the Chromium page's.
 */
const isThenable = (r: unknown): r is PromiseLike<unknown> =>
  r != null && typeof (r as { then?: unknown }).then === 'function';

/** What warmUp did: its length in ms and, per phase, each runner's mean ms per run. */
export interface WarmUp {
  ms: number;
  phases: number[][];
  settled: boolean;
}

/**
 * Runs the runners interleaved until every one's time has settled: phases of ≥ 250 ms (and ≥ 2 rounds) of rounds,
 * each runner's mean ms per run over a phase; done once ≥ 1 s has gone by and no runner's mean is more than 3 % below
 * its best earlier phase's, or after 15 s (then `settled` is false). V8 runs a wasm function on Liftoff first and swaps
 * in TurboFan's code once it is hot, compiled on a background thread that a loaded machine delays: in one Chromium page
 * MobileNetV2's edgec i8 went 42.7 → 15.9 ms from the first phase to the last (4.3 s), where a fixed 1 s had been
 * ~4 rounds of its 5 runtimes (docs/benchmarks.md).
 */
export async function warmUp(fns: Runner[]): Promise<WarmUp> {
  const start = performance.now();
  const phases: number[][] = [];
  for (;;) {
    const sum = fns.map(() => 0);
    const p = performance.now();
    let n = 0;
    for (; n < 2 || performance.now() - p < 250; n++)
      for (let j = 0; j < fns.length; j++) {
        const s = performance.now();
        const r = fns[j]!();
        if (isThenable(r)) await r;
        sum[j] += performance.now() - s;
      }
    const mean = sum.map((t) => t / n);
    // settled: no runner beat its best earlier phase by more than 3 % (a phase against the one just before would
    // fail on a loaded machine's ±5 % noise alone and run to the cap)
    const settled = phases.length > 0 && mean.every((t, j) => t >= 0.97 * Math.min(...phases.map((ph) => ph[j]!)));
    phases.push(mean);
    const ms = performance.now() - start;
    if ((settled && ms >= 1000) || ms >= 15000) return { ms, phases, settled };
  }
}

/**
 * Median ms of each runner over `runs` rounds, the runners interleaved within every round (after warmUp: until every
 * runner's time has settled, at least 1 s; in a round each runner runs once untimed, then its timed sample, on caches
 * that first run warmed): a burst of load on the shared cores then lands on every peer alike instead of on one block.
 * Runners may return promises. `minSampleMs` > 0 (the Chromium page, whose clock moves in 5 µs steps when cross-origin
 * isolated): a sample is a batch of back-to-back runs, as many as first took ≥ minSampleMs right after the warm-up
 * (per runner), and the median is of the samples' per-run times. 0 (Node, whose clock resolves well under 1 µs): a
 * sample is one run. `log` receives what the warm-up did.
 */
export async function interleavedMedians(
  fns: Runner[],
  runs: number,
  minSampleMs = 0,
  log?: (w: WarmUp) => void,
): Promise<number[]> {
  const w = await warmUp(fns);
  log?.(w);
  // per runner, after the warm-up (tiered up): how many back-to-back runs first reach minSampleMs
  const batch: number[] = [];
  for (const fn of fns) {
    let n = 1;
    if (minSampleMs > 0) {
      const s = performance.now();
      let r = fn();
      if (isThenable(r)) await r;
      for (; performance.now() - s < minSampleMs; n++) if (isThenable((r = fn()))) await r;
    }
    batch.push(n);
  }
  const t: number[][] = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < fns.length; j++) {
      const fn = fns[j]!,
        n = batch[j]!;
      const r = fn(); // untimed: the other runtimes just ran, so warm this one's caches again first
      if (isThenable(r)) await r;
      const s = performance.now();
      for (let k = 0; k < n; k++) {
        const r = fn();
        if (isThenable(r)) await r;
      }
      t[j]!.push((performance.now() - s) / n);
    }
  }
  return t.map((ts) => {
    ts.sort((a, b) => a - b);
    return ts[ts.length >> 1]!;
  });
}

/** Share of `a`'s elements equal to `b`'s, as "same/length". */
export function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): string {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return `${same}/${a.length}`;
}

/** The int8 input the TFLite rows feed both runtimes: a fixed LCG's top bytes, as bench/tflite.ts always did. */
export function lcgInt8(len: number): Int8Array {
  let s = 99;
  return Int8Array.from({ length: len }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24) - 128);
}

/** edgec's float output back on the model's output int8 / uint8 grid (round half away, as TFLite's). */
export function requantize(y: ArrayLike<number>, scale: number, zeroPoint: number): Int32Array {
  return Int32Array.from({ length: y.length }, (_, i) => {
    const r = y[i]! / scale;
    return (r < 0 ? -Math.round(-r) : Math.round(r)) + zeroPoint;
  });
}
