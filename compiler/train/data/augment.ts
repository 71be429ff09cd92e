// Image augmentation for training batches: random crop with zero padding and horizontal flip, one
// sample at a time, float32, in the layout the data file holds ('nhwc': [H,W,C] per sample, 'nchw':
// [C,H,W]). Every draw comes from the generator passed in, in a fixed order (crop dy, crop dx, then
// flip), so a sample's augmentation is a function of that generator's state alone.
import type { Pcg32 } from './pcg32.ts';

export type ImageLayout = 'nhwc' | 'nchw';

export interface AugmentOptions {
  /** Random crop: pad each side by `cropPad` zero pixels, take an H×W window at a uniform offset. 0 = off. */
  cropPad: number;
  /** Mirror left–right with probability 1/2. */
  flip: boolean;
}

export const NO_AUGMENT: AugmentOptions = { cropPad: 0, flip: false };

export function augments(a: AugmentOptions): boolean {
  return a.cropPad > 0 || a.flip;
}

/** H, W, C of one sample of `sampleShape` (without the batch axis: rank 3) in `layout`. */
export function imageDims(sampleShape: readonly number[], layout: ImageLayout): { h: number; w: number; c: number } {
  if (sampleShape.length !== 3)
    throw new RangeError(`augmentation needs images (a sample of rank 3), got [${sampleShape.join(',')}]`);
  const [a, b, c] = sampleShape as [number, number, number];
  return layout === 'nhwc' ? { h: a, w: b, c } : { h: b, w: c, c: a };
}

/**
 * Writes the augmented `src` (one sample) into `dst` (same size). Crop offset (dy, dx) ∈ [0, 2·pad]²
 * of the padded image: dst[y][x] = src[y + dy − pad][x + dx − pad], 0 outside; then, when the flip
 * draw is 1, dst[y][x] = that[y][W − 1 − x].
 */
export function augmentImage(
  src: Float32Array,
  dst: Float32Array,
  dims: { h: number; w: number; c: number },
  layout: ImageLayout,
  opts: AugmentOptions,
  rng: Pcg32,
): void {
  const { h, w, c } = dims;
  const pad = opts.cropPad;
  const dy = pad > 0 ? rng.bounded(2 * pad + 1) - pad : 0;
  const dx = pad > 0 ? rng.bounded(2 * pad + 1) - pad : 0;
  const flip = opts.flip ? rng.bounded(2) === 1 : false;
  // Element strides of y, x and channel in the layout.
  const [sy, sx, sc] = layout === 'nhwc' ? [w * c, c, 1] : [w, 1, h * w];
  for (let y = 0; y < h; y++) {
    const yy = y + dy;
    for (let x = 0; x < w; x++) {
      const xs = (flip ? w - 1 - x : x) + dx;
      const inside = yy >= 0 && yy < h && xs >= 0 && xs < w;
      for (let ch = 0; ch < c; ch++) {
        dst[y * sy + x * sx + ch * sc] = inside ? src[yy * sy + xs * sx + ch * sc]! : 0;
      }
    }
  }
}
