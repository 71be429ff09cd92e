// `edgec compile --mcu`: a one-file wasm for a C host under wasm3 (examples/mcu), already loaded. The scalar
// runtime (build/edgec-scalar.wasm, plain-i32 ABI, no imports) is instantiated here, given the bundle and
// `edgec_load`ed; its linear memory (static data + bundle + decoded tables) and every global are then
// written back into the module as data segments and global initialisers, the start function dropped, and the
// load-only exports removed so binaryen drops the decoder, validator and checksum code. On the MCU the host
// calls `edgec_run` straight away: wasm3 never compiles (and keeps in RAM) the ≈ 60 KB of code edgec_load
// needs, and its memory is one allocation of exactly `memoryBytes`. Same runtime code, so the same bytes out.
import { readFileSync } from 'node:fs';
import { wasmPath } from '../../runtime/node.ts';
import { ModelError } from '../ir/graph.ts';

/** Exports only `edgec_load` and its helpers need; the image is loaded already. */
export const LOAD_EXPORTS = [
  'edgec_alloc',
  'edgec_load',
  'edgec_load_variant',
  'edgec_verify_checksum',
  'edgec_set_reference',
] as const;

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

/** Loads `bundle` into the scalar runtime and writes the loaded state out as a module (see the file header). */
export async function mcuImage(bundle: Uint8Array, runtime?: Uint8Array): Promise<McuImage> {
  const binaryen = await binaryenModule();
  const source = runtime ?? new Uint8Array(readFileSync(wasmPath('scalar')));

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
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(1);
    binaryen.setDebugInfo(false);
    mod.runPasses(['remove-unused-module-elements']);
    if (!mod.validate()) throw new ModelError('--mcu', 'runtime', 'binaryen produced an invalid module');
    const wasm = mod.emitBinary();
    const bodyBytes = functionBodySizes(wasm);
    return {
      wasm,
      memoryBytes,
      imageBytes: runs.reduce((s, r) => s + r.data.length, 0),
      segments: runs.length,
      functions: bodyBytes.length,
      bodyBytes,
    };
  } finally {
    mod.dispose();
  }
}
