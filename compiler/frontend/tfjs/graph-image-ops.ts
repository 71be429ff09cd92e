// Graph-model ops with no IR op of their own, written with IR ops at import (NHWC data; sizes are static):
// - ResizeBilinear: separable, so two Dense steps with constant interpolation matrices (each output row /
//   column mixes at most two source rows / columns with weights 1 − f and f, tfjs-backend-cpu's geometry for
//   align_corners / half_pixel_centers), between Transposes that put the resized axis last.
// - DepthToSpace (NHWC): Reshape [N,H,W,b,b,C] → Transpose → Reshape [N,H·b,W·b,C], TF's channel order.
// - Conv2DBackpropInput (a transposed convolution): the gradient input dy with stride−1 zeros put after each
//   element (Reshape to rank 6, Pad, Reshape), then a stride-1 Conv2D with the filter flipped in H and W and its
//   in/out channels swapped, padded so output pixel i sums exactly the products TF's transposed conv sums.
// Float32 results differ from tfjs only by summation order / rounding (≤ a few ulp of the output).
import { numElements } from '../../ir/graph.ts';
import { padding, window, type Handler, type NodeContext, type Value } from './graph-context.ts';

/** The [out, in] matrix resizing one axis of `n` samples to `m` (tfjs-backend-cpu's ResizeBilinear geometry). */
export function bilinearMatrix(n: number, m: number, alignCorners: boolean, halfPixel: boolean): Float32Array {
  const ratio = alignCorners && m > 1 ? (n - 1) / (m - 1) : n / m;
  const w = new Float32Array(m * n);
  for (let o = 0; o < m; o++) {
    const src = halfPixel ? ratio * (o + 0.5) - 0.5 : ratio * o;
    const lo = Math.max(0, Math.floor(src));
    const hi = Math.min(n - 1, Math.ceil(src));
    const f = src - lo;
    // lo = hi (an edge, or an exact source sample): the sample itself, as tfjs's lo + (hi − lo)·f gives it
    if (lo === hi) w[o * n + lo] = 1;
    else ((w[o * n + lo] = 1 - f), (w[o * n + hi] = f));
  }
  return w;
}

/** `x` [..., k] × constant `w` [m, k] over its last axis → [..., m] (Reshape, Dense, Reshape). */
function lastAxisDense(c: NodeContext, x: string, w: Float32Array, m: number, tag: string): string {
  const s = c.b.shape(x);
  const k = s.at(-1)!;
  const rows = c.b.add('Reshape', [x], { shape: [numElements(s) / k, k] }, `${c.n.name}/${tag}/rows`);
  const wt = c.b.constant(`${c.n.name}/${tag}/weights`, [m, k], w);
  const y = c.b.add('Dense', [rows, wt], {}, `${c.n.name}/${tag}/dense`);
  return c.b.add('Reshape', [y], { shape: [...s.slice(0, -1), m] }, `${c.n.name}/${tag}/out`);
}

function resizeBilinear(c: NodeContext): Value {
  const x = c.act(0);
  const s = c.b.shape(x);
  if (s.length !== 4) c.fail('input[0]', `expected NHWC images of rank 4, found [${s}]`);
  const size = [...c.constant(1, 'the size').data];
  if (size.length !== 2 || size.some((d) => !Number.isInteger(d) || d < 1))
    c.fail('input[1]', `expected the size [height, width] ≥ 1, found [${size}]`);
  const [, h, w] = s as [number, number, number, number];
  const [oh, ow] = size as [number, number];
  const align = c.bool('align_corners');
  const half = c.bool('half_pixel_centers');
  if (align && half) c.fail(`attr 'half_pixel_centers'`, 'expected false when align_corners is true (as TF)');
  // [N,H,W,C] → [N,H,C,W] · Ww → [N,H,C,W'] → [N,C,W',H] · Wh → [N,C,W',H'] → [N,H',W',C]
  const t1 = c.b.add('Transpose', [x], { perm: [0, 1, 3, 2] }, `${c.n.name}/w_last`);
  const rw = lastAxisDense(c, t1, bilinearMatrix(w, ow, align, half), ow, 'width');
  const t2 = c.b.add('Transpose', [rw], { perm: [0, 2, 3, 1] }, `${c.n.name}/h_last`);
  const rh = lastAxisDense(c, t2, bilinearMatrix(h, oh, align, half), oh, 'height');
  return c.add('Transpose', [rh], { perm: [0, 3, 2, 1] });
}

function depthToSpace(c: NodeContext): Value {
  c.nhwc();
  const x = c.act(0);
  const s = c.b.shape(x);
  const b = Number(c.attr('block_size')?.i ?? 0);
  if (s.length !== 4) c.fail('input[0]', `expected NHWC data of rank 4, found [${s}]`);
  const [n, h, w, ch] = s as [number, number, number, number];
  if (!Number.isInteger(b) || b < 2 || ch % (b * b) !== 0)
    c.fail(`attr 'block_size'`, `expected an integer ≥ 2 whose square divides the ${ch} channels, found ${b}`);
  const co = ch / (b * b);
  const r = c.b.add('Reshape', [x], { shape: [n, h, w, b, b, co] }, `${c.n.name}/blocks`);
  const t = c.b.add('Transpose', [r], { perm: [0, 1, 3, 2, 4, 5] }, `${c.n.name}/interleave`);
  return c.add('Reshape', [t], { shape: [n, h * b, w * b, co] });
}

/** Pads per axis of a conv's input [N,H,W,C] of height/width `h`, `w` (TF's SAME: the extra pixel at the end). */
function convPads(c: NodeContext, h: number, w: number, k: number[], st: number[]): number[] {
  const p = padding(c);
  if (Array.isArray(p)) return p;
  if (p === 'valid') return [0, 0, 0, 0];
  const along = [h, w].map((d, i) => Math.max(0, (Math.ceil(d / st[i]!) - 1) * st[i]! + k[i]! - d));
  return [Math.floor(along[0]! / 2), Math.floor(along[1]! / 2), Math.ceil(along[0]! / 2), Math.ceil(along[1]! / 2)];
}

/** Conv2DBackpropInput(input_sizes, filter [KH,KW,Ci,Co], dy [N,OH,OW,Co]) → dx [N,H,W,Ci] (conv2dTranspose). */
function conv2dBackpropInput(c: NodeContext): Value {
  c.nhwc();
  const sizes = [...c.constant(0, 'input_sizes').data];
  const f = c.constant(1, 'the filter');
  const dy = c.act(2);
  const ds = c.b.shape(dy);
  if (sizes.length !== 4 || f.shape.length !== 4 || ds.length !== 4)
    c.fail('input', `expected input_sizes of 4 dims, a 4-D filter and 4-D dy, found [${sizes}], [${f.shape}], [${ds}]`);
  const [n, h, w, ci] = sizes as [number, number, number, number];
  const [kh, kw, fci, co] = f.shape as [number, number, number, number];
  const [, oh, ow, dco] = ds as [number, number, number, number];
  if (fci !== ci || dco !== co || ds[0] !== n)
    c.fail('input[1]', `expected a filter [KH,KW,${ci},${dco}] for dy [${ds}] → [${sizes}], found [${f.shape}]`);
  const dil = window(c, 'dilations');
  if (dil[0] !== 1 || dil[1] !== 1)
    c.fail(`attr 'dilations'`, `expected [1, 1, 1, 1], found [1, ${dil.join(', ')}, 1]`);
  const [sh, sw] = window(c, 'strides') as [number, number];
  const [pt, pl, pb, pr] = convPads(c, h, w, [kh, kw], [sh, sw]) as [number, number, number, number];
  const fwd = [Math.floor((h + pt + pb - kh) / sh) + 1, Math.floor((w + pl + pr - kw) / sw) + 1];
  if (fwd[0] !== oh || fwd[1] !== ow)
    c.fail('input[2]', `expected dy of ${fwd.join('×')} pixels (the forward conv's output), found ${oh}×${ow}`);
  // zero insertion: [N,OH,OW,Co] → [N,OH,1,OW,1,Co] → pad after → [N,OH·sh,OW·sw,Co] (stride−1 zeros after each)
  let z = dy;
  if (sh > 1 || sw > 1) {
    const r6 = c.b.add('Reshape', [dy], { shape: [n, oh, 1, ow, 1, co] }, `${c.n.name}/spread`);
    const pads = [0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1, 0];
    const p = c.b.add('Pad', [r6], { pads }, `${c.n.name}/zeros`);
    z = c.b.add('Reshape', [p], { shape: [n, oh * sh, ow * sw, co] }, `${c.n.name}/upsampled`);
  }
  // dx[i] = Σ_k z[i + pt − k] · f[k] = Σ_k' zpad[i + k'] · f[KH−1−k'] with zpad = z after KH−1−pt leading zeros
  const before = [kh - 1 - pt, kw - 1 - pl];
  const after = [h + pt - oh * sh, w + pl - ow * sw];
  const crop = [...before, ...after].map((p) => Math.max(0, -p));
  if (crop.some((p) => p > 0)) {
    const starts = [0, crop[0]!, crop[1]!, 0];
    const ends = [n, oh * sh - crop[2]!, ow * sw - crop[3]!, co];
    z = c.b.add('Slice', [z], { starts, ends, axes: [0, 1, 2, 3] }, `${c.n.name}/crop`);
  }
  const wt = new Float32Array(ci * kh * kw * co);
  for (let o = 0; o < ci; o++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < co; i++)
          wt[((o * kh + y) * kw + x) * co + i] = f.data[(((kh - 1 - y) * kw + (kw - 1 - x)) * ci + o) * co + i]!;
  const weights = c.b.constant(`${c.n.name}/filter`, [ci, kh, kw, co], wt);
  const pad = [before[0]!, before[1]!, after[0]!, after[1]!].map((p) => Math.max(0, p));
  return c.add('Conv2D', [z, weights], { strides: [1, 1], padding: pad });
}

export const IMAGE_OPS: Record<string, Handler> = {
  ResizeBilinear: resizeBilinear,
  DepthToSpace: depthToSpace,
  Conv2DBackpropInput: conv2dBackpropInput,
};
