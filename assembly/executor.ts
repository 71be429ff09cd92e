// Loads one bundle (decode, validate, place the arena) and runs its steps in order, through the
// fast kernels or, when reference mode is on, through their slow twins in assembly/reference/.
import { setError, resetError, failed } from './error';
import {
  Model,
  StepInfo,
  decodeBundle,
  dtypeSize,
  K_CONV2D,
  K_DWCONV2D,
  K_DENSE,
  K_MAXPOOL,
  K_AVGPOOL,
  K_GAP,
  K_BINARY,
  K_UNARY,
  K_SOFTMAX,
  K_TRANSPOSE,
  K_CONCAT,
  K_COPY,
  K_PAD,
  K_DISPATCH,
  K_EXIT,
  K_JUMP,
  isQs8Kernel,
  isTrainKernel,
} from './bundle/model';
import { beginRun, countMacs, controlStep } from './control';
import { validateTensors, validateSteps } from './bundle/validate';
import { conv2dF32 } from './kernels/conv/f32-conv2d';
import { gemmF32 } from './kernels/gemm/f32-gemm';
import { dwconv2dF32 } from './kernels/conv/f32-dwconv2d';
import { poolF32, globalAvgPoolF32 } from './kernels/pool/f32-pool';
import { binaryF32 } from './kernels/elementwise/f32-binary';
import { unaryF32, softmaxF32 } from './kernels/elementwise/f32-unary';
import { transposeAny, concatAny, padAny } from './kernels/data/data-move';
import { refConv2d, refDwconv2d, refDense } from './reference/conv';
import { refPool, refGlobalAvgPool } from './reference/pool';
import { refBinary, refUnary, refSoftmax } from './reference/elementwise';
import { refTranspose, refConcat, refCopy, refPad } from './reference/data';
import { runQs8Step } from './kernels/qs8-steps';
import { runTrainStep } from './kernels/train-steps';

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
  const pages = <i32>((<u64>m.arenaSize + 16 + 0xffff) >> 16);
  if (memory.grow(pages) < 0) {
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

function ptrOf(m: Model, s: StepInfo, input: bool, i: i32): usize {
  const ids = input ? s.inputs : s.outputs;
  if (i >= ids.length || ids[i] < 0) return 0;
  return m.tensors[ids[i]].ptr;
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
    const p = s.p;
    const x = m.tensors[s.inputs.length > 0 ? s.inputs[0] : s.outputs[0]];
    const y = m.tensors[s.outputs[0]];
    const xp = x.ptr,
      yp = y.ptr;
    switch (s.kernel) {
      case K_CONV2D: {
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const sh = x.shape,
          os = y.shape;
        // (the compiler lowers a pointwise conv to Dense_F32: the variant is chosen once, at compile time)
        if (ref) refConv2d(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p.groups, p);
        else conv2dF32(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p.groups, p);
        break;
      }
      case K_DWCONV2D: {
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const sh = x.shape,
          os = y.shape;
        if (ref) refDwconv2d(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
        else dwconv2dF32(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
        break;
      }
      case K_DENSE: {
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const M = x.shape[0],
          K = x.shape[1],
          N = y.shape[1];
        if (ref) refDense(xp, w, b, yp, M, K, N, p);
        else gemmF32(xp, w, b, yp, M, K, N, p.act, p.actMin, p.actMax);
        break;
      }
      case K_MAXPOOL:
      case K_AVGPOOL: {
        const sh = x.shape,
          os = y.shape,
          isMax = s.kernel == K_MAXPOOL;
        if (ref) refPool(isMax, xp, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
        else poolF32(isMax, xp, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
        break;
      }
      case K_GAP: {
        const sh = x.shape;
        if (ref) refGlobalAvgPool(xp, yp, sh[0], sh[1], sh[2], sh[3]);
        else globalAvgPoolF32(xp, yp, sh[0], sh[1], sh[2], sh[3]);
        break;
      }
      case K_BINARY: {
        const b = ptrOf(m, s, true, 1);
        if (ref) refBinary(xp, b, yp, p);
        else binaryF32(xp, b, yp, p);
        break;
      }
      case K_UNARY: {
        if (ref) refUnary(xp, yp, <i32>y.elems, p);
        else unaryF32(xp, yp, <i32>y.elems, p);
        break;
      }
      case K_SOFTMAX: {
        if (ref) refSoftmax(xp, yp, p.outer, p.axis, p.inner);
        else softmaxF32(xp, yp, p.outer, p.axis, p.inner);
        break;
      }
      case K_TRANSPOSE: {
        const es = <i32>dtypeSize(y.dtype);
        if (ref) refTranspose(xp, yp, es, p);
        else transposeAny(xp, yp, es, p);
        break;
      }
      case K_CONCAT: {
        const xs = s.inPtrs;
        const es = <i32>dtypeSize(y.dtype);
        if (ref) refConcat(xs, yp, es, p);
        else concatAny(xs, yp, es, p);
        break;
      }
      case K_COPY: {
        if (ref) refCopy(xp, yp, y.size);
        else memory.copy(yp, xp, <usize>y.size);
        break;
      }
      case K_PAD: {
        const es = <i32>dtypeSize(y.dtype);
        if (ref) refPad(xp, yp, es, y.dtype, y.zeroPoint, p);
        else padAny(xp, yp, es, y.dtype, y.zeroPoint, p);
        break;
      }
      default: {
        if (isQs8Kernel(s.kernel)) {
          runQs8Step(m, s, ref);
          break;
        }
        if (isTrainKernel(s.kernel)) {
          const row = runTrainStep(m, s, ref);
          if (row < 0) break;
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
              x.shape[1].toString() +
              ')',
          );
          return 1;
        }
        // Unreachable after validation; kept so a logic error is a message, not silence.
        resetError();
        setError('edgec_run: step ' + i.toString() + ' has unknown kernel ' + s.kernel.toString());
        return 1;
      }
    }
  }
  return 0;
}
