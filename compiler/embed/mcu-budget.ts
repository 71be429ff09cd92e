// `edgec inspect --mcu`: what a bundle needs on a microcontroller running examples/mcu's host under wasm3
// (runtime build/edgec-scalar.wasm, bundle in flash, no WASI). The module's linear memory is measured, not
// estimated: the bundle is loaded and run once on the same scalar wasm the MCU runs, and the heap's top is read
// back. wasm3's own RAM and code are constants measured in QEMU (Cortex-M4F, wasm3 0.9.0, gcc -O2, stack
// height 128, test/mcu); they vary with the kernels a model compiles, so the largest measured figure is used.
import { readFileSync } from 'node:fs';
import { wasmPath } from '../../runtime/node.ts';

/** wasm3's heap besides linear memory (module structures, compiled code, a 4 KiB wasm stack): 127,160 B
 * (MNIST float) .. 158,856 B (KWS int8) measured; flash of wasm3 + the host + newlib-nano: 102,778 B. */
export const WASM3_RAM_BYTES = 158_856;
export const WASM3_FLASH_BYTES = 102_778;
/** examples/mcu's main stack (8 KiB reserved; 3 KiB used) and static data. */
export const HOST_RAM_BYTES = 8192 + 568;

export interface McuBudget {
  /** Bytes of linear memory the module touches: pass as memory_bytes to examples/mcu's host. */
  linearMemory: number;
  staticData: number;
  bundle: number;
  /** What edgec_load keeps: the decoded tensor and step tables. */
  decoded: number;
  arena: number;
  runtimeWasm: number;
  ram: number;
  flash: number;
}

interface Abi {
  memory: WebAssembly.Memory;
  edgec_alloc(n: number): number;
  edgec_load(p: number, n: number): number;
  edgec_run(): number;
  edgec_arena_size(): number;
  edgec_input_count(): number;
  edgec_input_ptr(i: number): number;
  edgec_input_size(i: number): number;
}

/** Loads and runs `bundle` once (zero inputs) on the scalar runtime; the bundle must already be valid. */
export function mcuBudget(bundle: Uint8Array): McuBudget {
  const wasm = readFileSync(wasmPath('scalar'));
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports as unknown as Abi;
  // edgec_alloc(0) returns the heap's next free (16-aligned) address and takes only 16 bytes
  const heapStart = ex.edgec_alloc(0);
  const at = ex.edgec_alloc(bundle.length);
  new Uint8Array(ex.memory.buffer, at, bundle.length).set(bundle);
  const bundleEnd = ex.edgec_alloc(0);
  if (ex.edgec_load(at, bundle.length) !== 0) throw new Error('mcuBudget: the scalar runtime refused the bundle');
  for (let i = 0; i < ex.edgec_input_count(); i++)
    new Uint8Array(ex.memory.buffer, ex.edgec_input_ptr(i), ex.edgec_input_size(i)).fill(0);
  if (ex.edgec_run() !== 0) throw new Error('mcuBudget: the scalar runtime failed to run the bundle');
  const top = ex.edgec_alloc(0) + 16;
  const arena = ex.edgec_arena_size();
  const linearMemory = top;
  return {
    linearMemory,
    staticData: heapStart,
    bundle: bundleEnd - heapStart,
    arena,
    decoded: top - bundleEnd - arena,
    runtimeWasm: wasm.length,
    ram: linearMemory + WASM3_RAM_BYTES + HOST_RAM_BYTES,
    flash: wasm.length + bundle.length + WASM3_FLASH_BYTES,
  };
}

const f = (n: number) => n.toLocaleString('en-US');

export function formatMcuBudget(b: McuBudget): string {
  return [
    '',
    'microcontroller (examples/mcu: wasm3 0.9.0, scalar runtime, stack height 128; wasm3 figures measured on Cortex-M4):',
    `  linear memory ${f(b.linearMemory)} B (memory_bytes): static data ${f(b.staticData)} + bundle ${f(b.bundle)} + ` +
      `decoded tables ${f(b.decoded)} + arena ${f(b.arena)}, alignment included`,
    `  RAM   ≈ ${f(b.ram)} B: linear memory + wasm3 (structures, compiled code, wasm stack) ≤ ${f(WASM3_RAM_BYTES)} ` +
      `+ main stack and statics ${f(HOST_RAM_BYTES)}`,
    `  flash ≈ ${f(b.flash)} B: runtime wasm ${f(b.runtimeWasm)} + bundle + wasm3, host and newlib ${f(WASM3_FLASH_BYTES)}`,
  ].join('\n');
}
