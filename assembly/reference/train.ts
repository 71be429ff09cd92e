// Reference twins of the training kernels (assembly/kernels/train/f32-train.ts, f32-conv-grad.ts): one element at a
// time with explicit index arithmetic, in the summation orders that file's header states. The fast
// kernels are tested against these bit for bit.
import { StepParams } from '../bundle/model';
import { U_RELU, U_CLIP, U_SIGMOID, U_TANH, U_EXP, U_LEAKY, U_HARDSWISH } from '../kernels/elementwise/f32-unary';

@inline function at(p: usize, i: i32): f32 { return load<f32>(p + <usize>i * 4); }
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + <usize>i * 4, v); }

export function refSoftmaxCrossEntropy(x: usize, labels: usize, loss: usize, dx: usize, M: i32, N: i32, eps: f32): i32 {
  let total: f32 = 0;
  for (let m = 0; m < M; m++) {
    const label = load<i32>(labels + <usize>m * 4);
    if (label < 0 || label >= N) return m;
    let mx: f32 = -Infinity;
    for (let j = 0; j < N; j++) mx = max<f32>(mx, at(x, m * N + j));
    let s: f32 = 0;
    for (let j = 0; j < N; j++) s += Mathf.exp(at(x, m * N + j) - mx);
    const lse = mx + Mathf.log(s);
    let row: f32 = 0;
    for (let j = 0; j < N; j++) {
      const t: f32 = eps / <f32>N + (j == label ? 1 - eps : 0);
      row += t * (lse - at(x, m * N + j));
      put(dx, m * N + j, (Mathf.exp(at(x, m * N + j) - mx) / s - t) / <f32>M);
    }
    total += row;
  }
  put(loss, 0, total / <f32>M);
  return -1;
}

export function refUnaryGrad(y: usize, dy: usize, dx: usize, n: i32, op: i32, alpha: f32, beta: f32): void {
  for (let i = 0; i < n; i++) {
    const v = at(y, i), g = at(dy, i);
    let r: f32 = 0;
    if (op == U_RELU) r = v > 0 ? g : 0;
    else if (op == U_CLIP) r = v > alpha && v < beta ? g : 0;
    else if (op == U_LEAKY) r = v > 0 ? g : g * alpha;
    else if (op == U_SIGMOID) r = g * (v * (1 - v));
    else if (op == U_TANH) r = g * (1 - v * v);
    else if (op == U_EXP) r = g * v;
    else if (op == U_HARDSWISH) r = v < -3 ? 0 : (v <= 3 ? g * (v / 3 + <f32>0.5) : g);
    put(dx, i, r);
  }
}

export function refReduceSum(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let acc: f32 = 0;
      for (let a = 0; a < axis; a++) acc += at(x, (o * axis + a) * inner + i);
      put(y, o * inner + i, acc);
    }
}

export function refSgdUpdate(w: usize, g: usize, v: usize, lrp: usize, n: i32, mu: f32, nesterov: bool, wd: f32): void {
  const lr = at(lrp, 0);
  for (let i = 0; i < n; i++) {
    let gi = at(g, i);
    if (wd != 0) gi = gi + wd * at(w, i);
    let d = gi;
    if (v != 0) {
      put(v, i, mu * at(v, i) + gi);
      d = nesterov ? gi + mu * at(v, i) : at(v, i);
    }
    put(w, i, at(w, i) - lr * d);
  }
}

/** Conv2DGradInput: each dx element gathered from scratch in (ky, kx, co) order. */
export function refConv2dGradInput(dy: usize, w: usize, dx: usize, N: i32, H: i32, W: i32, Ci: i32,
                                   OH: i32, OW: i32, Co: i32, p: StepParams): void {
  const G = p.groups, cig = Ci / G, cog = Co / G;
  for (let n = 0; n < N; n++)
  for (let iy = 0; iy < H; iy++)
  for (let ix = 0; ix < W; ix++)
  for (let ci = 0; ci < Ci; ci++) {
    const g = ci / cig;
    let acc: f32 = 0;
    for (let ky = 0; ky < p.kh; ky++)
    for (let kx = 0; kx < p.kw; kx++) {
      const ty = iy + p.pt - ky * p.dh, tx = ix + p.pl - kx * p.dw;
      if (ty < 0 || tx < 0 || ty % p.sh != 0 || tx % p.sw != 0) continue;
      const oy = ty / p.sh, ox = tx / p.sw;
      if (oy >= OH || ox >= OW) continue;
      for (let co = g * cog; co < (g + 1) * cog; co++) {
        acc += at(dy, ((n * OH + oy) * OW + ox) * Co + co) * at(w, ((co * p.kh + ky) * p.kw + kx) * cig + ci - g * cig);
      }
    }
    put(dx, ((n * H + iy) * W + ix) * Ci + ci, acc);
  }
}

/** Conv2DGradFilter: each dw element gathered from scratch in (n, oy, ox) order. */
export function refConv2dGradFilter(x: usize, dy: usize, dw: usize, N: i32, H: i32, W: i32, Ci: i32,
                                    OH: i32, OW: i32, Co: i32, p: StepParams): void {
  const G = p.groups, cig = Ci / G, cog = Co / G;
  for (let co = 0; co < Co; co++)
  for (let ky = 0; ky < p.kh; ky++)
  for (let kx = 0; kx < p.kw; kx++)
  for (let c = 0; c < cig; c++) {
    const ci = (co / cog) * cig + c;
    let acc: f32 = 0;
    for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++) {
      const iy = oy * p.sh - p.pt + ky * p.dh, ix = ox * p.sw - p.pl + kx * p.dw;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      acc += at(dy, ((n * OH + oy) * OW + ox) * Co + co) * at(x, ((n * H + iy) * W + ix) * Ci + ci);
    }
    put(dw, ((co * p.kh + ky) * p.kw + kx) * cig + c, acc);
  }
}

/** MaxPoolGrad: dx zeroed, then each window's dy added at its first maximal in-bounds tap. */
export function refMaxPoolGrad(x: usize, dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, p: StepParams): void {
  for (let i = 0; i < N * H * W * C; i++) put(dx, i, 0);
  for (let n = 0; n < N; n++)
  for (let oy = 0; oy < OH; oy++)
  for (let ox = 0; ox < OW; ox++)
  for (let c = 0; c < C; c++) {
    let arg = -1;
    for (let ky = 0; ky < p.kh; ky++)
    for (let kx = 0; kx < p.kw; kx++) {
      const iy = oy * p.sh - p.pt + ky, ix = ox * p.sw - p.pl + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const i = ((n * H + iy) * W + ix) * C + c;
      if (arg < 0 || at(x, i) > at(x, arg)) arg = i;
    }
    put(dx, arg, at(dx, arg) + at(dy, ((n * OH + oy) * OW + ox) * C + c));
  }
}

/** AvgPoolGrad: dx zeroed, then each window's dy / count added to its in-bounds taps. */
export function refAvgPoolGrad(dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, p: StepParams): void {
  for (let i = 0; i < N * H * W * C; i++) put(dx, i, 0);
  for (let n = 0; n < N; n++)
  for (let oy = 0; oy < OH; oy++)
  for (let ox = 0; ox < OW; ox++)
  for (let c = 0; c < C; c++) {
    let inBounds = 0, inPadded = 0;
    for (let ky = 0; ky < p.kh; ky++)
    for (let kx = 0; kx < p.kw; kx++) {
      const iy = oy * p.sh - p.pt + ky, ix = ox * p.sw - p.pl + kx;
      if (iy < H + p.pb && ix < W + p.pr) inPadded++;
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) inBounds++;
    }
    const share = at(dy, ((n * OH + oy) * OW + ox) * C + c) / <f32>(p.countIncludePad ? inPadded : inBounds);
    for (let ky = 0; ky < p.kh; ky++)
    for (let kx = 0; kx < p.kw; kx++) {
      const iy = oy * p.sh - p.pt + ky, ix = ox * p.sw - p.pl + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const i = ((n * H + iy) * W + ix) * C + c;
      put(dx, i, at(dx, i) + share);
    }
  }
}

/** AdamUpdate: per element as the kernel (bias corrections from Mathf.pow of the step). */
export function refAdamUpdate(w: usize, g: usize, m: usize, v: usize, lrp: usize, stepp: usize, n: i32,
                              b1: f32, b2: f32, eps: f32, wd: f32, decoupled: bool): void {
  const lr = at(lrp, 0), t = at(stepp, 0);
  const bc1: f32 = 1 - Mathf.pow(b1, t), bc2: f32 = 1 - Mathf.pow(b2, t);
  for (let i = 0; i < n; i++) {
    let wi = at(w, i), gi = at(g, i);
    if (wd != 0 && decoupled) wi = wi * (1 - lr * wd);
    if (wd != 0 && !decoupled) gi = gi + wd * wi;
    put(m, i, b1 * at(m, i) + (1 - b1) * gi);
    put(v, i, b2 * at(v, i) + (1 - b2) * (gi * gi));
    put(w, i, wi - (lr / bc1) * (at(m, i) / (Mathf.sqrt(at(v, i)) / Mathf.sqrt(bc2) + eps)));
  }
}

/** GlobalNormScale: Σ g² over the inputs in order, elements ascending; min(1, max_norm / (sqrt Σ + 1e-6)). */
export function refGlobalNormScale(ptrs: StaticArray<usize>, sizes: StaticArray<i32>, out: usize, maxNorm: f32): void {
  let s: f32 = 0;
  for (let k = 0; k < ptrs.length; k++) for (let i = 0; i < sizes[k]; i++) s += at(ptrs[k], i) * at(ptrs[k], i);
  put(out, 0, min<f32>(1, maxNorm / (Mathf.sqrt(s) + 1e-6)));
}

/** MseLoss: mean of squared differences, ascending; gradient 2(p − t)/n. */
export function refMseLoss(p: usize, t: usize, loss: usize, dp: usize, n: i32): void {
  let s: f32 = 0;
  for (let i = 0; i < n; i++) {
    s += (at(p, i) - at(t, i)) * (at(p, i) - at(t, i));
    put(dp, i, 2 * (at(p, i) - at(t, i)) / <f32>n);
  }
  put(loss, 0, s / <f32>n);
}

/** KlDivergence: KL(softmax(t/T) ‖ softmax(s/T))·T², batch mean; ds = T·(q − p)/M. */
export function refKlDivergence(s: usize, t: usize, loss: usize, ds: usize, M: i32, N: i32, T: f32): void {
  let total: f32 = 0;
  for (let m = 0; m < M; m++) {
    let ms: f32 = -Infinity, mt: f32 = -Infinity;
    for (let j = 0; j < N; j++) { ms = max<f32>(ms, at(s, m * N + j)); mt = max<f32>(mt, at(t, m * N + j)); }
    let ss: f32 = 0, st: f32 = 0;
    for (let j = 0; j < N; j++) { ss += Mathf.exp((at(s, m * N + j) - ms) / T); st += Mathf.exp((at(t, m * N + j) - mt) / T); }
    let row: f32 = 0;
    for (let j = 0; j < N; j++) {
      const a = (at(t, m * N + j) - mt) / T - Mathf.log(st), b = (at(s, m * N + j) - ms) / T - Mathf.log(ss);
      row += Mathf.exp(a) * (a - b);
      put(ds, m * N + j, T * (Mathf.exp(b) - Mathf.exp(a)) / <f32>M);
    }
    total += row;
  }
  put(loss, 0, T * T * total / <f32>M);
}

/** BatchNormTrain: one channel at a time, its M rows ascending (x [M,C]). */
export function refBatchNormTrain(x: usize, gamma: usize, beta: usize, rmean: usize, rvar: usize, y: usize, mean: usize,
                                  invstd: usize, M: i32, C: i32, eps: f32, mu: f32): void {
  for (let c = 0; c < C; c++) {
    let s: f32 = 0;
    for (let m = 0; m < M; m++) s += at(x, m * C + c);
    const mc = s / <f32>M;
    let q: f32 = 0;
    for (let m = 0; m < M; m++) q += (at(x, m * C + c) - mc) * (at(x, m * C + c) - mc);
    const inv = <f32>1 / Mathf.sqrt(q / <f32>M + eps);
    put(mean, c, mc);
    put(invstd, c, inv);
    put(rmean, c, (1 - mu) * at(rmean, c) + mu * mc);
    put(rvar, c, (1 - mu) * at(rvar, c) + mu * (q / <f32>(M - 1)));
    for (let m = 0; m < M; m++) put(y, m * C + c, ((at(x, m * C + c) - mc) * inv) * at(gamma, c) + at(beta, c));
  }
}

/** BatchNormGrad: one channel at a time, its M rows ascending. */
export function refBatchNormGrad(x: usize, dy: usize, gamma: usize, mean: usize, invstd: usize, dx: usize, dgamma: usize,
                                 dbeta: usize, M: i32, C: i32): void {
  for (let c = 0; c < C; c++) {
    let sb: f32 = 0, sg: f32 = 0;
    for (let m = 0; m < M; m++) {
      sb += at(dy, m * C + c);
      sg += at(dy, m * C + c) * ((at(x, m * C + c) - at(mean, c)) * at(invstd, c));
    }
    put(dbeta, c, sb);
    put(dgamma, c, sg);
    for (let m = 0; m < M; m++) {
      const xh = (at(x, m * C + c) - at(mean, c)) * at(invstd, c);
      put(dx, m * C + c, (at(gamma, c) * at(invstd, c)) * ((at(dy, m * C + c) - sb / <f32>M) - xh * (sg / <f32>M)));
    }
  }
}

/** BatchNormMerge: one channel at a time; the whole batch's mean and unbiased variance from the S shards', then the
 *  running update (S = 1: the shard's own statistics). */
export function refBatchNormMerge(means: usize, vars: usize, rmean: usize, rvar: usize, rows: usize, S: i32, C: i32,
                                  mu: f32): void {
  const m = at(rows, 0);
  for (let c = 0; c < C; c++) {
    let sum: f32 = 0;
    for (let k = 0; k < S; k++) sum += at(means, k * C + c);
    const mean: f32 = S == 1 ? at(means, c) : sum / <f32>S;
    let q: f32 = 0;
    for (let k = 0; k < S; k++) {
      const d = at(means, k * C + c) - mean;
      q += (m - 1) * at(vars, k * C + c) + m * (d * d);
    }
    const v: f32 = S == 1 ? at(vars, c) : q / (<f32>S * m - 1);
    put(rmean, c, (1 - mu) * at(rmean, c) + mu * mean);
    put(rvar, c, (1 - mu) * at(rvar, c) + mu * v);
  }
}

/** BatchNormEval: one channel at a time, its M rows ascending. */
export function refBatchNormEval(x: usize, gamma: usize, beta: usize, rmean: usize, rvar: usize, y: usize, M: i32,
                                 C: i32, eps: f32): void {
  for (let c = 0; c < C; c++) {
    const inv = <f32>1 / Mathf.sqrt(at(rvar, c) + eps);
    for (let m = 0; m < M; m++) put(y, m * C + c, ((at(x, m * C + c) - at(rmean, c)) * inv) * at(gamma, c) + at(beta, c));
  }
}
