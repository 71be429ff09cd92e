// The bench's one timing loop, shared by the Node table (bench/run.ts) and the Chromium page
// (bench/browser-page.ts): no Node imports, so esbuild can bundle it for the page.
export type Runner = () => unknown;

/**
 * Median ms of each runner over `runs` rounds, the runners interleaved within every round (after warm-up rounds:
 * at least 3 and at least 1 s in all, so V8 has tiered every hot wasm function up from Liftoff before the first
 * timed run — 12 MobileNetV2 runs after 3 warm-ups timed edgec f32 at 20 ms against 16 ms warm; in a round each
 * runner runs once untimed, then its timed sample, on caches that first run warmed): a burst of load on the shared
 * cores then lands on every peer alike instead of on one block. Runners may return promises.
 * `minSampleMs` > 0 (the Chromium page, whose clock moves in 5 µs steps when cross-origin isolated): a sample is a
 * batch of back-to-back runs, as many as first took ≥ minSampleMs right after the warm-up (per runner), and the
 * median is of the samples' per-run times. 0 (Node, whose clock resolves well under 1 µs): a sample is one run.
 */
export async function interleavedMedians(fns: Runner[], runs: number, minSampleMs = 0): Promise<number[]> {
  const warm = performance.now();
  for (let i = 0; i < 3 || performance.now() - warm < 1000; i++) for (const fn of fns) await fn();
  // per runner, after the warm-up (tiered up): how many back-to-back runs first reach minSampleMs
  const batch: number[] = [];
  for (const fn of fns) {
    let n = 1;
    if (minSampleMs > 0) {
      const s = performance.now();
      await fn();
      for (; performance.now() - s < minSampleMs; n++) await fn();
    }
    batch.push(n);
  }
  const t: number[][] = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < fns.length; j++) {
      const fn = fns[j]!,
        n = batch[j]!;
      await fn(); // untimed: the other runtimes just ran, so warm this one's caches again first
      const s = performance.now();
      for (let k = 0; k < n; k++) await fn();
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
