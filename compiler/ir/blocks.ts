// Branch blocks and early exits in model.json v1 (docs/model-format.md "Branches and early exit"):
// parses a model whose top-level nodes include `Branch` / `EarlyExit` into an ordered list of pieces,
// each an ordinary IR Graph (its inputs = the tensors it reads from earlier pieces), with precise
// ModelErrors; and the float64 reference evaluation that follows only the path the gate/exits choose.
import { ModelError, numElements, type Graph, type Tensor } from './graph.ts';
import { evaluate } from './reference.ts';
import { parseModelJson, MODEL_FORMAT, MODEL_VERSION } from '../frontend/model-json/index.ts';
import { inferShapes } from '../passes/infer-shapes.ts';

export const BLOCK_OPS = ['Branch', 'EarlyExit'] as const;
export type ExitMetric = 'max_prob' | 'entropy';

export type Piece =
  | { kind: 'graph'; graph: Graph }
  | { kind: 'branch'; name: string; gate: Graph; branches: Graph[]; output: string }
  | { kind: 'exit'; name: string; head: Graph; metric: ExitMetric; threshold: number };

/** A model with branch blocks / early exits: pieces run in order over one shared tensor namespace. */
export interface BlockModel {
  name: string;
  source: string;
  inputs: string[];
  outputs: string[];
  /** Every activation's dtype and inferred shape (graph inputs, piece outputs, block outputs). */
  shapes: Map<string, Tensor>;
  pieces: Piece[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const BRANCH_KEYS = ['name', 'op', 'inputs', 'outputs', 'gate', 'branches'];
const EXIT_KEYS = ['name', 'op', 'inputs', 'outputs', 'head', 'metric', 'threshold'];
const SUB_KEYS = ['nodes', 'outputs'];

/** True when a parsed model.json has top-level Branch / EarlyExit nodes (then use parseBlockModel). */
export function hasBlocks(json: unknown): boolean {
  return (
    isObj(json) &&
    Array.isArray(json.nodes) &&
    json.nodes.some((n) => isObj(n) && (BLOCK_OPS as readonly unknown[]).includes(n.op))
  );
}

/** Tensor names a node list reads that it does not produce itself (constants included). */
function externalReads(nodes: Obj[]): string[] {
  const made = new Set<string>();
  const reads: string[] = [];
  for (const n of nodes) {
    for (const i of (n.inputs as unknown[]) ?? [])
      if (typeof i === 'string' && i !== '' && !made.has(i) && !reads.includes(i)) reads.push(i);
    for (const o of (n.outputs as unknown[]) ?? []) if (typeof o === 'string') made.add(o);
  }
  return reads;
}

export function parseBlockModel(json: unknown, weights: Uint8Array | undefined, file: string): BlockModel {
  const fail = (where: string, detail: string): never => {
    throw new ModelError(file, where, detail);
  };
  if (!isObj(json)) return fail('model', 'top level: expected an object');
  if (json.format !== MODEL_FORMAT || json.version !== MODEL_VERSION) {
    // the plain parser words these errors
    parseModelJson(json, weights, file);
  }
  const top = json;
  const constants = isObj(top.tensors) ? top.tensors : {};
  const nodes = Array.isArray(top.nodes) ? top.nodes : fail('model', 'nodes: expected an array');
  const outputsDecl = Array.isArray(top.outputs) ? top.outputs : fail('model', 'outputs: expected an array');
  const graphOutputs = outputsDecl.map((o, i) =>
    isObj(o) && typeof o.name === 'string' ? o.name : fail(`outputs[${i}]`, 'name: expected a string'),
  );
  const inputsDecl = Array.isArray(top.inputs) ? top.inputs : fail('model', 'inputs: expected an array');

  const shapes = new Map<string, Tensor>();
  for (const [i, v] of inputsDecl.entries()) {
    if (!isObj(v) || typeof v.name !== 'string' || !Array.isArray(v.shape))
      fail(`inputs[${i}]`, 'expected { name, shape, dtype }');
    const d = v as Obj;
    shapes.set(d.name as string, {
      name: d.name as string,
      dtype: (d.dtype as Tensor['dtype']) ?? 'float32',
      shape: d.shape as number[],
    });
  }

  // Group top-level nodes into runs of plain nodes and single block nodes.
  type Item = { kind: 'nodes'; nodes: Obj[] } | { kind: 'block'; node: Obj; index: number };
  const items: Item[] = [];
  nodes.forEach((n, index) => {
    if (!isObj(n)) fail(`nodes[${index}]`, 'expected an object');
    const node = n as Obj;
    if ((BLOCK_OPS as readonly unknown[]).includes(node.op)) items.push({ kind: 'block', node, index });
    else if (items.at(-1)?.kind === 'nodes') (items.at(-1) as { nodes: Obj[] }).nodes.push(node);
    else items.push({ kind: 'nodes', nodes: [node] });
  });
  // Which names each later item reads (subgraphs included), to know what a piece must output.
  const readsOf = (it: Item): string[] => {
    if (it.kind === 'nodes') return externalReads(it.nodes);
    const n = it.node;
    const subs: unknown[] = n.op === 'Branch' ? [n.gate, ...((n.branches as unknown[]) ?? [])] : [n.head];
    const r = new Set<string>((n.inputs as string[]) ?? []);
    for (const s of subs)
      if (isObj(s) && Array.isArray(s.nodes)) for (const x of externalReads(s.nodes as Obj[])) r.add(x);
    return [...r];
  };
  const laterReads = items.map((_, k) => new Set([...items.slice(k + 1).flatMap(readsOf), ...graphOutputs]));

  const blockNames = new Set<string>();
  /** Parses a node list as a graph whose inputs are the known activations it reads. */
  const sub = (name: string, list: Obj[], outs: string[], where: string): Graph => {
    const ins = externalReads(list).filter((r) => shapes.has(r) && !(r in constants));
    for (const n of list) {
      if ((BLOCK_OPS as readonly unknown[]).includes(n.op))
        fail(where, `node '${String(n.name)}': ${String(n.op)} blocks cannot nest inside a block`);
    }
    const unknown = externalReads(list).filter((r) => !shapes.has(r) && !(r in constants));
    if (unknown.length > 0) fail(where, `reads '${unknown[0]}', which is neither an earlier activation nor a constant`);
    const g = parseModelJson(
      {
        format: MODEL_FORMAT,
        version: MODEL_VERSION,
        name,
        inputs: ins.map((i) => ({ name: i, shape: shapes.get(i)!.shape, dtype: shapes.get(i)!.dtype })),
        outputs: outs.map((o) => ({ name: o })),
        ...(top.weights !== undefined ? { weights: top.weights } : {}),
        tensors: Object.fromEntries(Object.entries(constants).filter(([k]) => externalReads(list).includes(k))),
        nodes: list,
      },
      weights,
      file,
    );
    const scratch: Graph = { ...g, tensors: new Map(g.tensors), nodes: [...g.nodes] };
    inferShapes.run(scratch);
    for (const n of g.nodes) for (const o of n.outputs) shapes.set(o, scratch.tensors.get(o)!);
    return g;
  };
  const subgraph = (v: unknown, where: string, prefix: string, name: string): { list: Obj[]; outs: string[] } => {
    if (!isObj(v)) return fail(where, 'expected a subgraph object { nodes, outputs }');
    for (const k of Object.keys(v))
      if (!SUB_KEYS.includes(k)) fail(where, `unknown key '${k}' (a subgraph has ${SUB_KEYS.join(', ')})`);
    if (!Array.isArray(v.nodes) || v.nodes.length === 0) fail(where, 'nodes: expected a non-empty array of nodes');
    if (!Array.isArray(v.outputs) || v.outputs.length !== 1 || typeof v.outputs[0] !== 'string') {
      fail(where, `outputs: expected exactly one tensor name, found ${JSON.stringify(v.outputs)}`);
    }
    // node names get the block's path, so steps in the bundle say where they came from
    const list = (v.nodes as unknown[]).map((n, i) =>
      isObj(n)
        ? { ...n, name: `${prefix}/${String(n.name ?? `nodes[${i}]`)}` }
        : fail(`${where}.nodes[${i}]`, 'expected an object'),
    );
    void name;
    return { list, outs: v.outputs as string[] };
  };

  const pieces: Piece[] = [];
  items.forEach((it, k) => {
    if (it.kind === 'nodes') {
      const made = it.nodes.flatMap((n) =>
        ((n.outputs as unknown[]) ?? []).filter((o): o is string => typeof o === 'string'),
      );
      const outs = made.filter((o) => laterReads[k]!.has(o));
      if (outs.length === 0)
        fail(`node '${String(it.nodes[0]!.name)}'`, 'computes nothing a later node or graph output uses');
      pieces.push({
        kind: 'graph',
        graph: sub(`${String(top.name)}#${k}`, it.nodes, outs, `node '${String(it.nodes[0]!.name)}'`),
      });
      return;
    }
    const n = it.node;
    const name =
      typeof n.name === 'string' && n.name !== ''
        ? n.name
        : fail(`nodes[${it.index}]`, 'name: expected a non-empty string');
    const where = `node '${name}' (${String(n.op)})`;
    if (blockNames.has(name)) fail(where, 'name: expected a unique block name');
    blockNames.add(name);
    const keys = n.op === 'Branch' ? BRANCH_KEYS : EXIT_KEYS;
    for (const key of Object.keys(n))
      if (!keys.includes(key)) fail(where, `unknown key '${key}' (a ${String(n.op)} node has ${keys.join(', ')})`);
    const inputs = Array.isArray(n.inputs) ? n.inputs : fail(where, 'inputs: expected an array of tensor names');
    for (const [i, x] of inputs.entries()) {
      if (typeof x !== 'string' || !shapes.has(x))
        fail(where, `inputs[${i}]: expected an earlier activation, found ${JSON.stringify(x)}`);
      if (shapes.get(x as string)!.shape[0] !== 1) {
        fail(
          where,
          `inputs[${i}]: blocks run one sample at a time: expected batch 1, found shape [${shapes.get(x as string)!.shape}] (the runtime dispatches a batch sample by sample)`,
        );
      }
    }
    if (n.op === 'Branch') {
      const outs =
        Array.isArray(n.outputs) && n.outputs.length === 1 && typeof n.outputs[0] === 'string'
          ? (n.outputs as string[])
          : fail(
              where,
              `outputs: expected exactly one tensor name (the merged branch output), found ${JSON.stringify(n.outputs)}`,
            );
      if (shapes.has(outs[0]!) || outs[0]! in constants) fail(where, `outputs[0]: '${outs[0]}' is already defined`);
      const gs = subgraph(n.gate, `${where}: gate`, `${name}/gate`, name);
      const gate = sub(`${name}/gate`, gs.list, gs.outs, `${where}: gate`);
      const list = Array.isArray(n.branches) ? n.branches : fail(where, 'branches: expected an array of subgraphs');
      if (list.length < 2) fail(where, `branches: expected at least 2 subgraphs, found ${list.length}`);
      const width = numElements(shapes.get(gs.outs[0]!)!.shape);
      if (width !== list.length) {
        fail(
          where,
          `gate: gate width ${width} (output '${gs.outs[0]}' of shape [${shapes.get(gs.outs[0]!)!.shape}]) ≠ number of branches ${list.length}`,
        );
      }
      if (shapes.get(gs.outs[0]!)!.dtype !== 'float32')
        fail(where, `gate: output '${gs.outs[0]}' must be float32 scores`);
      const branches: Graph[] = [];
      let first: Tensor | undefined;
      list.forEach((b, i) => {
        const bw = `${where}: branches[${i}]`;
        const bs = subgraph(b, bw, `${name}/branch${i}`, name);
        branches.push(sub(`${name}/branch${i}`, bs.list, bs.outs, bw));
        const t = shapes.get(bs.outs[0]!)!;
        if (first === undefined) first = t;
        else if (t.shape.join() !== first.shape.join() || t.dtype !== first.dtype) {
          fail(
            bw,
            `branch outputs differ in shape: '${bs.outs[0]}' is ${t.dtype} [${t.shape}], branches[0] gives ${first.dtype} [${first.shape}]`,
          );
        }
      });
      shapes.set(outs[0]!, { name: outs[0]!, dtype: first!.dtype, shape: [...first!.shape] });
      pieces.push({ kind: 'branch', name, gate, branches, output: outs[0]! });
      return;
    }
    // EarlyExit
    if (n.outputs !== undefined && (!Array.isArray(n.outputs) || n.outputs.length !== 0))
      fail(
        where,
        'outputs: an EarlyExit produces no tensor (its head output becomes the graph output); expected [] or no key',
      );
    const metric = n.metric ?? 'max_prob';
    if (metric !== 'max_prob' && metric !== 'entropy')
      fail(where, `metric: expected "max_prob" or "entropy", found ${JSON.stringify(n.metric)}`);
    const threshold = n.threshold;
    if (
      typeof threshold !== 'number' ||
      !Number.isFinite(threshold) ||
      threshold < 0 ||
      (metric === 'max_prob' && threshold > 1)
    ) {
      fail(
        where,
        `threshold: expected a number in ${metric === 'max_prob' ? '[0, 1]' : '[0, ∞)'}, found ${JSON.stringify(threshold)}`,
      );
    }
    if (graphOutputs.length !== 1)
      fail(where, `an early exit needs a model with exactly one output, found ${graphOutputs.length}`);
    const hs = subgraph(n.head, `${where}: head`, `${name}/head`, name);
    const head = sub(`${name}/head`, hs.list, hs.outs, `${where}: head`);
    pieces.push({ kind: 'exit', name, head, metric: metric as ExitMetric, threshold: threshold as number });
  });
  // exit heads must match the final output, known only now
  const out = shapes.get(graphOutputs[0]!);
  if (!out) fail(`output '${graphOutputs[0]}'`, 'is never produced');
  for (const p of pieces) {
    if (p.kind !== 'exit') continue;
    const h = shapes.get(p.head.outputs[0]!)!;
    if (h.shape.join() !== out!.shape.join() || h.dtype !== 'float32' || out!.dtype !== 'float32') {
      fail(
        `node '${p.name}' (EarlyExit): head`,
        `head output '${p.head.outputs[0]}' is ${h.dtype} [${h.shape}], the graph output '${graphOutputs[0]}' is ${out!.dtype} [${out!.shape}]: they must match`,
      );
    }
  }
  return {
    name: String(top.name ?? ''),
    source: file,
    inputs: [...shapes.keys()].slice(0, inputsDecl.length),
    outputs: graphOutputs,
    shapes,
    pieces,
  };
}

/** What a run took: per Branch block the branch index, per EarlyExit whether it stopped (null: not reached). */
export interface BlockRoute {
  branches: Record<string, number | null>;
  exits: Record<string, boolean | null>;
}

/** Confidence test of an exit head (softmax over the last axis, every row), as the executor does it. */
export function exitConfident(logits: ArrayLike<number>, cols: number, metric: ExitMetric, threshold: number): boolean {
  for (let r = 0; r * cols < logits.length; r++) {
    let mx = -Infinity;
    for (let c = 0; c < cols; c++) mx = Math.max(mx, logits[r * cols + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(logits[r * cols + c]! - mx);
    if (metric === 'max_prob') {
      if (!(1 / sum > threshold)) return false;
      continue;
    }
    let h = 0;
    for (let c = 0; c < cols; c++) {
      const p = Math.exp(logits[r * cols + c]! - mx) / sum;
      if (p > 0) h -= p * Math.log(p);
    }
    if (!(h < threshold)) return false;
  }
  return true;
}

/** Index of the largest score, ties → lowest index (NaN never wins), as the Dispatch step. */
export function argmaxLowest(v: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (v[k]! > v[best]! || (Number.isNaN(v[best]!) && !Number.isNaN(v[k]!))) best = k;
  return best;
}

/**
 * Float64 reference of a block model for one sample: evaluates only the chosen path (the gate's
 * argmax branch; an exit head and, when it is confident, nothing after it).
 */
export function evaluateBlockModel(
  bm: BlockModel,
  inputs: Record<string, ArrayLike<number>>,
): { outputs: Record<string, Float64Array>; route: BlockRoute } {
  const values = new Map<string, Float64Array>();
  for (const i of bm.inputs) values.set(i, Float64Array.from(inputs[i]!));
  const route: BlockRoute = { branches: {}, exits: {} };
  for (const p of bm.pieces)
    if (p.kind === 'branch') route.branches[p.name] = null;
    else if (p.kind === 'exit') route.exits[p.name] = null;
  const run = (g: Graph) => {
    const r = evaluate(g, Object.fromEntries(g.inputs.map((i) => [i, values.get(i)!])));
    for (const [k, v] of Object.entries(r)) values.set(k, v);
    return r;
  };
  for (const p of bm.pieces) {
    if (p.kind === 'graph') run(p.graph);
    else if (p.kind === 'branch') {
      const k = argmaxLowest(run(p.gate)[p.gate.outputs[0]!]!);
      route.branches[p.name] = k;
      values.set(p.output, run(p.branches[k]!)[p.branches[k]!.outputs[0]!]!);
    } else {
      const o = run(p.head)[p.head.outputs[0]!]!;
      const shape = bm.shapes.get(p.head.outputs[0]!)!.shape;
      const stop = exitConfident(o, shape[shape.length - 1] ?? 1, p.metric, p.threshold);
      route.exits[p.name] = stop;
      if (stop) return { outputs: { [bm.outputs[0]!]: o }, route };
    }
  }
  return { outputs: Object.fromEntries(bm.outputs.map((o) => [o, values.get(o)!])), route };
}
