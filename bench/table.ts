// The bench's model records (JSON schema edgec-bench/2, Node and Chromium alike) and their two text tables: speed
// (median ms per runtime, ratios edgec / peer) and agreement and size (max |Δ|, identical values, bytes).
// A record holds only the runtimes that ran on that model; a cell without a value prints '-'.

/**
 * Runtime keys of `ms`: edgec f32/int8, its 2-thread run, and the peers. edgec i8 takes and gives float32 (a Quantize
 * step in, a Dequantize out); edgec q8 is the same int8 model compiled with --io int8, fed the int8 array the full-
 * integer .tflite's TFLite run gets and giving its int8 output (the .tflite rows, where q8 is the like-for-like one).
 * In Chromium the .tflite rows' edgec runs use Model.runInto (outputs into the runner's own arrays, as TFLite's runner
 * returns its own tensor) and `q8 run()` is q8 through run() and its fresh output array, beside them.
 */
export const RUNTIMES: Record<string, string> = {
  edgecF32: 'edgec f32',
  edgecI8: 'edgec i8',
  edgecQ8: 'edgec q8',
  edgecQ8run: 'edgec q8 run()',
  edgecI8x2: 'edgec i8 2T',
  edgecQ8x2: 'edgec q8 2T',
  ortF32: 'ort f32',
  ortU8s8: 'ort u8s8',
  ortU8s8x2: 'ort u8s8 2T',
  tfjsF32: 'tfjs f32',
  tfliteI8: 'tflite i8',
  tfliteI8x2: 'tflite i8 2T',
};

export interface ModelRecord {
  model: string;
  runs: number;
  /** Median ms per run, per runtime (RUNTIMES keys). */
  ms: Record<string, number | null>;
  /** `a_b` = ms[a] / ms[b]: below 1, edgec is faster. */
  ratio: Record<string, number | null>;
  /** Max |Δ| of a float output against the reference output (or `a_vs_b` between two runtimes). */
  maxAbs?: Record<string, number | null>;
  /** "same/total" output values of two int8 runtimes. */
  sameValues?: Record<string, string>;
  bytes?: Record<string, number>;
  /** Chromium: per group of runtimes timed together, how long its warm-up ran until their times settled. */
  warmUp?: { keys: string[]; ms: number; phases: number; settled: boolean; first: number[]; last: number[] }[];
}

/** Ratios of edgec's keys over every peer key present, `edgecX_peerY`. */
export function ratios(ms: Record<string, number | null>, pairs: [string, string][]): Record<string, number | null> {
  const r: Record<string, number | null> = {};
  for (const [a, b] of pairs) if (ms[a] != null && ms[b] != null) r[`${a}_${b}`] = ms[a] / ms[b];
  return r;
}

const label = (k: string) =>
  k
    .split(/_(?:vs_)?/)
    .map((p) => RUNTIMES[p] ?? p)
    .join(k.includes('_vs_') ? ' vs ' : ' / ');

function grid(head: string[], rows: string[][], log: (l: string) => void): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(fmt(head));
  for (const r of rows) log(fmt(r));
}

function keys(recs: ModelRecord[], f: (r: ModelRecord) => Record<string, unknown> | undefined): string[] {
  const ks = new Set<string>();
  for (const r of recs) for (const k of Object.keys(f(r) ?? {})) ks.add(k);
  return [...ks];
}

/** Prints the speed table, then the agreement and size one. */
export function printTables(recs: ModelRecord[], log: (l: string) => void = console.log): void {
  const msK = Object.keys(RUNTIMES).filter((k) => recs.some((r) => r.ms[k] != null));
  const ratioK = keys(recs, (r) => r.ratio);
  grid(
    ['model', ...msK.map((k) => `${RUNTIMES[k]} ms`), ...ratioK.map(label)],
    recs.map((r) => [
      r.model,
      ...msK.map((k) => r.ms[k]?.toFixed(3) ?? '-'),
      ...ratioK.map((k) => r.ratio[k]?.toFixed(2) ?? '-'),
    ]),
    log,
  );
  const absK = keys(recs, (r) => r.maxAbs),
    sameK = keys(recs, (r) => r.sameValues),
    byteK = keys(recs, (r) => r.bytes);
  if (absK.length + sameK.length + byteK.length === 0) return;
  log('');
  grid(
    ['model', ...absK.map((k) => `|Δ| ${label(k)}`), ...sameK.map((k) => `= ${label(k)}`), ...byteK],
    recs.map((r) => [
      r.model,
      ...absK.map((k) => r.maxAbs?.[k]?.toExponential(1) ?? '-'),
      ...sameK.map((k) => r.sameValues?.[k] ?? '-'),
      ...byteK.map((k) => (r.bytes?.[k] != null ? String(r.bytes[k]) : '-')),
    ]),
    log,
  );
}
