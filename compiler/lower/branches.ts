// Compiles a BlockModel (compiler/ir/blocks.ts): every piece — trunk segments, gates, branches, exit
// heads — runs the full pass pipeline and lowering on its own, then the pieces are stitched into one
// flat step list with Dispatch / Jump / Exit control steps (targets = step indices) and one arena plan.
import { numElements, type Graph } from '../ir/graph.ts';
import type { BlockModel } from '../ir/blocks.ts';
import { runPasses } from '../passes/index.ts';
import { lower, DTYPE_BYTES, type Lowered, type LoweredStep, type LoweredTensor } from './index.ts';
import { planMemory, type MemoryPlan } from '../plan/memory.ts';
import { compileMetadata, emitBundle } from '../emit/index.ts';
import { fb } from '../emit/bundle-writer.ts';
import { cloneGraph } from '../compile.ts';

export interface BlockCompileOptions {
  target?: 'simd' | 'scalar';
  sourceHash?: string;
  modelName?: string;
  options?: Record<string, unknown>;
  /**
   * Rewrites each piece's optimised graph before lowering (the int8 quantiser's hook: a piece is an
   * ordinary IR graph, so whatever compileGraph does to a graph applies here piece by piece).
   */
  transformPiece?: (g: Graph, piece: string) => Graph;
  /** Pieces already optimised (e.g. quantised by branches-int8.ts): lowered as they are, no passes. */
  prepared?: Map<Graph, Graph>;
  /** --dump-after, per piece (each runs the pass pipeline on its own). */
  dumpAfter?: string;
  onDump?: (pass: string, text: string) => void;
}

/** Where a block's steps sit in the stitched program (for reports and the arena comparison). */
export interface BlockLayout {
  kind: 'branch' | 'exit';
  name: string;
  /** Branch: index of the Dispatch step; exit: index of the Exit step. */
  control: number;
  /** Branch: first step of each branch, then the merge step. */
  targets: number[];
}

export interface BlockCompileResult {
  bundle: Uint8Array;
  lowered: Lowered;
  plan: MemoryPlan;
  layout: BlockLayout[];
  /** Per Branch block: arena bytes saved because its branches share space. */
  arenaSaved: Record<string, number>;
}

function planOf(l: Lowered, extraSteps: { inputs: number[]; outputs: number[] }[][] = []): MemoryPlan {
  const steps = l.steps.map((s, k) => ({
    inputs: [...s.inputs, ...(extraSteps[k]?.flatMap((e) => e.inputs) ?? [])],
    outputs: [...s.outputs, ...(extraSteps[k]?.flatMap((e) => e.outputs) ?? [])],
    inPlace: s.inPlace,
  }));
  return planMemory({
    tensors: l.tensors.map((t) => ({
      size: numElements(t.shape) * DTYPE_BYTES[t.dtype],
      constant: t.data !== undefined,
      aliasOf: t.aliasOf,
    })),
    steps,
    inputs: l.inputs,
    outputs: l.outputs,
  });
}

/** Stitches the separately lowered pieces; returns the program and where each block landed. */
export function lowerBlockModel(
  bm: BlockModel,
  opts: BlockCompileOptions = {},
): { lowered: Lowered; layout: BlockLayout[] } {
  const tensors: LoweredTensor[] = [];
  const steps: LoweredStep[] = [];
  const byName = new Map<string, number>();
  const layout: BlockLayout[] = [];
  const f32 = fb.DType.F32;
  const shapeOf = (n: string) => {
    const s = bm.shapes.get(n)!.shape;
    return s.length === 0 ? [1] : [...s];
  };
  for (const i of bm.inputs) {
    tensors.push({ name: i, dtype: f32, shape: shapeOf(i) });
    byName.set(i, tensors.length - 1);
  }
  // graph outputs exist from the start: an Exit step writes them before the trunk's end does
  for (const o of bm.outputs) {
    tensors.push({ name: o, dtype: f32, shape: shapeOf(o) });
    byName.set(o, tensors.length - 1);
  }

  const compilePiece = (g: Graph, label: string): Lowered => {
    const ready = opts.prepared?.get(g);
    if (ready) return lower(ready);
    let opt = runPasses(cloneGraph(g), { dumpAfter: opts.dumpAfter, onDump: opts.onDump });
    if (opts.transformPiece) opt = opts.transformPiece(opt, label);
    return lower(opt);
  };
  /** Appends a lowered piece; `target` forces its single output onto an existing tensor (merge). */
  const append = (l: Lowered, g: Graph, target?: number): void => {
    const map = new Array<number | undefined>(l.tensors.length);
    g.inputs.forEach((name, k) => {
      map[l.inputs[k]!] = byName.get(name)!;
    });
    // outputs bound to an existing tensor (graph output, merged branch output): the producing step
    // writes it directly, or a Copy does when the output is a view or a piece input
    const dest = new Map<number, number>();
    const copies: [number, number][] = [];
    l.outputs.forEach((id, k) => {
      const forced = target ?? byName.get(g.outputs[k]!);
      if (forced === undefined) return;
      const t = l.tensors[id]!;
      if (map[id] === undefined && t.aliasOf === undefined && !t.data && !dest.has(id)) dest.set(id, forced);
      else copies.push([id, forced]);
    });
    l.tensors.forEach((t, j) => {
      if (map[j] !== undefined) return;
      const d = dest.get(j);
      if (d !== undefined) {
        map[j] = d;
        return;
      }
      tensors.push({ ...t, shape: [...t.shape], ...(t.aliasOf !== undefined ? { aliasOf: map[t.aliasOf]! } : {}) });
      map[j] = tensors.length - 1;
    });
    l.outputs.forEach((id, k) => {
      if (!byName.has(g.outputs[k]!) && target === undefined) byName.set(g.outputs[k]!, map[id]!);
    });
    for (const s of l.steps)
      steps.push({ ...s, inputs: s.inputs.map((i) => (i < 0 ? i : map[i]!)), outputs: s.outputs.map((o) => map[o]!) });
    for (const [id, forced] of copies)
      steps.push({
        kernel: fb.KernelId.Copy,
        inputs: [map[id]!],
        outputs: [forced],
        macs: 0,
        node: l.tensors[id]!.name,
      });
  };

  for (const p of bm.pieces) {
    if (p.kind === 'graph') {
      append(compilePiece(p.graph, p.graph.name), p.graph);
      continue;
    }
    if (p.kind === 'exit') {
      append(compilePiece(p.head, `${p.name}/head`), p.head);
      const h = byName.get(p.head.outputs[0]!)!;
      layout.push({ kind: 'exit', name: p.name, control: steps.length, targets: [] });
      steps.push({
        kernel: fb.KernelId.Exit,
        inputs: [h],
        outputs: [byName.get(bm.outputs[0]!)!],
        macs: 0,
        node: p.name,
        params: { type: 'control', targets: [], metric: p.metric === 'max_prob' ? 0 : 1, threshold: p.threshold },
      });
      continue;
    }
    append(compilePiece(p.gate, `${p.name}/gate`), p.gate);
    const dispatch = steps.length;
    steps.push({
      kernel: fb.KernelId.Dispatch,
      inputs: [byName.get(p.gate.outputs[0]!)!],
      outputs: [],
      macs: 0,
      node: p.name,
      params: { type: 'control', targets: [] },
    });
    let merged = byName.get(p.output);
    if (merged === undefined) {
      tensors.push({ name: p.output, dtype: f32, shape: shapeOf(p.output) });
      merged = tensors.length - 1;
    }
    const starts: number[] = [];
    const jumps: number[] = [];
    p.branches.forEach((b, i) => {
      starts.push(steps.length);
      append(compilePiece(b, `${p.name}/branch${i}`), b, merged);
      if (i < p.branches.length - 1) {
        jumps.push(steps.length);
        steps.push({
          kernel: fb.KernelId.Jump,
          inputs: [],
          outputs: [],
          macs: 0,
          node: p.name,
          params: { type: 'control', targets: [] },
        });
      }
    });
    const end = steps.length;
    byName.set(p.output, merged);
    const targets = [...starts, end];
    (steps[dispatch]!.params as { targets: number[] }).targets = targets;
    for (const j of jumps) (steps[j]!.params as { targets: number[] }).targets = [end];
    layout.push({ kind: 'branch', name: p.name, control: dispatch, targets });
  }
  return {
    lowered: {
      tensors,
      steps,
      inputs: bm.inputs.map((i) => byName.get(i)!),
      outputs: bm.outputs.map((o) => byName.get(o)!),
    },
    layout,
  };
}

/**
 * Arena of the program if the branches of block `b` could not share space: every tensor a branch
 * writes is kept live from the Dispatch step to the merge step.
 */
function unsharedArena(l: Lowered, b: BlockLayout): number {
  const end = b.targets[b.targets.length - 1]!;
  const written = new Set<number>();
  for (let k = b.targets[0]!; k < end; k++) for (const o of l.steps[k]!.outputs) written.add(o);
  const extra: { inputs: number[]; outputs: number[] }[][] = [];
  extra[b.control] = [{ inputs: [], outputs: [...written] }];
  extra[end - 1] = [{ inputs: [...written], outputs: [] }];
  return planOf(l, extra).arenaSize;
}

export function compileBlockModel(bm: BlockModel, opts: BlockCompileOptions = {}): BlockCompileResult {
  const { lowered, layout } = lowerBlockModel(bm, opts);
  const plan = planOf(lowered);
  const arenaSaved: Record<string, number> = {};
  for (const b of layout) {
    if (b.kind !== 'branch') continue;
    const saved = Math.max(0, unsharedArena(lowered, b) - plan.arenaSize);
    arenaSaved[b.name] = saved;
    (lowered.steps[b.control]!.params as { arenaSaved?: number }).arenaSaved = saved;
  }
  const bundle = emitBundle(lowered, plan, compileMetadata(opts, bm.name));
  return { bundle, lowered, plan, layout, arenaSaved };
}
