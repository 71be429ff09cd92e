// Reference twins of assembly/kernels/train/f32-fake-quant.ts: one element at a time, the params written out as
// compiler/quantize/params.ts computes them. The kernels are tested against these bit for bit.

@inline function at(p: usize, i: i32): f32 { return load<f32>(p + <usize>i * 4); }
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + <usize>i * 4, v); }

function roundHalfAway(v: f64): f64 { return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5); }
function clampTo(v: f64, lo: f64, hi: f64): f64 { return v < lo ? lo : v > hi ? hi : v; }

/** [scale, zero point] of the range [mn, mx] (activationQuant). */
function params(mn: f32, mx: f32): StaticArray<f64> {
  const r = new StaticArray<f64>(2);
  const lo: f64 = <f64>mn < 0 ? <f64>mn : 0, hi: f64 = <f64>mx > 0 ? <f64>mx : 0;
  if (!(hi - lo > 0) || !(hi - lo < Infinity)) { r[0] = 1; r[1] = -128; return r; }
  const s = <f32>((hi - lo) / 255);
  r[0] = <f64>s;
  r[1] = clampTo(roundHalfAway(-128 - lo / <f64>s), -128, 127);
  return r;
}

export function refFakeQuant(x: usize, range: usize, y: usize, n: i32, m: f32): void {
  if (m != 0) {
    let bmin: f32 = Infinity, bmax: f32 = -Infinity;
    for (let i = 0; i < n; i++) { bmin = min<f32>(bmin, at(x, i)); bmax = max<f32>(bmax, at(x, i)); }
    if (isNaN(at(range, 0)) || isNaN(at(range, 1))) { put(range, 0, bmin); put(range, 1, bmax); }
    else { put(range, 0, at(range, 0) + m * (bmin - at(range, 0))); put(range, 1, at(range, 1) + m * (bmax - at(range, 1))); }
  }
  const p = params(at(range, 0), at(range, 1));
  const s = <f32>p[0], zp = p[1];
  for (let i = 0; i < n; i++) {
    const t: f32 = at(x, i) / s;
    const q: f64 = isNaN(t) ? zp : clampTo(roundHalfAway(<f64>t) + zp, -128, 127);
    put(y, i, <f32>(q - zp) * s);
  }
}

export function refFakeQuantGrad(x: usize, range: usize, dy: usize, dx: usize, n: i32): void {
  const p = params(at(range, 0), at(range, 1));
  const s = <f32>p[0], zp = p[1];
  for (let i = 0; i < n; i++) {
    const q = roundHalfAway(<f64>(at(x, i) / s)) + zp;
    put(dx, i, q >= -128 && q <= 127 ? at(dy, i) : 0);
  }
}

export function refFakeQuantBias(b: usize, w: usize, range: usize, y: usize, C: i32, inner: i32): void {
  const sIn = <f32>params(at(range, 0), at(range, 1))[0];
  for (let c = 0; c < C; c++) {
    let mx: f32 = 0;
    for (let i = 0; i < inner; i++) mx = max<f32>(mx, Mathf.abs(at(w, c * inner + i)));
    const sw: f32 = mx > 0 ? <f32>(<f64>mx / 127) : 1;
    const sb: f32 = sIn * sw;
    put(y, c, <f32>(clampTo(roundHalfAway(<f64>at(b, c) / <f64>sb), -2147483648, 2147483647) * <f64>sb));
  }
}

export function refFakeQuantWeight(w: usize, y: usize, C: i32, inner: i32): void {
  for (let c = 0; c < C; c++) {
    let mx: f32 = 0;
    for (let i = 0; i < inner; i++) mx = max<f32>(mx, Mathf.abs(at(w, c * inner + i)));
    const s: f32 = mx > 0 ? <f32>(<f64>mx / 127) : 1;
    for (let i = 0; i < inner; i++) put(y, c * inner + i, <f32>(clampTo(roundHalfAway(<f64>(at(w, c * inner + i) / s)), -127, 127) * <f64>s));
  }
}
