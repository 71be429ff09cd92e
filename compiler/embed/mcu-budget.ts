// `edgec inspect --mcu`: the RAM and flash a bundle needs on a microcontroller running examples/mcu's host under
// wasm3 0.9.0 (32-bit, stack height 128) with the bundle's `edgec compile --mcu` image (compiler/embed/mcu-image.ts).
// Exact from the image: its linear memory, its data segments and functions (wasm3 keeps a fixed-size record of
// each in RAM), its bytes in flash. Estimated: the code wasm3 compiles into RAM (it cannot run code from flash),
// as CODE_PER_WASM_BYTE times the body bytes of the functions a run executes (found by running the image once
// on zero inputs with every function instrumented; every control step falls through, so the steps of every branch
// and after every early exit run: a Branch model's prediction covers all of its paths). Constants measured in QEMU
// (Cortex-M4F, gcc -O2, newlib-nano, test/mcu).
import { mcuImage, type McuImage } from './mcu-image.ts';

/** wasm3 0.9.0 on a 32-bit part: bytes per M3DataSegment and per M3Function record, both one malloc'd array. */
export const WASM3_SEGMENT_BYTES = 24;
export const WASM3_FUNCTION_BYTES = 68;
/** Compiled code (in 1 KiB pages, with their unused tails and constant tables) = CODE_PER_WASM_BYTE × the body bytes
 * of the executed functions + CODE_FIXED_BYTES (page tails, the ABI calls the probe does not make). Fitted on five
 * `--mcu` images on the M4F (wasm3 code pages + constants, measured / predicted, bytes): KWS int8 44,540 / 45,219,
 * MNIST int8 36,044 / 36,913, KWS float 26,360 / 26,914, MNIST float 19,088 / 19,750, gated float 21,216 / 21,793:
 * never under, at most 0.9 KB over. One factor alone would need 4.63 (MNIST float) and overshoot KWS int8 by 10 KB. */
export const CODE_PER_WASM_BYTE = 3.3;
export const CODE_FIXED_BYTES = 6144;
/** The rest of wasm3's heap: runtime + compiler state (1,568 B at stack height 128), the 4 KiB wasm stack of
 * examples/mcu, environment, types, globals: 7,324–7,768 B measured on the five images. */
export const WASM3_FIXED_BYTES = 7808;
/** wasm3 (-O2) + examples/mcu's host + newlib-nano in flash: 103,642 B measured (M4F; M3 688 B less). */
export const WASM3_FLASH_BYTES = 103_680;
/** examples/mcu's static data and main stack peak (8 KiB reserved; 2,352–3,248 B used on the five images). */
export const HOST_RAM_BYTES = 568 + 3584;

export interface McuBudget {
  image: McuImage;
  /** Bytes of linear memory: examples/mcu's memory_bytes. */
  linearMemory: number;
  tables: number;
  /** Body bytes of the functions a run executes, and the compiled code estimated from them. */
  executedBytes: number;
  code: number;
  ram: number;
  flash: number;
}

/** The executor's control steps (Dispatch, Exit, Jump): `(m, i, s) -> next step`, or `(i, s)` once binaryen's
 * dead-argument elimination dropped the model (a constant in an image). */
const CONTROL_STEP = 'assembly/control/controlStep';

/** Indices of the functions of `wasm` (an MCU image) that one edgec_run on `input` (every input in bundle order;
 * zeros by default) executes. Given `names` (its functions' names by index, as McuImage has them), every control step
 * falls through to the next step (it still runs, then returns i + 1): every branch of a Branch block, and the steps
 * after an early exit, run once. */
export async function executedFunctions(
  wasm: Uint8Array,
  names: readonly string[] = [],
  input?: Uint8Array,
): Promise<Set<number>> {
  const binaryen = (await import('binaryen')).default;
  const mod = binaryen.readBinary(wasm);
  // binaryen.js has Function.setBody; its typings lag behind
  const setBody = (binaryen as unknown as { Function: { setBody(f: number, e: number): void } }).Function.setBody;
  let probe: Uint8Array;
  try {
    const n = mod.getNumFunctions();
    const refs = Array.from({ length: n }, (_, i) => mod.getFunctionByIndex(i));
    for (let i = 0; i < n; i++) {
      const f = refs[i]!;
      const info = binaryen.getFunctionInfo(f);
      if (info.module) continue;
      mod.addGlobal(`__edgec_hit${i}`, binaryen.i32, true, mod.i32.const(0));
      mod.addGlobalExport(`__edgec_hit${i}`, `__edgec_hit${i}`);
      const mark = mod.global.set(`__edgec_hit${i}`, mod.i32.const(1));
      let body = info.body;
      if (names[i] === CONTROL_STEP) {
        const params = binaryen.expandType(info.params);
        if (params.length !== 2 && params.length !== 3)
          throw new Error(`mcuBudget: ${CONTROL_STEP} takes ${params.length} parameters, expected (m,) i, s`);
        const step = params.length - 2;
        mod.addFunction('__edgec_control', info.params, info.results, info.vars, info.body);
        const args = params.map((t, k) => mod.local.get(k, t));
        body = mod.block(null, [
          mod.drop(mod.call('__edgec_control', args, info.results)),
          mod.i32.add(mod.local.get(step, binaryen.i32), mod.i32.const(1)),
        ]);
      }
      setBody(f, mod.block(null, [mark, body], info.results));
    }
    probe = mod.emitBinary();
  } finally {
    mod.dispose();
  }
  const ex = new WebAssembly.Instance(new WebAssembly.Module(probe as Uint8Array<ArrayBuffer>)).exports as Record<
    string,
    unknown
  >;
  const memory = (ex.memory as WebAssembly.Memory).buffer;
  const call = (name: string, ...a: number[]) => (ex[name] as (...x: number[]) => number)(...a);
  for (let i = 0, at = 0; i < call('edgec_input_count'); i++) {
    const size = call('edgec_input_size', i);
    const x = new Uint8Array(memory, call('edgec_input_ptr', i), size);
    if (input) x.set(input.subarray(at, at + size));
    else x.fill(0);
    at += size;
  }
  if (call('edgec_run') !== 0) throw new Error('mcuBudget: the MCU image failed to run');
  const hit = new Set<number>();
  for (const [k, v] of Object.entries(ex))
    if (k.startsWith('__edgec_hit') && (v as WebAssembly.Global).value === 1) hit.add(Number(k.slice(11)));
  return hit;
}

/** The budget of `bundle` (already valid) as an `edgec compile --mcu` image on examples/mcu. */
export async function mcuBudget(bundle: Uint8Array): Promise<McuBudget> {
  const image = await mcuImage(bundle);
  const executed = await executedFunctions(image.wasm, image.names);
  const executedBytes = [...executed].reduce((s, i) => s + image.bodyBytes[i]!, 0);
  const code = Math.ceil(executedBytes * CODE_PER_WASM_BYTE) + CODE_FIXED_BYTES;
  const tables = image.segments * WASM3_SEGMENT_BYTES + image.functions * WASM3_FUNCTION_BYTES;
  return {
    image,
    linearMemory: image.memoryBytes,
    tables,
    executedBytes,
    code,
    ram: image.memoryBytes + tables + code + WASM3_FIXED_BYTES + HOST_RAM_BYTES,
    flash: image.wasm.length + WASM3_FLASH_BYTES,
  };
}

const f = (n: number) => n.toLocaleString('en-US');

export function formatMcuBudget(b: McuBudget): string {
  const im = b.image;
  return [
    '',
    'microcontroller (`edgec compile --mcu` image on examples/mcu: wasm3 0.9.0, 32-bit, stack height 128):',
    `  linear memory ${f(b.linearMemory)} B (memory_bytes): the loaded image ${f(im.imageBytes)} B in ` +
      `${im.segments} segments (static data, bundle, decoded tables), then the arena`,
    `  RAM   ≈ ${f(b.ram)} B: linear memory + wasm3's records of ${im.functions} functions and the segments ` +
      `${f(b.tables)} + compiled code ≈ ${f(b.code)} (${f(b.executedBytes)} wasm bytes executed on any path × ` +
      `${CODE_PER_WASM_BYTE} + ${f(CODE_FIXED_BYTES)}) + wasm3 runtime and 4 KiB wasm stack ${f(WASM3_FIXED_BYTES)} + ` +
      `main stack peak and statics ${f(HOST_RAM_BYTES)}`,
    `  flash ≈ ${f(b.flash)} B: image ${f(im.wasm.length)} + wasm3, host and newlib ${f(WASM3_FLASH_BYTES)}`,
  ].join('\n');
}
