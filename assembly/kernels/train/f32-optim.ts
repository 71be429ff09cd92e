// Optimiser, clipping and regression / distillation loss kernels, f32 (docs/training.md). Fixed orders
// (the twins in assembly/reference/train.ts sum the same way); pow/sqrt/exp/log are Mathf or wasm's
// exact sqrt, so the simd and scalar builds agree bit for bit.
//   AdamUpdate_F32        w, g, m, v, lr [1], step [1] (t ≥ 1) → w, m, v in place. bc1 = 1 − β1^t, bc2 = 1 − β2^t;
//                         per element: AdamW (decoupled): w ·= 1 − lr·wd, else g += wd·w (when wd ≠ 0);
//                         m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g·g;
//                         w −= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + ε) (PyTorch's Adam / AdamW)
//   GlobalNormScale_F32   g0..gn → scale [1] = min(1, max_norm / (sqrt(Σ) + 1e-6)), Σ over the inputs in
//                         order, elements ascending, of g² (from 0)
//   MseLoss_F32           pred [M,N], target [M,N] → loss [1] = (Σ (p − t)², ascending) / (M·N),
//                         dpred = 2·(p − t) / (M·N)
//   KlDivergence_F32      student logits s [M,N], teacher logits t [M,N], T → loss [1], ds [M,N]: per row
//                         log p_j = (t_j − mt)/T − log Σ exp((t − mt)/T), likewise log q_j from s (sums ascending);
//                         row = Σ_j exp(log p_j)·(log p_j − log q_j), j ascending;
//                         loss = T·T·(Σ rows ascending) / M; ds_j = T·(exp(log q_j) − exp(log p_j)) / M

export function adamUpdateF32(
  w: usize,
  g: usize,
  m: usize,
  v: usize,
  lrp: usize,
  stepp: usize,
  n: i32,
  b1: f32,
  b2: f32,
  eps: f32,
  wd: f32,
  decoupled: bool,
): void {
  const lr = load<f32>(lrp),
    t = load<f32>(stepp);
  const bc1: f32 = 1 - Mathf.pow(b1, t),
    bc2: f32 = 1 - Mathf.pow(b2, t);
  const stepSize: f32 = lr / bc1,
    rootBc2: f32 = Mathf.sqrt(bc2),
    shrink: f32 = 1 - lr * wd;
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    let wi = load<f32>(w + o),
      gi = load<f32>(g + o);
    if (wd != 0) {
      if (decoupled) wi = wi * shrink;
      else gi = gi + wd * wi;
    }
    const mi = b1 * load<f32>(m + o) + (1 - b1) * gi;
    const vi = b2 * load<f32>(v + o) + (1 - b2) * (gi * gi);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(w + o, wi - stepSize * (mi / (Mathf.sqrt(vi) / rootBc2 + eps)));
  }
}

export function globalNormScaleF32(ptrs: StaticArray<usize>, sizes: StaticArray<i32>, out: usize, maxNorm: f32): void {
  let s: f32 = 0;
  for (let k = 0; k < ptrs.length; k++) {
    const p = ptrs[k];
    for (let i = 0; i < sizes[k]; i++) {
      const x = load<f32>(p + ((<usize>i) << 2));
      s += x * x;
    }
  }
  store<f32>(out, min<f32>(1, maxNorm / (Mathf.sqrt(s) + 1e-6)));
}

export function mseLossF32(p: usize, t: usize, loss: usize, dp: usize, n: i32): void {
  let s: f32 = 0;
  const scale = <f32>n;
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const d = load<f32>(p + o) - load<f32>(t + o);
    s += d * d;
    store<f32>(dp + o, (2 * d) / scale);
  }
  store<f32>(loss, s / scale);
}

export function klDivergenceF32(s: usize, t: usize, loss: usize, ds: usize, M: i32, N: i32, T: f32): void {
  let total: f32 = 0;
  for (let m = 0; m < M; m++) {
    const sr = s + ((<usize>(m * N)) << 2),
      tr = t + ((<usize>(m * N)) << 2),
      dr = ds + ((<usize>(m * N)) << 2);
    let ms: f32 = -Infinity,
      mt: f32 = -Infinity;
    for (let j = 0; j < N; j++) {
      ms = max<f32>(ms, load<f32>(sr + ((<usize>j) << 2)));
      mt = max<f32>(mt, load<f32>(tr + ((<usize>j) << 2)));
    }
    let ss: f32 = 0,
      st: f32 = 0;
    for (let j = 0; j < N; j++) {
      ss += Mathf.exp((load<f32>(sr + ((<usize>j) << 2)) - ms) / T);
      st += Mathf.exp((load<f32>(tr + ((<usize>j) << 2)) - mt) / T);
    }
    const ls = Mathf.log(ss),
      lt = Mathf.log(st);
    let row: f32 = 0;
    for (let j = 0; j < N; j++) {
      const a = (load<f32>(tr + ((<usize>j) << 2)) - mt) / T - lt,
        b = (load<f32>(sr + ((<usize>j) << 2)) - ms) / T - ls;
      const pj = Mathf.exp(a),
        qj = Mathf.exp(b);
      row += pj * (a - b);
      store<f32>(dr + ((<usize>j) << 2), (T * (qj - pj)) / <f32>M);
    }
    total += row;
  }
  store<f32>(loss, (T * T * total) / <f32>M);
}
