// The one int8 requantisation of docs/quantization.md, shared by every qs8 kernel and its twin:
// out = clamp(zp + ((acc·mult + 2^(shift−1)) >> shift), lo, hi) in i64 (arithmetic shift = floor),
// plus quantise (f32 → i8, round half away from zero) and dequantise (i8 → f32). Integer-exact.

// @ts-ignore: decorator
@inline export function requantQs8(acc: i64, mult: i32, shift: i32, zp: i32, lo: i32, hi: i32): i32 {
  let v = ((acc * <i64>mult + (<i64>1 << <i64>(shift - 1))) >> <i64>shift) + <i64>zp;
  if (v < <i64>lo) v = <i64>lo;
  if (v > <i64>hi) v = <i64>hi;
  return <i32>v;
}

/** round(x / scale) half away from zero, + zp, saturated to [−128, 127]; NaN → zp. All f32. */
// @ts-ignore: decorator
@inline export function quantizeQs8(x: f32, scale: f32, zp: i32): i32 {
  const t: f32 = x / scale;
  if (t != t) return zp;
  let r = Mathf.trunc(t);
  const d: f32 = t - r;
  if (d >= 0.5) r += 1;
  else if (d <= -0.5) r -= 1;
  let v: f32 = r + <f32>zp;
  if (v < -128) v = -128;
  if (v > 127) v = 127;
  return <i32>v;
}

// @ts-ignore: decorator
@inline export function dequantizeQs8(q: i32, scale: f32, zp: i32): f32 {
  return <f32>(q - zp) * scale;
}

/** Per-channel constants `qc` [3, stride] (I32): row 0 bias, row 1 multiplier, row 2 shift. */
// @ts-ignore: decorator
@inline export function qcAt(qc: usize, stride: i32, row: i32, n: i32): i32 {
  return load<i32>(qc + (<usize>(row * stride + n) << 2));
}
