// qs8 GEMM 4x8c2 requantisation paths: one shift shared by every channel at 31 (vector path of requant4),
// 32 and above (the GEMM's 8-lane path: high halves shifted as i32), and per-channel shifts; M, N around the
// 4x8 tile and small K (the 1x1 convs of MobileNetV2), byte for byte against the TS integer reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import type { Attrs, Graph, OpType, QuantParams } from '../../compiler/ir/graph.ts';
import { inferNode } from '../../compiler/ir/ops.ts';
import { runAll, rng } from './harness.ts';
import { QS8_VARIANTS } from '../../compiler/lower/int8.ts';
import type { TensorArray } from '../../runtime/node.ts';

const r = rng(20261129);
const randInt = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const randI8 = (n: number, lo = -128, hi = 127) => Int8Array.from({ length: n }, () => randInt(lo, hi));
const ZPS = [-128, 127, 0, -37, 64];
const pick = <T>(a: readonly T[], i: number): T => a[i % a.length]!;
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

class QGraph {
  g: Graph = { name: 'q', source: 'test', tensors: new Map(), nodes: [], inputs: [], outputs: [] };
  input(name: string, shape: number[], quant?: QuantParams, dtype: 'int8' | 'float32' = 'int8'): string {
    this.g.tensors.set(name, { name, dtype, shape, quant });
    this.g.inputs.push(name);
    return name;
  }
  weights(name: string, shape: number[], scales: number[]): string {
    this.g.tensors.set(name, { name, dtype: 'int8', shape, data: randI8(numel(shape), -127, 127), quant: { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 } });
    return name;
  }
  bias(name: string, n: number, mag: number): string {
    this.g.tensors.set(name, { name, dtype: 'int32', shape: [n], data: Int32Array.from({ length: n }, () => randInt(-mag, mag)) });
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

const q = (scale: number, zp: number): QuantParams => ({ scale: [scale], zeroPoint: [zp] });

/** Compiles, runs every build/mode (identical bytes) and checks against the TS integer reference. */
async function check(label: string, g: Graph, inputs: Record<string, TensorArray>): Promise<void> {
  const { bundle } = compileGraph(g, { skipPasses: true });
  const got = await runAll(bundle, inputs, label);
  const want = evaluate(g, inputs as Record<string, ArrayLike<number>>);
  const y = got.y!, w = want.y!;
  assert.is(y.length, w.length, `${label}: length`);
  for (let i = 0; i < w.length; i++) {
    if (y[i] !== w[i]) assert.unreachable(`${label}: y[${i}] = ${y[i]}, TS reference ${w[i]}`);
  }
}


test('Dense_QS8 GEMM requantisation: shared shift 31 / 32 / 33 / 41, per-channel shifts; M, N around the tile; K 16..33', async () => {
  let i = 0;
  // input·weight / output scale ratios: [0.5, 1) → shift 31, [0.25, 0.5) → 32, [0.125, 0.25) → 33, ~2^-10 → 41
  for (const ratio of [0.75, 0.3, 0.2, 0.0009, -1])
    for (const [M, K, N] of [[4, 16, 8], [3, 16, 16], [5, 24, 9], [9, 32, 24], [17, 17, 15], [8, 33, 40]] as [number, number, number][]) {
      const qg = new QGraph();
      const zpIn = pick(ZPS, i), zpOut = pick(ZPS, i + 2);
      const sIn = 0.02, sW = 0.004;
      const x = qg.input('x', [M, K], q(sIn, zpIn));
      const w = qg.weights('w', [N, K], Array.from({ length: N }, (_, c) => ratio < 0 ? 1e-5 * 16 ** (c % 5) : sW));
      const b = i % 2 ? '' : qg.bias('b', N, 3000);
      const sOut = ratio < 0 ? 0.05 : sIn * sW / ratio;
      const g = qg.node('Dense', b ? [x, w, b] : [x, w], i % 3 === 1 ? { activation: 'relu' } : {}, q(sOut, zpOut));
      await check(`dense ratio ${ratio} M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, { x: randI8(M * K) });
      i++;
    }
});

test.run();
