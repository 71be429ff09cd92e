// Structural check of an IR graph, run after every pass: topological order, each tensor defined
// exactly once, shapes known, positive and consistent with the op table, outputs produced,
// constants holding data of the right length, sizes the runtime can address, at least one output.
// Throws ModelError naming the node/tensor.
import { ModelError, elementSize, numElements, type Graph } from './graph.ts';
import { inferNode } from './ops/index.ts';

/** Largest dim the bundle stores (int32). */
export const MAX_DIM = 2 ** 31 - 1;
/**
 * Largest tensor, in elements and in bytes, the runtime runs: it refuses shapes over 2^30 elements
 * (assembly/bundle/validate.ts) and heap blocks, the arena's and the bundle's, over 1 GiB.
 */
export const MAX_BYTES = 2 ** 30;
/** Largest arena the executor allocates (assembly/executor.ts: arena + 64 ≤ 1 GiB). */
export const MAX_ARENA_BYTES = 2 ** 30 - 64;

/** `n` with thousands separators, for size messages. */
export const fmtBytes = (n: number): string => (Number.isSafeInteger(n) ? n.toLocaleString('en-US') : String(n));

export function verify(g: Graph, context = ''): void {
  const where = (w: string) => (context ? `${context}: ${w}` : w);
  const err = (w: string, d: string): never => {
    throw new ModelError(g.source, where(w), d);
  };
  const defined = new Set<string>();
  for (const [name, t] of g.tensors) {
    if (t.name !== name) err(`tensor '${name}'`, `is stored under a different name '${t.name}'`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      err(`tensor '${name}'`, `shape [${t.shape}] is not known and positive`);
    }
    if (t.shape.some((d) => d > MAX_DIM)) {
      err(
        `tensor '${name}'`,
        `shape [${t.shape}]: expected dims ≤ ${fmtBytes(MAX_DIM)} (the bundle stores int32 dims)`,
      );
    }
    const bytes = numElements(t.shape) * elementSize(t.dtype);
    if (bytes > MAX_BYTES) {
      err(
        `tensor '${name}'`,
        `shape [${t.shape}]: ${fmtBytes(numElements(t.shape))} ${t.dtype} values need ${fmtBytes(bytes)} bytes, above the ${fmtBytes(MAX_BYTES)} (1 GiB) the runtime runs`,
      );
    }
    if (t.data) {
      if (t.data.length !== numElements(t.shape)) {
        err(`constant '${name}'`, `has ${t.data.length} values, shape [${t.shape}] needs ${numElements(t.shape)}`);
      }
      defined.add(name);
    }
  }
  for (const name of g.inputs) {
    const t = g.tensors.get(name);
    if (!t) err(`input '${name}'`, `is not in the tensor table`);
    if (t!.data) err(`input '${name}'`, `is also a constant`);
    if (defined.has(name)) err(`input '${name}'`, `is listed twice`);
    defined.add(name);
  }
  for (const name of g.state?.keys() ?? []) {
    if (!g.tensors.has(name) || g.tensors.get(name)!.data)
      err(`state '${name}'`, `must be a tensor without constant data`);
    defined.add(name);
  }
  const names = new Set<string>();
  for (const n of g.nodes) {
    if (names.has(n.name)) err(`node '${n.name}'`, `node name is used twice`);
    names.add(n.name);
    n.inputs.forEach((i, k) => {
      if (i === '') return;
      if (!g.tensors.has(i)) err(`node '${n.name}'`, `input ${k} '${i}' is not in the tensor table`);
      if (!defined.has(i))
        err(`node '${n.name}'`, `input ${k} '${i}' is used before it is defined (graph not in topological order)`);
    });
    const outs = inferNode(g, n);
    n.outputs.forEach((o, k) => {
      const t = g.tensors.get(o);
      if (!t) err(`node '${n.name}'`, `output '${o}' is not in the tensor table`);
      if (defined.has(o)) err(`node '${n.name}'`, `output '${o}' is defined more than once`);
      if (t!.shape.join() !== outs[k]!.shape.join() || t!.dtype !== outs[k]!.dtype) {
        err(
          `node '${n.name}'`,
          `output '${o}' is ${t!.dtype}[${t!.shape}], the op gives ${outs[k]!.dtype}[${outs[k]!.shape}]`,
        );
      }
      defined.add(o);
    });
  }
  for (const o of g.outputs) if (!defined.has(o)) err(`output '${o}'`, `is never produced`);
  if (g.outputs.length === 0)
    err('graph', 'outputs: expected at least one graph output, found none (nothing to compute)');
}
