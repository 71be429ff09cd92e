// What a kernel-grid case file exports (test/kernels/grid/*.ts): for KernelId names, a builder that turns sizes
// along the variant's tile axes (m rows / pixels, n columns / channels, k reduction) into a small IR graph whose
// lowering picks that kernel, its inputs, and the f32 error allowed against the float64 IR reference.
import type { Attrs, DType, Graph, OpType, QuantParams } from '../../../compiler/ir/graph.ts';
import { inferNode } from '../../../compiler/ir/ops/index.ts';
import { rng } from '../../assembly/harness.ts';
import type { TensorArray } from '../../../runtime/node.ts';

export interface Dims {
  m: number;
  n: number;
  k: number;
}
export interface GridCase {
  graph: Graph;
  inputs: Record<string, TensorArray>;
  /** f32 outputs: |got − want| ≤ tol; int8 / int32 outputs must equal the reference exactly. */
  tol: number;
  /** Lowering choices the case needs (CompileOptions): e.g. the direct conv where Winograd would be picked. */
  disableKernels?: string[];
  forceKernels?: string[];
}
export type Builder = (d: Dims, i: number) => GridCase;

/** Sizes equal to, below, above and multiples of a tile dimension. */
export const around = (t: number) => [...new Set([1, t - 1, t, t + 1, 2 * t, 4 * t + 1].filter((v) => v >= 1))];

/** Each axis walks around(tile) with the other two at tile + 1. */
export function gridDims(tile: { mr: number; nr: number; kr: number }): Dims[] {
  const mid = { m: tile.mr + 1, n: tile.nr + 1, k: tile.kr + 1 };
  const out = new Map<string, Dims>();
  for (const m of around(tile.mr)) out.set(`${m},${mid.n},${mid.k}`, { ...mid, m });
  for (const n of around(tile.nr)) out.set(`${mid.m},${n},${mid.k}`, { ...mid, n });
  for (const k of around(tile.kr)) out.set(`${mid.m},${mid.n},${k}`, { ...mid, k });
  return [...out.values()];
}

export const q = (scale: number, zp: number): QuantParams => ({ scale: [scale], zeroPoint: [zp] });
export const ZPS = [-128, 127, 0, -37, 64];
export const pick = <T>(a: readonly T[], i: number): T => a[i % a.length]!;
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** A one-output graph under construction; constants and inputs are seeded random data. */
export class CaseGraph {
  g: Graph = { name: 'grid', source: 'grid', tensors: new Map(), nodes: [], inputs: [], outputs: [] };
  inputs: Record<string, TensorArray> = {};
  private r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  private rand(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => lo + (hi - lo) * this.r());
  }
  f32(name: string, shape: number[], lo = -1, hi = 1): string {
    this.g.tensors.set(name, { name, dtype: 'float32', shape });
    this.g.inputs.push(name);
    this.inputs[name] = Float32Array.from(this.rand(numel(shape), lo, hi));
    return name;
  }
  i8(name: string, shape: number[], quant: QuantParams): string {
    this.g.tensors.set(name, { name, dtype: 'int8', shape, quant });
    this.g.inputs.push(name);
    this.inputs[name] = Int8Array.from(this.rand(numel(shape), -128, 128).map(Math.floor));
    return name;
  }
  constF32(name: string, shape: number[]): string {
    this.g.tensors.set(name, {
      name,
      dtype: 'float32',
      shape,
      data: Float32Array.from(this.rand(numel(shape), -1, 1)),
    });
    return name;
  }
  /** Symmetric per-output-channel int8 weights (axis 0) with the given scales. */
  constI8(name: string, shape: number[], scales: number[]): string {
    const data = Int8Array.from(this.rand(numel(shape), -127, 128).map(Math.floor));
    this.g.tensors.set(name, {
      name,
      dtype: 'int8',
      shape,
      data,
      quant: { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 },
    });
    return name;
  }
  constI32(name: string, n: number, mag: number): string {
    this.g.tensors.set(name, {
      name,
      dtype: 'int32',
      shape: [n],
      data: Int32Array.from(this.rand(n, -mag, mag + 1).map(Math.floor)),
    });
    return name;
  }
  /** Adds a node (output shape and dtype from the op's rule) and returns its output. */
  node(op: OpType, inputs: string[], attrs: Attrs = {}, quant?: QuantParams, dtype?: DType): string {
    const out = `t${this.g.nodes.length}`;
    const n = { name: `${op.toLowerCase()}${this.g.nodes.length}`, op, inputs, outputs: [out], attrs };
    this.g.tensors.set(out, { name: out, dtype: dtype ?? 'float32', shape: [] });
    const [info] = inferNode(this.g, n);
    this.g.tensors.set(out, { name: out, dtype: dtype ?? info!.dtype, shape: info!.shape, quant });
    this.g.nodes.push(n);
    return out;
  }
  done(out: string, tol = 0): GridCase {
    this.g.outputs.push(out);
    return { graph: this.g, inputs: this.inputs, tol };
  }
}
