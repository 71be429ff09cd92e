// model.json writer tests: parse(write(graph)) reproduces the graph bit for bit (tensors, data,
// nodes, attrs), the output is stable, sidecar offsets are 16-aligned, and writes leave no temp files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from '../../../../compiler/ir/graph.ts';
import type { Graph, Tensor, TensorData } from '../../../../compiler/ir/graph.ts';
import {
  MAX_INLINE_ELEMENTS,
  SIDECAR_ALIGNMENT,
  float32Text,
  loadModelJson,
  parseModelJson,
  serializeModelJson,
  writeModelJson,
} from '../../../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../../../compiler/compile.ts';
import { evaluate } from '../../../../compiler/ir/reference.ts';
import { buildSmallCnn } from '../../../fixtures/model-json/generate.ts';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/model-json/', import.meta.url));

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-model-json-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bytes(d: TensorData): number[] {
  return [...new Uint8Array(d.buffer, d.byteOffset, d.byteLength)];
}

/** Deep equality of two graphs; tensor data compared by type and raw bits (NaN, -0 included). */
function assertSameGraph(a: Graph, b: Graph): void {
  assert.is(a.name, b.name);
  assert.equal(a.inputs, b.inputs);
  assert.equal(a.outputs, b.outputs);
  assert.equal(a.nodes, b.nodes);
  assert.equal([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
  for (const [name, ta] of a.tensors) {
    const tb = b.tensors.get(name)!;
    const strip = (t: Tensor) => ({ name: t.name, dtype: t.dtype, shape: t.shape, quant: t.quant });
    assert.equal(strip(tb), strip(ta), name);
    assert.is(tb.data === undefined, ta.data === undefined, name);
    if (ta.data && tb.data) {
      assert.is(tb.data.constructor, ta.data.constructor, name);
      assert.equal(bytes(tb.data), bytes(ta.data), `${name} data bits`);
    }
  }
}

/**
 * The loader fills attr defaults: check every attr `orig` gave came back unchanged, then give
 * `back` the original attrs so the remaining comparison is exact.
 */
function adoptFilledAttrs(back: Graph, orig: Graph): void {
  for (const n of back.nodes) {
    const o = orig.nodes.find((m) => m.name === n.name)!;
    for (const [k, v] of Object.entries(o.attrs)) assert.equal(n.attrs[k], v, `${n.name}.${k}`);
    n.attrs = o.attrs;
  }
}

function roundTrip(g: Graph, dir: string, file = 'model.json'): Graph {
  const path = join(dir, file);
  writeModelJson(g, path);
  return loadModelJson(path);
}

test('round trip: small-cnn fixture (sidecar + inline) is reproduced exactly', () => {
  withTempDir((dir) => {
    const g = loadModelJson(join(FIXTURES, 'small-cnn.json'));
    const back = roundTrip(g, dir);
    back.source = g.source;
    assertSameGraph(back, g);
    assert.equal(readdirSync(dir).sort(), ['model.bin', 'model.json']);
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.is(doc.weights, 'model.bin');
  });
});

test('round trip: the generator graph equals its loaded form once defaults are filled', () => {
  withTempDir((dir) => {
    const built = buildSmallCnn();
    const back = roundTrip(built, dir);
    adoptFilledAttrs(back, built);
    back.source = built.source;
    assertSameGraph(back, built);
  });
});

test('output is stable: write(load(write(g))) is byte-identical, and the committed fixture is current', () => {
  withTempDir((dir) => {
    const g = loadModelJson(join(FIXTURES, 'tiny-cnn.json'));
    writeModelJson(g, join(dir, 'a.json'));
    writeModelJson(loadModelJson(join(dir, 'a.json')), join(dir, 'b.json'));
    assert.is(readFileSync(join(dir, 'b.json'), 'utf8'), readFileSync(join(dir, 'a.json'), 'utf8'));
    assert.equal(readdirSync(dir).sort(), ['a.json', 'b.json']); // all inline: no sidecar
    writeModelJson(buildSmallCnn(), join(dir, 'small-cnn.json'));
    assert.is(
      readFileSync(join(dir, 'small-cnn.json'), 'utf8'),
      readFileSync(join(FIXTURES, 'small-cnn.json'), 'utf8'),
    );
    assert.equal(readFileSync(join(dir, 'small-cnn.bin')), readFileSync(join(FIXTURES, 'small-cnn.bin')));
  });
});

/** A graph whose constants cover every dtype, odd float values, quant params and the inline limit. */
function edgeCaseGraph(): Graph {
  const t = (name: string, data: TensorData, shape: number[], extra: Partial<Tensor> = {}): [string, Tensor] => [
    name,
    { name, dtype: extra.dtype ?? 'float32', shape, data, ...extra },
  ];
  const odd = new Float32Array([-0, 1e-45, 3.4028234663852886e38, 0.1, -1.5, 1 / 3, 16777217, -1e-38]);
  const withNaN = new Float32Array([NaN, Infinity, -Infinity, 1]);
  const inlineMax = new Float32Array(MAX_INLINE_ELEMENTS).map((_, i) => i / 7);
  const overMax = new Float32Array(MAX_INLINE_ELEMENTS + 1).map((_, i) => -i / 3);
  const tensors = new Map<string, Tensor>([
    ['x', { name: 'x', dtype: 'float32', shape: [1, 2, 2, 8] }],
    t('odd', odd, [8]),
    t('nan', withNaN, [2, 2]),
    t('inline64', inlineMax, [4, 1, 1, 16]),
    t('over64', overMax, [65]),
    t('scalar', new Float32Array([2.5]), []),
    t('q.w', new Int8Array([-128, -1, 0, 127, 5, 6]), [2, 1, 1, 3], {
      dtype: 'int8',
      quant: { scale: [0.02, 0.5], zeroPoint: [0, 0], axis: 0 },
    }),
    t(
      'q.u8',
      new Uint8Array(100).map((_, i) => (i * 37) % 256),
      [100],
      { dtype: 'uint8', quant: { scale: [0.1], zeroPoint: [128] } },
    ),
    t('q.b', new Int32Array([-2147483648, 2147483647, 0]), [3], { dtype: 'int32' }),
    t('i64', new BigInt64Array([-(2n ** 53n) + 1n, 42n]), [2], { dtype: 'int64' }),
    t('i64.big', new BigInt64Array([2n ** 62n, -(2n ** 63n)]), [2], { dtype: 'int64' }),
    // conv: [1,2,2,16] padded [t0,l1,b2,r3] by a 1×1 kernel → [1,4,6,4]
    ['y', { name: 'y', dtype: 'float32', shape: [1, 4, 6, 4] }],
  ]);
  return {
    name: 'edge-cases',
    tensors,
    nodes: [
      {
        name: 'add',
        op: 'Add',
        inputs: ['x', 'odd'],
        outputs: ['a'],
        attrs: { activation: 'clip', clip: [-1.5, 0.25] },
      },
      { name: 'pad', op: 'Pad', inputs: ['a'], outputs: ['p'], attrs: { pads: [0, 1, 1, 0, 0, 1, 1, 0], value: -0.5 } },
      {
        name: 'slice',
        op: 'Slice',
        inputs: ['p'],
        outputs: ['s'],
        attrs: { starts: [1, 1], ends: [3, 3], axes: [1, 2], steps: [1, 1] },
      },
      { name: 'concat', op: 'Concat', inputs: ['s', 'x'], outputs: ['c'], attrs: { axis: 3 } },
      { name: 'conv', op: 'Conv2D', inputs: ['c', 'inline64', ''], outputs: ['y'], attrs: { padding: [0, 1, 2, 3] } },
      { name: 'tail', op: 'Relu', inputs: ['y'], outputs: ['z'], attrs: {} },
    ],
    inputs: ['x'],
    outputs: ['y', 'z'],
    source: 'edge-cases.json',
  };
}

test('round trip: every dtype, -0/denormal/NaN/±Inf bits, quant params, scalars, absent inputs', () => {
  withTempDir((dir) => {
    const g = edgeCaseGraph();
    const back = roundTrip(g, dir, 'edge-cases.json');
    adoptFilledAttrs(back, g);
    back.source = g.source;
    assertSameGraph(back, g);
  });
});

test('inline vs sidecar placement, 16-byte aligned sidecar offsets, lengths', () => {
  const { json, weights } = serializeModelJson(edgeCaseGraph(), 'edge.bin');
  const doc = JSON.parse(json);
  const placed = (name: string) => (doc.tensors[name].data !== undefined ? 'inline' : 'sidecar');
  assert.equal(['odd', 'nan', 'inline64', 'over64', 'scalar', 'q.w', 'q.u8', 'q.b', 'i64', 'i64.big'].map(placed), [
    'inline',
    'sidecar',
    'inline',
    'sidecar',
    'inline',
    'inline',
    'sidecar',
    'inline',
    'inline',
    'sidecar',
  ]);
  assert.ok(weights);
  let end = 0;
  for (const t of Object.values<Record<string, number>>(doc.tensors)) {
    if (t.offset === undefined) continue;
    assert.is(t.offset % SIDECAR_ALIGNMENT, 0);
    assert.ok(t.offset >= end);
    end = t.offset + t.length;
  }
  assert.is(weights!.length, end);
  assert.is(doc.weights, 'edge.bin');
  assert.ok(!('y' in doc.tensors) && !('x' in doc.tensors));
  assert.equal(doc.outputs, [{ name: 'y', shape: [1, 4, 6, 4], dtype: 'float32' }, { name: 'z' }]);
  assert.equal(doc.tensors.odd.data.slice(0, 4), [-0, 1e-45, 3.4028235e38, 0.1]);
  assert.equal(Object.keys(doc), ['format', 'version', 'name', 'inputs', 'outputs', 'weights', 'tensors', 'nodes']);
});

test('float32Text: shortest text that parses back to the same float32 bits', () => {
  let s = 0x9e3779b9;
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let i = 0; i < 20000; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    bits[0] = s;
    const v = f[0];
    if (!Number.isFinite(v)) continue;
    const text = float32Text(v);
    assert.is(Object.is(Math.fround(Number(text)), v), true, `${v} -> ${text}`);
    assert.ok(text.length <= String(v).length, `${v} -> ${text}`);
  }
  assert.is(float32Text(Math.fround(0.1)), '0.1');
  assert.is(float32Text(-0), '-0');
});

test('a compiled graph (BN folded, activations fused) writes and reloads; reference outputs agree within 1e-6', () => {
  withTempDir((dir) => {
    const source = loadModelJson(join(FIXTURES, 'small-cnn.json'));
    const { graph } = compileGraph(loadModelJson(join(FIXTURES, 'small-cnn.json')));
    assert.ok(!graph.nodes.some((n) => n.op === 'BatchNorm'), 'expected BatchNorm folded by compile');
    const back = roundTrip(graph, dir);
    const input = new Float32Array(1 * 8 * 8 * 3).map((_, i) => Math.sin(i * 0.37));
    const want = evaluate(source, { input }).probs;
    const got = evaluate(back, { input }).probs;
    assert.is(got.length, 4);
    // float32 folding of BN into the conv weights changes low bits only
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6, `probs[${i}] ${got[i]} vs ${want[i]}`);
  });
});

test('write is atomic: overwrites in place and leaves no temp files', () => {
  withTempDir((dir) => {
    const path = join(dir, 'm.json');
    writeFileSync(path, 'old');
    writeFileSync(join(dir, 'm.bin'), 'old');
    writeModelJson(loadModelJson(join(FIXTURES, 'small-cnn.json')), path);
    assert.equal(readdirSync(dir).sort(), ['m.bin', 'm.json']);
    assert.is(loadModelJson(path).nodes.length, 8);
  });
});

test('writer refuses an attr JSON cannot hold (non-finite number)', () => {
  const g = parseModelJson(
    JSON.parse(readFileSync(join(FIXTURES, 'tiny-cnn.json'), 'utf8')),
    undefined,
    'tiny-cnn.json',
  );
  g.nodes[0].attrs.clip = [-Infinity, 6];
  withTempDir((dir) => {
    try {
      writeModelJson(g, join(dir, 'm.json'));
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, ModelError);
      assert.ok((e as ModelError).message.includes("node 'conv1': attr 'clip'"), (e as Error).message);
    }
    assert.equal(readdirSync(dir), []);
  });
});

test.run();
