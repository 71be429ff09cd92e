// Shared tools of the int8 kernel tests: a seeded generator of int8 IR graphs (random int8 weights,
// per-channel scales, int32 biases) and `check`, which compiles a graph, runs every build and mode
// (byte-identical, runAll) and compares byte for byte with the TS integer reference (evaluate()).
import * as assert from 'uvu/assert';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import type { Attrs, Graph, OpType, QuantParams } from '../../compiler/ir/graph.ts';
import { inferNode } from '../../compiler/ir/ops/index.ts';
import { runAll, rng } from './harness.ts';
import type { TensorArray } from '../../runtime/node.ts';

export const ZPS = [-128, 127, 0, -37, 64];
export const pick = <T>(a: readonly T[], i: number): T => a[i % a.length]!;
export const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
export const q = (scale: number, zp: number): QuantParams => ({ scale: [scale], zeroPoint: [zp] });

/** Compiles, runs every build/mode (identical bytes) and checks against the TS integer reference. */
export async function check(label: string, g: Graph, inputs: Record<string, TensorArray>): Promise<void> {
  const { bundle } = compileGraph(g, { skipPasses: true });
  const got = await runAll(bundle, inputs, label);
  const want = evaluate(g, inputs as Record<string, ArrayLike<number>>);
  const y = got.y!,
    w = want.y!;
  assert.is(y.length, w.length, `${label}: length`);
  for (let i = 0; i < w.length; i++) {
    if (y[i] !== w[i]) assert.unreachable(`${label}: y[${i}] = ${y[i]}, TS reference ${w[i]}`);
  }
}

/** The requantisation spec (requantQs8): clamp(zp + ((acc·mult + 2^(s−1)) >> s), lo, hi) in exact integers. */
export function requantSpec(acc: bigint, mult: bigint, s: bigint, zp: bigint, lo: bigint, hi: bigint): bigint {
  const v = ((acc * mult + (1n << (s - 1n))) >> s) + zp;
  return v < lo ? lo : v > hi ? hi : v;
}

/** requantE40 (assembly/kernels/conv/qs8-dwconv2d-requant.ts) step by step in the wasm's integer widths, on `a`, the
 * accumulator times 2^(40 − s) as the kernel holds it (an i32): its i64 product with mult, the high i32 half plus
 * rz = 2^7 + zp·2^8 (i32), saturating narrow to i16, the i16 shift by 8, clamp. */
export function requantE40Scaled(a: bigint, mult: bigint, zp: bigint, lo: bigint, hi: bigint): bigint {
  if (BigInt.asIntN(32, a) !== a) throw new Error(`scaled accumulator ${a} is no i32`);
  const high = BigInt.asIntN(32, BigInt.asIntN(64, a * mult) >> 32n);
  const u = BigInt.asIntN(32, high + 128n + zp * 256n);
  const h = (u < -32768n ? -32768n : u > 32767n ? 32767n : u) >> 8n;
  return h < lo ? lo : h > hi ? hi : h;
}

/** Seeded random int8 data and a one-node int8 graph builder (output tensor 'y'). */
export function qs8Tools(seed: number) {
  const r = rng(seed);
  const randInt = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const randI8 = (n: number, lo = -128, hi = 127) => Int8Array.from({ length: n }, () => randInt(lo, hi));
  class QGraph {
    g: Graph = { name: 'q', source: 'test', tensors: new Map(), nodes: [], inputs: [], outputs: [] };
    input(name: string, shape: number[], quant?: QuantParams, dtype: 'int8' | 'float32' = 'int8'): string {
      this.g.tensors.set(name, { name, dtype, shape, quant });
      this.g.inputs.push(name);
      return name;
    }
    weights(name: string, shape: number[], scales: number[]): string {
      this.g.tensors.set(name, {
        name,
        dtype: 'int8',
        shape,
        data: randI8(numel(shape), -127, 127),
        quant: { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 },
      });
      return name;
    }
    bias(name: string, n: number, mag: number): string {
      this.g.tensors.set(name, {
        name,
        dtype: 'int32',
        shape: [n],
        data: Int32Array.from({ length: n }, () => randInt(-mag, mag)),
      });
      return name;
    }
    node(op: OpType, inputs: string[], attrs: Attrs, quant?: QuantParams): Graph {
      const n = { name: `${op.toLowerCase()}0`, op, inputs, outputs: ['y'], attrs };
      this.g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [] });
      const [info] = inferNode(this.g, n);
      this.g.tensors.set('y', { name: 'y', dtype: info!.dtype, shape: info!.shape, quant });
      this.g.nodes.push(n);
      this.g.outputs.push('y');
      return this.g;
    }
  }
  return { r, randInt, randI8, QGraph };
}

const T22 = 2 ** 22;
/** t = f32(acc)·scale values at the edges of XNNPACK's fp32 requantisation (qs8-requant.ts requantFp32m): ties of
 *  both parities, |t| at and around 2^22 (where adding 1.5·2^23 stops rounding exactly), far beyond it, small. */
export const FP32_EDGE_TS: readonly number[] = [
  ...[0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, 128.5, -128.5, 255.5, -255.5, 0, 1, -1, 300, -300],
  ...[T22, 2 * T22, 2 ** 26].flatMap((e) => [-1.5, -1, -0.5, 0, 0.5, 1, 1.5].flatMap((d) => [e + d, -e + d])),
  // t in (−3·2^23, −1.5·2^23): t + 1.5·2^23 is a negative float whose bits, less the magic's, wrap i32 to a large
  // positive lane unless clamped (requantFp32m's max; the clamp-free epilogues' bound must keep them out)
  -(2 ** 24),
  -(2 ** 24) - 0.5,
  -2.5 * 2 ** 23,
];

/** Biases whose accumulators (input at its zero point) give FP32_EDGE_TS at f32 scale sW (input and output scales
 *  1), rotated by `rot` so every column position of a tile meets every edge; past the list random t in ±300. */
export function fp32EdgeBiases(n: number, sW: number, rot: number): Int32Array {
  const L = FP32_EDGE_TS.length;
  return Int32Array.from({ length: n }, (_, c) => {
    const t = c < L ? FP32_EDGE_TS[(c + rot) % L]! : ((c * 7919) % 600) - 300;
    return Math.max(-(2 ** 30), Math.min(2 ** 30, Math.round(t / sW)));
  });
}
