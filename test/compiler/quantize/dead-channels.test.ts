// Int8 with dead channels: a Conv2D / Dense output channel whose weights are all zero (or ~1e-9) while its
// bias is not would need an int32 bias beyond 2^31 at s_in·max|w|/127; fitBiasScales raises that channel's
// weight scale instead. The model compiles, both wasm builds equal the integer reference bit for bit, and
// the dead channels are within one output step of float.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph, Tensor } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { quantize, splitSamples } from '../../../compiler/quantize/index.ts';
import { quantizeBias, quantizeWeights } from '../../../compiler/quantize/params.ts';
import { accumulatorFits } from '../../../compiler/ir/quant.ts';
import { load } from '../../../runtime/node.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
const r = rng(11);
const CO = 4,
  KH = 3,
  KW = 3,
  CI = 4,
  K = KH * KW * CI;
const DEAD = { conv: [0, 1], dense: [2] };

/** x [1,6,6,4] → conv 3×3 (channel 0 all zero, channel 1 ~1e-9, bias ≠ 0) → y; x flattened → dense (row 2 ~1e-10) → z. */
function model(): Graph {
  const w = Float32Array.from({ length: CO * K }, (_, i) => {
    const c = Math.floor(i / K);
    return c === 0 ? 0 : c === 1 ? r() * 2e-9 : r();
  });
  const wd = Float32Array.from({ length: 3 * 144 }, (_, i) => (Math.floor(i / 144) === 2 ? r() * 1e-10 : r() * 0.1));
  const t = (name: string, shape: number[], data?: Float32Array): Tensor => ({
    name,
    dtype: 'float32',
    shape,
    ...(data ? { data } : {}),
  });
  const tensors = [
    t('x', [1, 6, 6, 4]),
    t('w', [CO, KH, KW, CI], w),
    t('b', [CO], Float32Array.of(0.7, -0.4, 0.2, -0.1)),
    t('y', [1, 6, 6, CO]),
    t('xf', [1, 144]),
    t('wd', [3, 144], wd),
    t('bd', [3], Float32Array.of(0.3, -0.2, 1.5)),
    t('z', [1, 3]),
  ];
  return {
    name: 'dead',
    source: 'dead.json',
    inputs: ['x'],
    outputs: ['y', 'z'],
    tensors: new Map(tensors.map((x) => [x.name, x])),
    nodes: [
      {
        name: 'conv',
        op: 'Conv2D',
        inputs: ['x', 'w', 'b'],
        outputs: ['y'],
        attrs: { strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: 'none' },
      },
      { name: 'flat', op: 'Reshape', inputs: ['x'], outputs: ['xf'], attrs: { shape: [1, 144] } },
      { name: 'fc', op: 'Dense', inputs: ['xf', 'wd', 'bd'], outputs: ['z'], attrs: { activation: 'none' } },
    ],
  };
}

const g = model();
const samples = Array.from({ length: 8 }, () => Float32Array.from({ length: 144 }, () => r() * 4));
const q = await quantize(g, {
  samples: splitSamples(
    g,
    samples.flatMap((s) => [...s]),
    [8, 1, 6, 6, 4],
    'calib',
  ),
});

/** Scale of the int8 tensor graph output `o` is dequantised from. */
function outputStep(o: string): number {
  const dq = q.graph.nodes.find((n) => n.outputs.includes(o) && n.op === 'Dequantize')!;
  return q.graph.tensors.get(dq.inputs[0]!)!.quant!.scale[0]!;
}
const weightsOf = (node: string) => q.graph.tensors.get(q.graph.nodes.find((n) => n.name === node)!.inputs[1]!)!;

test('the default scale max|w|/127 cannot hold these biases (what compile refused before)', () => {
  const xq = q.graph.tensors.get(q.graph.nodes.find((n) => n.name === 'conv')!.inputs[0]!)!.quant!;
  const w = g.tensors.get('w')!.data as Float32Array;
  const plain = quantizeWeights(w, CO);
  const bias = quantizeBias(g.tensors.get('b')!.data as Float32Array, CO, xq.scale[0]!, plain.quant.scale).data;
  assert.ok(Math.abs(bias[1]!) >= 2147483647, `nearly dead channel saturates the int32 bias: ${bias[1]}`);
});

test('dead channels: int8 weights scale raised only there; every channel within the accumulator bound', () => {
  for (const [node, co, dead, src] of [
    ['conv', CO, DEAD.conv, 'w'],
    ['fc', 3, DEAD.dense, 'wd'],
  ] as const) {
    const wq = weightsOf(node),
      plain = quantizeWeights(g.tensors.get(src)!.data as Float32Array, co);
    const bq = q.graph.tensors.get(q.graph.nodes.find((n) => n.name === node)!.inputs[2]!)!;
    const xq = q.graph.tensors.get(q.graph.nodes.find((n) => n.name === node)!.inputs[0]!)!.quant!;
    const k = (wq.data as Int8Array).length / co;
    for (let c = 0; c < co; c++) {
      const ws = [...(wq.data as Int8Array).subarray(c * k, (c + 1) * k)];
      const sum = ws.reduce((a, v) => a + v, 0),
        abs = ws.reduce((a, v) => a + Math.abs(v), 0);
      assert.ok(accumulatorFits((bq.data as Int32Array)[c]!, xq.zeroPoint[0]!, sum, abs), `${node} channel ${c}`);
      const raised = wq.quant!.scale[c]! !== plain.quant.scale[c]!;
      assert.is(
        raised,
        (dead as readonly number[]).includes(c) && !(node === 'conv' && c === 0),
        `${node} channel ${c} scale raised`,
      );
    }
  }
});

test('dead channels: simd and scalar bundles equal the integer reference bit for bit; dead channels within one step of float', async () => {
  const simd = await load(compileGraph(q.graph, { skipPasses: true, target: 'simd' }).bundle, { build: 'simd' });
  const scalar = await load(compileGraph(q.graph, { skipPasses: true, target: 'scalar' }).bundle, { build: 'scalar' });
  const steps = { y: outputStep('y'), z: outputStep('z') };
  for (const x of [...samples, Float32Array.from({ length: 144 }, () => r() * 4)]) {
    const ref = evaluate(q.graph, { x }),
      flt = evaluate(g, { x });
    for (const m of [simd, scalar]) {
      const out = m.run({ x });
      for (const o of ['y', 'z'] as const) {
        assert.equal(
          new Uint8Array((out[o] as Float32Array).buffer),
          new Uint8Array(Float32Array.from(ref[o]!).buffer),
          o,
        );
      }
    }
    for (const [o, co, dead] of [
      ['y', CO, DEAD.conv],
      ['z', 3, DEAD.dense],
    ] as const) {
      for (let i = 0; i < ref[o]!.length; i++) {
        if (!(dead as readonly number[]).includes(i % co)) continue;
        assert.ok(
          Math.abs(ref[o]![i]! - flt[o]![i]!) <= steps[o] * 1.0001,
          `${o}[${i}]: int8 ${ref[o]![i]} vs float ${flt[o]![i]} (step ${steps[o]})`,
        );
      }
    }
  }
});

test.run();
