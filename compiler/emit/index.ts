// Emit: lowered program + memory plan → BundleSpec → .edgec bytes. Lays each constant out
// 16-byte aligned in the constants blob (a constant several steps read is stored once) and fills metadata.
import { align, type MemoryPlan } from '../plan/memory.ts';
import { DTYPE_BYTES, type Lowered } from '../lower/index.ts';
import { writeBundle, type BundleSpec, type MetadataSpec, type TensorSpec } from './bundle-writer.ts';
import { numElements } from '../ir/graph.ts';

// imported, not read at run time: esbuild inlines it into dist/cli.js, where no relative path holds
import pkg from '../../package.json' with { type: 'json' };

export function edgecVersion(): string {
  return pkg.version;
}

/** Bundle metadata from the compile options every entry point takes (target defaults to simd). */
export function compileMetadata(
  opts: { target?: string; sourceHash?: string; options?: Record<string, unknown>; modelName?: string },
  graphName: string,
): MetadataSpec {
  const target = opts.target ?? 'simd';
  return {
    edgecVersion: edgecVersion(),
    sourceHash: opts.sourceHash ?? '',
    compileOptions: JSON.stringify({ target, ...(opts.options ?? {}) }),
    target,
    modelName: opts.modelName ?? graphName,
  };
}

/**
 * Only tensors a step or the graph interface names go into the bundle (renumbered in order); aliases
 * left by reshape elimination and the like stay out. Graph inputs and outputs keep their names (the
 * API addresses them by name); internal tensors go nameless: nothing reads their names, and in
 * converter-made models they are the larger part of a small bundle (steps keep their node names).
 */
export function buildBundleSpec(l: Lowered, plan: MemoryPlan, metadata: MetadataSpec): BundleSpec {
  const used = new Map<number, number>();
  const use = (id: number) => {
    if (id >= 0 && !used.has(id)) used.set(id, used.size);
  };
  l.inputs.forEach(use);
  for (const s of l.steps) {
    s.inputs.forEach(use);
    s.outputs.forEach(use);
  }
  l.outputs.forEach(use);
  // variables keep their names (the host reads and writes them by name) and bring their init constants
  l.tensors.forEach((t, i) => {
    if (t.variable) {
      use(i);
      if (t.init !== undefined) use(t.init);
    }
  });
  const io = new Set([...l.inputs, ...l.outputs, ...l.tensors.flatMap((t, i) => (t.variable ? [i] : []))]);
  const order = [...used.keys()].sort((a, b) => a - b);
  order.forEach((id, k) => used.set(id, k));
  const remap = (id: number) => (id < 0 ? id : used.get(id)!);

  const chunks: Uint8Array[] = [];
  let size = 0;
  const seen = new Map<Uint8Array, number>();
  const tensors: TensorSpec[] = order.map((i) => {
    const t = l.tensors[i]!;
    const bytes = numElements(t.shape) * DTYPE_BYTES[t.dtype];
    const name = io.has(i) ? t.name : '';
    if (t.data) {
      let offset = seen.get(t.data);
      if (offset === undefined) {
        offset = align(size);
        if (offset > size) chunks.push(new Uint8Array(offset - size));
        chunks.push(t.data);
        size = offset + t.data.length;
        seen.set(t.data, offset);
      }
      return {
        name,
        dtype: t.dtype,
        shape: t.shape,
        constant: true,
        offset,
        size: bytes,
        scale: t.scale,
        zeroPoint: t.zeroPoint,
      };
    }
    const variable = t.variable ? { variable: true, init: t.init === undefined ? -1 : remap(t.init) } : {};
    return {
      name,
      dtype: t.dtype,
      shape: t.shape,
      constant: false,
      offset: plan.offsets[i]!,
      size: bytes,
      scale: t.scale,
      zeroPoint: t.zeroPoint,
      ...variable,
    };
  });
  const constants = new Uint8Array(align(size));
  let at = 0;
  for (const c of chunks) {
    constants.set(c, at);
    at += c.length;
  }
  return {
    tensors,
    steps: l.steps.map((s) => ({
      kernel: s.kernel,
      inputs: s.inputs.map(remap),
      outputs: s.outputs.map(remap),
      params: s.params,
      macs: s.macs,
      node: s.node,
    })),
    inputs: l.inputs.map(remap),
    outputs: l.outputs.map(remap),
    arenaSize: plan.arenaSize,
    constants,
    metadata,
  };
}

export function emitBundle(l: Lowered, plan: MemoryPlan, metadata: MetadataSpec): Uint8Array {
  return writeBundle(buildBundleSpec(l, plan, metadata));
}
