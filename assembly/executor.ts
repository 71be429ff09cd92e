// Loads one bundle (decode, validate, place the arena) and runs its steps in order, through the
// fast kernels or, when reference mode is on, through their slow twins in assembly/reference/.
import { setError, resetError, failed } from './error';
import { Model, StepInfo, decodeBundle, K_DISPATCH, K_EXIT, K_JUMP, isQs8Kernel, isTrainKernel } from './bundle/model';
import { beginRun, countMacs, controlStep } from './control';
import { validateTensors, validateSteps } from './bundle/validate';
import { isFloatStep, runFloatStep } from './float-steps';
import { runQs8Step, widenDenseWeights } from './kernels/qs8-steps';
import { runTrainStep } from './kernels/train-steps';
import { runSplit, threadsRunning } from './threads';
import { planTouchAhead, setTouchAhead } from './kernels/gemm/qs8-touch-ahead';

export let model: Model | null = null;
export let arenaBase: usize = 0;
export let useReference: bool = false;

/** Decodes and validates the bundle at [ptr, ptr+len); 0 = ok, 1 = refused (message in error.ts). */
export function loadBundle(ptr: usize, len: u32): i32 {
  resetError();
  model = null;
  const m = decodeBundle(ptr, len);
  if (failed) return 1;
  // Arena tensors get addresses relative to 0 first; the arena is placed only once all is valid.
  validateTensors(m, 0, ptr + <usize>m.constantsPos);
  if (failed) return 1;
  validateSteps(m);
  if (failed) return 1;
  // Reserve the arena's pages up front so a too-large arena is a clean error, not an allocator trap:
  // the bump allocator's next block then always fits in the grown memory.
  // The heap allocator's largest block is 1 GiB (BLOCK_MAXSIZE); refuse beyond it, don't abort.
  if (<u64>m.arenaSize + 64 > (<u64>1) << 30) {
    setError('bundle: the ' + m.arenaSize.toString() + '-byte arena exceeds the 1 GiB this executor supports');
    return 1;
  }
  // Grow only by the pages missing above the heap's next free byte: a whole extra page per load would cost an
  // MCU host (wasm3 reallocates linear memory on every grow) 64 KiB it never uses.
  const top = <u64>heap.alloc(0) + <u64>m.arenaSize + 64;
  const have = (<u64>memory.size()) << 16;
  const pages = top > have ? <i32>((top - have + 0xffff) >> 16) : 0;
  if (pages > 0 && memory.grow(pages) < 0) {
    setError('bundle: cannot allocate the ' + m.arenaSize.toString() + '-byte arena');
    return 1;
  }
  const raw = heap.alloc(<usize>m.arenaSize + 16);
  arenaBase = (raw + 15) & ~(<usize>15);
  for (let i = 0; i < m.tensors.length; i++) {
    const t = m.tensors[i];
    if (!t.constant) t.ptr += arenaBase;
  }
  initVariables(m);
  for (let i = 0; i < m.steps.length; i++) {
    const s = m.steps[i];
    s.inPtrs = new StaticArray<usize>(s.inputs.length);
    for (let k = 0; k < s.inputs.length; k++) s.inPtrs[k] = s.inputs[k] < 0 ? 0 : m.tensors[s.inputs[k]].ptr;
  }
  widenDenseWeights(m);
  planTouchAhead(m);
  model = m;
  return 0;
}

/** Sets every variable (training state) to its init constant, or zeros; runs at load and on request. */
export function initVariables(m: Model): void {
  for (let i = 0; i < m.tensors.length; i++) {
    const t = m.tensors[i];
    if (!t.variable) continue;
    if (t.init >= 0) memory.copy(t.ptr, m.tensors[t.init].ptr, <usize>t.size);
    else memory.fill(t.ptr, 0, <usize>t.size);
  }
}

/** An int8 step with its touch-ahead region (kernels/gemm/qs8-touch-ahead.ts) set while it runs, for runOneStep and
 *  runModel alike. */
function runQs8Touching(m: Model, s: StepInfo, ref: bool): void {
  setTouchAhead(s.aheadPtr, s.aheadBytes);
  runQs8Step(m, s, ref);
  setTouchAhead(0, 0);
}

/**
 * Runs step i alone on the arena as the last run left it, 1 thread, no control flow (bench/profile.ts times the
 * steps one by one with it); 0 = ran, 1 = no bundle, out of range, or not a kernel step.
 */
export function runOneStep(i: i32): i32 {
  const m = model;
  if (m === null || i < 0 || i >= m.steps.length) return 1;
  const s = m.steps[i];
  if (isFloatStep(s.kernel)) runFloatStep(m, s, useReference);
  else if (isQs8Kernel(s.kernel)) runQs8Touching(m, s, useReference);
  else return 1;
  return 0;
}

/** edgec_run: runModel, and in the threads build the RUNNING mark its workers poll by (briefly inside a run, long
 *  between runs: assembly/threads.ts RUN_SPINS). */
export function runInference(): i32 {
  if (ASC_FEATURE_THREADS) threadsRunning(true);
  const r = runModel();
  if (ASC_FEATURE_THREADS) threadsRunning(false);
  return r;
}

export function runModel(): i32 {
  const mm = model;
  if (mm === null) {
    resetError();
    setError('edgec_run: no bundle loaded');
    return 1;
  }
  const m = mm;
  const ref = useReference;
  beginRun(m);
  for (let i = 0; i < m.steps.length; i++) {
    const s = m.steps[i];
    countMacs(s);
    if (s.kernel == K_DISPATCH || s.kernel == K_EXIT || s.kernel == K_JUMP) {
      // the loop's i++ then lands on the step control picked
      i = controlStep(m, i, s) - 1;
      continue;
    }
    const k = s.kernel;
    if (ASC_FEATURE_THREADS && !ref) {
      // the threads build: a large conv runs on every thread (assembly/threads.ts)
      const split = runSplit(m, i, s);
      if (split > 0) continue;
      if (split < 0) {
        resetError();
        setError('edgec_run: step ' + i.toString() + " (node '" + s.node + "'): a worker thread trapped");
        return 1;
      }
    }
    if (isFloatStep(k)) runFloatStep(m, s, ref);
    else if (isQs8Kernel(k)) runQs8Touching(m, s, ref);
    else if (isTrainKernel(k)) {
      const row = runTrainStep(m, s, ref);
      if (row < 0) continue;
      resetError();
      setError(
        'edgec_run: step ' +
          i.toString() +
          " (node '" +
          s.node +
          "'): label " +
          load<i32>(m.tensors[s.inputs[1]].ptr + ((<usize>row) << 2)).toString() +
          ' of sample ' +
          row.toString() +
          ' is outside [0, ' +
          m.tensors[s.inputs[0]].shape[1].toString() +
          ')',
      );
      return 1;
    } else {
      // Unreachable after validation; kept so a logic error is a message, not silence.
      resetError();
      setError('edgec_run: step ' + i.toString() + ' has unknown kernel ' + k.toString());
      return 1;
    }
  }
  return 0;
}
