// BatchNorm training kernels, f32; x, y, dy, dx viewed [M, C] row-major (M = N·H·W rows, C channels, the last axis),
// per-channel vectors [C]. Every channel's sums run over m ascending from 0 (rows outer, channels inner here; one
// channel at a time in the reference twins, assembly/reference/train.ts: the same order per channel, so the same
// bits). No FMA; sqrt is the wasm instruction, so the simd and scalar builds agree bit for bit.
//
// BatchNormTrain_F32  x, gamma, beta, rmean, rvar (eps, momentum μ) → y, mean, invstd, rmean, rvar (in place):
//   mean = (Σ_m x) / M; q = Σ_m (x − mean)²; invstd = 1 / sqrt(q / M + eps);
//   y = ((x − mean) · invstd) · gamma + beta; rmean = (1 − μ)·rmean + μ·mean; rvar = (1 − μ)·rvar + μ·(q / (M − 1)).
// BatchNormGrad_F32  x, dy, gamma, mean, invstd → dx, dgamma, dbeta:
//   x̂ = (x − mean) · invstd; dbeta = Σ_m dy; dgamma = Σ_m dy · x̂;
//   dx = (gamma · invstd) · ((dy − dbeta / M) − x̂ · (dgamma / M)).
// BatchNormMerge_F32  shard means, shard unbiased vars [S, C], rmean, rvar [C], rows m [1] (μ) → rmean, rvar (in place):
//   the S shards' statistics (m rows each) combined into the whole batch's (M = S·m rows), then the running update:
//   S = 1: mean = means[0], var = vars[0]; else mean = (Σ_s means) / S, q = Σ_s ((m − 1)·vars_s + m·(means_s − mean)²),
//   var = q / (M − 1); rmean = (1 − μ)·rmean + μ·mean; rvar = (1 − μ)·rvar + μ·var (BatchNormTrain_F32's update).
// BatchNormEval_F32  x, gamma, beta, rmean, rvar (eps) → y = ((x − rmean) · (1 / sqrt(rvar + eps))) · gamma + beta.

@inline function at(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

export function batchNormTrainF32(x: usize, gamma: usize, beta: usize, rmean: usize, rvar: usize, y: usize, mean: usize,
                                  invstd: usize, M: i32, C: i32, eps: f32, mu: f32): void {
  for (let c = 0; c < C; c++) { put(mean, c, 0); put(invstd, c, 0); }
  for (let m = 0; m < M; m++) {
    const r = m * C;
    for (let c = 0; c < C; c++) put(mean, c, at(mean, c) + at(x, r + c));
  }
  for (let c = 0; c < C; c++) put(mean, c, at(mean, c) / <f32>M);
  // invstd holds q = Σ (x − mean)² until the pass below turns it into 1 / sqrt(q / M + eps)
  for (let m = 0; m < M; m++) {
    const r = m * C;
    for (let c = 0; c < C; c++) {
      const d = at(x, r + c) - at(mean, c);
      put(invstd, c, at(invstd, c) + d * d);
    }
  }
  for (let c = 0; c < C; c++) {
    const q = at(invstd, c);
    put(invstd, c, <f32>1 / Mathf.sqrt(q / <f32>M + eps));
    put(rmean, c, (1 - mu) * at(rmean, c) + mu * at(mean, c));
    put(rvar, c, (1 - mu) * at(rvar, c) + mu * (q / <f32>(M - 1)));
  }
  for (let m = 0; m < M; m++) {
    const r = m * C;
    for (let c = 0; c < C; c++) put(y, r + c, ((at(x, r + c) - at(mean, c)) * at(invstd, c)) * at(gamma, c) + at(beta, c));
  }
}

export function batchNormGradF32(x: usize, dy: usize, gamma: usize, mean: usize, invstd: usize, dx: usize, dgamma: usize,
                                 dbeta: usize, M: i32, C: i32): void {
  for (let c = 0; c < C; c++) { put(dgamma, c, 0); put(dbeta, c, 0); }
  for (let m = 0; m < M; m++) {
    const r = m * C;
    for (let c = 0; c < C; c++) {
      const g = at(dy, r + c);
      put(dbeta, c, at(dbeta, c) + g);
      put(dgamma, c, at(dgamma, c) + g * ((at(x, r + c) - at(mean, c)) * at(invstd, c)));
    }
  }
  for (let m = 0; m < M; m++) {
    const r = m * C;
    for (let c = 0; c < C; c++) {
      const xh = (at(x, r + c) - at(mean, c)) * at(invstd, c);
      put(dx, r + c, (at(gamma, c) * at(invstd, c)) * ((at(dy, r + c) - at(dbeta, c) / <f32>M) - xh * (at(dgamma, c) / <f32>M)));
    }
  }
}

export function batchNormMergeF32(means: usize, vars: usize, rmean: usize, rvar: usize, rows: usize, S: i32, C: i32,
                                  mu: f32): void {
  const m = at(rows, 0);
  for (let c = 0; c < C; c++) {
    let mean = at(means, c), v = at(vars, c);
    if (S > 1) {
      let s: f32 = 0;
      for (let k = 0; k < S; k++) s += at(means, k * C + c);
      mean = s / <f32>S;
      let q: f32 = 0;
      for (let k = 0; k < S; k++) {
        const d = at(means, k * C + c) - mean;
        q += (m - 1) * at(vars, k * C + c) + m * (d * d);
      }
      v = q / (<f32>S * m - 1);
    }
    put(rmean, c, (1 - mu) * at(rmean, c) + mu * mean);
    put(rvar, c, (1 - mu) * at(rvar, c) + mu * v);
  }
}

export function batchNormEvalF32(x: usize, gamma: usize, beta: usize, rmean: usize, rvar: usize, y: usize, M: i32, C: i32,
                                 eps: f32): void {
  for (let m = 0; m < M; m++) {
    const r = m * C;
    for (let c = 0; c < C; c++) {
      const inv = <f32>1 / Mathf.sqrt(at(rvar, c) + eps);
      put(y, r + c, ((at(x, r + c) - at(rmean, c)) * inv) * at(gamma, c) + at(beta, c));
    }
  }
}
