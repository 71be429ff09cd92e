// The closed-form factorisations (compiler/compress/low-rank.ts) against their definitions, float64: truncated SVD
// (Eckart–Young: ‖W − W_r‖² = Σ_{i≥r} s_i²), Tai et al.'s separable pair (the same identity on the (Ci·KH)×(Co·KW)
// rearrangement, checked by rebuilding W from the two filters), Tucker-2 by HOSVD (orthonormal mode factors; the
// reconstruction is the projection, so ‖W − Ŵ‖² = ‖W‖² − ‖core‖² ≤ the two modes' discarded energies). Tolerance
// 1e-10·‖W‖² on squared errors (float64 rounding of the Gram route).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  matrixSvd,
  svdFactors,
  tailEnergy,
  taiFactors,
  taiSvd,
  tuckerFactors,
  tuckerModes,
  type ConvShape,
} from '../../../compiler/compress/low-rank.ts';
import { randomValues } from '../ir/build-graph.ts';

const sq = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! ** 2;
  return s;
};
const diffSq = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
};

function orthonormal(xs: Float64Array[], r: number): number {
  let e = 0;
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let d = 0;
      for (let t = 0; t < xs[i]!.length; t++) d += xs[i]![t]! * xs[j]![t]!;
      e = Math.max(e, Math.abs(d - (i === j ? 1 : 0)));
    }
  return e;
}

test('Dense SVD 12x20: at every rank r, ‖W − B·A‖² = Σ discarded s² (Eckart–Young); full rank rebuilds W', () => {
  const [N, K] = [12, 20];
  const w = randomValues(N * K, 3);
  const d = matrixSvd(w, N, K);
  assert.ok(orthonormal(d.u, N) < 1e-12 && orthonormal(d.v, N) < 1e-12);
  for (let r = 1; r <= N; r++) {
    const { first, second } = svdFactors(d, N, K, r);
    const rec = new Float64Array(N * K);
    for (let o = 0; o < N; o++)
      for (let c = 0; c < K; c++) for (let j = 0; j < r; j++) rec[o * K + c] += second[o * r + j]! * first[j * K + c]!;
    const err = diffSq(w, rec);
    assert.ok(Math.abs(err - tailEnergy(d.s, r)) <= 1e-10 * sq(w), `r ${r}: ${err} vs ${tailEnergy(d.s, r)}`);
  }
});

const tai = (w: ArrayLike<number>, s: ConvShape, r: number) => {
  const d = taiSvd(w, s);
  const { vertical, horizontal } = taiFactors(d, s, r);
  // Ŵ[o,y,x,c] = Σ_j horizontal[o,0,x,j]·vertical[j,y,0,c]: the k×1 filter then the 1×k one
  const rec = new Float64Array(s.co * s.kh * s.kw * s.ci);
  for (let o = 0; o < s.co; o++)
    for (let y = 0; y < s.kh; y++)
      for (let x = 0; x < s.kw; x++)
        for (let c = 0; c < s.ci; c++) {
          let acc = 0;
          for (let j = 0; j < r; j++) acc += horizontal[(o * s.kw + x) * r + j]! * vertical[(j * s.kh + y) * s.ci + c]!;
          rec[((o * s.kh + y) * s.kw + x) * s.ci + c] = acc;
        }
  return { d, rec };
};

for (const s of [
  { co: 8, kh: 3, kw: 3, ci: 4 },
  { co: 5, kh: 7, kw: 7, ci: 3 },
  { co: 6, kh: 3, kw: 5, ci: 2 },
]) {
  test(`Tai separable ${s.kh}x${s.kw} ${s.ci}->${s.co}: ‖W − Ŵ_r‖² = Σ discarded s² at every rank; full rank rebuilds W`, () => {
    const w = randomValues(s.co * s.kh * s.kw * s.ci, s.kh * 10 + s.co);
    const full = Math.min(s.ci * s.kh, s.co * s.kw);
    for (let r = 1; r <= full; r++) {
      const { d, rec } = tai(w, s, r);
      assert.ok(orthonormal(d.u, full) < 1e-12 && orthonormal(d.v, full) < 1e-12);
      const err = diffSq(w, rec);
      assert.ok(Math.abs(err - tailEnergy(d.s, r)) <= 1e-10 * sq(w), `r ${r}: ${err} vs ${tailEnergy(d.s, r)}`);
      if (r === full) assert.ok(err <= 1e-20 * w.length + 1e-24, `full rank error ${err}`);
    }
  });
}

test('Tai separable: a kernel that is an outer product (rank 1 per channel pair) is exact at rank 1', () => {
  const s = { co: 4, kh: 3, kw: 3, ci: 2 };
  const col = [1, -2, 0.5],
    row = [0.25, 1, -1],
    a = randomValues(2, 8),
    b = randomValues(4, 9);
  const w = new Float64Array(72);
  for (let o = 0; o < 4; o++)
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 3; x++)
        for (let c = 0; c < 2; c++) w[((o * 3 + y) * 3 + x) * 2 + c] = b[o]! * row[x]! * col[y]! * a[c]!;
  const { d, rec } = tai(w, s, 1);
  assert.ok(d.s[1]! <= 1e-7 * d.s[0]!, `s1 ${d.s[1]}`);
  assert.ok(diffSq(w, rec) <= 1e-24, String(diffSq(w, rec)));
});

for (const [s, rIn, rOut] of [
  [{ co: 6, kh: 3, kw: 3, ci: 5 }, 3, 4],
  [{ co: 16, kh: 3, kw: 3, ci: 8 }, 8, 16],
  [{ co: 4, kh: 5, kw: 1, ci: 9 }, 2, 2],
] as const) {
  test(`Tucker-2 ${s.kh}x${s.kw} ${s.ci}->${s.co} ranks ${rIn}/${rOut}: orthonormal factors; error² = ‖W‖² − ‖core‖² ≤ discarded energies`, () => {
    const w = randomValues(s.co * s.kh * s.kw * s.ci, s.ci * 7 + s.co);
    const m = tuckerModes(w, s);
    assert.ok(orthonormal(m.inU, s.ci) < 1e-12 && orthonormal(m.outU, s.co) < 1e-12);
    const { first, core, last } = tuckerFactors(w, m, s, rIn, rOut);
    const taps = s.kh * s.kw;
    const rec = new Float64Array(w.length);
    for (let o = 0; o < s.co; o++)
      for (let t = 0; t < taps; t++)
        for (let c = 0; c < s.ci; c++) {
          let acc = 0;
          for (let j2 = 0; j2 < rOut; j2++)
            for (let j1 = 0; j1 < rIn; j1++)
              acc += last[o * rOut + j2]! * core[(j2 * taps + t) * rIn + j1]! * first[j1 * s.ci + c]!;
          rec[(o * taps + t) * s.ci + c] = acc;
        }
    const err = diffSq(w, rec);
    assert.ok(Math.abs(err - (sq(w) - sq(core))) <= 1e-10 * sq(w), `${err} vs ${sq(w) - sq(core)}`);
    assert.ok(err <= tailEnergy(m.inS, rIn) + tailEnergy(m.outS, rOut) + 1e-10 * sq(w));
    if (rIn === s.ci && rOut === s.co) assert.ok(err <= 1e-20 * w.length, `full ranks: ${err}`);
  });
}

test.run();
