// Measured kernel time of one layer before and after a rewrite: each side becomes a one-layer graph (the layer's
// input as the graph input, its constants, its nodes), compiled like any model (float, or int8 calibrated on random
// inputs: the kernels' speed does not depend on the values) and run on the wasm build. Times are the process's CPU
// time over interleaved batches (before, after, before, …), and the comparison is the median of each round's ratio:
// on this shared VM one identical layer measured 0.8 to 9 ms from call to call, yet within 10 % between the two sides
// of one round, so only the paired ratio is stable.
import type { Graph, Node, Tensor } from '../ir/graph.ts';
import { compileGraph } from '../compile.ts';
import { compileQuantized } from '../quantize/index.ts';
import { load, type Build } from '../../runtime/node.ts';

/** Milliseconds per run of the layer before and after (medians), and the median of the per-round ratios after/before. */
export interface LayerTiming {
  before: number;
  after: number;
  ratio: number;
}
export type LayerTimer = (before: Graph, after: Graph) => Promise<LayerTiming>;

/** The sub-graph of `nodes` (consecutive, one activation input, one output), as a graph of its own; tensors from
 *  `extra` (a rewrite's new ones) or g. */
export function layerGraph(
  g: Graph,
  nodes: readonly Node[],
  name: string,
  extra: ReadonlyMap<string, Tensor> = new Map(),
): Graph {
  const x = nodes[0]!.inputs[0]!,
    y = nodes.at(-1)!.outputs[0]!;
  const sub: Graph = {
    name,
    source: g.source,
    tensors: new Map(),
    nodes: nodes.map((n) => ({ ...n })),
    inputs: [x],
    outputs: [y],
  };
  for (const n of nodes)
    for (const t of [...n.inputs, ...n.outputs]) if (t !== '') sub.tensors.set(t, extra.get(t) ?? g.tensors.get(t)!);
  return sub;
}

export interface TimerOptions {
  dtype?: 'float32' | 'int8';
  build?: Build;
  /** Rounds of the interleaved comparison (each round times both sides once). */
  rounds?: number;
  /** Minimum duration of one timed batch in ms (short layers repeat inside a batch). */
  batchMs?: number;
}

function normalInputs(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 2 ** 32;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()));
}

async function runner(g: Graph, dtype: 'float32' | 'int8', build: Build): Promise<() => void> {
  const x = g.inputs[0]!;
  const size = g.tensors.get(x)!.shape.reduce((a, b) => a * b, 1);
  const data = normalInputs(size, 17);
  const bundle =
    dtype === 'int8'
      ? (await compileQuantized(g, { samples: { input: x, data: [data, normalInputs(size, 29)] } })).bundle
      : compileGraph(g).bundle;
  const m = await load(bundle, { build });
  const feed = { [m.info.inputs[0]!.name]: data };
  return () => {
    m.run(feed);
  };
}

/** The default timer: one-layer bundles on the simd build (float32 unless told), interleaved medians. */
export function wasmLayerTimer(opts: TimerOptions = {}): LayerTimer {
  const dtype = opts.dtype ?? 'float32',
    build = opts.build ?? 'simd';
  const rounds = opts.rounds ?? 21,
    batchMs = opts.batchMs ?? 5;
  return async (before, after) => {
    const runs = [await runner(before, dtype, build), await runner(after, dtype, build)];
    // one repeat count for both sides, so a batch of the slower one takes ≥ batchMs of CPU time (wall time on loaded
    // cores would stop the doubling early and leave batches too short to time)
    let reps = 1;
    for (;;) {
      const c0 = process.cpuUsage();
      for (const r of runs) for (let i = 0; i < reps; i++) r();
      const c = process.cpuUsage(c0);
      if ((c.user + c.system) / 1000 >= 2 * batchMs || reps >= 1 << 16) break;
      reps *= 2;
    }
    const times: number[][] = [[], []];
    for (let round = 0; round < rounds; round++)
      for (let side = 0; side < 2; side++) {
        const r = runs[side]!;
        r(); // warm this side's caches: the other side just ran
        const c0 = process.cpuUsage();
        for (let i = 0; i < reps; i++) r();
        const c = process.cpuUsage(c0);
        times[side]!.push((c.user + c.system) / 1000 / reps);
      }
    const median = (ts: number[]) => {
      const s = [...ts].sort((a, b) => a - b);
      return s[s.length >> 1]!;
    };
    return {
      before: median(times[0]!),
      after: median(times[1]!),
      ratio: median(times[1]!.map((t, i) => t / times[0]![i]!)),
    };
  };
}
