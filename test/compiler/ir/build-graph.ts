// Test helper: builds small IR graphs by hand with deterministic pseudo-random constants.
import type { Attrs, Graph, OpType } from '../../../compiler/ir/graph.ts';

/** mulberry32: small seeded PRNG so test data is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export class GraphBuilder {
  readonly g: Graph;
  private seed = 1;
  private count = 0;
  constructor(name = 'test') {
    this.g = { name, source: 'test.json', tensors: new Map(), nodes: [], inputs: [], outputs: [] };
  }
  input(name: string, shape: number[]): string {
    this.g.tensors.set(name, { name, dtype: 'float32', shape });
    this.g.inputs.push(name);
    return name;
  }
  constant(name: string, shape: number[], data?: Float32Array, lo = -1, hi = 1): string {
    const n = shape.reduce((a, b) => a * b, 1);
    this.g.tensors.set(name, {
      name,
      dtype: 'float32',
      shape,
      data: data ?? randomValues(n, this.seed++ * 7919, lo, hi),
    });
    return name;
  }
  /** Adds a node; its output tensor gets its shape from infer-shapes (shape [] until then). */
  node(op: OpType, inputs: string[], attrs: Attrs = {}, out?: string): string {
    const name = `${op.toLowerCase()}${this.count++}`;
    const o = out ?? `${name}_out`;
    this.g.tensors.set(o, { name: o, dtype: 'float32', shape: [] });
    this.g.nodes.push({ name, op, inputs, outputs: [o], attrs });
    return o;
  }
  output(...names: string[]): Graph {
    this.g.outputs.push(...names);
    return this.g;
  }
}

export function inputsFor(g: Graph, seed = 99): Record<string, Float32Array> {
  const res: Record<string, Float32Array> = {};
  g.inputs.forEach((i, k) => {
    const n = g.tensors.get(i)!.shape.reduce((a, b) => a * b, 1);
    res[i] = randomValues(n, seed + k * 31, -2, 2);
  });
  return res;
}

/** Max over elements of |a−b| / (atol + rtol·|b|); ≤ 1 means within tolerance. */
export function closeness(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}
