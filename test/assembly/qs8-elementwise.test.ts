// assembly/kernels/elementwise/qs8-elementwise.ts: Add_QS8's i32 rows (16-bit multiplier halves, dot_i16x8, shift
// 17..46, 8 and 16 outputs per step; BigInt proof; the shift-17 graphs saturate i16 before zp) and its i64 fallback,
// Quantize_QS8's and Quantize_QS8_RNE's SIMD blocks at the rounding and saturation edges, Add_QS8_FP32 over every pair
// of codes; graphs byte for byte against the TS integer reference, which the RNE / QLinearAdd tests check by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZPS, pick, numel, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { roundHalfEven } from '../../compiler/ir/requant.ts';

const { randInt, randI8, QGraph } = qs8Tools(20261131);

const i16 = (v: bigint) => BigInt.asIntN(16, v),
  i32 = (v: bigint) => BigInt.asIntN(32, v);

/** The spec (docs/quantization.md, Add_QS8) in exact integers. */
function addSpec(a: bigint, b: bigint, ma: bigint, mb: bigint, sh: bigint, zp: bigint, lo: bigint, hi: bigint): bigint {
  const v = ((a * ma + b * mb + (1n << (sh - 1n))) >> sh) + zp;
  return v < lo ? lo : v > hi ? hi : v;
}

/** addQs8RowSplit step by step in the wasm's widths (a, b already minus their zero points). */
function addSplitEmulated(
  a: bigint,
  b: bigint,
  ma: bigint,
  mb: bigint,
  sh: bigint,
  zp: bigint,
  lo: bigint,
  hi: bigint,
  wide: boolean,
): bigint {
  const mla = i16(ma),
    mlb = i16(mb),
    mha = (ma - mla) >> 16n,
    mhb = (mb - mlb) >> 16n;
  const dot = (x: bigint, y: bigint, u: bigint, v: bigint) => i32(i16(x) * i16(u) + i16(y) * i16(v));
  const H = dot(a, b, mha, mhb),
    L = dot(a, b, mla, mlb);
  const u = i32(i32(i32(H + (1n << (sh - 17n))) + (L >> 16n)) >> (sh - 16n));
  const sat16 = (v: bigint) => (v < -32768n ? -32768n : v > 32767n ? 32767n : v);
  // addQs8RowSplit: zp added in i32, then the saturating narrowing; addQs8Split16Loop: narrowing, then zp with saturation
  const h = wide ? sat16(sat16(u) + zp) : sat16(i32(u + zp));
  return h < lo ? lo : h > hi ? hi : h;
}

const splitOk = (m: bigint) => (m - i16(m)) >> 16n <= 32767n;

test('Add_QS8 split-multiplier i32 rows (8 and 16 per step) equal the spec: every a − zp_a in [−255, 255] against edge b, shifts 17..46, multiplier edges', () => {
  const MULT = [
    0n,
    1n,
    32767n,
    32768n,
    65535n,
    65536n,
    2n ** 30n,
    0x5a5a5a5an,
    2n ** 31n - 2n ** 16n,
    2n ** 31n - 2n ** 15n - 1n,
  ];
  const B = [-255n, -254n, -128n, -1n, 0n, 1n, 127n, 254n, 255n];
  const CLAMP: [bigint, bigint][] = [
    [-128n, 127n],
    [0n, 6n],
    [-128n, -128n],
  ];
  let n = 0;
  for (let sh = 17n; sh <= 46n; sh++)
    for (const ma of MULT)
      for (const mb of [MULT[randInt(0, MULT.length - 1)]!, 2n ** 31n - 2n ** 16n]) {
        assert.ok(splitOk(ma) && splitOk(mb), `mult ${ma} / ${mb} must take the split row`);
        const zp = BigInt(pick([-128, 127, 0, -37], n)),
          [lo, hi] = pick(CLAMP, n);
        for (let a = -255n; a <= 255n; a++)
          for (const b of [...B, BigInt(randInt(-255, 255))]) {
            const want = addSpec(a, b, ma, mb, sh, zp, lo, hi),
              got = addSplitEmulated(a, b, ma, mb, sh, zp, lo, hi, false),
              got16 = addSplitEmulated(a, b, ma, mb, sh, zp, lo, hi, true);
            if (got !== want || got16 !== want)
              assert.unreachable(
                `a' ${a} b' ${b} mult ${ma}/${mb} shift ${sh} zp ${zp} [${lo}, ${hi}]: ${got} / ${got16} vs ${want}`,
              );
            n++;
          }
      }
  assert.ok(!splitOk(2n ** 31n - 1n) && !splitOk(2n ** 31n - 2n ** 15n), 'high half 2^15 takes the i64 row');
  assert.ok(n > 500000);
});

const ACTS: Attrs[] = [
  { activation: 'none' },
  { activation: 'relu' },
  { activation: 'clip', clip: [0, 6] },
  { activation: 'clip', clip: [-0.5, 0.25] },
];

test('Add_QS8 rows: shifts 16 / 17 / 30 / 31 / 46 / 47, multipliers at the 2^15 high-half edge, zero points at the extremes, sizes 8 / 13 / 24 and broadcast rows', async () => {
  let i = 0;
  // r_a = sa / so with so = 1: 0.75·2^(31 − sh) gives exactly shift sh; 1 − 2^-15 and 1 − 2^-24 (shift 31) give
  // mult_a = 2^31 − 2^16 (high half 2^15 − 1: split row) and 2^31 − 2^7 (high half 2^15: i64 row)
  for (const [sa, label] of [
    [0.75 * 2 ** 15, 'shift 16'],
    [0.75 * 2 ** 14, 'shift 17'],
    [0.75 * 2, 'shift 30'],
    [0.75, 'shift 31'],
    [0.75 * 2 ** -15, 'shift 46'],
    [0.75 * 2 ** -16, 'shift 47'],
    [1 - 2 ** -15, 'mult 2^31 − 2^16'],
    [1 - 2 ** -24, 'mult 2^31 − 2^7'],
  ] as [number, string][])
    for (const [a, b] of [
      [
        [1, 2, 3, 8],
        [1, 2, 3, 8],
      ],
      [
        [2, 13],
        [2, 13],
      ],
      [[3, 24], [24]],
    ]) {
      const qg = new QGraph();
      const zpA = pick(ZPS, i),
        zpB = pick(ZPS, i + 1),
        zpOut = pick(ZPS, i + 2);
      const x = qg.input('a', a, q(sa, zpA));
      const y = qg.input('b', b, q(sa * pick([0.37, 1, 0.001], i), zpB));
      const g = qg.node('Add', [x, y], pick(ACTS, i), q(1, zpOut));
      const xa = randI8(numel(a)),
        xb = randI8(numel(b));
      xa[0] = 127;
      xa[1] = -128;
      xb[0] = -128;
      xb[1] = 127;
      await check(`add ${label} ${JSON.stringify(a)}+${JSON.stringify(b)} zp ${zpA}/${zpB}/${zpOut}`, g, {
        a: xa,
        b: xb,
      });
      i++;
    }
});

test('Add_QS8 with both inputs row-major like the output runs as one row: trailing size-1 dims, sizes with a scalar tail, against broadcasts of the same shapes', async () => {
  let i = 0;
  for (const [a, b] of [
    [
      [1, 5, 5, 3],
      [1, 5, 5, 3],
    ],
    [
      [2, 13, 1],
      [2, 13, 1],
    ],
    [
      [1, 7, 1, 1],
      [1, 7, 1, 1],
    ],
    [
      [4, 6, 8],
      [4, 6, 8],
    ],
    [
      [4, 6, 8],
      [1, 6, 8],
    ],
    [
      [3, 1],
      [3, 5],
    ],
  ]) {
    const qg = new QGraph();
    const x = qg.input('a', a, q(0.11, pick(ZPS, i)));
    const y = qg.input('b', b, q(0.07, pick(ZPS, i + 1)));
    const g = qg.node('Add', [x, y], pick(ACTS, i), q(0.13, pick(ZPS, i + 2)));
    await check(`add ${JSON.stringify(a)}+${JSON.stringify(b)}`, g, { a: randI8(numel(a)), b: randI8(numel(b)) });
    i++;
  }
});

test('Quantize_QS8 SIMD blocks: the clamp and the half-away rounding — values around ±0.5, ±1.5, ±127.5, ±256 (the clamp before rounding), ±2^24, ±2^31, ±f32 max, ±∞, NaN, with zero points at the extremes', async () => {
  const around = [
    Math.fround(0.5 - 2 ** -25),
    Math.fround(0.5 + 2 ** -24),
    1.5,
    Math.fround(1.5 - 2 ** -23),
    2.5,
    Math.fround(2.5 + 2 ** -22),
    Math.fround(127.5 - 2 ** -17),
    127.5,
    128.5,
    126.5,
    255.5,
    Math.fround(256 - 2 ** -16),
    256,
    256.5,
    2 ** 24,
    2 ** 24 + 2,
    2 ** 31 - 128,
    2 ** 31,
    2 ** 31 + 256,
    2 ** 32,
    3.4e38,
    Infinity,
  ];
  const ts = [...around, ...around.map((v) => -v), NaN, 0, -0, 0.5, -0.5];
  for (const [scale, zp] of [
    [1, 0],
    [1, 127],
    [1, -128],
    [0.5, -1],
    [3, 64],
  ]) {
    const qg = new QGraph();
    const g = qg.node('Quantize', [qg.input('x', [ts.length * 2], undefined, 'float32')], {}, q(scale, zp));
    // both orders: every value lands in a 16-value SIMD block and some in the scalar tail
    const xs = Float32Array.from([...ts, ...ts.slice().reverse()], (t) => t * scale);
    await check(`quantize edges scale ${scale} zp ${zp}`, g, { x: xs });
  }
});

test('Quantize_QS8_RNE (onnxruntime): ties to even, the clamp before the magic add (around −1.5·2^23, where it would wrap), ±2^22, ±∞, NaN → zp, zero points at the extremes, lengths off the 16 block', async () => {
  const f = Math.fround;
  const ties = Array.from({ length: 281 }, (_, j) => j - 140.5);
  const edges = [
    f(0.5 - 2 ** -25),
    f(0.5 + 2 ** -24),
    f(2.5 + 2 ** -22),
    126.5,
    127.5,
    128.5,
    255.5,
    256,
    256.5,
    2 ** 22,
    2 ** 22 + 1,
    2 ** 23,
    12582911,
    12582912,
    12582913,
    12582914.5 - 0.5,
    2 ** 24,
    2 ** 30,
    2 ** 31,
    3.4e38,
    Infinity,
  ];
  const ts = [...ties, ...edges, ...edges.map((v) => -v), NaN, 0, -0];
  for (const [scale, zp, n] of [
    [1, 0, ts.length],
    [0.25, 127, ts.length - 1],
    [0.5, -128, ts.length - 15],
    [2, -1, ts.length - 3],
    [0.125, 64, 17],
  ] as const) {
    const qg = new QGraph();
    qg.g.int8Arithmetic = 'onnxruntime';
    const g = qg.node('Quantize', [qg.input('x', [n], undefined, 'float32')], {}, q(scale, zp));
    const x = Float32Array.from(ts.slice(0, n), (t) => t * scale);
    // the TS reference against the rule itself: NaN → zp, else clamp(round_half_even(x / scale) + zp)
    const want = evaluate(g, { x }).y!;
    for (let i = 0; i < n; i++) {
      const t = f(x[i]! / scale);
      const r = Number.isNaN(t) ? zp : Math.min(127, Math.max(-128, roundHalfEven(t) + zp));
      assert.is(want[i], r, `reference at ${t}`);
    }
    if (scale === 1)
      for (const [t, r] of [
        [0.5, 0],
        [1.5, 2],
        [2.5, 2],
        [-0.5, 0],
        [-1.5, -2],
        [-2.5, -2],
        [126.5, 126],
        [-127.5, -128],
      ])
        assert.is(want[ts.indexOf(t!)], r, `round(${t})`);
    await check(`quantize rne scale ${scale} zp ${zp} n ${n}`, g, { x });
  }
});

test('Add_QS8_FP32 (onnxruntime QLinearAdd): every pair of codes, ties of f32(v + zp + 128), zero points at the extremes, ReLU, b broadcast, lengths off the 16 block, scale ratios past the bound of the unclamped loop', async () => {
  const a = Int8Array.from({ length: 65536 }, (_, i) => (i & 255) - 128),
    b = Int8Array.from({ length: 65536 }, (_, i) => (i >> 8) - 128);
  const cases: [number[], number[], number[], Attrs, number][] = [
    [[0.1, 1], [0.1, 1], [0.2, 1], {}, 65536],
    [[0.05, -128], [0.05, 127], [0.1, 0], {}, 65536 - 3],
    [[0.02, 5], [0.03, -7], [0.04, 3], { activation: 'relu' }, 65536 - 15],
    [[0.031, 127], [0.007, -128], [0.019, -128], {}, 17],
    // 255·(s_a + s_b) / s_out past 2^22: the loop that clamps v before the rounding
    [[1, 3], [0.5, -2], [2 ** -14, 7], {}, 65536 - 1],
    [[0.5, 0], [0.25, 0], [1e-4, -100], { activation: 'relu' }, 4099],
  ];
  for (const [[sa, za], [sb, zb], [so, zo], act, n] of cases) {
    const qg = new QGraph();
    qg.g.int8Arithmetic = 'onnxruntime';
    const g = qg.node('Add', [qg.input('a', [n], q(sa!, za!)), qg.input('b', [n], q(sb!, zb!))], act, q(so!, zo!));
    const label = `add fp32 ${[sa, za, sb, zb, so, zo]} n ${n}`;
    await check(label, g, { a: a.slice(0, n), b: b.slice(0, n) });
    // b one row broadcast over 4 rows of 33
    const qb = new QGraph();
    qb.g.int8Arithmetic = 'onnxruntime';
    const gb = qb.node(
      'Add',
      [qb.input('a', [4, 33], q(sa!, za!)), qb.input('b', [33], q(sb!, zb!))],
      act,
      q(so!, zo!),
    );
    await check(`${label} broadcast`, gb, { a: a.slice(200, 332), b: b.slice(7000, 7033) });
  }
  // the reference against the formula by hand: 0.1·(3 − 1) + 0.1·(−128 − 1) = −12.7; / 0.2 = −63.5 − 2^−18 (f32);
  // + (1 + 128) = 65.5 − 2^−18 halfway between two f32s, so 65.5 (even), a tie again: 66, less 128 → −62
  // (onnxruntime-web's byte; v + 1 = −62.5 − 2^−18 is exact: −63)
  const qg = new QGraph();
  qg.g.int8Arithmetic = 'onnxruntime';
  const g = qg.node('Add', [qg.input('a', [1], q(0.1, 1)), qg.input('b', [1], q(0.1, 1))], {}, q(0.2, 1));
  assert.equal(Array.from(evaluate(g, { a: Int8Array.of(3), b: Int8Array.of(-128) }).y!), [-62]);
});

test.run();
