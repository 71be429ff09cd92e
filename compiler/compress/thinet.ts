// --importance thinet (Luo et al. 2017): the units whose removal least changes the next layers' outputs.
// For every consumer of a group (columns.ts) the contribution of each unit to sampled pre-activation
// outputs (sample, y, x, o; Dense: sample, o) is computed from calibration activations (float64
// reference); the greedy walk removes, one at a time, the unit that keeps Σ_consumers ‖Σ_removed
// contributions‖² / ‖Σ_all contributions‖² smallest (each consumer's error relative to its own output
// energy, so layers of different scale count alike). A unit's score is its place in that order (removed
// first = least important), so keeping the top k is ThiNet's greedy choice at every k. ThiNet's
// least-squares refit of the kept weights is refit.ts.
import type { Graph } from '../ir/graph.ts';
import { convGeometry } from '../ir/ops/helpers.ts';
import { evaluate } from '../ir/reference.ts';
import { consumerColumns, type ConsumerColumns } from './columns.ts';
import type { DepGraph, DepGroup } from './groups.ts';

export interface ThinetResult {
  /** Higher = more important: N − (place in the removal order). */
  scores: Float64Array;
  /** Units in removal order. */
  order: number[];
  /** errors[k]: the relative reconstruction error with order[0..k] removed. */
  errors: number[];
  /** Sampled output positions per consumer. */
  positions: number;
}

export interface ThinetOptions {
  /** Output positions sampled per consumer (default 1024; every position when there are fewer). */
  positions?: number;
  seed?: number;
}

/** Float64 activations of the tensors the groups' consumers read, per calibration sample. */
export function consumerActivations(
  g: Graph,
  dep: DepGraph,
  groups: readonly DepGroup[],
  samples: readonly Float32Array[],
): Map<string, Float64Array>[] {
  const want = new Set(groups.flatMap((grp) => consumerColumns(g, dep, grp).map((c) => c.data)));
  return samples.map((x) => {
    const all = evaluate(g, { [g.inputs[0]!]: x }, { all: true });
    return new Map([...want].map((t) => [t, all[t]!]));
  });
}

export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** contrib[u][i]: unit u's share of sampled output i of consumer c (bias and activation excluded). */
export function contributions(
  g: Graph,
  c: ConsumerColumns,
  acts: readonly Map<string, Float64Array>[],
  count: number,
  rand: () => number,
): Float64Array[] {
  const xT = g.tensors.get(c.data)!,
    wT = g.tensors.get(c.weight)!;
  const w = wT.data!;
  const conv = c.node.op === 'Conv2D';
  const geo = conv
    ? convGeometry(c.node, xT, wT, g.source)
    : { h: 1, w: 1, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pad: [0, 0, 0, 0], oh: 1, ow: 1 };
  const ci = xT.shape.at(-1)!;
  const perSample = geo.oh * geo.ow * c.rows;
  const total = perSample * acts.length;
  const picks: number[] = [];
  if (count >= total) for (let i = 0; i < total; i++) picks.push(i);
  else for (let i = 0; i < count; i++) picks.push(Math.floor(rand() * total));
  const out = c.positions.map(() => new Float64Array(picks.length));
  picks.forEach((pick, i) => {
    const s = Math.floor(pick / perSample),
      rest = pick % perSample;
    const o = rest % c.rows,
      x0 = Math.floor(rest / c.rows) % geo.ow,
      y0 = Math.floor(rest / c.rows / geo.ow);
    const X = acts[s]!.get(c.data)!;
    const block = Math.floor(o / c.rowsPerBlock);
    c.positions.forEach((pos, u) => {
      let v = 0;
      for (const p of pos) {
        if (Math.floor(p / c.cols) !== block) continue;
        for (let kh = 0; kh < geo.kh; kh++) {
          const y = y0 * geo.sh - geo.pad[0]! + kh * geo.dh;
          if (y < 0 || y >= geo.h) continue;
          for (let kw = 0; kw < geo.kw; kw++) {
            const xx = x0 * geo.sw - geo.pad[1]! + kw * geo.dw;
            if (xx < 0 || xx >= geo.w) continue;
            v += Number(w[((o * geo.kh + kh) * geo.kw + kw) * c.cols + (p % c.cols)]) * X[(y * geo.w + xx) * ci + p]!;
          }
        }
      }
      out[u]![i] = v;
    });
  });
  return out;
}

export function thinetScores(
  g: Graph,
  dep: DepGraph,
  grp: DepGroup,
  acts: readonly Map<string, Float64Array>[],
  opts: ThinetOptions = {},
): ThinetResult {
  const rand = mulberry(opts.seed ?? 1);
  const n = grp.units.length;
  // one vector per unit over every consumer's samples, each consumer weighted by 1 / its output energy
  const parts = consumerColumns(g, dep, grp).map((c) => contributions(g, c, acts, opts.positions ?? 1024, rand));
  const weights = parts.map((cs) => {
    let e = 0;
    for (let i = 0; i < cs[0]!.length; i++) {
      let y = 0;
      for (const v of cs) y += v[i]!;
      e += y * y;
    }
    return e > 0 ? 1 / e : 0;
  });
  const len = parts.reduce((s, cs) => s + cs[0]!.length, 0);
  const vec = grp.units.map((_, u) => {
    const v = new Float64Array(len);
    let off = 0;
    parts.forEach((cs, k) => {
      const sw = Math.sqrt(weights[k]!);
      cs[u]!.forEach((x, i) => (v[off + i] = x * sw));
      off += cs[u]!.length;
    });
    return v;
  });
  const sum = new Float64Array(len);
  const removed = new Uint8Array(n);
  const order: number[] = [],
    errors: number[] = [];
  for (let k = 0; k < n; k++) {
    let best = -1,
      bestErr = Infinity;
    for (let u = 0; u < n; u++) {
      if (removed[u]) continue;
      const v = vec[u]!;
      let e = 0;
      for (let i = 0; i < len; i++) e += (sum[i]! + v[i]!) ** 2;
      if (e < bestErr) {
        bestErr = e;
        best = u;
      }
    }
    removed[best] = 1;
    order.push(best);
    errors.push(bestErr);
    const v = vec[best]!;
    for (let i = 0; i < len; i++) sum[i]! += v[i]!;
  }
  const scores = new Float64Array(n);
  order.forEach((u, k) => (scores[u] = k));
  return { scores, order, errors, positions: len };
}
