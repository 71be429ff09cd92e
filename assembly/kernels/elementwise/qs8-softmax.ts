// Softmax_QS8: TFLite's int8 SOFTMAX as its interpreter runs it (optimized_ops::Softmax with the lookup table its
// Prepare fills), over the last axis of x i8 [rows, n] → y i8 [rows, n]. table f32 [256] holds exp(−s_in·(255 − i))
// (made by the compiler, compiler/ir/ops/softmax.ts). Per row: m = max x; sum = Σ table[255 − m + x] in float32,
// in index order; inv = 1 / (sum · s_out); y = clamp(round_half_away(table[255 − m + x] · inv) + zp_out, −128, 127).
// Float32 operations, each exactly rounded, in a fixed order: the same bits in both builds and every engine.

/** round_half_away_from_zero of p ≥ 0 as i32, p capped at 255 first (no trapping conversion; NaN → 255). */
// @ts-ignore: decorator
@inline export function roundProbQs8(p: f32): i32 {
  const c: f32 = p < <f32>255 ? p : <f32>255;
  let r = <i32>c;
  if (c - <f32>r >= <f32>0.5) r++;
  return r;
}

export function softmaxQs8(x: usize, table: usize, y: usize, rows: i32, n: i32, sOut: f32, zpOut: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>(r * n),
      out = y + <usize>(r * n);
    let m: i32 = -128;
    for (let j = 0; j < n; j++) m = max(m, <i32>load<i8>(row + <usize>j));
    const t = table + ((<usize>(255 - m)) << 2);
    let sum: f32 = 0;
    for (let j = 0; j < n; j++) sum += load<f32>(t + ((<usize>(<i32>load<i8>(row + <usize>j) + 128)) << 2) - 512);
    const inv: f32 = <f32>1 / (sum * sOut);
    for (let j = 0; j < n; j++) {
      const p: f32 = load<f32>(t + ((<usize>(<i32>load<i8>(row + <usize>j) + 128)) << 2) - 512) * inv;
      store<i8>(out + <usize>j, <i8>min(127, max(-128, roundProbQs8(p) + zpOut)));
    }
  }
}
