// One-file wasm (`edgec compile --embed`): the WASI build (build/edgec-wasi.wasm) with one bundle in an
// active data segment placed where the heap began (the heap start moves past it), and every kernel
// entry the bundle's steps never dispatch to replaced by `unreachable` so binaryen drops their code.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readBundle } from '../emit/bundle-writer.ts';
import { ModelError } from '../ir/graph.ts';
import { KERNELS } from '../kernels/registry.ts';

/**
 * Kernel entry functions (names in the WASI build's name section) and the step KernelIds that may call them, from
 * the registry's `entries` (compiler/kernels/registry.ts); an entry none of the bundle's steps use becomes a trap
 * stub. Entries the optimiser inlined into the dispatch loop are absent and simply stay.
 */
export const KERNEL_ENTRIES: ReadonlyArray<readonly [string, readonly number[]]> = (() => {
  const users = new Map<string, number[]>();
  for (const k of KERNELS) for (const e of k.entries) users.set(e, [...(users.get(e) ?? []), k.id]);
  return [...users];
})();

export interface EmbedResult {
  wasm: Uint8Array;
  /** Kernel entries replaced by a trap stub. */
  removed: string[];
  /** Kernel ids the bundle's steps use. */
  kernels: number[];
}

/** build/edgec-wasi.wasm of the package root: from compiler/embed/ or dist/chunks/ (../../build), dist/cli.js (../build). */
export function wasiRuntimePath(): string {
  for (const rel of ['../../build/edgec-wasi.wasm', '../build/edgec-wasi.wasm']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new ModelError('--embed', 'runtime', 'build/edgec-wasi.wasm not found; run npm run build');
}

/** The stub allocator's next-free-address global (AssemblyScript 0.28, --runtime stub). */
const HEAP_OFFSET = '~lib/rt/stub/offset';
const align16 = (n: number) => (n + 15) & ~15;

export async function embedBundle(bundle: Uint8Array, runtime?: Uint8Array): Promise<EmbedResult> {
  let binaryen: typeof import('binaryen').default;
  try {
    binaryen = (await import('binaryen')).default;
  } catch {
    throw new ModelError('--embed', 'runtime', 'needs the binaryen package (npm install binaryen)');
  }
  const b = readBundle(bundle);
  const used = new Set<number>();
  for (let i = 0; i < b.stepsLength(); i++) used.add(b.steps(i)!.kernel());

  const mod = binaryen.readBinary(runtime ?? new Uint8Array(readFileSync(wasiRuntimePath())));
  try {
    // Exactly what wasm3 >= 0.5 runs: no passive segments (bulk-memory-opt only), no SIMD, no tail calls.
    const F = binaryen.Features;
    mod.setFeatures(F.MVP | F.SignExt | F.MutableGlobals | F.NontrappingFPToInt | F.Multivalue | F.BulkMemoryOpt);

    // The start function initialises the allocator near its top: `global.set $~lib/rt/stub/offset (i32.const heapStart)`.
    const startName = binaryen.getExportInfo(mod.getExport('_start')).value;
    const body = binaryen.getExpressionInfo(binaryen.getFunctionInfo(mod.getFunction(startName)).body) as {
      id: number;
      children?: number[];
    };
    let setValue = 0,
      value: { id: number; value?: unknown } | undefined;
    for (const c of body.id === binaryen.BlockId ? body.children! : []) {
      const e = binaryen.getExpressionInfo(c) as { id: number; name?: string; value?: number };
      if (e.id !== binaryen.GlobalSetId || e.name !== HEAP_OFFSET) continue;
      setValue = e.value!;
      value = binaryen.getExpressionInfo(setValue) as { id: number; value?: unknown };
      break;
    }
    if (value?.id !== binaryen.ConstId || typeof value.value !== 'number') {
      throw new ModelError(
        '--embed',
        'runtime',
        `the WASI runtime's start does not set ${HEAP_OFFSET} to a constant (built without names?)`,
      );
    }
    const at = align16(value.value);
    const heapStart = align16(at + bundle.length) + 16;
    (binaryen as unknown as { Const: { setValueI32(e: number, v: number): void } }).Const.setValueI32(
      setValue,
      heapStart,
    );

    // Same segments plus the bundle, memory grown to hold it.
    const segments: { offset: number; data: Uint8Array; passive: boolean }[] = [];
    // binaryen.js has these data-segment calls; its typings lag behind.
    const segs = mod as unknown as {
      getNumDataSegments(): number;
      getDataSegmentByIndex(i: number): number;
      getDataSegmentInfo(s: number): { offset: number; data: ArrayBuffer; passive: boolean };
    };
    for (let i = 0; i < segs.getNumDataSegments(); i++) {
      const info = segs.getDataSegmentInfo(segs.getDataSegmentByIndex(i));
      segments.push({ offset: info.offset, data: new Uint8Array(info.data), passive: info.passive });
    }
    const mem = mod.getMemoryInfo() as unknown as { initial: number; max?: number };
    mod.removeExport('memory');
    mod.setMemory(Math.max(mem.initial, Math.ceil(heapStart / 65536) + 1), mem.max ?? -1, 'memory', [
      ...segments.map((s) => ({ offset: mod.i32.const(s.offset), data: s.data, passive: s.passive })),
      { offset: mod.i32.const(at), data: bundle, passive: false },
    ]);

    // The embedded bundle's address and length become constants (and stop being exports).
    for (const [exp, v] of [
      ['edgec_embedded_ptr', at],
      ['edgec_embedded_len', bundle.length],
    ] as const) {
      const g = binaryen.getExportInfo(mod.getExport(exp)).value;
      mod.removeExport(exp);
      mod.removeGlobal(g);
      mod.addGlobal(g, binaryen.i32, false, mod.i32.const(v));
    }

    const removed: string[] = [];
    for (const [name, ids] of KERNEL_ENTRIES) {
      if (ids.some((k) => used.has(k))) continue;
      const f = mod.getFunction(name);
      if (!f) continue;
      const info = binaryen.getFunctionInfo(f);
      mod.removeFunction(name);
      mod.addFunction(name, info.params, info.results, [], mod.unreachable());
      removed.push(name);
    }

    // The runtime is already optimised (-O3): only propagate the new constants and drop what became
    // dead (much faster than a second full -O3, same size within a few hundred bytes).
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(1);
    binaryen.setDebugInfo(false);
    mod.runPasses([
      'simplify-globals-optimizing',
      'remove-unused-module-elements',
      'precompute-propagate',
      'dce',
      'remove-unused-brs',
      'vacuum',
      'remove-unused-module-elements',
    ]);
    if (!mod.validate()) throw new ModelError('--embed', 'runtime', 'binaryen produced an invalid module');
    return { wasm: mod.emitBinary(), removed, kernels: [...used].sort((x, y) => x - y) };
  } finally {
    mod.dispose();
  }
}
