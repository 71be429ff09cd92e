// compileGraph: IR graph → optimised graph (passes, verify after each) → lowered steps →
// arena plan → .edgec bytes. The one entry point the CLI, tests and benches use.
import { numElements, type Graph } from './ir/graph.ts';
import { formatGraph } from './ir/format.ts';
import { verify } from './ir/verify.ts';
import { runPasses, PASS_NAMES } from './passes/index.ts';
import { DTYPE_BYTES, lower, type Lowered } from './lower/index.ts';
import { planMemory, type MemoryPlan } from './plan/memory.ts';
import { compileMetadata, emitBundle } from './emit/index.ts';

export { formatGraph, PASS_NAMES };

export interface CompileOptions {
  target?: 'simd' | 'scalar';
  dumpAfter?: string;
  onDump?: (pass: string, text: string) => void;
  sourceHash?: string;
  modelName?: string;
  options?: Record<string, unknown>;
  /** The graph is already optimised (e.g. the int8 IR from compiler/quantize): verify it, run no passes. */
  skipPasses?: boolean;
  /** Kernel variants the lowering must not pick (LowerOptions.disableKernels). */
  disableKernels?: readonly string[];
}

export interface CompileResult {
  bundle: Uint8Array;
  graph: Graph;
}

/** Deep enough copy that passes never touch the caller's graph (constant data is shared, read-only). */
export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    tensors: new Map([...g.tensors].map(([k, t]) => [k, { ...t, shape: [...(t.shape ?? [])] }])),
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: structuredClone(n.attrs) })),
    inputs: [...g.inputs],
    outputs: [...g.outputs],
  };
}

export function planLowered(l: Lowered): MemoryPlan {
  return planMemory({
    tensors: l.tensors.map((t) => ({
      size: numElements(t.shape) * DTYPE_BYTES[t.dtype], constant: t.data !== undefined, aliasOf: t.aliasOf, pinned: t.variable,
    })),
    steps: l.steps,
    inputs: l.inputs,
    outputs: l.outputs,
  });
}

export function compileGraph(graph: Graph, opts: CompileOptions = {}): CompileResult {
  const g = opts.skipPasses
    ? (verify(graph), cloneGraph(graph))
    : runPasses(cloneGraph(graph), { dumpAfter: opts.dumpAfter, onDump: opts.onDump });
  const lowered = lower(g, { disableKernels: opts.disableKernels });
  const plan = planLowered(lowered);
  const bundle = emitBundle(lowered, plan, compileMetadata(opts, g.name));
  return { bundle, graph: g };
}
