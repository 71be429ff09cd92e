// The quantize pass on small hand-built graphs: int8 params consistent along the graph (weights per
// channel, bias at s_in·s_w, pools and shape ops pass params through), Concat inputs share the output's
// params, fused clamps kept, float islands behind Dequantize/Quantize, graph inputs/outputs float32.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError, type Graph, type Node, type QuantParams, type Tensor } from '../../../compiler/ir/graph.ts';
import { verify } from '../../../compiler/ir/verify.ts';
import { quantizeGraph } from '../../../compiler/quantize/rewrite.ts';
import { activationQuant, sameQuant } from '../../../compiler/quantize/params.ts';

const f32 = Math.fround;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function build(): Graph {
  const r = rng(7);
  const t = (name: string, shape: number[], data?: Float32Array): Tensor => ({
    name,
    dtype: 'float32',
    shape,
    ...(data ? { data } : {}),
  });
  const rand = (n: number) => Float32Array.from({ length: n }, r);
  const tensors: Tensor[] = [
    t('x', [1, 4, 4, 2]),
    t('w1', [3, 3, 3, 2], rand(54)),
    t('b1', [3], rand(3)),
    t('a', [1, 4, 4, 3]),
    t('w2', [2, 1, 1, 2], rand(4)),
    t('b', [1, 4, 4, 2]),
    t('c', [1, 4, 4, 5]),
    t('d', [1, 2, 2, 5]),
    t('e', [1, 1, 1, 5]),
    t('f', [1, 5]),
    t('w3', [4, 5], rand(20)),
    t('b3', [4], rand(4)),
    t('g', [1, 4]),
    t('y', [1, 4]),
  ];
  const node = (
    name: string,
    op: Node['op'],
    inputs: string[],
    outputs: string[],
    attrs: Node['attrs'] = {},
  ): Node => ({ name, op, inputs, outputs, attrs });
  const conv = { strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1 };
  return {
    name: 'small',
    source: 'small.json',
    inputs: ['x'],
    outputs: ['y'],
    tensors: new Map(tensors.map((x) => [x.name, x])),
    nodes: [
      node('conv1', 'Conv2D', ['x', 'w1', 'b1'], ['a'], { ...conv, activation: 'clip', clip: [0, 6] }),
      node('conv2', 'Conv2D', ['x', 'w2', ''], ['b'], { ...conv, activation: 'none', clip: [0, 6] }),
      node('cat', 'Concat', ['a', 'b'], ['c'], { axis: 3 }),
      node('pool', 'MaxPool', ['c'], ['d'], { kernel: [2, 2], strides: [2, 2], padding: 'valid' }),
      node('gap', 'GlobalAvgPool', ['d'], ['e']),
      node('flat', 'Reshape', ['e'], ['f'], { shape: [1, 5] }),
      node('fc', 'Dense', ['f', 'w3', 'b3'], ['g'], { activation: 'none', clip: [0, 6] }),
      node('sm', 'Softmax', ['g'], ['y'], { axis: -1 }),
    ],
  };
}

function quantMap(): Map<string, QuantParams> {
  const ranges: Record<string, [number, number]> = {
    x: [-1, 1],
    a: [0, 5],
    b: [-2, 1.5],
    c: [-2, 5],
    d: [-2, 5],
    e: [-1, 4],
    f: [-1, 4],
    g: [-3, 3],
    y: [0, 1],
  };
  return new Map(Object.entries(ranges).map(([k, [min, max]]) => [k, activationQuant({ min, max })]));
}

const producer = (g: Graph, t: string) => g.nodes.find((n) => n.outputs.includes(t))!;
const byName = (g: Graph, n: string) => g.nodes.find((x) => x.name === n)!;
const tq = (g: Graph, t: string) => g.tensors.get(t)!.quant!;

test('all int8 but Softmax: verify passes, interface stays float32', () => {
  const src = build();
  const { graph: g, int8Nodes, floatNodes } = quantizeGraph(src, { quant: quantMap() });
  verify(g);
  assert.equal(floatNodes, ['sm']);
  assert.equal(int8Nodes, ['conv1', 'conv2', 'cat', 'pool', 'gap', 'flat', 'fc']);
  assert.is(g.tensors.get('x')!.dtype, 'float32');
  assert.is(g.tensors.get('y')!.dtype, 'float32');
  assert.is(producer(g, byName(g, 'conv1').inputs[0]!).op, 'Quantize');
  assert.is(producer(g, byName(g, 'sm').inputs[0]!).op, 'Dequantize');
  // one Quantize of x shared by both convs
  assert.is(g.nodes.filter((n) => n.op === 'Quantize').length, 1);
  assert.is(byName(g, 'conv1').inputs[0], byName(g, 'conv2').inputs[0]);
});

test('Conv2D/Dense: per-channel int8 weights, int32 bias at s_in·s_w (zeros when absent), clamp kept', () => {
  const src = build();
  const { graph: g } = quantizeGraph(src, { quant: quantMap() });
  const c1 = byName(g, 'conv1');
  assert.equal(c1.attrs.activation, 'clip');
  assert.equal(c1.attrs.clip, [0, 6]);
  const w = g.tensors.get(c1.inputs[1]!)!,
    b = g.tensors.get(c1.inputs[2]!)!;
  assert.is(w.dtype, 'int8');
  assert.is(b.dtype, 'int32');
  const sIn = tq(g, c1.inputs[0]!).scale[0]!;
  assert.is(sIn, quantMap().get('x')!.scale[0]);
  const src1 = src.tensors.get('w1')!.data as Float32Array;
  for (let c = 0; c < 3; c++) {
    let m = 0;
    for (let i = c * 18; i < (c + 1) * 18; i++) m = Math.max(m, Math.abs(src1[i]!));
    assert.is(w.quant!.scale[c], f32(m / 127));
    assert.is(b.quant!.scale[c], f32(sIn * w.quant!.scale[c]!));
  }
  assert.ok([...(w.data as Int8Array)].every((v) => v >= -127 && v <= 127));
  assert.is(tq(g, 'a').zeroPoint[0], -128);
  const c2 = byName(g, 'conv2');
  assert.equal([...(g.tensors.get(c2.inputs[2]!)!.data as Int32Array)], [0, 0]);
  const fc = byName(g, 'fc');
  assert.is(g.tensors.get(fc.inputs[1]!)!.quant!.axis, 0);
  assert.is(g.tensors.get(fc.inputs[1]!)!.quant!.scale.length, 4);
});

test('Concat: every input carries the output params (Requantize inserted where they differ)', () => {
  const { graph: g } = quantizeGraph(build(), { quant: quantMap() });
  const cat = byName(g, 'cat');
  const outQ = tq(g, cat.outputs[0]!);
  for (const i of cat.inputs) {
    assert.ok(sameQuant(tq(g, i), outQ), i);
    assert.is(producer(g, i).op, 'Requantize');
  }
});

test('MaxPool and Reshape pass params through; GlobalAvgPool requantises to its own', () => {
  const { graph: g } = quantizeGraph(build(), { quant: quantMap() });
  assert.ok(sameQuant(tq(g, 'd'), tq(g, 'c')));
  assert.ok(sameQuant(tq(g, 'f'), tq(g, 'e')));
  assert.ok(sameQuant(tq(g, 'e'), quantMap().get('e')));
  assert.is(g.tensors.get('d')!.dtype, 'int8');
});

test('--keep-float: that node runs float between Dequantize and Quantize', () => {
  const { graph: g, floatNodes } = quantizeGraph(build(), { quant: quantMap(), keepFloat: new Set(['gap']) });
  verify(g);
  assert.equal(floatNodes, ['gap', 'sm']);
  const gap = byName(g, 'gap');
  assert.is(producer(g, gap.inputs[0]!).op, 'Dequantize');
  assert.is(g.tensors.get(gap.outputs[0]!)!.dtype, 'float32');
  assert.is(producer(g, byName(g, 'flat').inputs[0]!).op, 'Quantize');
});

test('a graph output produced on int8 gets a Dequantize under its own name', () => {
  const src = build();
  src.nodes.pop();
  src.outputs = ['g'];
  src.tensors.delete('y');
  const { graph: g } = quantizeGraph(src, { quant: quantMap() });
  verify(g);
  assert.equal(g.outputs, ['g']);
  assert.is(producer(g, 'g').op, 'Dequantize');
  assert.is(g.tensors.get('g')!.dtype, 'float32');
});

test('standalone Relu on int8 becomes a Requantize to [0, max]; unknown --keep-float node is an error', () => {
  const src = build();
  // relu between the pool and the gap
  src.nodes.splice(4, 0, { name: 'relu', op: 'Relu', inputs: ['d'], outputs: ['d2'], attrs: {} });
  src.tensors.set('d2', { name: 'd2', dtype: 'float32', shape: [1, 2, 2, 5] });
  byName(src, 'gap').inputs = ['d2'];
  const q = quantMap();
  q.set('d2', activationQuant({ min: 0, max: 5 }));
  const { graph: g } = quantizeGraph(src, { quant: q });
  verify(g);
  assert.is(byName(g, 'relu').op, 'Requantize');
  assert.is(tq(g, 'd2').zeroPoint[0], -128);
  assert.throws(
    () => quantizeGraph(build(), { quant: quantMap(), keepFloat: new Set(['nope']) }),
    (e: unknown) => e instanceof ModelError && /no node named 'nope'/.test(e.message),
  );
});

test.run();
