// qs8 GEMM (4x8c2 SIMD, 2x2 scalar) requantisation paths: one shift shared by every channel at 31 / 32 and above 54 (vector path of
// requant4), 33..54 (the GEMM's 8-lane path on the high words in i32), and per-channel shifts; M, N around the
// 4x8 tile and small K (the 1x1 convs of MobileNetV2), byte for byte against the TS integer reference; and M mod 4 = 3,
// where the 4x8 tile's rows past M store the last row's bytes over it, in both requantisations. The 4x8 tile's E40
// path (one shift 32..40, weights and bias times 2^(40 − s), shiftE40): its accumulation and epilogue emulated in BigInt
// over the accumulators its bias limit allows, and Dense graphs at and one past that limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZPS, pick, q, check, qs8Tools, requantSpec, requantE40Scaled } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';
import { accumulatorFits } from '../../compiler/ir/quant.ts';

const { randInt, randI8, QGraph } = qs8Tools(20261129);

/** shiftE40's limit on every |bias| (the qc bias row, zp_in folded in) for shift s and K: the accumulator's
 *  |bias + Σ x·w| ≤ |bias| + K·2^14 stays ≤ 2^(31−e) − 1 = 2^(s−9) − 1. */
const e40Limit = (s: number, K: number) => 2 ** (s - 9) - 1 - K * 2 ** 14;

/** One column of the 4x8 tile's E40 path in the wasm's widths: the bias times 2^e (i32), per k pair a dot of two row
 *  values with the weights times 2^e (each an i16, zero past K), summed in wrapping i32: the accumulator times 2^e. */
function accE40(x: ArrayLike<number>, w: ArrayLike<number>, bias: number, e: number): bigint {
  const f = 2 ** e,
    K = x.length;
  let acc = (bias * f) | 0;
  for (let k = 0; k < K; k += 2) {
    const w0 = w[k]! * f,
      w1 = k + 1 < K ? w[k + 1]! * f : 0;
    if ((w0 << 16) >> 16 !== w0 || (w1 << 16) >> 16 !== w1) throw new Error(`w·2^${e} is no i16`);
    acc = (acc + ((x[k]! * w0 + (k + 1 < K ? x[k + 1]! * w1 : 0)) | 0)) | 0;
  }
  return BigInt(acc);
}

test('4x8 tile E40 path, emulated: every shift 32..40, K 1..1024, biases at ±limit, x and w at ±128: exact i32 accumulator, requantQs8 bytes', () => {
  const MULT = [1n, 2n ** 15n, 2n ** 30n, 2n ** 30n + 1n, 2n ** 31n - 1n];
  const CLAMP: [bigint, bigint][] = [
    [-128n, 127n],
    [0n, 6n],
    [-128n, -128n],
  ];
  let n = 0,
    edges = 0;
  for (let s = 32; s <= 40; s++) {
    const e = 40 - s;
    for (const K of [1, 2, 16, 27, 33, 160, 511, 576, 960, 1024]) {
      const lim = e40Limit(s, K);
      if (lim < 0) continue;
      const cases: [number[], number[], number][] = [];
      const fill = (v: number) => Array.from({ length: K }, () => v);
      const rnd = () => Array.from(randI8(K));
      // the largest accumulator (2^(s−9) − 1 at bias = lim), the most negative ones, and random rows and weights
      for (const b of [lim, -lim, 0, randInt(-lim, lim)]) {
        cases.push([fill(-128), fill(-128), b], [fill(127), fill(-128), b], [fill(-128), fill(127), b]);
        cases.push([rnd(), rnd(), b], [rnd(), fill(-128), b]);
      }
      // accumulators around the rounding boundaries of this shift: the bias carries them (x = 0)
      for (const mult of MULT)
        for (let j = -300; j <= 300; j += 37) {
          const b = Number(((BigInt(j) << BigInt(s)) - (1n << BigInt(s - 1))) / mult);
          for (const d of [-1, 0, 1]) if (Math.abs(b + d) <= lim) cases.push([fill(0), fill(0), b + d]);
        }
      for (const [x, w, b] of cases) {
        let want = BigInt(b);
        for (let k = 0; k < K; k++) want += BigInt(x[k]! * w[k]!);
        const acc = accE40(x, w, b, e);
        if (acc !== want << BigInt(e)) assert.unreachable(`s ${s} K ${K} bias ${b}: i32 ${acc} vs ${want} · 2^${e}`);
        if (want === (1n << BigInt(s - 9)) - 1n) edges++;
        for (const mult of MULT)
          for (const zp of [-128n, 0n, 127n])
            for (const [lo, hi] of CLAMP) {
              const r = requantSpec(want, mult, BigInt(s), zp, lo, hi),
                got = requantE40Scaled(acc, mult, zp, lo, hi);
              if (got !== r) assert.unreachable(`s ${s} K ${K} acc ${want} mult ${mult} zp ${zp}: ${got} vs ${r}`);
              n++;
            }
      }
    }
  }
  // every shift reached its largest accumulator at least once per K
  assert.ok(edges >= 9 * 4, `${edges} edge accumulators`);
  assert.ok(n > 100000, `${n} cases`);
});

test('Dense_QS8 on the 4x8 tile E40 path: shift 32..41, biases at and one past the limit with x and w at ±128, and random; M, N, K around the tile', async () => {
  let i = 0,
    e40 = 0;
  for (let s = 32; s <= 41; s++)
    for (const [M, K, N] of [
      [12, 16, 8],
      [13, 33, 16],
      [15, 24, 17],
      [11, 511, 9],
    ] as [number, number, number][])
      for (const mode of ['random', 'limit', 'past limit'] as const) {
        const lim = e40Limit(s, K);
        if (mode !== 'random' && lim < 0) continue;
        const qg = new QGraph();
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 3);
        // input·weight / output scale ratio 1.5·2^(30 − s) gives shift s
        const sIn = 0.02,
          sW = 0.004,
          sOut = (sIn * sW) / (1.5 * 2 ** (30 - s));
        const xs = mode === 'random' ? randI8(M * K) : Int8Array.from({ length: M * K }, () => -128);
        const w = qg.weights(
          'w',
          [N, K],
          Array.from({ length: N }, () => sW),
        );
        const wd = qg.g.tensors.get(w)!.data as Int8Array;
        const bias = Int32Array.from({ length: N }, () => randInt(-3000, 3000));
        if (mode !== 'random') {
          // column 0 reaches the largest accumulator (bias lim, x·w = 2^14 per k), column 1 the most negative one;
          // one past the limit must take the other path (else column 0's accumulator times 2^e wraps)
          const d = mode === 'limit' ? 0 : 1;
          for (let k = 0; k < K; k++) {
            wd[k] = -128;
            wd[K + k] = 127;
          }
          let s0 = 0,
            s1 = 0;
          for (let k = 0; k < K; k++) {
            s0 += wd[k]!;
            s1 += wd[K + k]!;
          }
          // the folded bias (compiler/lower/int8.ts) is bias − zp_in·Σw
          bias[0] = lim + d + zpIn * s0;
          bias[1] = -(lim + d) + zpIn * s1;
          // at s = 40 (e = 0) the compiler's own accumulator bound (the reference twins' i32 sums) comes first
          if (!accumulatorFits(bias[0], zpIn, s0, -s0) || !accumulatorFits(bias[1], zpIn, s1, s1)) continue;
        }
        qg.g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [N], data: bias });
        const g = qg.node('Dense', [qg.input('x', [M, K], q(sIn, zpIn)), w, 'b'], pick(ACTS, i), q(sOut, zpOut));
        if (s <= 40 && mode !== 'past limit' && M > 8 && (mode === 'limit' || 3000 + Math.abs(zpIn) * 127 * K <= lim))
          e40++;
        await check(`dense E40 s${s} M${M} K${K} N${N} ${mode} zp ${zpIn}/${zpOut}`, g, { x: xs });
        i++;
      }
  assert.ok(e40 > 20, `${e40} graphs on the E40 path`);
});

test('Dense_QS8 GEMM requantisation: shared shift 31 / 32 / 33 / 41 / 54 / 55, per-channel shifts; M, N around the tile; K 16..33', async () => {
  let i = 0;
  // input·weight / output scale ratios: [0.5, 1) → shift 31, [0.25, 0.5) → 32, [0.125, 0.25) → 33, ~2^-10 → 41,
  // [2^-24, 2^-23) → 54 (the 8-lane path's last shift), [2^-25, 2^-24) → 55
  for (const ratio of [0.75, 0.3, 0.2, 0.0009, 1.5 * 2 ** -24, 1.5 * 2 ** -25, -1])
    for (const [M, K, N] of [
      [4, 16, 8],
      [3, 16, 16],
      [5, 24, 9],
      [9, 32, 24],
      [17, 17, 15],
      [8, 33, 40],
    ] as [number, number, number][]) {
      const qg = new QGraph();
      const zpIn = pick(ZPS, i),
        zpOut = pick(ZPS, i + 2);
      const sIn = 0.02,
        sW = 0.004;
      const x = qg.input('x', [M, K], q(sIn, zpIn));
      const w = qg.weights(
        'w',
        [N, K],
        Array.from({ length: N }, (_, c) => (ratio < 0 ? 1e-5 * 16 ** (c % 5) : sW)),
      );
      // tiny ratios need accumulators near 2^30 (a large bias) to give outputs beyond the zero point
      const tiny = ratio > 0 && ratio < 2 ** -20;
      const b = i % 2 && !tiny ? '' : qg.bias('b', N, tiny ? 2 ** 30 : 3000);
      const sOut = ratio < 0 ? 0.05 : (sIn * sW) / ratio;
      const g = qg.node('Dense', b ? [x, w, b] : [x, w], i % 3 === 1 ? { activation: 'relu' } : {}, q(sOut, zpOut));
      await check(`dense ratio ${ratio} M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, { x: randI8(M * K) });
      i++;
    }
});

const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];

test('Dense_QS8 and Dense_QS8_FP32 on the 4x8 tile: M mod 4 = 3 (rows past M store over the last row), K 8..40, N 8..24; shared and per-channel shifts, clamped or not', async () => {
  let i = 0;
  for (const tflite of [false, true])
    for (const [M, K, N] of [
      [7, 8, 8],
      [11, 27, 16],
      [3, 40, 24],
      [15, 13, 9],
      [8, 16, 24],
    ] as [number, number, number][])
      for (const perChannel of [false, true]) {
        const qg = new QGraph();
        if (tflite) qg.g.int8Arithmetic = 'tflite';
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 1);
        const x = qg.input('x', [M, K], q(0.02, zpIn));
        // per-channel scales 16^c apart give each channel its own shift; one scale, one shift (the 8-lane path)
        const w = qg.weights(
          'w',
          [N, K],
          Array.from({ length: N }, (_, c) => (perChannel ? 1e-5 * 16 ** (c % 5) : 0.004)),
        );
        const g = qg.node('Dense', [x, w, qg.bias('b', N, 3000)], ACTS[i % 3]!, q(0.05, zpOut));
        await check(
          `dense ${tflite ? 'fp32 ' : ''}M${M} K${K} N${N} ${perChannel ? 'per-channel' : 'shared'} zp ${zpIn}/${zpOut}`,
          g,
          {
            x: randI8(M * K),
          },
        );
        i++;
      }
});

test.run();
