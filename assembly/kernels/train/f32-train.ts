// Training kernels, f32, row-major (docs/training.md). Every sum has one fixed order, written per
// kernel below; transcendentals are Mathf (pure wasm), no FMA, so the simd and scalar builds and the
// reference twins (assembly/reference/train.ts) agree bit for bit.
//
// SoftmaxCrossEntropy_F32  logits x [M,N], labels i32 [M], eps = label smoothing → loss [1], dx [M,N]:
//   per row: mx = max_j x_j; s = Σ_j e_j with e_j = exp(x_j − mx), j ascending; lse = mx + log s;
//   t_j = eps/N + (j == label ? 1 − eps : 0); row = Σ_j t_j·(lse − x_j), j ascending;
//   dx_j = (e_j / s − t_j) / M; loss = (Σ_m row_m, m ascending) / M. Returns the first row whose
//   label is outside [0, N), or −1.
// UnaryGrad_F32  y (the activation's output), dy → dx: Relu y > 0; Clip lo < y < hi; LeakyRelu
//   y > 0 ? 1 : alpha (alpha > 0); Sigmoid y·(1 − y); Tanh 1 − y·y; Exp y — each times dy; HardSwish reads x, not y:
//   x < −3 ? 0 : x ≤ 3 ? dy·(x/3 + 0.5) : dy (PyTorch's boundaries).
// ReduceSum_F32  in [outer, axis, inner] → out [outer, inner]: acc = 0, then + in[o,a,i], a ascending.
// SgdUpdate_F32  w, g, v | 0, lr [1]; per element: g' = wd ≠ 0 ? g + wd·w : g; with v: v = μ·v + g',
//   d = nesterov ? g' + μ·v : v; else d = g'; w = w − lr·d (PyTorch's SGD, dampening 0).
import { U_RELU, U_CLIP, U_SIGMOID, U_TANH, U_EXP, U_LEAKY, U_HARDSWISH } from '../elementwise/f32-unary';

export function softmaxCrossEntropyF32(x: usize, labels: usize, loss: usize, dx: usize, M: i32, N: i32, eps: f32): i32 {
  const off: f32 = eps / <f32>N,
    on: f32 = 1 - eps + off;
  let total: f32 = 0;
  for (let m = 0; m < M; m++) {
    const label = load<i32>(labels + ((<usize>m) << 2));
    if (label < 0 || label >= N) return m;
    const xr = x + ((<usize>(m * N)) << 2),
      dr = dx + ((<usize>(m * N)) << 2);
    let mx: f32 = -Infinity;
    for (let j = 0; j < N; j++) mx = max<f32>(mx, load<f32>(xr + ((<usize>j) << 2)));
    let s: f32 = 0;
    for (let j = 0; j < N; j++) {
      const e = Mathf.exp(load<f32>(xr + ((<usize>j) << 2)) - mx);
      store<f32>(dr + ((<usize>j) << 2), e);
      s += e;
    }
    const lse = mx + Mathf.log(s);
    let row: f32 = 0;
    for (let j = 0; j < N; j++) {
      const t = j == label ? on : off;
      row += t * (lse - load<f32>(xr + ((<usize>j) << 2)));
      store<f32>(dr + ((<usize>j) << 2), (load<f32>(dr + ((<usize>j) << 2)) / s - t) / <f32>M);
    }
    total += row;
  }
  store<f32>(loss, total / <f32>M);
  return -1;
}

export function unaryGradF32(y: usize, dy: usize, dx: usize, n: i32, op: i32, alpha: f32, beta: f32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(y + o),
      g = load<f32>(dy + o);
    let r: f32 = 0;
    switch (op) {
      case U_RELU:
        r = v > 0 ? g : 0;
        break;
      case U_CLIP:
        r = v > alpha && v < beta ? g : 0;
        break;
      case U_LEAKY:
        r = v > 0 ? g : g * alpha;
        break;
      case U_SIGMOID:
        r = g * (v * (1 - v));
        break;
      case U_TANH:
        r = g * (1 - v * v);
        break;
      case U_EXP:
        r = g * v;
        break;
      case U_HARDSWISH:
        r = v < -3 ? 0 : v <= 3 ? g * (v / 3 + <f32>0.5) : g;
        break;
    }
    store<f32>(dx + o, r);
  }
}

export function reduceSumF32(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const yr = y + ((<usize>(o * inner)) << 2);
    for (let i = 0; i < inner; i++) store<f32>(yr + ((<usize>i) << 2), 0);
    // a ascending for every i: rows of `inner` are added one after another (contiguous loads)
    for (let a = 0; a < axis; a++) {
      const xr = x + ((<usize>((o * axis + a) * inner)) << 2);
      for (let i = 0; i < inner; i++) {
        const p = yr + ((<usize>i) << 2);
        store<f32>(p, load<f32>(p) + load<f32>(xr + ((<usize>i) << 2)));
      }
    }
  }
}

export function sgdUpdateF32(w: usize, g: usize, v: usize, lrp: usize, n: i32, mu: f32, nesterov: bool, wd: f32): void {
  const lr = load<f32>(lrp);
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const wi = load<f32>(w + o);
    let gi = load<f32>(g + o);
    if (wd != 0) gi = gi + wd * wi;
    let d = gi;
    if (v != 0) {
      const vi = mu * load<f32>(v + o) + gi;
      store<f32>(v + o, vi);
      d = nesterov ? gi + mu * vi : vi;
    }
    store<f32>(w + o, wi - lr * d);
  }
}
