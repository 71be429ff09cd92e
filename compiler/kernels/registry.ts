// The kernel registry: one row per bundle KernelId (its number, schema name, AS constant, contract check, fast
// entry functions, reference twin); the training kernels' rows are in registry-train.ts, the variant files (tile,
// packer, builds) in variants.ts. Generated from it by scripts/gen-kernels.ts (checked in npm test): the KernelId
// enum of schema/bundle.fbs and assembly/bundle/kernel-ids.ts. Tested against it: fb.KernelId, --embed's entries,
// docs/bundle-format.md, the grid. Adding a kernel: one row here or in registry-train.ts (next free id), then
// `node --import tsx scripts/gen-kernels.ts && npm run schema`.
import { im2colScratch, lineScratch, type ConvShape } from './scratch.ts';
import { VARIANTS, type Build } from './variants.ts';

import { TRAIN_KERNELS } from './registry-train.ts';
export { VARIANTS, variantByName, variantFile, type Build, type KernelVariant } from './variants.ts';

/** Params table a step of the kernel carries (schema/bundle.fbs `union Params`); null: none. */
export type ParamsName =
  | 'ConvParams'
  | 'PoolParams'
  | 'DenseParams'
  | 'BinaryParams'
  | 'UnaryParams'
  | 'SoftmaxParams'
  | 'TransposeParams'
  | 'ConcatParams'
  | 'PadParams'
  | 'ControlParams'
  | 'TrainParams';

export interface KernelRow {
  /** KernelId value in the bundle (never reused). */
  id: number;
  /** KernelId member name in schema/bundle.fbs (and fb.KernelId). */
  name: string;
  /** The AssemblyScript constant (assembly/bundle/kernel-ids.ts). */
  as: string;
  /** Element type family: selects the load-time checker and the executor's dispatch (f32 / qs8 / any dtype / control). */
  family: 'f32' | 'qs8' | 'any' | 'control' | 'train';
  params: ParamsName | null;
  /** The schema enum comment: inputs → output (layouts in docs/bundle-format.md). */
  io: string;
  /** AS function that checks a step's contract at load time. */
  check: string;
  /** AS reference twin (assembly/reference/ or, for control steps, the one implementation). */
  reference: string;
  /** Functions of the WASI build (name-section names) a step of this kernel may call; `--embed` keeps them
   *  when the bundle uses the kernel. Empty: the step's code is inline in the executor and always kept. */
  entries: readonly string[];
  /** Kernels with an arena work buffer: its I8 shape for a step's geometry, null when the step runs without. */
  scratch?: (c: ConvShape) => number[] | null;
}

const QS8_ENTRY = ['assembly/kernels/qs8-steps/runQs8Step'];
/** The int8 kernels' own out-of-line functions, each called from its KernelIds' arms of runQs8Step only; with the
 * dispatch they are every int8 row's entries, so `--mcu` / `--embed` drop the kernels a bundle does not use. */
const QS8_CODE: Readonly<Record<string, readonly string[]>> = (() => {
  const steps = 'assembly/kernels/qs8-steps/';
  const fp32 = [`${steps}fp32StepQs8`];
  const table = [`${steps}tableStepQs8`];
  const pool = ['assembly/kernels/pool/qs8-pool/poolQs8'];
  const wino = `${steps}winoStepQs8`;
  return {
    K_DWCONV2D_QS8: [
      'assembly/kernels/conv/qs8-dwconv2d-scalar/dwconv2dQs8Plane',
      'assembly/kernels/conv/qs8-dwconv2d/dwconv2dQs8<i64>',
    ],
    K_MAXPOOL_QS8: pool,
    K_AVGPOOL_QS8: pool,
    K_AVGPOOL_QS8_RAW: pool,
    K_ADD_QS8: ['assembly/kernels/elementwise/qs8-elementwise/addQs8'],
    K_CONV1XK_QS8: ['assembly/kernels/conv/qs8-conv2d-1xk/conv1xkQs8<i64>'],
    K_CONVKX1_QS8: ['assembly/kernels/conv/qs8-conv2d-1xk/convKx1Qs8<i64>'],
    K_SOFTMAX_QS8: table,
    K_LUT_QS8: table,
    K_CONV2D_QS8_FP32: fp32,
    K_DWCONV2D_QS8_FP32: fp32,
    K_DENSE_QS8_FP32: fp32,
    K_CONV1XK_QS8_FP32: fp32,
    K_CONVKX1_QS8_FP32: fp32,
    K_GAP_QS8_FP32: fp32,
    K_MUL_QS8_FP32: [...fp32, 'assembly/kernels/elementwise/qs8-elementwise/mulQs8'],
    K_ADD_QS8_FP32: [...fp32, 'assembly/kernels/elementwise/qs8-elementwise/addQs8Fp32'],
    K_CONV2D_WINO_QS8: [wino, 'assembly/kernels/conv/qs8-conv2d-wino-scalar/conv2dWinoQs8Scalar<i64>'],
    K_CONV2D_WINO_QS8_FP32: [wino, 'assembly/kernels/conv/qs8-conv2d-wino-scalar/conv2dWinoQs8Scalar<f32>'],
  };
})();
const f32 = (
  id: number,
  name: string,
  as: string,
  params: ParamsName | null,
  io: string,
  check: string,
  reference: string,
  entries: string[],
): KernelRow => ({ id, name, as, family: 'f32', params, io, check, reference, entries });
const qs8 = (
  id: number,
  name: string,
  as: string,
  params: ParamsName | null,
  io: string,
  check: string,
  reference: string,
  scratch?: KernelRow['scratch'],
): KernelRow => ({
  id,
  name,
  as,
  family: 'qs8',
  params,
  io,
  check,
  reference,
  entries: [...QS8_ENTRY, ...(QS8_CODE[as] ?? [])],
  scratch,
});

/** Every KernelId (0 = Invalid is implied): inference kernels in id order, then the training ones (sorted below). */
const ROWS: readonly KernelRow[] = [
  f32(
    1,
    'Conv2D_F32',
    'K_CONV2D',
    'ConvParams',
    'in [N,H,W,Ci], w [G,KH,KW,Ci/G,Co/G], b [Co] -> out [N,OH,OW,Co]',
    'checkConv',
    'refConv2d',
    ['assembly/kernels/conv/f32-conv2d/conv2dF32', 'assembly/kernels/conv/f32-conv2d/pixelScalar'],
  ),
  f32(
    2,
    'DepthwiseConv2D_F32',
    'K_DWCONV2D',
    'ConvParams',
    'in [N,H,W,C],  w [KH,KW,C*M],           b [C*M] -> out [N,OH,OW,C*M]',
    'checkConv',
    'refDwconv2d',
    [
      'assembly/kernels/conv/f32-dwconv2d/dwconv2dF32',
      'assembly/kernels/conv/f32-dwconv2d/pixelScalar',
      'assembly/kernels/conv/f32-dwconv2d-3x3-scalar/dwconv3x3F32Scalar',
    ],
  ),
  f32(
    3,
    'Dense_F32',
    'K_DENSE',
    'DenseParams',
    'in [M,K],      w [K,N],                 b [N] -> out [M,N]',
    'checkDense',
    'refDense',
    ['assembly/kernels/gemm/f32-gemm/gemmF32'],
  ),
  f32(4, 'MaxPool_F32', 'K_MAXPOOL', 'PoolParams', 'in [N,H,W,C] -> out [N,OH,OW,C]', 'checkPool', 'refPool', [
    'assembly/kernels/pool/f32-pool/poolF32',
  ]),
  f32(5, 'AvgPool_F32', 'K_AVGPOOL', 'PoolParams', 'in [N,H,W,C] -> out [N,OH,OW,C]', 'checkPool', 'refPool', [
    'assembly/kernels/pool/f32-pool/poolF32',
  ]),
  f32(6, 'GlobalAvgPool_F32', 'K_GAP', null, 'in [N,H,W,C] -> out [N,1,1,C]', 'checkGap', 'refGlobalAvgPool', [
    'assembly/kernels/pool/f32-pool/globalAvgPoolF32',
  ]),
  f32(
    7,
    'Binary_F32',
    'K_BINARY',
    'BinaryParams',
    'a, b -> out (broadcast through BinaryParams strides)',
    'checkBinary',
    'refBinary',
    ['assembly/kernels/elementwise/f32-binary/binaryF32'],
  ),
  f32(8, 'Unary_F32', 'K_UNARY', 'UnaryParams', 'in -> out, same shape', 'checkUnary', 'refUnary', [
    'assembly/kernels/elementwise/f32-unary/unaryF32',
  ]),
  f32(
    9,
    'Softmax_F32',
    'K_SOFTMAX',
    'SoftmaxParams',
    'in -> out, same shape, along one axis',
    'checkSoftmax',
    'refSoftmax',
    ['assembly/kernels/elementwise/f32-unary/softmaxF32'],
  ),
  {
    id: 10,
    name: 'Transpose',
    as: 'K_TRANSPOSE',
    family: 'any',
    params: 'TransposeParams',
    io: 'any dtype, element size from the tensor dtype',
    check: 'checkTranspose',
    reference: 'refTranspose',
    entries: ['assembly/kernels/data/data-move/transposeAny'],
  },
  {
    id: 11,
    name: 'Concat',
    as: 'K_CONCAT',
    family: 'any',
    params: 'ConcatParams',
    io: 'any dtype',
    check: 'checkConcat',
    reference: 'refConcat',
    entries: ['assembly/kernels/data/data-move/concatAny'],
  },
  {
    id: 12,
    name: 'Copy',
    as: 'K_COPY',
    family: 'any',
    params: null,
    io: 'any dtype, bytes copied as they are (reshape that cannot alias)',
    check: 'checkCopy',
    reference: 'refCopy',
    entries: [],
  },
  {
    id: 13,
    name: 'Pad',
    as: 'K_PAD',
    family: 'any',
    params: 'PadParams',
    io: 'any dtype: out = value outside, in inside (PadParams)',
    check: 'checkPad',
    reference: 'refPad',
    entries: ['assembly/kernels/data/data-move/padAny'],
  },
  {
    id: 14,
    name: 'Dispatch',
    as: 'K_DISPATCH',
    family: 'control',
    params: 'ControlParams',
    io: 'gate scores [N branches] -> jump to targets[argmax] (ControlParams)',
    check: 'checkControl',
    reference: 'controlStep',
    entries: [],
  },
  {
    id: 15,
    name: 'Exit',
    as: 'K_EXIT',
    family: 'control',
    params: 'ControlParams',
    io: 'head out -> graph out and stop the run when confident (ControlParams)',
    check: 'checkControl',
    reference: 'controlStep',
    entries: [],
  },
  {
    id: 16,
    name: 'Jump',
    as: 'K_JUMP',
    family: 'control',
    params: 'ControlParams',
    io: 'no tensors: continue at targets[0] (end of a branch)',
    check: 'checkControl',
    reference: 'controlStep',
    entries: [],
  },
  qs8(
    17,
    'Conv2D_QS8',
    'K_CONV2D_QS8',
    'ConvParams',
    'in i8 [N,H,W,Ci], w i8 packed [G,Co/G,K₂], qc [3,Co], scratch i8 [OH·OW,Kp] | -1',
    'checkConvQs8',
    'refConv2dQs8',
    im2colScratch,
  ),
  qs8(
    18,
    'DepthwiseConv2D_QS8',
    'K_DWCONV2D_QS8',
    'ConvParams',
    'in i8 [N,H,W,C], w i8 [KH,KW,C*M], qc [3,C*M] -> out i8 [N,OH,OW,C*M]',
    'checkConvQs8',
    'refDwconv2dQs8',
  ),
  qs8(
    19,
    'Dense_QS8',
    'K_DENSE_QS8',
    'DenseParams',
    'in i8 [M,K], w i8 packed [N,K₂], qc [3,N] -> out i8 [M,N]',
    'checkDenseQs8',
    'refGemmQs8',
  ),
  qs8(
    20,
    'MaxPool_QS8',
    'K_MAXPOOL_QS8',
    'PoolParams',
    'in i8 [N,H,W,C] -> out i8 [N,OH,OW,C] (same quant)',
    'checkPoolQs8',
    'refPoolQs8',
  ),
  qs8(
    21,
    'AvgPool_QS8',
    'K_AVGPOOL_QS8',
    'PoolParams',
    'in i8 [N,H,W,C] -> out i8 [N,OH,OW,C] (same quant)',
    'checkPoolQs8',
    'refPoolQs8',
  ),
  qs8(
    22,
    'GlobalAvgPool_QS8',
    'K_GAP_QS8',
    null,
    'in i8 [N,H,W,C], qc [2] -> out i8 [N,1,1,C]',
    'checkGapQs8',
    'refGlobalAvgPoolQs8',
  ),
  qs8(
    23,
    'Add_QS8',
    'K_ADD_QS8',
    'BinaryParams',
    'a i8, b i8, qc [3] -> out i8 (BinaryParams strides, op Add)',
    'checkAddQs8',
    'refAddQs8',
  ),
  qs8(
    24,
    'Quantize_QS8',
    'K_QUANTIZE_QS8',
    null,
    'in f32 -> out i8, same element count',
    'checkElementwise',
    'refQuantizeQs8',
  ),
  qs8(
    25,
    'Dequantize_QS8',
    'K_DEQUANTIZE_QS8',
    null,
    'in i8 -> out f32, same element count',
    'checkElementwise',
    'refDequantizeQs8',
  ),
  qs8(
    26,
    'Requantize_QS8',
    'K_REQUANTIZE_QS8',
    null,
    'in i8, qc [2] -> out i8, same element count',
    'checkElementwise',
    'refRequantizeQs8',
  ),
  qs8(
    27,
    'Conv1xK_QS8',
    'K_CONV1XK_QS8',
    'ConvParams',
    'Conv2D_QS8 with KH = 1 < KW, groups 1, dilation_w 1; scratch i8 [R·L, Ci] | -1 (unpadded; R, L: docs/quantization.md)',
    'checkConvLineQs8',
    'refConv2dQs8',
    (c) => lineScratch(c, true),
  ),
  qs8(
    28,
    'ConvKx1_QS8',
    'K_CONVKX1_QS8',
    'ConvParams',
    'Conv2D_QS8 with KW = 1 < KH, groups 1, dilation_h 1; scratch i8 [R·L, Ci]',
    'checkConvLineQs8',
    'refConv2dQs8',
    (c) => lineScratch(c, false),
  ),
  // a 3×3 stride-1 ungrouped conv as an exact integer Winograd F(2×2, 3×3): the direct conv's accumulators bit for bit
  qs8(
    44,
    'Conv2DWino_QS8',
    'K_CONV2D_WINO_QS8',
    'ConvParams',
    "Conv2D_QS8 with KH = KW = 3, stride 1, dilation 1, groups 1; w i16 U' as bytes [Co₈,16,4·Ci₈,32]",
    'checkConvWinoQs8',
    'refConv2dWinoQs8',
  ),
  qs8(
    45,
    'Conv2DWino_QS8_FP32',
    'K_CONV2D_WINO_QS8_FP32',
    'ConvParams',
    'Conv2DWino_QS8 with qc [2,Co]: bias, f32 scale',
    'checkConvWinoQs8',
    'refConv2dWinoQs8',
  ),
  f32(
    43,
    'Conv2D_F32_P8',
    'K_CONV2D_P8',
    'ConvParams',
    'in [N,H,W,Ci], w [G,ceil(Co/G/8),KH,KW,Ci/G,8], b [Co] -> out [N,OH,OW,Co]',
    'checkConv',
    'refConv2dP8',
    [
      'assembly/kernels/conv/f32-conv2d-4x8-packed/conv2dF32P8',
      'assembly/kernels/conv/f32-conv2d-4x8-packed-scalar/conv2dF32P8Scalar',
      'assembly/kernels/conv/f32-conv2d-8x8-packed-scalar/tile8x8',
    ],
  ),
  qs8(
    75,
    'Softmax_QS8',
    'K_SOFTMAX_QS8',
    'SoftmaxParams',
    'in i8, table f32 [256] -> out i8 (SoftmaxParams, inner 1): TFLite int8 SOFTMAX over the last axis',
    'checkSoftmaxQs8',
    'refSoftmaxQs8',
  ),
  qs8(
    76,
    'Lut_QS8',
    'K_LUT_QS8',
    null,
    'in i8, table i8 [256] -> out i8, same element count: y = table[x + 128] (TFLite int8 LOGISTIC, TANH)',
    'checkLutQs8',
    'refLutQs8',
  ),
  // XNNPACK's fp32 requantisation (graphs with int8Arithmetic 'tflite'): the same kernels, same packed weights
  // and sums, qc [2, Co] = bias, f32 scale bits; out = clamp(round_half_even(f32(acc)·scale) + zp) (quantization.md)
  qs8(
    77,
    'Conv2D_QS8_FP32',
    'K_CONV2D_QS8_FP32',
    'ConvParams',
    'Conv2D_QS8 with qc [2,Co]: bias, f32 scale',
    'checkConvQs8',
    'refConv2dQs8',
    im2colScratch,
  ),
  qs8(
    78,
    'DepthwiseConv2D_QS8_FP32',
    'K_DWCONV2D_QS8_FP32',
    'ConvParams',
    'DepthwiseConv2D_QS8 with qc [2,C*M]: bias, f32 scale',
    'checkConvQs8',
    'refDwconv2dQs8',
  ),
  qs8(
    79,
    'Dense_QS8_FP32',
    'K_DENSE_QS8_FP32',
    'DenseParams',
    'Dense_QS8 with qc [2,N]: bias, f32 scale',
    'checkDenseQs8',
    'refGemmQs8',
  ),
  qs8(
    80,
    'Conv1xK_QS8_FP32',
    'K_CONV1XK_QS8_FP32',
    'ConvParams',
    'Conv1xK_QS8 with qc [2,Co]: bias, f32 scale',
    'checkConvLineQs8',
    'refConv2dQs8',
    (c) => lineScratch(c, true),
  ),
  qs8(
    81,
    'ConvKx1_QS8_FP32',
    'K_CONVKX1_QS8_FP32',
    'ConvParams',
    'ConvKx1_QS8 with qc [2,Co]: bias, f32 scale',
    'checkConvLineQs8',
    'refConv2dQs8',
    (c) => lineScratch(c, false),
  ),
  qs8(
    82,
    'AvgPool_QS8_RAW',
    'K_AVGPOOL_QS8_RAW',
    'PoolParams',
    'AvgPool_QS8 on the raw sum: clamp(round_half_away(Σ x / in-bounds count)) (TFLite int8 AVERAGE_POOL_2D)',
    'checkPoolQs8',
    'refPoolQs8',
  ),
  qs8(
    83,
    'Mul_QS8_FP32',
    'K_MUL_QS8_FP32',
    'BinaryParams',
    'a i8, b i8, qc [1] (f32 scale) -> out i8 (BinaryParams strides, op Mul): TFLite int8 MUL',
    'checkAddQs8',
    'refMulQs8',
  ),
  qs8(
    84,
    'GlobalAvgPool_QS8_FP32',
    'K_GAP_QS8_FP32',
    null,
    'in i8 [N,H,W,C], qc [1] (f32 scale) -> out i8 [N,1,1,C]: TFLite int8 MEAN over H, W',
    'checkGapQs8',
    'refGlobalAvgPoolQs8',
  ),
  // onnxruntime's own arithmetic (graphs with int8Arithmetic 'onnxruntime': pre-quantised ONNX models)
  qs8(
    85,
    'Quantize_QS8_RNE',
    'K_QUANTIZE_QS8_RNE',
    null,
    'in f32 -> out i8, same element count: clamp(round_half_even(x / scale) + zp) (ONNX QuantizeLinear)',
    'checkElementwise',
    'refQuantizeQs8Rne',
  ),
  qs8(
    86,
    'Add_QS8_FP32',
    'K_ADD_QS8_FP32',
    'BinaryParams',
    'a i8, b i8, qc [4] (f32 s_a, s_b, s_out; i32 rounding zp) -> out i8 (BinaryParams strides): onnxruntime QLinearAdd',
    'checkAddQs8',
    'refAddQs8Fp32',
  ),
  ...TRAIN_KERNELS,
];

/** Every KernelId (0 = Invalid is implied), in id order. */
export const KERNELS: readonly KernelRow[] = [...ROWS].sort((a, b) => a.id - b.id);

const BY_ID = new Map(KERNELS.map((k) => [k.id, k]));
const BY_NAME = new Map(KERNELS.map((k) => [k.name, k]));

/** The row of a KernelId; undefined for Invalid (0) and ids no runtime knows. */
export function kernelById(id: number): KernelRow | undefined {
  return BY_ID.get(id);
}
export function kernelByName(name: string): KernelRow {
  const k = BY_NAME.get(name);
  if (!k) throw new Error(`kernel registry: no kernel named '${name}'`);
  return k;
}

/** A conv step's shape as `conv3x3s2c3Fits` (assembly/kernels/conv/qs8-conv2d-3x3s2c3-wasmsimd.ts) reads it. */
export type StemShape = Pick<ConvShape, 'ci' | 'kh' | 'kw' | 'sh' | 'sw' | 'dh' | 'dw' | 'groups'> & { co: number };

/** The simd build's run-time pick of the 3-channel 3×3 stride-2 stem kernel for a Conv2D_QS8 step (the relaxed and
 *  scalar builds run im2col + GEMM, so the bundle keeps the im2col scratch): the TS twin of `conv3x3s2c3Fits` and
 *  its caller's Ci = 3 (test/assembly/qs8-conv2d-3x3s2c3.test.ts checks what `edgec inspect` names). */
export function stemFits(c: StemShape): boolean {
  const { ci, co, kh, kw, sh, sw, dh, dw, groups } = c;
  return (
    ci === 3 &&
    groups === 1 &&
    kh === 3 &&
    kw === 3 &&
    sh === 2 &&
    sw === 2 &&
    dh === 1 &&
    dw === 1 &&
    co % 8 === 0 &&
    co > 0 &&
    co <= 64
  );
}

/**
 * The variant file a step runs on one build (`edgec inspect` shows it): the kernel's own file, or for a GEMM-only
 * step (Dense, Conv2D_QS8 without a scratch: 1×1 direct) the GEMM tile that build runs. '-' for control steps.
 */
export function stepVariant(id: number, build: Build, hasScratch: boolean, conv?: StemShape): string {
  const k = kernelById(id);
  if (!k) return '?';
  if (build === 'simd' && conv && k.name.startsWith('Conv2D_QS8') && stemFits(conv))
    return 'qs8-conv2d-3x3s2c3-wasmsimd';
  const vs = VARIANTS.filter((v) => v.serves.includes(k.name) && v.builds.includes(build));
  const own = vs.find((v) => v.dir !== 'gemm' && (hasScratch || !k.scratch || v.name !== 'qs8-conv2d-im2col'));
  if (own) return own.name;
  const gemm = vs.find((v) => build === 'scalar' || v.builds.length === 1) ?? vs[0];
  return gemm?.name ?? '-';
}
