// node --import tsx bench/graph-size.ts [--sizes 5000,10000,20000] [--only onnx-relu,json-mlp]
// Compile time against graph size: each case is built at every size, compiled once (frontend, passes,
// lower, plan, emit timed apart) and the ratio to the previous size printed. Linear stages show ≈2× per
// doubling, quadratic ones ≈4×. Run by hand only: this machine is shared and noisy, so no test gates on it.
import { parseArgs } from 'node:util';
import { onnxProtoRoot } from '../compiler/frontend/onnx/decode.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { parseJsonText, parseModelJson, serializeModelJson } from '../compiler/frontend/model-json/index.ts';
import { runPasses } from '../compiler/passes/index.ts';
import { lower } from '../compiler/lower/index.ts';
import { cloneGraph, planLowered } from '../compiler/compile.ts';
import { compileMetadata, emitBundle } from '../compiler/emit/index.ts';
import type { Graph } from '../compiler/ir/graph.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string' }, only: { type: 'string' } } });
const SIZES = (values.sizes ?? '5000,10000,20000').split(',').map(Number);

/** A chain of n ONNX Relus on a [1,16] input, as encoded bytes. */
function onnxReluChain(n: number): Uint8Array {
  const Model = onnxProtoRoot().lookupType('onnx.ModelProto');
  const vi = (name: string) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 16 }] } } },
  });
  const node = Array.from({ length: n }, (_, i) => ({
    op_type: 'Relu',
    name: `relu_${i}`,
    input: [i === 0 ? 'x' : `t${i - 1}`],
    output: [i === n - 1 ? 'y' : `t${i}`],
  }));
  const msg = Model.fromObject({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'relu_chain', node, input: [vi('x')], output: [vi('y')] },
  });
  return Model.encode(msg).finish();
}

/**
 * A model.json of n nodes: blocks of Dense 8→8, Add (per-channel constant), Relu, Sigmoid, so fuse-bias
 * and fuse-activation rewrite half the nodes. Returned as json text + sidecar, parsed like `edgec compile`.
 */
function jsonMlp(n: number): { json: string; weights: Uint8Array | undefined } {
  const g: Graph = {
    name: 'mlp_chain',
    tensors: new Map(),
    nodes: [],
    inputs: ['x'],
    outputs: [],
    source: 'bench.json',
  };
  g.tensors.set('x', { name: 'x', dtype: 'float32', shape: [1, 8] });
  let x = 'x',
    seed = 1;
  const values = (k: number) =>
    Float32Array.from({ length: k }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.5);
  const ops = ['Dense', 'Add', 'Relu', 'Sigmoid'] as const;
  for (let i = 0; i < n; i++) {
    const op = ops[i % 4]!;
    const out = `t${i}`;
    const inputs = [x];
    if (op === 'Dense') {
      g.tensors.set(`w${i}`, { name: `w${i}`, dtype: 'float32', shape: [8, 8], data: values(64) });
      inputs.push(`w${i}`);
    } else if (op === 'Add') {
      g.tensors.set(`b${i}`, { name: `b${i}`, dtype: 'float32', shape: [8], data: values(8) });
      inputs.push(`b${i}`);
    }
    g.tensors.set(out, { name: out, dtype: 'float32', shape: [1, 8] });
    g.nodes.push({ name: `n${i}`, op, inputs, outputs: [out], attrs: {} });
    x = out;
  }
  g.outputs.push(x);
  return serializeModelJson(g, 'bench.bin');
}

const CASES: Record<string, (n: number) => () => Graph> = {
  'onnx-relu': (n) => {
    const bytes = onnxReluChain(n);
    return () => parseOnnx(bytes, 'bench.onnx');
  },
  'json-mlp': (n) => {
    const m = jsonMlp(n);
    return () => parseModelJson(parseJsonText(m.json, 'bench.json'), m.weights, 'bench.json');
  },
};

function time<T>(f: () => T): [T, number] {
  const s = performance.now();
  const r = f();
  return [r, performance.now() - s];
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0)).padStart(7);
console.log(
  `${'case'.padEnd(10)} ${'nodes'.padStart(6)} ${'frontend'.padStart(8)} ${'passes'.padStart(7)} ${'lower'.padStart(7)} ${'plan'.padStart(7)} ${'emit'.padStart(7)} ${'total'.padStart(7)} ms  ratio`,
);
for (const name of (values.only ?? Object.keys(CASES).join(',')).split(',')) {
  const make = CASES[name];
  if (!make) throw new Error(`unknown case '${name}' (cases: ${Object.keys(CASES).join(', ')})`);
  let prev: number | undefined;
  for (const n of SIZES) {
    const build = make(n);
    const [g, tf] = time(build);
    const [opt, tp] = time(() => runPasses(cloneGraph(g)));
    const [l, tl] = time(() => lower(opt));
    const [plan, tm] = time(() => planLowered(l));
    const [, te] = time(() => emitBundle(l, plan, compileMetadata({}, opt.name)));
    const total = tf + tp + tl + tm + te;
    const ratio = prev === undefined ? '' : `${(total / prev).toFixed(2)}×`;
    console.log(
      `${name.padEnd(10)} ${String(n).padStart(6)} ${fmt(tf).padStart(8)} ${fmt(tp)} ${fmt(tl)} ${fmt(tm)} ${fmt(te)} ${fmt(total)}     ${ratio}`,
    );
    prev = total;
  }
}
