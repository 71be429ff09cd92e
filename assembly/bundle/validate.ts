// Full validation of a decoded bundle before anything runs (docs/bundle-format.md, "Validation"):
// tensor sizes vs shapes, offsets vs arena and constants, tensor ids, kernel ids, and each step handed
// to its family's contract check (float and data steps: step-checks.ts; control, int8, training: their
// own files). Messages name the step (index, kernel, node) or tensor.
import { setError, failed } from '../error';
import { Model, dtypeSize, DT_I32, K_DISPATCH, K_EXIT, K_JUMP, isQs8Kernel, isTrainKernel } from './model';
import { checkControl } from '../control';
import { isFloatStep } from '../float-steps';
import { checkQs8Step } from '../kernels/qs8-steps';
import { checkTrainStep } from '../kernels/train-checks';
import { MAX_ELEMS, MAX_RANK, shapeStr, atStep, bad } from './check-args';
import { FLOAT_CHECKS } from './step-checks';

let tensorIndex = 0;
let tensorName = '';
function tensorWhat(): string {
  return 'bundle: tensor ' + tensorIndex.toString() + " '" + tensorName + "'";
}

/** Checks every tensor and lays out addresses: arena tensors at arena + offset, constants in place. */
export function validateTensors(m: Model, arena: usize, constants: usize): void {
  for (let i = 0; i < m.tensors.length; i++) {
    const t = m.tensors[i];
    // messages are built only on failure: the stub allocator never frees, so an eager string per tensor stays
    // in a microcontroller's RAM for good
    tensorIndex = i;
    tensorName = t.name;
    if (t.dtype < 0 || t.dtype > DT_I32) {
      setError(tensorWhat() + ': unknown dtype ' + t.dtype.toString());
      return;
    }
    if (t.shape.length > MAX_RANK) {
      setError(tensorWhat() + ': rank ' + t.shape.length.toString() + ' exceeds ' + MAX_RANK.toString());
      return;
    }
    let n: u64 = 1;
    for (let k = 0; k < t.shape.length; k++) {
      const d = t.shape[k];
      if (d < 1) {
        setError(tensorWhat() + ': shape ' + shapeStr(t.shape) + ' has a dimension < 1');
        return;
      }
      n *= <u64>d;
      if (n > MAX_ELEMS) {
        setError(tensorWhat() + ': shape ' + shapeStr(t.shape) + ' is too large');
        return;
      }
    }
    t.elems = n;
    const want = n * <u64>dtypeSize(t.dtype);
    if (<u64>t.size != want) {
      setError(
        tensorWhat() +
          ': size ' +
          t.size.toString() +
          ' bytes, but shape ' +
          shapeStr(t.shape) +
          ' needs ' +
          want.toString(),
      );
      return;
    }
    const end = <u64>t.offset + <u64>t.size;
    if (t.constant) {
      if (end > <u64>m.constantsLen) {
        setError(
          tensorWhat() +
            ': constant bytes [' +
            t.offset.toString() +
            ', ' +
            end.toString() +
            ') lie outside the ' +
            m.constantsLen.toString() +
            ' constant bytes',
        );
        return;
      }
      t.ptr = constants + <usize>t.offset;
    } else {
      if (end > <u64>m.arenaSize) {
        setError(
          tensorWhat() +
            ': arena bytes [' +
            t.offset.toString() +
            ', ' +
            end.toString() +
            ') lie outside the ' +
            m.arenaSize.toString() +
            '-byte arena',
        );
        return;
      }
      t.ptr = arena + <usize>t.offset;
    }
  }
  checkVariables(m);
  if (failed) return;
  checkIo(m, m.inputs, 'input');
  checkIo(m, m.outputs, 'output');
}

/** Variables (training state) are arena tensors set at load from a constant of the same size, or zeros. */
function checkVariables(m: Model): void {
  for (let i = 0; i < m.tensors.length; i++) {
    const t = m.tensors[i];
    if (!t.variable) continue;
    const what = 'bundle: variable ' + i.toString() + " '" + t.name + "'";
    if (t.constant) {
      setError(what + ' is marked constant');
      return;
    }
    if (t.init < -1 || t.init >= m.tensors.length) {
      setError(what + ': init names tensor ' + t.init.toString() + ', out of range');
      return;
    }
    if (t.init >= 0) {
      const c = m.tensors[t.init];
      if (!c.constant || c.size != t.size) {
        setError(what + ": init '" + c.name + "' must be a constant of " + t.size.toString() + ' bytes');
        return;
      }
    }
  }
}

function checkIo(m: Model, ids: StaticArray<i32>, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= m.tensors.length) {
      setError('bundle: graph ' + what + ' ' + i.toString() + ' names tensor ' + id.toString() + ', out of range');
      return;
    }
    if (m.tensors[id].constant) {
      setError('bundle: graph ' + what + " '" + m.tensors[id].name + "' is a constant, not an arena tensor");
      return;
    }
  }
}

export function validateSteps(m: Model): void {
  for (let i = 0; i < m.steps.length; i++) {
    const s = m.steps[i];
    const k = s.kernel;
    atStep(i, s);
    if (isFloatStep(k)) FLOAT_CHECKS[k](m, s);
    else if (k == K_DISPATCH || k == K_EXIT || k == K_JUMP) {
      const e = checkControl(m, i, s);
      if (e.length > 0) bad(e);
    } else if (isQs8Kernel(k)) {
      const e = checkQs8Step(m, s);
      if (e.length > 0) bad(e);
    } else if (isTrainKernel(k)) {
      const e = checkTrainStep(m, s);
      if (e.length > 0) bad(e);
    } else bad('unknown kernel id ' + k.toString());
    if (failed) return;
  }
}
