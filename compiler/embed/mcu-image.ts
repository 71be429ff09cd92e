// `edgec compile --mcu`: a one-file wasm for a C host under wasm3 (examples/mcu), already loaded and stripped to the
// bundle's kernels. The scalar runtime (build/edgec-scalar.wasm, plain-i32 ABI, no imports) is instantiated here,
// given the bundle and `edgec_load`ed; its linear memory (static data + bundle + decoded tables) and every global are
// then written back into the module as data segments and global initialisers, the start function dropped, and the
// load-only exports removed so binaryen drops the decoder, validator and checksum code. Found by name (the runtime's
// name section, kept beside it in build/edgec-scalar.names), the entries of kernels the bundle never runs and the
// step checks become `unreachable`; the globals only edgec_load wrote become constants, so the reference twins (the
// image cannot switch to them) and unused dispatch arms fold away too. On the MCU the host calls `edgec_run` straight
// away: wasm3 never compiles (and keeps in RAM) the code edgec_load needs, nor code for kernels the bundle lacks, and
// its memory is one allocation of exactly `memoryBytes`. Same runtime code on the path a run takes: the same bytes.
import { existsSync, readFileSync } from 'node:fs';
import { wasmPath } from '../../runtime/node.ts';
import { readBundle } from '../emit/bundle-writer.ts';
import { ModelError } from '../ir/graph.ts';
import { KERNEL_ENTRIES } from './index.ts';

/** Exports only `edgec_load` and its helpers need (the image is loaded already), and `edgec_use_variant`, which only
 * switches to variants `edgec_load_variant` loaded. */
export const LOAD_EXPORTS = [
  'edgec_alloc',
  'edgec_load',
  'edgec_load_variant',
  'edgec_verify_checksum',
  'edgec_set_reference',
  'edgec_use_variant',
] as const;

/** Functions only validation reaches, through a function table binaryen keeps whole (FLOAT_CHECKS): the image
 * never validates, so they become `unreachable` with the unused kernels' entries. */
export const LOAD_ONLY_PREFIXES = ['assembly/bundle/step-checks/'] as const;

/** A zero run at least this long splits a data segment: wasm3 keeps 24 bytes per segment in RAM (0.9.0, 32-bit),
 * a run kept costs its bytes of flash. */
export const SEGMENT_GAP = 256;

export interface McuImage {
  wasm: Uint8Array;
  /** Bytes of linear memory the image needs, a run included: examples/mcu's `memory_bytes` (also exported as
   * the immutable global `edgec_memory_bytes`). */
  memoryBytes: number;
  /** Initialised memory written into the image (static data, bundle, decoded tables) and its segments. */
  imageBytes: number;
  segments: number;
  /** Defined functions left in the image (wasm3 keeps one M3Function each). */
  functions: number;
  /** Code-section bytes of every function body, by function index. */
  bodyBytes: number[];
  /** Runtime function name of every function, by index (the image itself carries no names). */
  names: string[];
  /** Functions replaced by `unreachable`: unused kernels' entries and the step checks. */
  stubbed: string[];
}

interface Abi {
  memory: WebAssembly.Memory;
  edgec_alloc(n: number): number;
  edgec_load(p: number, n: number): number;
  edgec_run(): number;
  edgec_error_ptr(): number;
  edgec_error_len(): number;
  edgec_input_count(): number;
  edgec_input_ptr(i: number): number;
  edgec_input_size(i: number): number;
  [global: string]: unknown;
}

type Binaryen = typeof import('binaryen').default;

async function binaryenModule(): Promise<Binaryen> {
  try {
    return (await import('binaryen')).default;
  } catch {
    throw new ModelError('--mcu', 'runtime', 'needs the binaryen package (npm install binaryen)');
  }
}

/** Non-zero runs of `mem` merged across zero gaps shorter than SEGMENT_GAP. */
export function dataRuns(mem: Uint8Array): { offset: number; data: Uint8Array }[] {
  const runs: { offset: number; data: Uint8Array }[] = [];
  let i = 0;
  while (i < mem.length) {
    while (i < mem.length && mem[i] === 0) i++;
    if (i === mem.length) break;
    const start = i;
    let end = i;
    for (let zeros = 0; i < mem.length && zeros < SEGMENT_GAP; i++) {
      if (mem[i] === 0) zeros++;
      else {
        zeros = 0;
        end = i + 1;
      }
    }
    runs.push({ offset: start, data: mem.slice(start, end) });
    i = end;
  }
  return runs;
}

/** Code-section body sizes by function index (the module has no function imports). */
export function functionBodySizes(wasm: Uint8Array): number[] {
  let p = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      x: number;
    do {
      x = wasm[p++]!;
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  while (p < wasm.length) {
    const id = wasm[p++]!;
    const n = leb();
    const end = p + n;
    if (id === 10) {
      const sizes: number[] = [];
      for (let k = leb(); k > 0; k--) {
        const size = leb();
        sizes.push(size);
        p += size;
      }
      return sizes;
    }
    p = end;
  }
  return [];
}

/** build/edgec-scalar.wasm with its name section (build/edgec-scalar.names, split off by scripts/build.js) appended. */
export function namedScalarRuntime(): Uint8Array {
  const wasm = wasmPath('scalar');
  const names = wasm.replace(/\.wasm$/, '.names');
  if (!existsSync(names)) throw new ModelError('--mcu', 'runtime', `${names} not found; run npm run build`);
  return new Uint8Array(Buffer.concat([readFileSync(wasm), readFileSync(names)]));
}

/** Loads `bundle` into the scalar runtime (`runtime`: a build of it with names) and writes the loaded state out as a
 * module stripped to the bundle's kernels (see the file header). */
export async function mcuImage(bundle: Uint8Array, runtime?: Uint8Array): Promise<McuImage> {
  const binaryen = await binaryenModule();
  const source = runtime ?? namedScalarRuntime();

  // 1. A copy that exports every mutable global, so their values can be read after edgec_load.
  const globals: { name: string; type: number; value?: number | bigint }[] = [];
  const probe = binaryen.readBinary(source);
  let probeWasm: Uint8Array;
  try {
    for (let i = 0; i < probe.getNumGlobals(); i++) {
      const g = binaryen.getGlobalInfo(probe.getGlobalByIndex(i));
      if (!g.mutable) continue;
      globals.push({ name: g.name, type: g.type });
      probe.addGlobalExport(g.name, `__edgec_g${globals.length - 1}`);
    }
    probeWasm = probe.emitBinary();
  } finally {
    probe.dispose();
  }
  const ex = new WebAssembly.Instance(new WebAssembly.Module(probeWasm as Uint8Array<ArrayBuffer>))
    .exports as unknown as Abi;
  const at = ex.edgec_alloc(bundle.length);
  new Uint8Array(ex.memory.buffer, at, bundle.length).set(bundle);
  if (ex.edgec_load(at, bundle.length) !== 0) {
    const msg = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ex.edgec_error_ptr(), ex.edgec_error_len()));
    throw new ModelError('--mcu', 'bundle', `the scalar runtime refused the bundle: ${msg}`);
  }
  const pages = ex.memory.buffer.byteLength / 65536;
  const loadedTop = ex.edgec_alloc(0);
  const image = new Uint8Array(ex.memory.buffer.slice(0, loadedTop));
  globals.forEach((g, i) => (g.value = (ex[`__edgec_g${i}`] as WebAssembly.Global).value as number | bigint));
  // one run on zero inputs: whatever it allocates counts towards memory_bytes (the snapshot is already taken)
  for (let i = 0; i < ex.edgec_input_count(); i++)
    new Uint8Array(ex.memory.buffer, ex.edgec_input_ptr(i), ex.edgec_input_size(i)).fill(0);
  if (ex.edgec_run() !== 0) throw new ModelError('--mcu', 'bundle', 'the scalar runtime failed to run the bundle');
  const memoryBytes = ex.edgec_alloc(0) + 16;

  // 2. The image: the same code, the loaded state as its initial state.
  const mod = binaryen.readBinary(source);
  try {
    const F = binaryen.Features;
    mod.setFeatures(F.MVP | F.SignExt | F.MutableGlobals | F.NontrappingFPToInt | F.Multivalue | F.BulkMemoryOpt);
    for (const g of globals) {
      mod.removeGlobal(g.name);
      const v = g.value!;
      const init =
        g.type === binaryen.i32
          ? mod.i32.const(v as number)
          : g.type === binaryen.i64
            ? (mod.i64.const as unknown as (x: bigint) => number)(v as bigint)
            : g.type === binaryen.f32
              ? mod.f32.const(v as number)
              : mod.f64.const(v as number);
      mod.addGlobal(g.name, g.type, true, init);
    }
    const start = mod.getStart();
    if (start) mod.setStart(0);
    for (const e of LOAD_EXPORTS) if (mod.getExport(e)) mod.removeExport(e);
    mod.addGlobal('edgec_memory_bytes', binaryen.i32, false, mod.i32.const(memoryBytes));
    mod.addGlobalExport('edgec_memory_bytes', 'edgec_memory_bytes');
    const runs = dataRuns(image);
    mod.removeExport('memory');
    mod.setMemory(pages, -1, 'memory', [
      ...runs.map((r) => ({ offset: mod.i32.const(r.offset), data: r.data, passive: false })),
    ]);
    const stubbed = stubUnused(binaryen, mod, bundle);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(1);
    binaryen.setDebugInfo(false);
    // Inlining only what is at most 2 bytes big (the stubs: their call sites become `unreachable`, dead arms): more
    // would undo the splits that keep every function within wasm3's limits at stack height 128. DAE twice: `ref`
    // becomes a constant 0 in runModel, then in the dispatchers it calls.
    const limits = [binaryen.getFlexibleInlineMaxSize(), binaryen.getOneCallerInlineMaxSize()];
    binaryen.setFlexibleInlineMaxSize(2);
    binaryen.setOneCallerInlineMaxSize(2);
    mod.runPasses([
      'remove-unused-module-elements',
      'inlining',
      'simplify-globals-optimizing',
      'precompute-propagate',
      'dae-optimizing',
      'precompute-propagate',
      'dae-optimizing',
      'dce',
      'remove-unused-brs',
      'vacuum',
      'remove-unused-module-elements',
    ]);
    binaryen.setFlexibleInlineMaxSize(limits[0]!);
    binaryen.setOneCallerInlineMaxSize(limits[1]!);
    if (!mod.validate()) throw new ModelError('--mcu', 'runtime', 'binaryen produced an invalid module');
    const names: string[] = [];
    for (let i = 0; i < mod.getNumFunctions(); i++)
      names.push(binaryen.getFunctionInfo(mod.getFunctionByIndex(i)).name);
    const wasm = mod.emitBinary();
    const bodyBytes = functionBodySizes(wasm);
    return {
      wasm,
      memoryBytes,
      imageBytes: runs.reduce((s, r) => s + r.data.length, 0),
      segments: runs.length,
      functions: bodyBytes.length,
      bodyBytes,
      names,
      stubbed,
    };
  } finally {
    mod.dispose();
  }
}

/** Replaces by `unreachable` the entries of every kernel the bundle's steps (its default variant: what edgec_load
 * loaded) never use, and the load-only functions of LOAD_ONLY_PREFIXES; returns their names. */
function stubUnused(binaryen: Binaryen, mod: import('binaryen').default.Module, bundle: Uint8Array): string[] {
  const b = readBundle(bundle);
  const used = new Set<number>();
  for (let i = 0; i < b.stepsLength(); i++) used.add(b.steps(i)!.kernel());
  const names = new Set<string>();
  for (const [name, ids] of KERNEL_ENTRIES) if (!ids.some((k) => used.has(k))) names.add(name);
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const name = binaryen.getFunctionInfo(mod.getFunctionByIndex(i)).name;
    if (LOAD_ONLY_PREFIXES.some((p) => name.startsWith(p))) names.add(name);
  }
  const stubbed: string[] = [];
  for (const name of names) {
    const f = mod.getFunction(name);
    if (!f) continue;
    const info = binaryen.getFunctionInfo(f);
    mod.removeFunction(name);
    mod.addFunction(name, info.params, info.results, [], mod.unreachable());
    stubbed.push(name);
  }
  return stubbed.sort();
}
