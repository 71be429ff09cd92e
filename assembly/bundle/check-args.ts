// The argument checks every step check shares (step-checks.ts for the float and data-movement kernels, validate.ts
// for the control, int8 and training ones): the step context a message names (atStep, bad), tensor lookups and the
// need* guards (each names the tensor and what was expected, returns false after reporting), output-size and
// strided-walk bounds. Limits: MAX_ELEMS elements per tensor (byte offsets stay in u32), MAX_RANK dimensions.
import { setError } from '../error';
import { Model, StepInfo, TensorInfo, DT_F32, KERNEL_NAMES } from './model';

export const MAX_ELEMS: u64 = 0x40000000; // 2^30 elements: keeps every byte offset inside u32 arithmetic

export const MAX_RANK = 6;

export function sa(a: i32[]): StaticArray<i32> {
  return StaticArray.fromArray<i32>(a);
}

/** Shapes in messages: [1,28,28,1]. */
export function shapeStr(s: StaticArray<i32>): string {
  let r = '[';
  for (let i = 0; i < s.length; i++) r += (i > 0 ? ',' : '') + s[i].toString();
  return r + ']';
}

let stepIndex = 0;
let stepInfo: StepInfo | null = null;

/** The step the next messages name (validateSteps sets it before each step's check). */
export function atStep(i: i32, s: StepInfo): void {
  stepIndex = i;
  stepInfo = s;
}

/** The failing step's message: 'bundle: step i (Kernel, node 'n'): msg', composed only on failure. */
export function bad(msg: string): void {
  const i = stepIndex,
    s = stepInfo!,
    k = s.kernel;
  setError(
    'bundle: step ' +
      i.toString() +
      ' (' +
      (k >= 0 && k < KERNEL_NAMES.length ? KERNEL_NAMES[k] : 'kernel ' + k.toString()) +
      (s.node.length > 0 ? ", node '" + s.node + "'" : '') +
      '): ' +
      msg,
  );
}

export function tensorArg(m: Model, s: StepInfo, input: bool, i: i32): TensorInfo | null {
  const ids = input ? s.inputs : s.outputs;
  const id = ids[i];
  if (id < 0 || id >= m.tensors.length) {
    bad(
      (input ? 'input ' : 'output ') +
        i.toString() +
        ' names tensor ' +
        id.toString() +
        ', out of range (' +
        m.tensors.length.toString() +
        ' tensors)',
    );
    return null;
  }
  return m.tensors[id];
}

export function needF32(t: TensorInfo, role: string): bool {
  if (t.dtype != DT_F32) {
    bad(role + " '" + t.name + "' must be F32");
    return false;
  }
  return true;
}

export function needShape(t: TensorInfo, role: string, want: StaticArray<i32>): bool {
  let same = t.shape.length == want.length;
  for (let i = 0; same && i < want.length; i++) same = t.shape[i] == want[i];
  if (!same) {
    bad(role + " '" + t.name + "' has shape " + shapeStr(t.shape) + ', expected ' + shapeStr(want));
    return false;
  }
  return true;
}

export function needRank(t: TensorInfo, role: string, rank: i32): bool {
  if (t.shape.length != rank) {
    bad(role + " '" + t.name + "' has shape " + shapeStr(t.shape) + ', expected rank ' + rank.toString());
    return false;
  }
  return true;
}

export function needWritable(t: TensorInfo): bool {
  if (t.constant) {
    bad("output '" + t.name + "' is a constant");
    return false;
  }
  return true;
}

export function needParams(s: StepInfo, type: i32, name: string): bool {
  if (s.paramsType != type) {
    bad('expects ' + name + ' params, found params type ' + s.paramsType.toString());
    return false;
  }
  return true;
}

export function needCounts(s: StepInfo, minIn: i32, maxIn: i32, outs: i32): bool {
  if (s.inputs.length < minIn || s.inputs.length > maxIn) {
    bad(
      'has ' +
        s.inputs.length.toString() +
        ' inputs, expected ' +
        (minIn == maxIn ? minIn.toString() : minIn.toString() + '..' + maxIn.toString()),
    );
    return false;
  }
  if (s.outputs.length != outs) {
    bad('has ' + s.outputs.length.toString() + ' outputs, expected ' + outs.toString());
    return false;
  }
  return true;
}

export function outDim(inp: i32, k: i32, stride: i32, dil: i32, p0: i32, p1: i32): i32 {
  const span = <i64>dil * <i64>(k - 1) + 1;
  const num = <i64>inp + <i64>p0 + <i64>p1 - span;
  if (num < 0) return 0;
  return <i32>(num / <i64>stride + 1);
}

export function checkActivation(s: StepInfo): bool {
  const p = s.p;
  if (p.act < 0 || p.act > 2) {
    bad('unknown activation ' + p.act.toString());
    return false;
  }
  if (p.act == 2 && !(p.actMin <= p.actMax)) {
    bad('clip range [' + p.actMin.toString() + ', ' + p.actMax.toString() + '] is empty');
    return false;
  }
  return true;
}

export function checkWindow(p: i32, what: string): bool {
  if (p < 1) {
    bad(what + ' ' + p.toString() + ' must be >= 1');
    return false;
  }
  return true;
}

/** Largest and smallest element index a strided walk over `shape` reaches from `offset`. */
export function stridedFits(
  shape: StaticArray<i32>,
  strides: StaticArray<i32>,
  offset: i64,
  elems: u64,
  role: string,
): bool {
  if (strides.length != shape.length) {
    bad(role + ' strides have ' + strides.length.toString() + ' entries for rank ' + shape.length.toString());
    return false;
  }
  let lo = offset,
    hi = offset;
  for (let k = 0; k < shape.length; k++) {
    const span = <i64>(shape[k] - 1) * <i64>strides[k];
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= <i64>elems) {
    bad(
      role +
        ' strides reach elements [' +
        lo.toString() +
        ', ' +
        hi.toString() +
        '] of a ' +
        elems.toString() +
        '-element tensor',
    );
    return false;
  }
  return true;
}

export function shapeElems(shape: StaticArray<i32>, role: string): u64 {
  // Rank 0 (a scalar) is one element; the kernels pad every shape to rank 6 with ones.
  if (shape.length > MAX_RANK) {
    bad(role + ' rank ' + shape.length.toString() + ' exceeds ' + MAX_RANK.toString());
    return 0;
  }
  let n: u64 = 1;
  for (let k = 0; k < shape.length; k++) {
    if (shape[k] < 1) {
      bad(role + ' ' + shapeStr(shape) + ' has a dimension < 1');
      return 0;
    }
    n *= <u64>shape[k];
    if (n > MAX_ELEMS) {
      bad(role + ' ' + shapeStr(shape) + ' is too large');
      return 0;
    }
  }
  return n;
}

export function checkSameElems(x: TensorInfo, y: TensorInfo): bool {
  if (x.elems != y.elems) {
    bad(
      "input '" +
        x.name +
        "' has " +
        x.elems.toString() +
        " elements, output '" +
        y.name +
        "' has " +
        y.elems.toString(),
    );
    return false;
  }
  return true;
}

export function checkSameDtype(x: TensorInfo, y: TensorInfo): bool {
  if (x.dtype != y.dtype) {
    bad("input '" + x.name + "' and output '" + y.name + "' differ in dtype");
    return false;
  }
  return true;
}
