// Relational distillation loss kernels, f32 (Park et al. 2019; compiler/ir/ops/relational-kd.ts holds the formulas
// and the float64 references). Student embeddings s [B,D], teacher t [B,E] → loss [1], ds [B,D]. Distances and
// dot products sum over the embedding axis ascending from 0; every other sum is in the loop order written here;
// the twins (assembly/reference/rkd.ts) sum the same way. h(x) = ½x² (|x| < 1) else |x| − ½; h' = clamp(x, −1, 1).
//   RkdDistance_F32  μ = (Σ_{i≠j} d_ij, i then j ascending) / P, P = B(B − 1); ψ = d/μ (0 when μ = 0);
//                    loss = (Σ_{i≠j} h(ψˢ − ψᵗ)) / P; c = (Σ_{i≠j} (h'/P)·ψˢ) / P; for k, then l ≠ k ascending
//                    (dˢ_kl > 0): ds_k += (2·(h'_kl/P − c)/μˢ)·(s_k − s_l)/dˢ_kl
//   RkdAngle_F32     for i, j, k ascending: r = ‖x_j − x_i‖, a = (x_j − x_i)·(x_k − x_i)/(r_ij·r_ik) (0 when a
//                    length is 0); loss = (Σ h(aˢ − aᵗ)) / B³; when rˢ_ij, rˢ_ik > 0, with c = 2·h'/B³:
//                    w_e = c·((s_k − s_i)_e / rˢ_ik − aˢ·(s_j − s_i)_e / rˢ_ij) / rˢ_ij, ds_j += w, ds_i −= w

@inline function row(p: usize, i: i32, D: i32): usize { return p + (<usize>(i * D) << 2); }

@inline function huber(x: f32): f32 { const a = Mathf.abs(x); return a < 1 ? <f32>0.5 * x * x : a - <f32>0.5; }
@inline function huberGrad(x: f32): f32 { return min<f32>(1, max<f32>(-1, x)); }

/** ‖x_j − x_i‖, squares summed ascending. */
function dist(x: usize, D: i32, i: i32, j: i32): f32 {
  const a = row(x, i, D), b = row(x, j, D);
  let s: f32 = 0;
  for (let e = 0; e < D; e++) { const d = load<f32>(b + (<usize>e << 2)) - load<f32>(a + (<usize>e << 2)); s += d * d; }
  return Mathf.sqrt(s);
}

/** (x_j − x_i)·(x_k − x_i), ascending. */
function dotFrom(x: usize, D: i32, i: i32, j: i32, k: i32): f32 {
  const a = row(x, i, D), b = row(x, j, D), c = row(x, k, D);
  let s: f32 = 0;
  for (let e = 0; e < D; e++) {
    const o = <usize>e << 2, xi = load<f32>(a + o);
    s += (load<f32>(b + o) - xi) * (load<f32>(c + o) - xi);
  }
  return s;
}

function zero(p: usize, n: i32): void { memory.fill(p, 0, <usize>n << 2); }

export function rkdDistanceF32(s: usize, t: usize, loss: usize, ds: usize, B: i32, D: i32, E: i32): void {
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
      c += (huberGrad(ps - pt) / P) * ps;
    }
  c = c / P;
  zero(ds, B * D);
  if (mus > 0)
    for (let k = 0; k < B; k++)
      for (let m = 0; m < B; m++) {
        if (k == m) continue;
        const d = dist(s, D, k, m);
        if (d == 0) continue;
        const pt: f32 = mut > 0 ? dist(t, E, k, m) / mut : 0;
        const G: f32 = 2 * (huberGrad(d / mus - pt) / P - c) / mus;
        const a = row(s, k, D), b = row(s, m, D), o = row(ds, k, D);
        for (let e = 0; e < D; e++) {
          const q = <usize>e << 2;
          store<f32>(o + q, load<f32>(o + q) + G * (load<f32>(a + q) - load<f32>(b + q)) / d);
        }
      }
  store<f32>(loss, l / P);
}

export function rkdAngleF32(s: usize, t: usize, loss: usize, ds: usize, B: i32, D: i32, E: i32): void {
  const B3 = <f32>(B * B * B);
  let l: f32 = 0;
  zero(ds, B * D);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      const rsij = dist(s, D, i, j), rtij = dist(t, E, i, j);
      const si = row(s, i, D), sj = row(s, j, D), gi = row(ds, i, D), gj = row(ds, j, D);
      for (let k = 0; k < B; k++) {
        const rsik = dist(s, D, i, k), rtik = dist(t, E, i, k);
        const as: f32 = rsij > 0 && rsik > 0 ? dotFrom(s, D, i, j, k) / (rsij * rsik) : 0;
        const at: f32 = rtij > 0 && rtik > 0 ? dotFrom(t, E, i, j, k) / (rtij * rtik) : 0;
        l += huber(as - at);
        if (!(rsij > 0 && rsik > 0)) continue;
        const c: f32 = 2 * huberGrad(as - at) / B3, sk = row(s, k, D);
        for (let e = 0; e < D; e++) {
          const q = <usize>e << 2, xi = load<f32>(si + q);
          const w: f32 = c * ((load<f32>(sk + q) - xi) / rsik - as * (load<f32>(sj + q) - xi) / rsij) / rsij;
          store<f32>(gj + q, load<f32>(gj + q) + w);
          store<f32>(gi + q, load<f32>(gi + q) - w);
        }
      }
    }
  store<f32>(loss, l / B3);
}
