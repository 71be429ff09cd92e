// The decoded bundle: tensors (with resolved memory addresses), steps and their params, read from
// the FlatBuffers file through the bounds-checked reader. Field slots mirror schema/bundle.fbs
// (assembly/bundle/slots.ts: slot k = vtable entry 4 + 2k; a union is its type slot, then its value).
import { setError, failed } from '../error';
import {
  setBuffer,
  rootTable,
  fieldU8,
  fieldU16,
  fieldI32,
  fieldU32,
  fieldF32,
  fieldRef,
  fieldTable,
  vectorLength,
  vectorTable,
  fieldI32Vector,
  fieldString,
  fieldStringSpan,
  stringSpanLength,
  fieldPos,
  readU32,
} from './flatbuffers';
import * as S from './slots';
import { variantTable } from './variant';
import { checkTrailer, verifyChecksum } from './checksum';

/** 2: the file ends in a CRC-32 trailer (checksum.ts). Version 1 (no trailer) is refused. */
export const FORMAT_VERSION: u32 = 2;

// DType
export const DT_F32 = 0;
export const DT_I8 = 1;
export const DT_U8 = 2;
export const DT_I32 = 3;

// KernelId constants, names and the int8 family test (generated from compiler/kernels/registry.ts)
export * from './kernel-ids';

// Params union tags
export const P_NONE = 0;
export const P_CONV = 1;
export const P_POOL = 2;
export const P_DENSE = 3;
export const P_BINARY = 4;
export const P_UNARY = 5;
export const P_SOFTMAX = 6;
export const P_TRANSPOSE = 7;
export const P_CONCAT = 8;
export const P_PAD = 9;
export const P_CONTROL = 10;
export const P_TRAIN = 11;

export function dtypeSize(dt: i32): u32 {
  return dt == DT_F32 || dt == DT_I32 ? 4 : 1;
}

// Shared defaults for the decoded tables: a bump allocator never frees, so a fresh empty array per field per
// step stays in a microcontroller's RAM for good. Never written (length 0); decoding replaces them.
const EMPTY_I32 = new StaticArray<i32>(0);
const EMPTY_USIZE = new StaticArray<usize>(0);

export class TensorInfo {
  /** The name's UTF-8 bytes inside the bundle, decoded only for a message; `#id` when unnamed. */
  id: i32 = 0;
  namePtr: usize = 0;
  nameLen: i32 = 0;
  get name(): string {
    // the compiler names graph inputs/outputs only; messages about internal tensors show the id
    return this.nameLen == 0 ? '#' + this.id.toString() : String.UTF8.decodeUnsafe(this.namePtr, <usize>this.nameLen);
  }
  dtype: i32 = 0;
  shape: StaticArray<i32> = EMPTY_I32;
  constant: bool = false;
  offset: u32 = 0;
  size: u32 = 0;
  zeroPoint: i32 = 0;
  scale: f32 = 0;
  /** Number of elements (product of the shape). */
  elems: u64 = 0;
  /** Training state: kept in the arena for the whole run and across runs; set at load from `init`. */
  variable: bool = false;
  /** Constant tensor id the variable starts from; -1 = zeros. */
  init: i32 = -1;
  /** Absolute address in wasm memory, set once the arena is placed. */
  ptr: usize = 0;
}

/** Every params table decoded into one record; fields a kernel does not use keep their defaults. */
export class StepParams {
  kh: i32 = 0;
  kw: i32 = 0;
  sh: i32 = 1;
  sw: i32 = 1;
  dh: i32 = 1;
  dw: i32 = 1;
  pt: i32 = 0;
  pl: i32 = 0;
  pb: i32 = 0;
  pr: i32 = 0;
  groups: i32 = 1;
  mult: i32 = 1;
  countIncludePad: bool = false;
  act: i32 = 0;
  actMin: f32 = 0;
  actMax: f32 = 0;
  /** int8 kernels: output clamp in the quantised domain. */
  qMin: i32 = -128;
  qMax: i32 = 127;
  op: i32 = 0;
  alpha: f32 = 0;
  beta: f32 = 0;
  outer: i32 = 0;
  axis: i32 = 0;
  inner: i32 = 0;
  offset: i32 = 0;
  value: f32 = 0;
  shape: StaticArray<i32> = EMPTY_I32;
  aStrides: StaticArray<i32> = EMPTY_I32;
  bStrides: StaticArray<i32> = EMPTY_I32;
  inShape: StaticArray<i32> = EMPTY_I32;
  before: StaticArray<i32> = EMPTY_I32;
  sizes: StaticArray<i32> = EMPTY_I32;
  /** ControlParams (assembly/control.ts). */
  targets: StaticArray<i32> = EMPTY_I32;
  metric: i32 = 0;
  threshold: f32 = 0;
  /** TrainParams (assembly/kernels/train-steps.ts). */
  labelSmoothing: f32 = 0;
  momentum: f32 = 0;
  nesterov: bool = false;
  weightDecay: f32 = 0;
  beta1: f32 = 0;
  beta2: f32 = 0;
  epsilon: f32 = 0;
  decoupled: bool = false;
  maxNorm: f32 = 0;
  temperature: f32 = 1;
}

export class StepInfo {
  kernel: i32 = 0;
  /** The node name's UTF-8 bytes inside the bundle (validated at decode, decoded only for a message). */
  nodePtr: usize = 0;
  nodeLen: i32 = 0;
  get node(): string {
    return this.nodeLen == 0 ? '' : String.UTF8.decodeUnsafe(this.nodePtr, <usize>this.nodeLen);
  }
  inputs: StaticArray<i32> = EMPTY_I32;
  outputs: StaticArray<i32> = EMPTY_I32;
  paramsType: i32 = 0;
  /** Multiply-accumulates of one run of this step (the bundle's `macs`). */
  macs: u64 = 0;
  p: StepParams = new StepParams();
  /** Input addresses, filled at load (Concat reads them; nothing allocates per run). */
  inPtrs: StaticArray<usize> = EMPTY_USIZE;
  /** A one-row int8 Dense's weights widened to i16 at load (qs8-steps.ts widenDenseWeights), else 0. */
  w16: usize = 0;
  /** The next Dense's weights this step's GEMM tiles touch while they run (kernels/gemm/qs8-touch-ahead.ts), set at
   *  load; 0 bytes: none. */
  aheadPtr: usize = 0;
  aheadBytes: u32 = 0;
}

export class Model {
  version: u32 = 0;
  tensors: StaticArray<TensorInfo> = new StaticArray<TensorInfo>(0);
  steps: StaticArray<StepInfo> = new StaticArray<StepInfo>(0);
  inputs: StaticArray<i32> = EMPTY_I32;
  outputs: StaticArray<i32> = EMPTY_I32;
  arenaSize: u32 = 0;
  /** Position of the constants bytes inside the bundle, and their count. */
  constantsPos: u32 = 0;
  constantsLen: u32 = 0;
  modelName: string = '';
}

function decodeParams(type: i32, t: u32, p: StepParams): void {
  if (type == P_CONV) {
    p.kh = fieldI32(t, S.ConvParams_kernel_h, 0);
    p.kw = fieldI32(t, S.ConvParams_kernel_w, 0);
    p.sh = fieldI32(t, S.ConvParams_stride_h, 1);
    p.sw = fieldI32(t, S.ConvParams_stride_w, 1);
    p.dh = fieldI32(t, S.ConvParams_dilation_h, 1);
    p.dw = fieldI32(t, S.ConvParams_dilation_w, 1);
    p.pt = fieldI32(t, S.ConvParams_pad_top, 0);
    p.pl = fieldI32(t, S.ConvParams_pad_left, 0);
    p.pb = fieldI32(t, S.ConvParams_pad_bottom, 0);
    p.pr = fieldI32(t, S.ConvParams_pad_right, 0);
    p.groups = fieldI32(t, S.ConvParams_groups, 1);
    p.mult = fieldI32(t, S.ConvParams_depth_multiplier, 1);
    p.act = <i32>fieldU8(t, S.ConvParams_activation, 0);
    p.actMin = fieldF32(t, S.ConvParams_act_min, 0);
    p.actMax = fieldF32(t, S.ConvParams_act_max, 0);
    p.qMin = fieldI32(t, S.ConvParams_q_min, -128);
    p.qMax = fieldI32(t, S.ConvParams_q_max, 127);
  } else if (type == P_POOL) {
    p.kh = fieldI32(t, S.PoolParams_kernel_h, 0);
    p.kw = fieldI32(t, S.PoolParams_kernel_w, 0);
    p.sh = fieldI32(t, S.PoolParams_stride_h, 1);
    p.sw = fieldI32(t, S.PoolParams_stride_w, 1);
    p.pt = fieldI32(t, S.PoolParams_pad_top, 0);
    p.pl = fieldI32(t, S.PoolParams_pad_left, 0);
    p.pb = fieldI32(t, S.PoolParams_pad_bottom, 0);
    p.pr = fieldI32(t, S.PoolParams_pad_right, 0);
    p.countIncludePad = fieldU8(t, S.PoolParams_count_include_pad, 0) != 0;
  } else if (type == P_DENSE) {
    p.act = <i32>fieldU8(t, S.DenseParams_activation, 0);
    p.actMin = fieldF32(t, S.DenseParams_act_min, 0);
    p.actMax = fieldF32(t, S.DenseParams_act_max, 0);
    p.qMin = fieldI32(t, S.DenseParams_q_min, -128);
    p.qMax = fieldI32(t, S.DenseParams_q_max, 127);
  } else if (type == P_BINARY) {
    p.op = <i32>fieldU8(t, S.BinaryParams_op, 0);
    p.shape = fieldI32Vector(t, S.BinaryParams_shape);
    p.aStrides = fieldI32Vector(t, S.BinaryParams_a_strides);
    p.bStrides = fieldI32Vector(t, S.BinaryParams_b_strides);
    p.act = <i32>fieldU8(t, S.BinaryParams_activation, 0);
    p.actMin = fieldF32(t, S.BinaryParams_act_min, 0);
    p.actMax = fieldF32(t, S.BinaryParams_act_max, 0);
    p.qMin = fieldI32(t, S.BinaryParams_q_min, -128);
    p.qMax = fieldI32(t, S.BinaryParams_q_max, 127);
  } else if (type == P_UNARY) {
    p.op = <i32>fieldU8(t, S.UnaryParams_op, 0);
    p.alpha = fieldF32(t, S.UnaryParams_alpha, 0);
    p.beta = fieldF32(t, S.UnaryParams_beta, 0);
  } else if (type == P_SOFTMAX) {
    p.outer = fieldI32(t, S.SoftmaxParams_outer, 0);
    p.axis = fieldI32(t, S.SoftmaxParams_axis, 0);
    p.inner = fieldI32(t, S.SoftmaxParams_inner, 0);
  } else if (type == P_TRANSPOSE) {
    p.shape = fieldI32Vector(t, S.TransposeParams_shape);
    p.aStrides = fieldI32Vector(t, S.TransposeParams_strides);
    p.offset = fieldI32(t, S.TransposeParams_offset, 0);
  } else if (type == P_CONCAT) {
    p.outer = fieldI32(t, S.ConcatParams_outer, 0);
    p.sizes = fieldI32Vector(t, S.ConcatParams_sizes);
  } else if (type == P_PAD) {
    p.shape = fieldI32Vector(t, S.PadParams_shape);
    p.inShape = fieldI32Vector(t, S.PadParams_in_shape);
    p.before = fieldI32Vector(t, S.PadParams_before);
    p.value = fieldF32(t, S.PadParams_value, 0);
  } else if (type == P_CONTROL) {
    p.targets = fieldI32Vector(t, S.ControlParams_targets);
    p.metric = <i32>fieldU8(t, S.ControlParams_metric, 0);
    p.threshold = fieldF32(t, S.ControlParams_threshold, 0);
  } else if (type == P_TRAIN) {
    p.labelSmoothing = fieldF32(t, S.TrainParams_label_smoothing, 0);
    p.momentum = fieldF32(t, S.TrainParams_momentum, 0);
    p.nesterov = fieldU8(t, S.TrainParams_nesterov, 0) != 0;
    p.weightDecay = fieldF32(t, S.TrainParams_weight_decay, 0);
    p.beta1 = fieldF32(t, S.TrainParams_beta1, 0);
    p.beta2 = fieldF32(t, S.TrainParams_beta2, 0);
    p.epsilon = fieldF32(t, S.TrainParams_epsilon, 0);
    p.decoupled = fieldU8(t, S.TrainParams_decoupled, 0) != 0;
    p.maxNorm = fieldF32(t, S.TrainParams_max_norm, 0);
    p.temperature = fieldF32(t, S.TrainParams_temperature, 0);
  }
}

/** Decodes the whole bundle at [ptr, ptr+len); on failure `failed` is set and the model is partial. */
export function decodeBundle(ptr: usize, len: u32): Model {
  const m = new Model();
  setBuffer(ptr, len);
  const root = rootTable('EDGC');
  if (failed) return m;
  m.version = fieldU32(root, S.Bundle_version, 0);
  if (failed) return m;
  if (m.version == 1) {
    setError('bundle: format version 1 has no checksum and is no longer read; compile the model again with this edgec');
    return m;
  }
  if (m.version != FORMAT_VERSION) {
    setError(
      'bundle: format version ' +
        m.version.toString() +
        ' is not supported (this runtime reads version ' +
        FORMAT_VERSION.toString() +
        ')',
    );
    return m;
  }
  if (verifyChecksum && !checkTrailer(ptr, len)) return m;
  // Model variants: tensors/steps/inputs/outputs/arena come from the selected Variant table (same slots).
  const src = variantTable(root);
  if (failed) return m;
  m.arenaSize = fieldU32(src, S.Bundle_arena_size, 0);
  m.inputs = fieldI32Vector(src, S.Bundle_inputs);
  m.outputs = fieldI32Vector(src, S.Bundle_outputs);
  const cv = fieldRef(root, S.Bundle_constants);
  if (cv != 0) {
    m.constantsLen = vectorLength(cv, 1);
    m.constantsPos = cv + 4;
  }
  if (failed) return m;

  const tv = fieldRef(src, S.Bundle_tensors);
  const nt: u32 = tv == 0 ? 0 : vectorLength(tv, 4);
  if (failed) return m;
  const tensors = new StaticArray<TensorInfo>(nt);
  for (let i: u32 = 0; i < nt; i++) {
    const t = vectorTable(tv, i);
    if (failed) return m;
    const ti = new TensorInfo();
    ti.id = <i32>i;
    ti.namePtr = fieldStringSpan(t, S.Tensor_name);
    ti.nameLen = stringSpanLength;
    ti.dtype = <i32>fieldU8(t, S.Tensor_dtype, 0);
    ti.shape = fieldI32Vector(t, S.Tensor_shape);
    ti.constant = fieldU8(t, S.Tensor_constant, 0) != 0;
    ti.offset = fieldU32(t, S.Tensor_offset, 0);
    ti.size = fieldU32(t, S.Tensor_size, 0);
    ti.zeroPoint = fieldI32(t, S.Tensor_zero_point, 0);
    ti.scale = fieldF32(t, S.Tensor_scale, 0);
    ti.variable = fieldU8(t, S.Tensor_variable, 0) != 0;
    ti.init = fieldI32(t, S.Tensor_init, -1);
    if (failed) return m;
    tensors[i] = ti;
  }
  m.tensors = tensors;

  const sv = fieldRef(src, S.Bundle_steps);
  const ns: u32 = sv == 0 ? 0 : vectorLength(sv, 4);
  if (failed) return m;
  const steps = new StaticArray<StepInfo>(ns);
  for (let i: u32 = 0; i < ns; i++) {
    const s = vectorTable(sv, i);
    if (failed) return m;
    const si = new StepInfo();
    si.kernel = <i32>fieldU16(s, S.Step_kernel, 0);
    si.inputs = fieldI32Vector(s, S.Step_inputs);
    si.outputs = fieldI32Vector(s, S.Step_outputs);
    si.paramsType = <i32>fieldU8(s, S.Step_params_type, 0);
    si.nodePtr = fieldStringSpan(s, S.Step_node);
    si.nodeLen = stringSpanLength;
    const mp = fieldPos(s, S.Step_macs, 8);
    if (mp != 0) si.macs = (<u64>readU32(mp)) | ((<u64>readU32(mp + 4)) << 32);
    if (si.paramsType != P_NONE) {
      if (si.paramsType > P_TRAIN) {
        setError('bundle: step ' + i.toString() + ' has unknown params type ' + si.paramsType.toString());
        return m;
      }
      const pt = fieldTable(s, S.Step_params);
      if (failed) return m;
      if (pt == 0) {
        setError('bundle: step ' + i.toString() + ' names a params type but has no params table');
        return m;
      }
      decodeParams(si.paramsType, pt, si.p);
    }
    if (failed) return m;
    steps[i] = si;
  }
  m.steps = steps;

  // Metadata is not needed to run, but a bundle whose strings run past the end is refused too.
  const meta = fieldTable(root, S.Bundle_metadata);
  if (meta != 0) {
    fieldString(meta, S.Metadata_edgec_version);
    fieldString(meta, S.Metadata_source_hash);
    fieldString(meta, S.Metadata_compile_options);
    fieldString(meta, S.Metadata_target);
    m.modelName = fieldString(meta, S.Metadata_model_name);
  }
  return m;
}
