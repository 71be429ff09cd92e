// Fake quantisation kernels, f32 (quantisation-aware training; compiler/ir/ops/fake-quant.ts holds the formulas
// and the float64 references). Every value is what the int8 path represents (docs/quantization.md): params in
// f64 from f32 scales as compiler/quantize/params.ts, x / s one f32 division, dequantisation one f32 product.
//   FakeQuant_F32        x, range [2] → y (x's shape), range (in place): batch min / max ascending; EMA in f32
//   FakeQuantGrad_F32    x, range [2], dy → dx = dy where the unclamped q is in [−128, 127], else 0
//   FakeQuantWeight_F32  w [C, inner] → w' = f32(q·s_c), s_c = f32(max|w_c| / 127) (1 if all zero)
//   FakeQuantBias_F32    b [C], w [C, inner], input range [2] → f32(q·sb_c), sb_c = f32(s_in·s_c),
//                        q = round(f64(b) / sb_c) saturated to int32

@inline function roundHalfAway(v: f64): f64 { return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5); }

/** Scale (f32) and zero point of the range [mn, mx] widened to hold 0. */
@inline function scaleOf(mn: f32, mx: f32): f32 {
  const lo = min<f64>(<f64>mn, 0), hi = max<f64>(<f64>mx, 0);
  return hi - lo > 0 && hi - lo < Infinity ? <f32>((hi - lo) / 255) : 1;
}
@inline function zeroPointOf(mn: f32, s: f32, degenerate: bool): f64 {
  return degenerate ? -128 : min<f64>(127, max<f64>(-128, roundHalfAway(-128 - min<f64>(<f64>mn, 0) / <f64>s)));
}
@inline function isDegenerate(mn: f32, mx: f32): bool {
  const lo = min<f64>(<f64>mn, 0), hi = max<f64>(<f64>mx, 0);
  return !(hi - lo > 0 && hi - lo < Infinity);
}

export function fakeQuantF32(x: usize, range: usize, y: usize, n: i32, m: f32): void {
  if (m != 0) {
    let bmin: f32 = Infinity, bmax: f32 = -Infinity;
    for (let i = 0; i < n; i++) { const v = load<f32>(x + (<usize>i << 2)); bmin = min<f32>(bmin, v); bmax = max<f32>(bmax, v); }
    const r0 = load<f32>(range), r1 = load<f32>(range, 4);
    if (isNaN(r0) || isNaN(r1)) { store<f32>(range, bmin); store<f32>(range, bmax, 4); }
    else { store<f32>(range, r0 + m * (bmin - r0)); store<f32>(range, r1 + m * (bmax - r1), 4); }
  }
  const mn = load<f32>(range), mx = load<f32>(range, 4);
  const s = scaleOf(mn, mx), zp = zeroPointOf(mn, s, isDegenerate(mn, mx));
  for (let i = 0; i < n; i++) {
    const t = load<f32>(x + (<usize>i << 2)) / s;
    const q = isNaN(t) ? zp : min<f64>(127, max<f64>(-128, roundHalfAway(<f64>t) + zp));
    store<f32>(y + (<usize>i << 2), <f32>(q - zp) * s);
  }
}

export function fakeQuantGradF32(x: usize, range: usize, dy: usize, dx: usize, n: i32): void {
  const mn = load<f32>(range), mx = load<f32>(range, 4);
  const s = scaleOf(mn, mx), zp = zeroPointOf(mn, s, isDegenerate(mn, mx));
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const q = roundHalfAway(<f64>(load<f32>(x + o) / s)) + zp;
    store<f32>(dx + o, q >= -128 && q <= 127 ? load<f32>(dy + o) : 0);
  }
}

/** Per-channel weight scale of row c (max|w| ascending). */
function weightScale(row: usize, inner: i32): f32 {
  let mx: f32 = 0;
  for (let i = 0; i < inner; i++) mx = max<f32>(mx, Mathf.abs(load<f32>(row + (<usize>i << 2))));
  return mx > 0 ? <f32>(<f64>mx / 127) : 1;
}

export function fakeQuantBiasF32(b: usize, w: usize, range: usize, y: usize, C: i32, inner: i32): void {
  const sIn = scaleOf(load<f32>(range), load<f32>(range, 4));
  for (let c = 0; c < C; c++) {
    const sb: f32 = sIn * weightScale(w + (<usize>(c * inner) << 2), inner);
    const q = min<f64>(2147483647, max<f64>(-2147483648, roundHalfAway(<f64>load<f32>(b + (<usize>c << 2)) / <f64>sb)));
    store<f32>(y + (<usize>c << 2), <f32>(q * <f64>sb));
  }
}

export function fakeQuantWeightF32(w: usize, y: usize, C: i32, inner: i32): void {
  for (let c = 0; c < C; c++) {
    const row = w + (<usize>(c * inner) << 2), out = y + (<usize>(c * inner) << 2);
    let mx: f32 = 0;
    for (let i = 0; i < inner; i++) mx = max<f32>(mx, Mathf.abs(load<f32>(row + (<usize>i << 2))));
    const s: f32 = mx > 0 ? <f32>(<f64>mx / 127) : 1;
    for (let i = 0; i < inner; i++) {
      const q = min<f64>(127, max<f64>(-127, roundHalfAway(<f64>(load<f32>(row + (<usize>i << 2)) / s))));
      store<f32>(out + (<usize>i << 2), <f32>(q * <f64>s));
    }
  }
}
