// The kernel variant files: one row per file of assembly/kernels/ that runs steps (its tile, weight packer and
// builds). compiler/kernels/registry.ts re-exports these and maps KernelIds onto them (stepVariant).
import { packConvWeightsP8, packQs8Depthwise, packQs8Gemm4x8c2, packQs8Wino } from './pack.ts';

/** A kernel variant: one file of assembly/kernels/ named dtype-op[-tile][-isa], the KernelIds it serves, what each
 *  build runs, and (for the GEMM-like ones) the tile the test grid walks and the weight packer tied to it. */
export interface KernelVariant {
  /** File stem, e.g. qs8-gemm-4x8c2-wasmsimd (assembly/kernels/<dir>/<stem>.ts). */
  name: string;
  dir: 'conv' | 'gemm' | 'pool' | 'elementwise' | 'data' | 'train';
  serves: readonly string[];
  /** Which wasm builds run this file's code (same arithmetic, with or without v128; relaxed: the simd build plus
   *  relaxed SIMD's integer dot products, used only with operands on which every engine agrees). */
  builds: readonly Build[];
  /** Rows (pixels) × columns (channels) × reduction step of the register tile, or the SIMD lanes along the channel
   *  axis for the kernels without a register tile (1: none); test/kernels/grid.test.ts walks each axis around it. */
  tile?: { mr: number; nr: number; kr: number };
  pack?: (w: ArrayLike<number>, ...dims: number[]) => Int8Array | Float32Array;
}

/** The runtime builds (asconfig.json targets; runtime/node.ts loads one). */
export type Build = 'relaxed' | 'simd' | 'scalar';
/** Files compiled into every build. */
const BOTH = ['relaxed', 'simd', 'scalar'] as const;

/** The KernelIds that run on the qs8 GEMM tiles, with edgec's fixed-point and XNNPACK's fp32 requantisation. */
const GEMM_KERNELS = ['Dense_QS8', 'Conv2D_QS8', 'Conv1xK_QS8', 'ConvKx1_QS8'].flatMap((k) => [k, `${k}_FP32`]);

/** Every file in assembly/kernels/ that runs steps. */
export const VARIANTS: readonly KernelVariant[] = [
  { name: 'f32-gemm', dir: 'gemm', serves: ['Dense_F32'], builds: BOTH, tile: { mr: 4, nr: 8, kr: 1 } },
  { name: 'f32-conv2d', dir: 'conv', serves: ['Conv2D_F32'], builds: BOTH, tile: { mr: 4, nr: 8, kr: 1 } },
  // constant weights packed in 8-channel panels at compile time (packConvWeightsP8)
  {
    name: 'f32-conv2d-4x8-packed',
    dir: 'conv',
    serves: ['Conv2D_F32_P8'],
    builds: BOTH,
    tile: { mr: 4, nr: 8, kr: 1 },
    pack: packConvWeightsP8,
  },
  // the simd builds' pointwise Conv2D_F32_P8 on whole 4-pixel tiles × whole panels (stepVariant names the file above)
  {
    name: 'f32-conv2d-1x1-4x8-packed',
    dir: 'conv',
    serves: ['Conv2D_F32_P8'],
    builds: ['simd', 'relaxed'],
    tile: { mr: 4, nr: 8, kr: 1 },
    pack: packConvWeightsP8,
  },
  // the scalar build's pointwise Conv2D_F32_P8: 8 pixels of the N·H·W row × 8 panel lanes
  {
    name: 'f32-conv2d-8x8-packed-scalar',
    dir: 'conv',
    serves: ['Conv2D_F32_P8'],
    builds: ['scalar'],
    tile: { mr: 8, nr: 8, kr: 1 },
    pack: packConvWeightsP8,
  },
  // the scalar build's Conv2D_F32_P8: 4 pixels (a row's for pointwise convs, else a column's) × 8 panel lanes
  {
    name: 'f32-conv2d-4x8-packed-scalar',
    dir: 'conv',
    serves: ['Conv2D_F32_P8'],
    builds: ['scalar'],
    tile: { mr: 4, nr: 8, kr: 1 },
    pack: packConvWeightsP8,
  },
  // the scalar build's 3×3 stride-1 multiplier-1 ones: 4 rows down an output column, channel outer
  {
    name: 'f32-dwconv2d-3x3-scalar',
    dir: 'conv',
    serves: ['DepthwiseConv2D_F32'],
    builds: ['scalar'],
    tile: { mr: 4, nr: 1, kr: 1 },
  },
  { name: 'f32-dwconv2d', dir: 'conv', serves: ['DepthwiseConv2D_F32'], builds: BOTH, tile: { mr: 2, nr: 16, kr: 1 } },
  // the simd builds' 3×3 multiplier-1 rows: 4 pixels × 4 channels, weights and shared input columns loaded once
  // (after the entry file, which `edgec inspect` names)
  {
    name: 'f32-dwconv2d-3x3-4x4-wasmsimd',
    dir: 'conv',
    serves: ['DepthwiseConv2D_F32'],
    builds: ['simd', 'relaxed'],
    tile: { mr: 4, nr: 4, kr: 1 },
  },
  {
    name: 'f32-pool',
    dir: 'pool',
    serves: ['MaxPool_F32', 'AvgPool_F32', 'GlobalAvgPool_F32'],
    builds: BOTH,
    tile: { mr: 1, nr: 4, kr: 1 },
  },
  { name: 'f32-binary', dir: 'elementwise', serves: ['Binary_F32'], builds: BOTH, tile: { mr: 1, nr: 4, kr: 1 } },
  {
    name: 'f32-unary',
    dir: 'elementwise',
    serves: ['Unary_F32', 'Softmax_F32'],
    builds: BOTH,
    tile: { mr: 1, nr: 4, kr: 1 },
  },
  {
    name: 'data-move',
    dir: 'data',
    serves: ['Transpose', 'Concat', 'Copy', 'Pad'],
    builds: BOTH,
    tile: { mr: 1, nr: 1, kr: 1 },
  },
  {
    name: 'qs8-gemm-4x8c2-wasmsimd',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: ['simd'],
    tile: { mr: 4, nr: 8, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  // reads the same c2-packed weights and re-lays them to c4 in the wasm on first use (the bundle is one for all builds)
  {
    name: 'qs8-gemm-2x8c4-wasmrelaxed',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: ['relaxed'],
    tile: { mr: 2, nr: 8, kr: 4 },
    pack: packQs8Gemm4x8c2,
  },
  // the relaxed build's 8-column blocks where the engine's relaxed dot is exact on full-range operands (usdot/sdot,
  // runtime/index.ts relaxedDotMode): one dot per 16 products on the same c4 copy; kr 16 so the grid crosses the
  // 16-k activation transpose
  {
    name: 'qs8-gemm-4x8c4-wasmrelaxed',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: ['relaxed'],
    tile: { mr: 4, nr: 8, kr: 16 },
    pack: packQs8Gemm4x8c2,
  },
  // the last 1–2 rows of M mod 4 (M = 1: Dense on one sample) in the simd build, an odd last row in the relaxed one:
  // pairs of 8-column blocks, two k pairs per iteration; an odd last block on the 1×8 tile below
  {
    name: 'qs8-gemm-1x16c2-wasmsimd',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: ['simd', 'relaxed'],
    tile: { mr: 1, nr: 16, kr: 4 },
    pack: packQs8Gemm4x8c2,
  },
  {
    name: 'qs8-gemm-1x8c2-wasmsimd',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: ['simd', 'relaxed'],
    tile: { mr: 1, nr: 8, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  // a one-row Dense on constant weights with an i16 copy of them made at load (simd; relaxed in split mode), ≤ 256 KiB
  // per step, 1 MiB per bundle (MLPerf Tiny AD); the lone row in the relaxed build where its dot is exact: c4, one dot
  // per 16 MACs
  {
    name: 'qs8-gemm-1x16c2w16-wasmsimd',
    dir: 'gemm',
    serves: ['Dense_QS8', 'Dense_QS8_FP32'],
    builds: ['simd', 'relaxed'],
    tile: { mr: 1, nr: 16, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  {
    name: 'qs8-gemm-1x16c4-wasmrelaxed',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: ['relaxed'],
    tile: { mr: 1, nr: 16, kr: 4 },
    pack: packQs8Gemm4x8c2,
  },
  // the scalar build's whole 8-column blocks (K ≤ 8192): three rows per i64 multiply, for wasm3 on microcontrollers
  {
    name: 'qs8-gemm-6x8c2-scalar',
    dir: 'gemm',
    serves: ['Dense_QS8', 'Conv2D_QS8', 'Conv1xK_QS8', 'ConvKx1_QS8'],
    builds: ['scalar'],
    tile: { mr: 6, nr: 8, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  {
    name: 'qs8-gemm-2x2-scalar',
    dir: 'gemm',
    serves: GEMM_KERNELS,
    builds: BOTH,
    tile: { mr: 2, nr: 2, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  {
    name: 'qs8-conv2d-im2col',
    dir: 'conv',
    serves: ['Conv2D_QS8', 'Conv2D_QS8_FP32'],
    builds: BOTH,
    tile: { mr: 4, nr: 8, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  // the 3-channel 3×3 stride-2 stems, taken by qs8-conv2d-im2col at run time in the simd build (not relaxed)
  {
    name: 'qs8-conv2d-3x3s2c3-wasmsimd',
    dir: 'conv',
    serves: ['Conv2D_QS8', 'Conv2D_QS8_FP32'],
    builds: ['simd'],
    tile: { mr: 4, nr: 8, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  // Winograd F(2×2, 3×3): m tiles of 2×2 pixels (4 per product pass), n output channels, k input channels
  {
    name: 'qs8-conv2d-wino-wasmsimd',
    dir: 'conv',
    serves: ['Conv2DWino_QS8', 'Conv2DWino_QS8_FP32'],
    builds: ['simd', 'relaxed'],
    tile: { mr: 4, nr: 8, kr: 8 },
    pack: packQs8Wino,
  },
  {
    name: 'qs8-conv2d-wino-scalar',
    dir: 'conv',
    serves: ['Conv2DWino_QS8', 'Conv2DWino_QS8_FP32'],
    builds: ['scalar'],
    tile: { mr: 1, nr: 1, kr: 1 },
    pack: packQs8Wino,
  },
  {
    name: 'qs8-conv2d-1xk',
    dir: 'conv',
    serves: ['Conv1xK_QS8', 'ConvKx1_QS8', 'Conv1xK_QS8_FP32', 'ConvKx1_QS8_FP32'],
    builds: BOTH,
    tile: { mr: 4, nr: 8, kr: 2 },
    pack: packQs8Gemm4x8c2,
  },
  // multiplier 1 in the scalar build (plane ≤ 2^16 elements): channel outer over a padded plane, for wasm3
  {
    name: 'qs8-dwconv2d-scalar',
    dir: 'conv',
    serves: ['DepthwiseConv2D_QS8'],
    builds: ['scalar'],
    tile: { mr: 1, nr: 2, kr: 1 },
    pack: packQs8Depthwise,
  },
  // the relaxed build's 3×3 (M = 1, C a multiple of 8, stride 1 or 2 across) where the engine's relaxed dot is exact on
  // full-range operands (usdot / sdot): one dot per kernel row per 4 channels; window rows built per 4 columns × 16
  // channels, so the grid walks the width around 4 and the channels around 16
  {
    name: 'qs8-dwconv2d-3x3-wasmrelaxed',
    dir: 'conv',
    serves: ['DepthwiseConv2D_QS8', 'DepthwiseConv2D_QS8_FP32'],
    builds: ['relaxed'],
    tile: { mr: 4, nr: 16, kr: 1 },
    pack: packQs8Depthwise,
  },
  {
    name: 'qs8-dwconv2d',
    dir: 'conv',
    serves: ['DepthwiseConv2D_QS8', 'DepthwiseConv2D_QS8_FP32'],
    builds: BOTH,
    tile: { mr: 1, nr: 8, kr: 1 },
    pack: packQs8Depthwise,
  },
  {
    name: 'qs8-pool',
    dir: 'pool',
    serves: ['MaxPool_QS8', 'AvgPool_QS8', 'GlobalAvgPool_QS8', 'AvgPool_QS8_RAW', 'GlobalAvgPool_QS8_FP32'],
    builds: BOTH,
    tile: { mr: 1, nr: 8, kr: 1 },
  },
  {
    name: 'qs8-elementwise',
    dir: 'elementwise',
    serves: [
      'Add_QS8',
      'Quantize_QS8',
      'Dequantize_QS8',
      'Requantize_QS8',
      'Mul_QS8_FP32',
      'Quantize_QS8_RNE',
      'Add_QS8_FP32',
    ],
    builds: BOTH,
    tile: { mr: 1, nr: 16, kr: 1 },
  },
  { name: 'qs8-softmax', dir: 'elementwise', serves: ['Softmax_QS8'], builds: BOTH, tile: { mr: 1, nr: 1, kr: 1 } },
  { name: 'qs8-lut', dir: 'elementwise', serves: ['Lut_QS8'], builds: BOTH, tile: { mr: 1, nr: 1, kr: 1 } },
  {
    name: 'f32-train',
    dir: 'train',
    serves: ['SoftmaxCrossEntropy_F32', 'UnaryGrad_F32', 'ReduceSum_F32', 'SgdUpdate_F32'],
    builds: BOTH,
  },
  {
    name: 'f32-optim',
    dir: 'train',
    serves: ['AdamUpdate_F32', 'GlobalNormScale_F32', 'MseLoss_F32', 'KlDivergence_F32'],
    builds: BOTH,
  },
  { name: 'f32-rkd', dir: 'train', serves: ['RkdDistance_F32', 'RkdAngle_F32'], builds: BOTH },
  {
    name: 'f32-fake-quant',
    dir: 'train',
    serves: ['FakeQuant_F32', 'FakeQuantGrad_F32', 'FakeQuantWeight_F32', 'FakeQuantBias_F32'],
    builds: BOTH,
  },
  // tile: m = Ci and n = Co of a groups-1 conv (GradFilter's 8 co x 4 c tile), k = channels of a depthwise one
  // (16-channel blocks); the other groupings run f32-conv-grad's scalar loops on both builds
  {
    name: 'f32-conv-grad-wasmsimd',
    dir: 'train',
    serves: ['Conv2DGradInput_F32', 'Conv2DGradFilter_F32'],
    builds: ['relaxed', 'simd'],
    tile: { mr: 4, nr: 8, kr: 16 },
  },
  {
    name: 'f32-conv-grad',
    dir: 'train',
    serves: ['Conv2DGradInput_F32', 'Conv2DGradFilter_F32', 'MaxPoolGrad_F32', 'AvgPoolGrad_F32'],
    builds: BOTH,
  },
  {
    name: 'f32-batchnorm',
    dir: 'train',
    serves: ['BatchNormTrain_F32', 'BatchNormGrad_F32', 'BatchNormMerge_F32', 'BatchNormEval_F32'],
    builds: BOTH,
  },
];

export function variantByName(name: string): KernelVariant {
  const v = VARIANTS.find((x) => x.name === name);
  if (!v) throw new Error(`kernel registry: no variant '${name}'`);
  return v;
}

/** The KernelIds' AS source path of a variant, from the repository root. */
export const variantFile = (v: KernelVariant): string => `assembly/kernels/${v.dir}/${v.name}.ts`;
