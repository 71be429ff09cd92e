// Reference twins of assembly/kernels/train/f32-rkd.ts: one element at a time with explicit index arithmetic,
// in the summation orders that file's header states. The kernels are tested against these bit for bit.

@inline function at(p: usize, i: i32): f32 { return load<f32>(p + <usize>i * 4); }
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + <usize>i * 4, v); }

function huber(x: f32): f32 { return Mathf.abs(x) < 1 ? <f32>0.5 * x * x : Mathf.abs(x) - <f32>0.5; }
function clamp1(x: f32): f32 { return x < -1 ? -1 : x > 1 ? 1 : x; }

function dist(x: usize, D: i32, i: i32, j: i32): f32 {
  let s: f32 = 0;
  for (let e = 0; e < D; e++) s += (at(x, j * D + e) - at(x, i * D + e)) * (at(x, j * D + e) - at(x, i * D + e));
  return Mathf.sqrt(s);
}

function dotFrom(x: usize, D: i32, i: i32, j: i32, k: i32): f32 {
  let s: f32 = 0;
  for (let e = 0; e < D; e++) s += (at(x, j * D + e) - at(x, i * D + e)) * (at(x, k * D + e) - at(x, i * D + e));
  return s;
}

export function refRkdDistance(s: usize, t: usize, loss: usize, ds: usize, B: i32, D: i32, E: i32): void {
  const P = <f32>(B * (B - 1));
  let ss: f32 = 0, st: f32 = 0;
  for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) if (i != j) { ss += dist(s, D, i, j); st += dist(t, E, i, j); }
  const mus = ss / P, mut = st / P;
  let l: f32 = 0, c: f32 = 0;
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      if (i == j) continue;
      const ps: f32 = mus > 0 ? dist(s, D, i, j) / mus : 0, pt: f32 = mut > 0 ? dist(t, E, i, j) / mut : 0;
      l += huber(ps - pt);
      c += (clamp1(ps - pt) / P) * ps;
    }
  c = c / P;
  for (let i = 0; i < B * D; i++) put(ds, i, 0);
  for (let k = 0; k < B; k++)
    for (let m = 0; m < B; m++) {
      if (k == m || !(mus > 0) || dist(s, D, k, m) == 0) continue;
      const d = dist(s, D, k, m), pt: f32 = mut > 0 ? dist(t, E, k, m) / mut : 0;
      const G: f32 = 2 * (clamp1(d / mus - pt) / P - c) / mus;
      for (let e = 0; e < D; e++) put(ds, k * D + e, at(ds, k * D + e) + G * (at(s, k * D + e) - at(s, m * D + e)) / d);
    }
  put(loss, 0, l / P);
}

export function refRkdAngle(s: usize, t: usize, loss: usize, ds: usize, B: i32, D: i32, E: i32): void {
  const B3 = <f32>(B * B * B);
  let l: f32 = 0;
  for (let i = 0; i < B * D; i++) put(ds, i, 0);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++)
      for (let k = 0; k < B; k++) {
        const rsij = dist(s, D, i, j), rsik = dist(s, D, i, k), rtij = dist(t, E, i, j), rtik = dist(t, E, i, k);
        const as: f32 = rsij > 0 && rsik > 0 ? dotFrom(s, D, i, j, k) / (rsij * rsik) : 0;
        const a2: f32 = rtij > 0 && rtik > 0 ? dotFrom(t, E, i, j, k) / (rtij * rtik) : 0;
        l += huber(as - a2);
        if (!(rsij > 0 && rsik > 0)) continue;
        const c: f32 = 2 * clamp1(as - a2) / B3;
        for (let e = 0; e < D; e++) {
          const w: f32 = c * ((at(s, k * D + e) - at(s, i * D + e)) / rsik - as * (at(s, j * D + e) - at(s, i * D + e)) / rsij) / rsij;
          put(ds, j * D + e, at(ds, j * D + e) + w);
          put(ds, i * D + e, at(ds, i * D + e) - w);
        }
      }
  put(loss, 0, l / B3);
}
