// Fused activations shared by the fast kernels and the reference twins: Relu = max(v, 0),
// Clip = min(max(v, lo), hi). f32.max/min and f32x4.max/min agree lane for lane (NaN, ±0).

export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_CLIP = 2;

// @ts-ignore: decorator
@inline export function activate(v: f32, act: i32, lo: f32, hi: f32): f32 {
  if (act == ACT_RELU) return max<f32>(v, 0);
  if (act == ACT_CLIP) return min<f32>(max<f32>(v, lo), hi);
  return v;
}

// @ts-ignore: decorator
@inline export function activate4(v: v128, act: i32, lo: v128, hi: v128): v128 {
  if (act == ACT_RELU) return f32x4.max(v, f32x4.splat(0));
  if (act == ACT_CLIP) return f32x4.min(f32x4.max(v, lo), hi);
  return v;
}
