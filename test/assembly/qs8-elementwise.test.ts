// assembly/kernels/elementwise/qs8-elementwise.ts: Add_QS8's i32 rows (16-bit multiplier halves, dot_i16x8, shift
// 17..46, 8 and 16 outputs per step; BigInt proof; the shift-17 graphs saturate i16 before zp) and its i64 fallback, Quantize_QS8's SIMD blocks at the rounding and saturation edges; graphs byte for
// byte against the TS integer reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZPS, pick, numel, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

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

test.run();
