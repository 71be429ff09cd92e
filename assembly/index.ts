// The executor ABI (docs/bundle-format.md): plain i32 exports over one model per instance.
// The host copies the bundle into edgec_alloc memory, calls edgec_load, writes inputs, runs,
// reads outputs. No imports: abort is routed to the error buffer (abort.ts).
import { errorPtr, errorLength } from './error';
import { loadBundle, runInference, model } from './executor';
import * as executor from './executor';
import * as control from './control';
import { runSamples } from './batch';
import { setVerifyChecksum } from './bundle/checksum';
import { setDotMode } from './kernels/gemm/qs8-gemm-4x8c4-wasmrelaxed';
// Pulled in for --use abort=assembly/abort/onAbort (asconfig.json): no env.abort import.
import './abort';
// Model variants: edgec_load_variant(ptr, len, k), edgec_use_variant(k) (docs/embedding.md).
export { edgec_load_variant, edgec_use_variant } from './variants';

export function edgec_alloc(bytes: u32): usize {
  const raw = heap.alloc(<usize>bytes + 16);
  return (raw + 15) & ~(<usize>15);
}

export function edgec_load(ptr: usize, len: u32): i32 {
  return loadBundle(ptr, len);
}
export function edgec_error_ptr(): usize {
  return errorPtr();
}
export function edgec_error_len(): i32 {
  return errorLength();
}

export function edgec_arena_size(): u32 {
  const m = model;
  return m === null ? 0 : m.arenaSize;
}

export function edgec_input_count(): i32 {
  const m = model;
  return m === null ? 0 : m.inputs.length;
}
export function edgec_input_ptr(i: i32): usize {
  const m = model;
  if (m === null || i < 0 || i >= m.inputs.length) return 0;
  return m.tensors[m.inputs[i]].ptr;
}
export function edgec_input_size(i: i32): u32 {
  const m = model;
  if (m === null || i < 0 || i >= m.inputs.length) return 0;
  return m.tensors[m.inputs[i]].size;
}

export function edgec_output_count(): i32 {
  const m = model;
  return m === null ? 0 : m.outputs.length;
}
export function edgec_output_ptr(i: i32): usize {
  const m = model;
  if (m === null || i < 0 || i >= m.outputs.length) return 0;
  return m.tensors[m.outputs[i]].ptr;
}
export function edgec_output_size(i: i32): u32 {
  const m = model;
  if (m === null || i < 0 || i >= m.outputs.length) return 0;
  return m.tensors[m.outputs[i]].size;
}

export function edgec_run(): i32 {
  return runInference();
}

/** Step i alone (executor.ts runOneStep): a profiling entry for bench/profile.ts; 0 = ran. */
export function edgec_run_step(i: i32): i32 {
  return executor.runOneStep(i);
}

// Any tensor by id (training sessions read and write variables by the bundle's tensor names).
export function edgec_tensor_count(): i32 {
  const m = model;
  return m === null ? 0 : m.tensors.length;
}
export function edgec_tensor_ptr(i: i32): usize {
  const m = model;
  if (m === null || i < 0 || i >= m.tensors.length) return 0;
  return m.tensors[i].ptr;
}
export function edgec_tensor_size(i: i32): u32 {
  const m = model;
  if (m === null || i < 0 || i >= m.tensors.length) return 0;
  return m.tensors[i].size;
}
/** Resets every variable to its initial value (the bundle's init constants or zeros); 0 = ok. */
export function edgec_reset_variables(): i32 {
  const m = model;
  if (m === null) return 1;
  executor.initVariables(m);
  return 0;
}

/** 1: edgec_run uses the slow reference twins (tests compare them bit for bit); 0: fast kernels. */
export function edgec_set_reference(on: i32): void {
  executor.useReference = on != 0;
}

/** 1 (default): edgec_load checks the bundle's CRC-32 trailer; 0: skips it (time- or RAM-critical hosts). */
export function edgec_verify_checksum(on: i32): void {
  setVerifyChecksum(on != 0);
}

/**
 * The relaxed build's int8 GEMM by the engine's relaxed dot product (runtime/index.ts relaxedDotMode probes it):
 * 1 usdot (second operand u8, exact i32: x86 AVX-VNNI), 2 sdot (both i8, exact), 0 or anything else the split tile,
 * exact on every engine (the default). Returns the mode set; always 0 in the other builds. Same bytes in every mode.
 */
export function edgec_set_dot_mode(mode: i32): i32 {
  return setDotMode(mode);
}

/** 2 in the relaxed-SIMD build, 1 in the SIMD build, 0 in the scalar build (the host reports it as Model.info.build). */
export function edgec_build(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 2 : ASC_FEATURE_SIMD ? 1 : 0;
}

/** Multiply-accumulates the last edgec_run executed (skipped branches and steps after an exit excluded). */
export function edgec_executed_macs(): f64 {
  return <f64>control.executedMacs;
}
/**
 * Runs n samples stacked per tensor at inBase (inputs) into outBase (outputs), each through its own
 * route; routeBase gets i32 [n][steps] (as edgec_route), macsBase f64 [n]. 0 = ok (docs/bundle-format.md).
 */
export function edgec_run_samples(n: i32, inBase: usize, outBase: usize, routeBase: usize, macsBase: usize): i32 {
  return runSamples(n, inBase, outBase, routeBase, macsBase);
}
/** Step i of the last run: Dispatch → branch index taken, Exit → 1 stopped / 0 went on, -1 not reached. */
export function edgec_route(i: i32): i32 {
  return i >= 0 && i < control.routes.length ? control.routes[i] : -1;
}
