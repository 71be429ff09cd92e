// Which kernel runs a float Conv2D, as data: F32_CONV_RULES in order, first match wins (the int8 twin is
// QS8_CONV_RULES in ./int8.ts). Each rule carries the packed weight layout its kernel reads (docs/bundle-format.md),
// the packer for constant OHWI weights and the gather that brings trained OHWI weights (state) to that layout.
import type { ConvGeometry } from '../ir/ops/helpers.ts';
import { packConvWeights, packConvWeightsP8, packDepthwiseWeights } from '../kernels/pack.ts';

/** A float conv as the rules see it: its geometry, and whether its weights are constants (not trained state). */
export interface F32Conv extends ConvGeometry {
  constWeights: boolean;
}

export interface F32ConvRule {
  kernel: 'DepthwiseConv2D_F32' | 'Conv2D_F32_P8' | 'Dense_F32' | 'Conv2D_F32';
  match: (c: F32Conv) => boolean;
  /** Shape of the packed weights. */
  wshape: (c: F32Conv) => number[];
  /** Constant OHWI weights → the packed layout. */
  pack: (w: Float32Array, c: F32Conv) => Float32Array;
  /** Element strides of the Transpose step that gathers trained OHWI weights into the packed layout each run;
   *  null when the rule only matches constant weights. */
  gather: ((c: F32Conv) => number[]) | null;
  /** The ConvParams fields that differ by kernel (Dense_F32 steps carry DenseParams instead). */
  grouping: (c: F32Conv) => { groups: number; depthMultiplier: number };
}

const cig = (c: F32Conv) => c.ci / c.groups;
const cog = (c: F32Conv) => c.co / c.groups;
const taps = (c: F32Conv) => c.kh * c.kw * cig(c);

export const F32_CONV_RULES: readonly F32ConvRule[] = [
  {
    kernel: 'DepthwiseConv2D_F32',
    match: (c) => c.groups > 1 && c.groups === c.ci && c.co % c.ci === 0,
    wshape: (c) => [c.kh, c.kw, c.co],
    pack: (w, c) => packDepthwiseWeights(w, c.co, c.kh, c.kw),
    gather: (c) => [c.kw, 1, taps(c)],
    grouping: (c) => ({ groups: 1, depthMultiplier: c.co / c.ci }),
  },
  // constant weights, pointwise ones included: 8-channel panels packed here, read contiguously by 4×8 register tiles
  // (same sums in the same order as Conv2D_F32 and Dense_F32, so the same bits)
  {
    kernel: 'Conv2D_F32_P8',
    match: (c) => c.constWeights,
    wshape: (c) => [c.groups, Math.ceil(cog(c) / 8), c.kh, c.kw, cig(c), 8],
    pack: (w, c) => packConvWeightsP8(w, c.groups, c.co, c.kh, c.kw, cig(c)),
    gather: null,
    grouping: (c) => ({ groups: c.groups, depthMultiplier: 1 }),
  },
  // 1×1, stride 1, unpadded, ungrouped (constant weights): a GEMM over all N·H·W pixels, Dense_F32 on [N·H·W, C]
  // views of the NHWC tensors (same sums in the same order: bias, ci ascending; the [1,1,1,Ci,Co] weights are
  // [K, N]). Trained weights keep Conv2D_F32 (conv2dF32 takes 1×1 too, same bits).
  {
    kernel: 'Dense_F32',
    match: (c) =>
      c.constWeights &&
      c.groups === 1 &&
      c.kh === 1 &&
      c.kw === 1 &&
      c.sh === 1 &&
      c.sw === 1 &&
      c.pad.every((v) => v === 0),
    wshape: (c) => [c.ci, c.co],
    pack: (w, c) => packConvWeights(w, 1, c.co, 1, 1, c.ci),
    gather: null,
    grouping: () => ({ groups: 1, depthMultiplier: 1 }),
  },
  {
    kernel: 'Conv2D_F32',
    match: () => true,
    wshape: (c) => [c.groups, c.kh, c.kw, cig(c), cog(c)],
    pack: (w, c) => packConvWeights(w, c.groups, c.co, c.kh, c.kw, cig(c)),
    gather: (c) => [cog(c) * taps(c), c.kw * cig(c), cig(c), 1, taps(c)],
    grouping: (c) => ({ groups: c.groups, depthMultiplier: 1 }),
  },
];

/** The rule for a conv: the first that matches and is not disabled (LowerOptions.disableKernels); the last rule,
 *  Conv2D_F32, runs every float conv and cannot be disabled. */
export function f32ConvRule(c: F32Conv, disabled: ReadonlySet<string>): F32ConvRule {
  const last = F32_CONV_RULES[F32_CONV_RULES.length - 1]!;
  return F32_CONV_RULES.find((r) => (r === last || !disabled.has(r.kernel)) && r.match(c)) ?? last;
}
