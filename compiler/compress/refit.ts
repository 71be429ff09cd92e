// Least-squares refit of the kept channels (ThiNet, Luo et al. 2017, eq. 6): once a group's units are
// chosen, each consumer's kept weight columns are scaled by ŝ = argmin_s Σ_i (y_i − Σ_{u kept} s_u x_{u,i})²
// over sampled pre-activation outputs i (thinet.ts's contributions: x_{u,i} is unit u's share, y_i the sum
// over every unit of the group, so the removed units' share is handed to the kept ones). Closed form: the
// normal equations (XᵀX + λI) s = Xᵀy + λ·1, float64, Gaussian elimination with partial pivoting; the tiny
// ridge λ = 1e-12 · mean diag(XᵀX) pulls only unobserved directions (a dead channel) to s = 1 and moves a
// well-posed solution by ~1e-12 × its condition number. Activations are the original model's (every layer
// reconstructed from what it read before any cut, as thinetScores measures); scales are per consumer and unit.
import { cloneGraph } from '../compile.ts';
import type { Graph } from '../ir/graph.ts';
import { consumerColumns } from './columns.ts';
import type { DepGraph, DepGroup } from './groups.ts';
import { contributions, mulberry } from './thinet.ts';

export interface RefitRecord {
  group: string;
  consumer: string;
  /** Kept units (indices into the group) and the scale each one's columns got. */
  kept: number[];
  scales: number[];
  /** Σ_i (y_i − Σ_kept s·x)² / Σ_i y_i² over the sampled outputs, before (s = 1) and after the refit. */
  errorBefore: number;
  errorAfter: number;
  positions: number;
}

/** Solves (XᵀX + λI) s = Xᵀy + λ·1 for s; x[u] is column u of X (length m), y has length m. */
export function ridgeLeastSquares(x: readonly Float64Array[], y: Float64Array): Float64Array {
  const n = x.length,
    w = n + 1;
  const a = new Float64Array(n * w);
  let trace = 0;
  for (let r = 0; r < n; r++) {
    for (let c = r; c < n; c++) {
      let s = 0;
      const xr = x[r]!,
        xc = x[c]!;
      for (let i = 0; i < y.length; i++) s += xr[i]! * xc[i]!;
      a[r * w + c] = s;
      a[c * w + r] = s;
    }
    let b = 0;
    for (let i = 0; i < y.length; i++) b += x[r]![i]! * y[i]!;
    a[r * w + n] = b;
    trace += a[r * w + r]!;
  }
  const lambda = trace > 0 ? (1e-12 * trace) / n : 1;
  for (let r = 0; r < n; r++) {
    a[r * w + r]! += lambda;
    a[r * w + n]! += lambda;
  }
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let r = k + 1; r < n; r++) if (Math.abs(a[r * w + k]!) > Math.abs(a[p * w + k]!)) p = r;
    if (p !== k)
      for (let c = k; c < w; c++) {
        const t = a[k * w + c]!;
        a[k * w + c] = a[p * w + c]!;
        a[p * w + c] = t;
      }
    const d = a[k * w + k]!;
    for (let r = k + 1; r < n; r++) {
      const f = a[r * w + k]! / d;
      if (f !== 0) for (let c = k; c < w; c++) a[r * w + c]! -= f * a[k * w + c]!;
    }
  }
  const s = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let v = a[r * w + n]!;
    for (let c = r + 1; c < n; c++) v -= a[r * w + c]! * s[c]!;
    s[r] = v / a[r * w + r]!;
  }
  return s;
}

function relError(x: readonly Float64Array[], y: Float64Array, s: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < y.length; i++) {
    let v = 0;
    for (let u = 0; u < x.length; u++) v += s[u]! * x[u]![i]!;
    num += (y[i]! - v) ** 2;
    den += y[i]! ** 2;
  }
  return den > 0 ? num / den : num;
}

/**
 * `g` with every consumer's kept columns of every pruned group scaled by its least-squares refit (the
 * removed columns stay as they are: applyPruning then drops them). `acts`: consumerActivations of `g`.
 */
export function refitKept(
  g: Graph,
  dep: DepGraph,
  kept: ReadonlyMap<DepGroup, readonly number[]>,
  acts: readonly Map<string, Float64Array>[],
  opts: { positions?: number; seed?: number } = {},
): { graph: Graph; records: RefitRecord[] } {
  const out = cloneGraph(g);
  const rand = mulberry(opts.seed ?? 2);
  const records: RefitRecord[] = [];
  const uses = new Map<string, number>();
  for (const n of out.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const copied = new Map<string, string>();
  for (const [grp, units] of kept) {
    for (const c of consumerColumns(g, dep, grp)) {
      const parts = contributions(g, c, acts, opts.positions ?? 1024, rand);
      const y = new Float64Array(parts[0]!.length);
      for (const p of parts) for (let i = 0; i < y.length; i++) y[i]! += p[i]!;
      const x = units.map((u) => parts[u]!);
      const s = ridgeLeastSquares(x, y);
      records.push({
        group: grp.name,
        consumer: c.node.name,
        kept: [...units],
        scales: [...s],
        errorBefore: relError(x, y, new Float64Array(x.length).fill(1)),
        errorAfter: relError(x, y, s),
        positions: y.length,
      });
      // the consumer's own copy of its weights (a constant read by several nodes is copied once per node)
      const node = out.nodes.find((n) => n.name === c.node.name)!;
      let name = copied.get(`${node.name}\u0000${c.weight}`);
      if (name === undefined) {
        const t = out.tensors.get(c.weight)!;
        name = (uses.get(c.weight) ?? 0) > 1 ? `${c.weight}.${node.name}` : c.weight;
        out.tensors.set(name, { ...t, name, shape: [...t.shape], data: Float32Array.from(t.data as Float32Array) });
        copied.set(`${node.name}\u0000${c.weight}`, name);
        node.inputs[node.inputs.indexOf(c.weight)] = name;
      }
      const data = out.tensors.get(name)!.data as Float32Array;
      units.forEach((u, k) => {
        for (const p of c.positions[u]!) {
          const block = Math.floor(p / c.cols),
            col = p % c.cols;
          for (let r = block * c.rowsPerBlock; r < (block + 1) * c.rowsPerBlock; r++)
            for (let m = 0; m < c.mid; m++)
              data[(r * c.mid + m) * c.cols + col] = Math.fround(data[(r * c.mid + m) * c.cols + col]! * s[k]!);
        }
      });
    }
  }
  return { graph: out, records };
}
