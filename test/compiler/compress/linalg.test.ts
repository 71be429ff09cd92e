// The factorisation's linear algebra (compiler/compress/linalg.ts) against its definitions: A = U·S·Vᵀ and
// A·v = λ·v to 1e-12 relative, orthonormal factors to 1e-12, singular values of matrices built from known
// orthogonal factors, completion of the basis for rank-deficient input, and the energy → rank rule.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { energyRank, svd, symmetricEigen } from '../../../compiler/compress/linalg.ts';
import { rng } from '../ir/build-graph.ts';

const TOL = 1e-12;

function random(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => r() * 2 - 1);
}

function frob(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! ** 2;
  return Math.sqrt(s);
}

/** max |⟨x_i, x_j⟩ − δ_ij| */
function orthoError(xs: Float64Array[]): number {
  let e = 0;
  for (let i = 0; i < xs.length; i++)
    for (let j = 0; j < xs.length; j++) {
      let d = 0;
      for (let t = 0; t < xs[i]!.length; t++) d += xs[i]![t]! * xs[j]![t]!;
      e = Math.max(e, Math.abs(d - (i === j ? 1 : 0)));
    }
  return e;
}

for (const [m, n] of [
  [1, 1],
  [1, 6],
  [6, 1],
  [5, 3],
  [3, 5],
  [12, 12],
  [24, 40],
  [40, 9],
] as const) {
  test(`svd ${m}x${n}: U·S·Vᵀ = A within 1e-12·‖A‖, U and V orthonormal, s descending ≥ 0`, () => {
    const a = random(m * n, m * 100 + n);
    const { s, u, v } = svd(a, m, n);
    assert.is(s.length, Math.min(m, n));
    let worst = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let x = 0;
        for (let k = 0; k < s.length; k++) x += s[k]! * u[k]![i]! * v[k]![j]!;
        worst = Math.max(worst, Math.abs(x - a[i * n + j]!));
      }
    assert.ok(worst <= TOL * frob(a), `reconstruction ${worst}`);
    assert.ok(orthoError(u) <= TOL && orthoError(v) <= TOL, `orthogonality ${orthoError(u)} ${orthoError(v)}`);
    for (let k = 1; k < s.length; k++) assert.ok(s[k]! <= s[k - 1]! && s[k]! >= 0);
  });
}

test('svd of Q1·diag(7, 3, 0.5, 0.01)·Q2ᵀ (Householder Q1, Q2) recovers the singular values to 1e-12 relative', () => {
  const want = [7, 3, 0.5, 0.01];
  const householder = (n: number, seed: number) => {
    const v = random(n, seed),
      nv = frob(v) ** 2;
    return Array.from({ length: n }, (_, i) =>
      Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) - (2 * v[i]! * v[j]!) / nv),
    );
  };
  const q1 = householder(6, 3),
    q2 = householder(4, 5);
  const a = new Float64Array(24);
  for (let i = 0; i < 6; i++)
    for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) a[i * 4 + j] += q1[i]![k]! * want[k]! * q2[j]![k]!;
  const { s } = svd(a, 6, 4);
  want.forEach((w, k) => assert.ok(Math.abs(s[k]! - w) <= 1e-12 * 7, `s${k} ${s[k]} vs ${w}`));
});

test('svd of a rank-1 6x4 matrix: one nonzero value, the zero ones still get orthonormal completions', () => {
  const a = Float64Array.from({ length: 24 }, (_, t) => (Math.floor(t / 4) + 1) * ((t % 4) + 1));
  const { s, u, v } = svd(a, 6, 4);
  assert.ok(Math.abs(s[0]! - Math.sqrt(91 * 30)) <= 1e-12 * s[0]!, String(s[0]));
  for (let k = 1; k < 4; k++) assert.ok(s[k]! <= 1e-7 * s[0]!, `s${k} = ${s[k]}`);
  assert.ok(orthoError(u) <= TOL && orthoError(v) <= TOL);
});

for (const n of [1, 2, 7, 30]) {
  test(`symmetricEigen ${n}x${n}: A·v = λ·v within 1e-12·‖A‖, vectors orthonormal, values descending`, () => {
    const r = random(n * n, n);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j]! + r[j * n + i]!;
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * vectors[k]![j]!;
        assert.ok(Math.abs(av - values[k]! * vectors[k]![i]!) <= TOL * frob(a), `λ${k} row ${i}`);
      }
      if (k > 0) assert.ok(values[k]! <= values[k - 1]!);
    }
    assert.ok(orthoError(vectors) <= TOL);
  });
}

test('symmetricEigen: repeated eigenvalues (diag 2,2,2,-1 and the zero matrix) still give an orthonormal basis', () => {
  const d = new Float64Array(16);
  [2, -1, 2, 2].forEach((x, i) => {
    d[i * 5] = x;
  });
  const e = symmetricEigen(d, 4);
  assert.equal(Array.from(e.values), [2, 2, 2, -1]);
  assert.ok(orthoError(e.vectors) <= TOL);
  assert.ok(orthoError(symmetricEigen(new Float64Array(9), 3).vectors) <= TOL);
});

test('energyRank: smallest r whose Σ s² share reaches the energy (s = 3, 2, 1: shares 9/14, 13/14, 1)', () => {
  const s = [3, 2, 1];
  assert.is(energyRank(s, 0.5), 1);
  assert.is(energyRank(s, 9 / 14), 1);
  assert.is(energyRank(s, 0.7), 2);
  assert.is(energyRank(s, 13 / 14), 2);
  assert.is(energyRank(s, 0.93), 3);
  assert.is(energyRank(s, 1), 3);
});

test.run();
