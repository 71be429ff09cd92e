// Compile-time constants of the integer requantisation (docs/quantization.md): a real multiplier
// r > 0 becomes mult·2^−shift with mult < 2^31 and shift in [1, 62]; scales are rounded to float32
// first, r is formed in float64. Plus the exact integer formulas every kernel follows (BigInt, slow).
const f32 = Math.fround;

export interface FixedPoint {
  mult: number;
  shift: number;
}

/** Shift putting `r` in [2^30, 2^31) (capped at 62), and the rounded multiplier; throws when r ≥ 2^30 or r ≤ 0. */
function fixedShift(r: number, what: string): number {
  if (!(r > 0) || !Number.isFinite(r))
    throw new RangeError(`${what}: real multiplier ${r} must be positive and finite`);
  // r = m·2^e with m in [0.5, 1)
  const e = Math.floor(Math.log2(r)) + 1;
  let shift = 31 - e;
  // log2 can be off by one at powers of two: settle so that r·2^shift is in [2^30, 2^31)
  while (r * 2 ** shift >= 2 ** 31) shift--;
  while (r * 2 ** shift < 2 ** 30) shift++;
  if (Math.round(r * 2 ** shift) >= 2 ** 31) shift--;
  if (shift < 1) throw new RangeError(`${what}: real multiplier ${r} is too large (≥ 2^30)`);
  return Math.min(shift, 62);
}

/** r ≈ mult·2^−shift, mult = round_half_up(r·2^shift) (exact in float64: r·2^shift is a scaling by a power of two). */
export function quantizeMultiplier(r: number, what = 'requantisation'): FixedPoint {
  const shift = fixedShift(r, what);
  return { mult: Math.round(r * 2 ** shift), shift };
}

/** Add: both input multipliers share one shift, chosen for the larger. */
export function addMultipliers(ra: number, rb: number, what = 'Add'): { multA: number; multB: number; shift: number } {
  const shift = fixedShift(Math.max(ra, rb), what);
  return { multA: Math.round(ra * 2 ** shift), multB: Math.round(rb * 2 ** shift), shift };
}

/**
 * Add as TFLite's interpreter runs it (XNNPACK's qs8 add, which its delegate takes): r = f32(s_a / s_out),
 * f32(s_b / s_out); shift = 20 − the float32 exponent of the larger r; mult = round_half_even(r·2^shift). The
 * Add_QS8 formula with these constants gives its bytes. Undefined when the shift would leave [1, 62].
 */
export function xnnpackAddMultipliers(
  ra: number,
  rb: number,
): { multA: number; multB: number; shift: number } | undefined {
  const a = f32(ra),
    b = f32(rb);
  const shift = 20 - Math.floor(Math.log2(Math.max(a, b)));
  if (!(shift >= 1 && shift <= 62)) return undefined;
  return { multA: roundHalfEven(a * 2 ** shift), multB: roundHalfEven(b * 2 ** shift), shift };
}

/** Round to the nearest integer, ties to even (wasm's f32.nearest / f32x4.nearest). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A Conv / Dense channel's requantisation constant: edgec's fixed point, or (floatRequant) an f32 scale. */
export type ChannelRequant = FixedPoint | { scale: number };

/**
 * XNNPACK's per-channel scales (its qs8 conv / fully connected operators, which TFLite's interpreter delegates to):
 * f32(f32(s_in·s_w[c]) / s_out), every scale rounded to float32 first.
 */
export function channelScalesF32(
  sIn: number,
  sW: readonly number[],
  sOut: number,
  what = 'requantisation',
): { scale: number }[] {
  return sW.map((s) => {
    const scale = f32(f32(f32(sIn) * f32(s)) / f32(sOut));
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new RangeError(`${what}: float32 scale ${scale} must be positive and finite`);
    return { scale };
  });
}

/**
 * XNNPACK's fp32 requantisation (the *_QS8_FP32 kernels): clamp(round_half_even(f32(f32(acc)·scale)) + zp, lo, hi).
 * Each float32 step is exactly rounded (f32(acc) included, |acc| may pass 2^24), so it is the same on every engine.
 */
export function requantizeFp32(acc: number, scale: number, zp: number, lo = -128, hi = 127): number {
  const v = roundHalfEven(f32(f32(acc) * f32(scale))) + zp;
  return v < lo ? lo : v > hi ? hi : v;
}

/** One output channel's requantisation, whichever constant it has. */
export function requantizeChannel(acc: number, r: ChannelRequant, zp: number, lo = -128, hi = 127): number {
  return 'scale' in r ? requantizeFp32(acc, r.scale, zp, lo, hi) : requantize(acc, r.mult, r.shift, zp, lo, hi);
}

/**
 * Conv / Dense: r[c] = s_in·s_w[c] / s_out, every scale rounded to float32 first. All channels share the
 * shift of the largest r (the kernels' vector requantisation is cheapest then) as long as every channel
 * keeps a multiplier ≥ 2^15 (≥ 15 significant bits); otherwise each channel gets its own shift.
 */
export function channelMultipliers(sIn: number, sW: readonly number[], sOut: number, what?: string): FixedPoint[] {
  const rs = sW.map((s) => (f32(sIn) * f32(s)) / f32(sOut));
  const own = rs.map((r) => quantizeMultiplier(r, what));
  const shift = Math.min(...own.map((p) => p.shift));
  const shared = rs.map((r) => ({ mult: Math.round(r * 2 ** shift), shift }));
  return shared.every((p) => p.mult >= 2 ** 15 && p.mult < 2 ** 31) ? shared : own;
}

/** The requantisation step: clamp(zp + ((acc·mult + 2^(shift−1)) >> shift), lo, hi), exact. */
export function requantize(acc: number, mult: number, shift: number, zp: number, lo = -128, hi = 127): number {
  const v = Number((BigInt(acc) * BigInt(mult) + (1n << BigInt(shift - 1))) >> BigInt(shift)) + zp;
  return v < lo ? lo : v > hi ? hi : v;
}

/** f32 → int8: clamp(round_half_away(f32(x) / f32(s)) + zp, −128, 127); NaN → zp. */
export function quantizeF32(x: number, scale: number, zp: number): number {
  const t = f32(f32(x) / f32(scale));
  if (Number.isNaN(t)) return zp;
  const r = Math.trunc(t),
    d = t - r;
  const q = (d >= 0.5 ? r + 1 : d <= -0.5 ? r - 1 : r) + zp;
  return q < -128 ? -128 : q > 127 ? 127 : q;
}

/**
 * ONNX QuantizeLinear as onnxruntime runs it (Quantize_QS8_RNE): clamp(round_half_even(f32(x) / f32(s)) + zp, −128, 127);
 * NaN → zp (ONNX leaves it undefined; onnxruntime-web gives 0, its x64 SSE kernel −128).
 */
export function quantizeF32Rne(x: number, scale: number, zp: number): number {
  const t = f32(f32(x) / f32(scale));
  if (Number.isNaN(t)) return zp;
  const q = roundHalfEven(t) + zp;
  return q < -128 ? -128 : q > 127 ? 127 : q;
}

/** Add_QS8_FP32's constants: the three float32 scales and the zero point onnxruntime rounds with. */
export interface AddFp32 {
  sA: number;
  sB: number;
  sOut: number;
  /** The output's zero point as the model stores it (a uint8 model's: int8 zero point + 128). */
  zr: number;
}

/**
 * onnxruntime's QLinearAdd on int8 codes (MLAS qladd.cpp's portable kernel, the one its wasm build runs; docs/quantization.md):
 * v = f32(f32(f32(s_a·(a − zp_a)) + f32(s_b·(b − zp_b))) / s_out) clamped to [q_min − zp, q_max − zp], then
 * round_half_even(f32(v + zr)) − (zr − zp). Each float32 operation is exactly rounded (float64 then fround: exact for
 * one operation on float32 values).
 */
export function addFp32(a: number, b: number, zpA: number, zpB: number, zp: number, c: AddFp32, lo = -128, hi = 127) {
  const v = f32(f32(f32(f32(c.sA) * (a - zpA)) + f32(f32(c.sB) * (b - zpB))) / f32(c.sOut));
  const cl = Math.min(Math.max(v, lo - zp), hi - zp);
  return roundHalfEven(f32(cl + c.zr)) - (c.zr - zp);
}

/** int8 → f32: f32(q − zp) · f32(s), rounded to float32. */
export function dequantizeF32(q: number, scale: number, zp: number): number {
  return f32((q - zp) * f32(scale));
}

/** acc / count rounded half away from zero (AvgPool). */
export function divRoundHalfAway(acc: number, count: number): number {
  const h = Math.floor(count / 2);
  return acc >= 0 ? Math.floor((acc + h) / count) : -Math.floor((h - acc) / count);
}

/** Output clamp [q_min, q_max] carrying a fused relu / clip: the bounds quantised with the output's params. */
export function activationClamp(
  kind: 'none' | 'relu' | 'clip',
  min: number,
  max: number,
  sOut: number,
  zpOut: number,
): [number, number] {
  if (kind === 'relu') return [quantizeF32(0, sOut, zpOut), 127];
  if (kind === 'clip')
    return [quantizeF32(Math.max(min, -3.4e38), sOut, zpOut), quantizeF32(Math.min(max, 3.4e38), sOut, zpOut)];
  return [-128, 127];
}
