// Fused activations shared by the fast kernels and the reference twins: Relu = max(v, 0),
// Clip = min(max(v, lo), hi). f32.max/min and f32x4.max/min agree lane for lane (NaN, ±0).
// activate4 runs Relu and (after simdAct) Clip on f32x4.pmax/pmin, one instruction each where f32x4.max/min take
// about seven in V8 (they order ±0 and canonicalise NaN): pmax(v, lo) = v < lo ? lo : v differs from max(v, lo) only
// for v = -0, lo = +0 (it keeps -0), which adding +0 turns into +0 without moving any other value; pmin(r, hi) =
// hi < r ? hi : r differs from min(r, hi) only for r = +0, hi = -0 (simdAct keeps such a hi on the exact path). So
// every lane has max/min's bits, and a NaN lane stays NaN (its payload is not part of the contract: V8's
// f32x4.max gives NaN a nondeterministic sign, the scalar build its own).

export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_CLIP = 2;
// Clip on pmax/pmin (codes of the running kernel, never in a bundle): lo not +0, or lo +0 (then + 0 after pmax).
export const ACT_CLIP_P = 3;
export const ACT_CLIP_P0 = 4;

/** The code activate4 runs `act` with: a Clip with lo ≤ hi (so neither is NaN) and hi not -0 goes to pmax/pmin,
 *  anything else keeps its code. activate takes every code. */
// @ts-ignore: decorator
@inline export function simdAct(act: i32, lo: f32, hi: f32): i32 {
  if (act != ACT_CLIP || !(lo <= hi) || reinterpret<u32>(hi) == 0x80000000) return act;
  return reinterpret<u32>(lo) == 0 ? ACT_CLIP_P0 : ACT_CLIP_P;
}

// @ts-ignore: decorator
@inline export function activate(v: f32, act: i32, lo: f32, hi: f32): f32 {
  if (act == ACT_RELU) return max<f32>(v, 0);
  if (act >= ACT_CLIP) return min<f32>(max<f32>(v, lo), hi);
  return v;
}

// @ts-ignore: decorator
@inline export function activate4(v: v128, act: i32, lo: v128, hi: v128): v128 {
  if (act == ACT_CLIP_P0) return f32x4.pmin(f32x4.add(f32x4.pmax(v, lo), f32x4.splat(0)), hi);
  if (act == ACT_RELU) return f32x4.add(f32x4.pmax(v, f32x4.splat(0)), f32x4.splat(0));
  if (act == ACT_CLIP_P) return f32x4.pmin(f32x4.pmax(v, lo), hi);
  if (act == ACT_CLIP) return f32x4.min(f32x4.max(v, lo), hi);
  return v;
}
