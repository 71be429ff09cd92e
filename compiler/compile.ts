// compileGraph: IR graph → optimised graph (passes, verify after each) → lowered steps →
// arena plan → .edgec bytes. The one entry point the CLI, tests and benches use.
import { ModelError, numElements, type Graph } from './ir/graph.ts';
import { formatGraph } from './ir/format.ts';
import { MAX_ARENA_BYTES, MAX_BYTES, fmtBytes, verify } from './ir/verify.ts';
import { runPasses, PASS_NAMES } from './passes/index.ts';
import { DTYPE_BYTES, lower, type Lowered } from './lower/index.ts';
import { planMemory, type MemoryPlan } from './plan/memory.ts';
import { compileMetadata, emitBundle } from './emit/index.ts';
import { int8Boundaries, type IoKind } from './quantize/int8-io.ts';

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
  /** Kernel variants the lowering picks past their speed rule (LowerOptions.forceKernels). */
  forceKernels?: readonly string[];
  /**
   * 'int8': a quantised graph's inputs and outputs are its int8 tensors, the boundary Quantize / Dequantize steps
   * dropped (compiler/quantize/int8-io.ts; TFLite's full-integer I/O). Default 'float'.
   */
  io?: IoKind;
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
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: structuredClone(n.attrs),
    })),
    inputs: [...g.inputs],
    outputs: [...g.outputs],
  };
}

export function planLowered(l: Lowered): MemoryPlan {
  return planMemory({
    tensors: l.tensors.map((t) => ({
      size: numElements(t.shape) * DTYPE_BYTES[t.dtype],
      constant: t.data !== undefined,
      aliasOf: t.aliasOf,
      pinned: t.variable,
    })),
    steps: l.steps,
    inputs: l.inputs,
    outputs: l.outputs,
  });
}

/**
 * What verify() cannot see before lowering: scratch and packed tensors and the arena must stay within what
 * the runtime allocates (verify.ts), and MAC counts exact in the bundle's uint64 field.
 */
export function checkLimits(l: Lowered, plan: MemoryPlan, source: string): void {
  for (const t of l.tensors) {
    const bytes = numElements(t.shape) * DTYPE_BYTES[t.dtype];
    if (bytes > MAX_BYTES) {
      throw new ModelError(
        source,
        `tensor '${t.name}'`,
        `shape [${t.shape}] needs ${fmtBytes(bytes)} bytes, above the ${fmtBytes(MAX_BYTES)} (1 GiB) the runtime runs`,
      );
    }
  }
  if (plan.arenaSize > MAX_ARENA_BYTES) {
    throw new ModelError(
      source,
      'arena',
      `the activations need ${fmtBytes(plan.arenaSize)} bytes at once, above the ${fmtBytes(MAX_ARENA_BYTES)} the runtime allocates`,
    );
  }
  for (const s of l.steps) {
    if (!Number.isSafeInteger(s.macs))
      throw new ModelError(
        source,
        `node '${s.node}'`,
        `macs: ${s.macs} multiply-accumulates per run cannot be counted exactly`,
      );
  }
}

export function compileGraph(graph: Graph, opts: CompileOptions = {}): CompileResult {
  const optimised = opts.skipPasses
    ? (verify(graph), cloneGraph(graph))
    : runPasses(cloneGraph(graph), { dumpAfter: opts.dumpAfter, onDump: opts.onDump });
  const g = opts.io === 'int8' ? int8Boundaries(optimised) : optimised;
  if (g !== optimised) verify(g, 'after --io int8');
  // the scalar build runs a 3×3 conv as fast direct as through Winograd, which the simd builds gain from
  const disableKernels = [...(opts.disableKernels ?? []), ...(opts.target === 'scalar' ? ['Conv2DWino_QS8'] : [])];
  const lowered = lower(g, { disableKernels, forceKernels: opts.forceKernels });
  const plan = planLowered(lowered);
  checkLimits(lowered, plan, g.source);
  const bundle = emitBundle(lowered, plan, compileMetadata(opts, g.name));
  return { bundle, graph: g };
}
