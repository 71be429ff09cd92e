// The float steps' slices for threaded inference (assembly/threads.ts runs them; docs/threads.md). Conv2D_F32_P8 and
// DepthwiseConv2D_F32 split like the int8 convs: a pointwise conv by its N·H·W GEMM rows (pixels, multiples of 4, so
// the slices' 4-pixel tiles are one thread's tiles), the others by output rows of one image with the top padding
// shifted so the slice's first row is row 0; a one-pixel pointwise conv (a Dense on one row, compiler/lower) by its
// 8-channel panels. Every output is summed by one thread in the kernel's order (bias, kh, kw,
// ci ascending): the bytes are those of one thread by construction. A worker's packed-conv tile scratch is its own
// (privateConvTile, in enterThread).
import { Model, StepInfo, StepParams, K_CONV2D_P8, K_DWCONV2D } from './bundle/model';
import { conv2dF32P8, isPointwise } from './kernels/conv/f32-conv2d-4x8-packed';
import { dwconv2dF32 } from './kernels/conv/f32-dwconv2d';

/** A float step threads split (the caller checks its size). */
export function isFloatSplit(k: i32): bool {
  return k == K_CONV2D_P8 || k == K_DWCONV2D;
}

/** isFloatSplit(s.kernel): whether its work splits over T threads. */
export function floatSplittable(m: Model, s: StepInfo, T: i32): bool {
  const y = m.tensors[s.outputs[0]];
  if (s.kernel == K_CONV2D_P8) {
    if (isPointwise(s.p)) return true;
    // a padded 1×1 stride-1 slice could turn pointwise (its pt shifted to 0), which reshapes the whole image
    if (s.p.kh == 1 && s.p.kw == 1 && s.p.sh == 1 && s.p.sw == 1) return false;
  }
  return y.shape[0] == 1 && y.shape[1] >= T;
}

/** Row r of R split in T parts (threads or chunks): [sliceAt(t), sliceAt(t + 1)) is part t's, multiples of `unit` but the last. */
// @ts-ignore: decorator
@inline export function sliceAt(R: i32, t: i32, T: i32, unit: i32): i32 {
  if (t >= T) return R;
  const r = <i32>((<i64>R * <i64>t) / <i64>T);
  return min(R, ((r + unit - 1) / unit) * unit);
}

/** Chunk t of T: its slice of float step s (floatSplittable), with q this instance's params copy (s.p's values). */
export function runFloatSlice(m: Model, s: StepInfo, t: i32, T: i32, q: StepParams): void {
  const p = s.p;
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const bi = s.inputs.length > 2 ? s.inputs[2] : -1;
  const w = m.tensors[s.inputs[1]].ptr,
    b: usize = bi >= 0 ? m.tensors[bi].ptr : 0;
  const sh = x.shape,
    os = y.shape;
  const H = sh[1],
    W = sh[2],
    Ci = sh[3],
    OH = os[1],
    OW = os[2],
    Co = os[3];
  if (s.kernel == K_CONV2D_P8 && isPointwise(p)) {
    const M = sh[0] * H * W;
    if (p.groups == 1 && <u64>Ci * <u64>Co > <u64>M * <u64>(Ci + Co)) {
      // more weights than pixels' inputs and outputs (a Dense lowered to a 1×1 conv of one pixel, MobileNetV2's 7×7
      // layers): its 8-channel panels, each Ci·32 contiguous bytes of w, so each thread reads 1/T of the weights (by
      // pixels, each thread read them all: 1.6 MB for the 7×7 320→1280 conv) and writes its channels of every pixel
      const P = (Co + 7) >> 3;
      const p0 = sliceAt(P, t, T, 1),
        p1 = sliceAt(P, t + 1, T, 1);
      if (p1 <= p0) return;
      const at = (<usize>p0) << 5;
      const wp = w + <usize>p0 * ((<usize>Ci) << 5);
      const n = min(Co, p1 << 3) - (p0 << 3);
      conv2dF32P8(x.ptr, wp, b == 0 ? 0 : b + at, y.ptr + at, 1, 1, M, Ci, 1, M, n, 1, p, Co);
      return;
    }
    const r0 = sliceAt(M, t, T, 4),
      r1 = sliceAt(M, t + 1, T, 4);
    if (r1 > r0)
      conv2dF32P8(
        x.ptr + ((<usize>r0 * <usize>Ci) << 2),
        w,
        b,
        y.ptr + ((<usize>r0 * <usize>Co) << 2),
        1,
        1,
        r1 - r0,
        Ci,
        1,
        r1 - r0,
        Co,
        p.groups,
        p,
      );
    return;
  }
  const r0 = sliceAt(OH, t, T, 1),
    r1 = sliceAt(OH, t + 1, T, 1);
  if (r1 <= r0) return;
  q.pt = p.pt - r0 * p.sh;
  const yr = y.ptr + ((<usize>r0 * <usize>(OW * Co)) << 2);
  if (s.kernel == K_CONV2D_P8) conv2dF32P8(x.ptr, w, b, yr, 1, H, W, Ci, r1 - r0, OW, Co, p.groups, q);
  else dwconv2dF32(x.ptr, w, b, yr, 1, H, W, Ci, r1 - r0, OW, q);
}
