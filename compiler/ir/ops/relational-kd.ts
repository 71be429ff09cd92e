// Relational knowledge distillation (Park et al. 2019), training graphs: student embeddings s [B,D], teacher
// embeddings t [B,E] (B ≥ 2) → loss [1], ds [B,D]; the teacher gets no gradient. h is the Huber loss with δ = 1
// (smooth L1: ½x² for |x| < 1, |x| − ½ beyond), h' = clamp(x, −1, 1). Float64 references here; kernels
// RkdDistance_F32 / RkdAngle_F32 (assembly/kernels/train/f32-rkd.ts) fix the f32 summation orders.
//   RkdDistance: d_ij = ‖e_i − e_j‖ over the P = B(B − 1) ordered pairs i ≠ j, μ = Σ d / P, ψ = d / μ (ψ = 0 when
//     μ = 0); loss = Σ_{i≠j} h(ψˢ_ij − ψᵗ_ij) / P. With g = h'(ψˢ − ψᵗ)/P, c = Σ g·ψˢ / P and G = (g − c)/μˢ:
//     ds_k = 2 Σ_{l≠k} G_kl (s_k − s_l) / dˢ_kl (pairs at distance 0 give none).
//   RkdAngle: u_ij = (e_j − e_i)/‖e_j − e_i‖ (0 when e_j = e_i), a_ijk = u_ij·u_ik over all B³ triplets (anchor i,
//     as Park et al.'s code); loss = Σ h(aˢ − aᵗ) / B³. With g_ijk = h'(aˢ_ijk − aᵗ_ijk)/B³:
//     w = Σ_k 2 g_ijk (u_ik − aˢ_ijk u_ij) / rˢ_ij, ds_j += w, ds_i −= w.
import { fail, fmt, need, rank } from './helpers.ts';
import type { OpDef, TypeInfo, Value } from './op-def.ts';
import type { Node, Tensor } from '../graph.ts';

const huber = (x: number) => (Math.abs(x) < 1 ? 0.5 * x * x : Math.abs(x) - 0.5);
const huberGrad = (x: number) => Math.max(-1, Math.min(1, x));

function inferRkd(n: Node, ins: (Tensor | undefined)[], file: string): TypeInfo[] {
  const s = need(n, ins, 0, file, 'student embeddings'),
    t = need(n, ins, 1, file, 'teacher embeddings');
  rank(n, s, 2, file, 'student embeddings');
  rank(n, t, 2, file, 'teacher embeddings');
  if (s.dtype !== 'float32' || t.dtype !== 'float32')
    fail(file, n, `embeddings must be float32, found ${s.dtype} and ${t.dtype}`);
  if (s.shape[0] !== t.shape[0])
    fail(file, n, `teacher embeddings ${fmt(t.shape)} and student ${fmt(s.shape)} differ in batch size`);
  if (s.shape[0]! < 2) fail(file, n, `relational losses need a batch of at least 2, found ${s.shape[0]}`);
  return [
    { shape: [1], dtype: 'float32' },
    { shape: [...s.shape], dtype: 'float32' },
  ];
}

/** x_j − x_i of rows i, j of [B,D] row-major data. */
function diff(x: Float64Array, D: number, i: number, j: number): Float64Array {
  const d = new Float64Array(D);
  for (let k = 0; k < D; k++) d[k] = x[j * D + k]! - x[i * D + k]!;
  return d;
}
const norm = (v: Float64Array) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));

/** Pairwise distances [B,B] (0 on the diagonal) and their mean over the pairs i ≠ j. */
function distances(v: Value): [Float64Array, number] {
  const [B, D] = v.shape as [number, number];
  const d = new Float64Array(B * B);
  let sum = 0;
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) if (i !== j) sum += d[i * B + j] = norm(diff(v.data, D, i, j));
  return [d, sum / (B * (B - 1))];
}

export const rkdDistance: OpDef = {
  schema: { inputs: [2, 2], outputs: 2, attrs: {} },
  trainingOnly: true,
  infer: inferRkd,
  evaluate(_n, ins) {
    const s = ins[0]!,
      t = ins[1]!;
    const [B, D] = s.shape as [number, number];
    const P = B * (B - 1);
    const [ds, mus] = distances(s),
      [dt, mut] = distances(t);
    const psi = (d: number, mu: number) => (mu > 0 ? d / mu : 0);
    const g = new Float64Array(B * B);
    let loss = 0,
      c = 0;
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        if (i === j) continue;
        const ps = psi(ds[i * B + j]!, mus),
          x = ps - psi(dt[i * B + j]!, mut);
        loss += huber(x);
        g[i * B + j] = huberGrad(x) / P;
        c += g[i * B + j]! * ps;
      }
    c /= P;
    const grad = new Float64Array(B * D);
    if (mus > 0)
      for (let k = 0; k < B; k++)
        for (let l = 0; l < B; l++) {
          const d = ds[k * B + l]!;
          if (k === l || d === 0) continue;
          const G = (2 * (g[k * B + l]! - c)) / mus;
          for (let e = 0; e < D; e++) grad[k * D + e] += (G * (s.data[k * D + e]! - s.data[l * D + e]!)) / d;
        }
    return [Float64Array.of(loss / P), grad];
  },
};

/** Unit difference vectors u_ij [B,B,D] (0 where e_j = e_i) and their lengths r [B,B]. */
function units(v: Value): [Float64Array[], Float64Array] {
  const [B, D] = v.shape as [number, number];
  const u: Float64Array[] = [],
    r = new Float64Array(B * B);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      const x = diff(v.data, D, i, j),
        len = norm(x);
      r[i * B + j] = len;
      u.push(len > 0 ? x.map((e) => e / len) : x.fill(0));
    }
  return [u, r];
}
const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, v, k) => acc + v * b[k]!, 0);

export const rkdAngle: OpDef = {
  schema: { inputs: [2, 2], outputs: 2, attrs: {} },
  trainingOnly: true,
  infer: inferRkd,
  evaluate(_n, ins) {
    const s = ins[0]!,
      t = ins[1]!;
    const [B, D] = s.shape as [number, number];
    const B3 = B * B * B;
    const [us, rs] = units(s),
      [ut] = units(t);
    const grad = new Float64Array(B * D);
    let loss = 0;
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        const uij = us[i * B + j]!,
          r = rs[i * B + j]!;
        const w = new Float64Array(D);
        for (let k = 0; k < B; k++) {
          const as = dot(uij, us[i * B + k]!),
            x = as - dot(ut[i * B + j]!, ut[i * B + k]!);
          loss += huber(x);
          const c = (2 * huberGrad(x)) / B3;
          for (let e = 0; e < D; e++) w[e] += c * (us[i * B + k]![e]! - as * uij[e]!);
        }
        if (r === 0) continue;
        for (let e = 0; e < D; e++) {
          grad[j * D + e] += w[e]! / r;
          grad[i * D + e] -= w[e]! / r;
        }
      }
    return [Float64Array.of(loss / B3), grad];
  },
};
