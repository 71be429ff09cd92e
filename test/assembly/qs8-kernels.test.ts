// int8 kernels over a generated grid: each case is a one-node int8 IR graph (random int8 weights,
// realistic scales, zero points at the extremes, multipliers across the shift range, clamps), lowered
// and packed by compiler/lower/int8.ts, run in simd/scalar x fast/reference (byte-identical, runAll) and
// compared byte for byte with the TS integer reference (evaluate() → each op file's int8.evaluate, compiler/ir/ops/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { variantByName } from '../../compiler/kernels/registry.ts';
import { ZPS, pick, numel, q, check, qs8Tools } from './qs8-harness.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { runAll } from './harness.ts';
import type { Attrs, Graph } from '../../compiler/ir/graph.ts';

const { r, randI8, QGraph } = qs8Tools(20261128);

const ACTS: Attrs[] = [
  { activation: 'none' },
  { activation: 'relu' },
  { activation: 'clip', clip: [0, 6] },
  { activation: 'clip', clip: [-0.5, 0.25] },
];

/** Sizes equal to, below, above and multiples of a tile dimension. */
const around = (t: number) => [...new Set([1, t - 1, t, t + 1, 2 * t + 1, 4 * t + 1].filter((v) => v >= 1))];
const GEMM = variantByName('qs8-gemm-4x8c2-wasmsimd');

test(`Dense_QS8: M, K, N around the ${GEMM.name} tile (from the kernel registry), zero points at the extremes, shifts across the range`, async () => {
  let i = 0;
  for (const M of around(GEMM.tile!.mr))
    for (const K of around(GEMM.tile!.kr).concat([33, 130]))
      for (const N of around(GEMM.tile!.nr).concat([17])) {
        const qg = new QGraph();
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 2);
        const sIn = 0.02 * 2 ** (i % 5),
          sOut = 0.05 * 2 ** (((i * 3) % 11) - 4);
        const x = qg.input('x', [M, K], q(sIn, zpIn));
        // every third case spreads the channel scales by 2^16: per-channel shifts instead of one shared shift
        const w = qg.weights(
          'w',
          [N, K],
          Array.from({ length: N }, (_, c) =>
            i % 3 === 1 ? 1e-5 * 16 ** (c % 5) : 0.003 * (1 + (c % 5)) * 2 ** ((c % 3) - 1),
          ),
        );
        const b = i % 3 === 2 ? '' : qg.bias('b', N, 4000);
        const g = qg.node('Dense', b ? [x, w, b] : [x, w], pick(ACTS, i), q(sOut, zpOut));
        await check(`dense M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, { x: randI8(M * K) });
        i++;
      }
});

test('Dense_QS8: K beyond the static i16 panel (4096) takes the heap panel', async () => {
  const qg = new QGraph();
  const M = 5,
    K = 4101,
    N = 11;
  const x = qg.input('x', [M, K], q(0.01, -128));
  const w = qg.weights('w', [N, K], new Array(N).fill(0.0002));
  const g = qg.node('Dense', [x, w, qg.bias('b', N, 100000)], {}, q(0.3, 127));
  await check(`dense M${M} K${K} N${N}`, g, { x: randI8(M * K) });
});

interface ConvCase {
  h: number;
  w: number;
  ci: number;
  co: number;
  k: [number, number];
  s: number;
  d: number;
  pad: Attrs['padding'];
  groups: number;
}
const CONV: ConvCase[] = [];
for (const k of [
  [1, 1],
  [3, 3],
  [5, 5],
  [1, 7],
  [7, 1],
] as [number, number][])
  for (const [ci, co] of [
    [1, 1],
    [3, 5],
    [8, 16],
    [9, 17],
  ])
    for (const s of [1, 2])
      CONV.push({
        h: 7 + (ci % 3),
        w: 9 - (co % 3),
        ci,
        co,
        k,
        s,
        d: k[0] === 3 && ci === 3 ? 2 : 1,
        pad: (ci + s) % 3 === 0 ? 'valid' : ci % 2 ? 'same' : [1, 0, 2, 1],
        groups: 1,
      });
CONV.push({ h: 6, w: 5, ci: 6, co: 9, k: [3, 3], s: 1, d: 1, pad: 'same', groups: 3 });
CONV.push({ h: 5, w: 5, ci: 4, co: 6, k: [1, 1], s: 1, d: 1, pad: 'valid', groups: 2 });
CONV.push({ h: 4, w: 4, ci: 33, co: 7, k: [1, 1], s: 1, d: 1, pad: 'valid', groups: 1 });
// im2col's bulk paths: a kernel row of ≥ 64 bytes (33 channels × 3 taps) copied at once, and taps of ≥ 64
// channels one by one (two groups of 65; zp-filled border taps)
CONV.push({ h: 5, w: 6, ci: 33, co: 9, k: [3, 3], s: 1, d: 1, pad: 'same', groups: 1 });
CONV.push({ h: 4, w: 5, ci: 130, co: 6, k: [3, 3], s: 2, d: 1, pad: 'same', groups: 2 });

test('Conv2D_QS8: 1x1 / 3x3 / 5x5 / 1x7 / 7x1, odd channels, strides, paddings, dilation, groups', async () => {
  let i = 0;
  for (const c of CONV) {
    const qg = new QGraph();
    const zpIn = pick(ZPS, i + 1),
      zpOut = pick(ZPS, i + 3);
    const x = qg.input('x', [i % 4 === 0 ? 2 : 1, c.h, c.w, c.ci], q(0.03 * 2 ** ((i % 4) - 1), zpIn));
    const w = qg.weights(
      'w',
      [c.co, c.k[0], c.k[1], c.ci / c.groups],
      Array.from({ length: c.co }, (_, o) => 0.002 * (1 + ((o * 7) % 9))),
    );
    const b = qg.bias('b', c.co, 20000);
    const g = qg.node(
      'Conv2D',
      [x, w, b],
      { strides: [c.s, c.s], dilations: [c.d, c.d], padding: c.pad, groups: c.groups, ...pick(ACTS, i) },
      q(0.04 * 2 ** (((i * 5) % 9) - 4), zpOut),
    );
    const shape = g.tensors.get('x')!.shape;
    await check(
      `conv ${c.h}x${c.w}x${c.ci}->${c.co} k${c.k} s${c.s} d${c.d} pad ${JSON.stringify(c.pad)} g${c.groups}`,
      g,
      { x: randI8(numel(shape)) },
    );
    i++;
  }
});

test('DepthwiseConv2D_QS8: any k (3x3, 5x5, 1x7, 7x1), multipliers 1 and 2, odd channels, strides, dilation', async () => {
  let i = 0;
  for (const k of [
    [3, 3],
    [5, 5],
    [1, 7],
    [7, 1],
    [2, 2],
  ] as [number, number][])
    for (const c of [1, 3, 8, 9, 17])
      for (const m of [1, 2]) {
        if ((c + m + k[0]) % 2 === 1 && c > 8) continue;
        const qg = new QGraph();
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 1);
        const s = i % 3 === 1 ? 2 : 1,
          d = i % 5 === 3 ? 2 : 1;
        const x = qg.input('x', [1, 13, 13, c], q(0.05, zpIn));
        const w = qg.weights(
          'w',
          [c * m, k[0], k[1], 1],
          Array.from({ length: c * m }, (_, o) => 0.001 * (1 + ((o * 5) % 13))),
        );
        const b = qg.bias('b', c * m, 3000);
        const g = qg.node(
          'Conv2D',
          [x, w, b],
          { strides: [s, s], dilations: [d, d], padding: i % 2 ? 'same' : 'valid', groups: c, ...pick(ACTS, i) },
          q(0.02 * 2 ** ((i % 6) - 3), zpOut),
        );
        await check(`dwconv 13x13x${c} m${m} k${k} s${s} d${d}`, g, { x: randI8(169 * c) });
        i++;
      }
});

test('DepthwiseConv2D_QS8 fast 3x3 path and SIMD requantisation: one shift for all channels (≥ 31 and < 31), per-channel shifts (scales spread 2^16)', async () => {
  let i = 0;
  for (const [sW, sOut] of [
    [0.01, 0.05],
    [0.01, 0.0004],
    [0.5, 0.0001],
    [-1, 0.03],
    [-2, 0.03],
  ]) {
    for (const zp of [-128, 127]) {
      const qg = new QGraph();
      const c = 24;
      const x = qg.input('x', [1, 6, 7, c], q(0.04, zp));
      const w = qg.weights(
        'w',
        [c, 3, 3, 1],
        Array.from({ length: c }, (_, o) => (sW > 0 ? sW : sW === -1 ? 0.001 * 2 ** (o % 9) : 1e-5 * 4 ** (o % 9))),
      );
      const b = qg.bias('b', c, 20000);
      const g = qg.node('Conv2D', [x, w, b], { padding: 'same', groups: c, ...pick(ACTS, i) }, q(sOut, -1 - zp));
      await check(`dwconv 3x3 6x7x${c} sW ${sW} sOut ${sOut} zp ${zp}`, g, { x: randI8(42 * c) });
      i++;
    }
  }
});

test('DepthwiseConv2D_QS8 3x3 row path (folded zero point, hoisted weights, zp-padded border rows): sizes 1..11, channels 8/15/16/33, strides 1 and 2, paddings, shifts', async () => {
  let i = 0;
  const pads: Attrs['padding'][] = ['same', 'valid', [0, 1, 1, 0], [1, 0, 0, 1], [2, 2, 2, 2]];
  for (const [h, wd] of [
    [3, 3],
    [4, 5],
    [5, 11],
    [9, 7],
    [1, 2],
    [2, 1],
  ])
    for (const c of [8, 15, 16, 33])
      for (const s of [1, 2]) {
        const qg = new QGraph();
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 2);
        const x = qg.input('x', [1, h, wd, c], q(0.04, zpIn));
        const sW = i % 3;
        const w = qg.weights(
          'w',
          [c, 3, 3, 1],
          Array.from({ length: c }, (_, o) => (sW === 0 ? 0.01 : sW === 1 ? 0.001 * 2 ** (o % 9) : 0.5)),
        );
        const b = qg.bias('b', c, 20000);
        // every other case: weight −128 on channels 0 and 1 and x = −128 on a third of the input (the i16
        // pair sums' overflow case: the group must take the widening-per-tap loop)
        const w128 = i % 2 === 0;
        if (w128) {
          const wd8 = qg.g.tensors.get(w)!.data as Int8Array;
          for (let o = 0; o < 18; o++) wd8[o] = -128;
        }
        const pad: Attrs['padding'] = h < 3 || wd < 3 ? (i % 2 ? 'same' : [2, 2, 2, 2]) : pick(pads, i);
        const g = qg.node(
          'Conv2D',
          [x, w, b],
          { strides: [s, s], padding: pad, groups: c, ...pick(ACTS, i) },
          q(sW === 2 ? 0.0002 : 0.03, zpOut),
        );
        const xs = randI8(h * wd * c);
        if (w128) for (let j = 0; j < xs.length; j += 3) xs[j] = -128;
        await check(`dwconv 3x3 ${h}x${wd}x${c} s${s} pad ${JSON.stringify(pad)}${w128 ? ' w −128' : ''}`, g, {
          x: xs,
        });
        i++;
      }
});

test('MaxPool_QS8 / AvgPool_QS8 / GlobalAvgPool_QS8', async () => {
  let i = 0;
  for (const op of ['MaxPool', 'AvgPool'] as const)
    for (const [k, s, pad] of [
      [2, 2, 'valid'],
      [3, 1, 'same'],
      [3, 2, [1, 1, 1, 1]],
      [2, 1, [0, 1, 1, 0]],
    ] as [number, number, Attrs['padding']][])
      for (const [incl, ch] of [
        [false, 5],
        [true, 5],
        [false, 25],
        [true, 25],
      ] as [boolean, number][]) {
        // 25 channels: the SIMD blocks (Max 16 + 8, Avg 8 + 8 + 8) and a scalar last channel over padded windows
        const qg = new QGraph();
        const zp = pick(ZPS, i);
        const x = qg.input('x', [1, 7, 6, ch], q(0.1, zp));
        const g = qg.node(
          op,
          [x],
          { kernel: [k, k], strides: [s, s], padding: pad, ...(op === 'AvgPool' ? { countIncludePad: incl } : {}) },
          q(0.1, zp),
        );
        await check(`${op} k${k} s${s} ${JSON.stringify(pad)} incl ${incl} c${ch} zp ${zp}`, g, { x: randI8(42 * ch) });
        i++;
      }
  for (const [h, w, c] of [
    [1, 1, 3],
    [7, 7, 17],
    [4, 5, 8],
  ]) {
    for (const [zpIn, zpOut, sOut] of [
      [-128, 127, 0.01],
      [127, -128, 0.5],
      [3, -9, 0.07],
    ]) {
      const qg = new QGraph();
      const x = qg.input('x', [2, h, w, c], q(0.05, zpIn));
      const g = qg.node('GlobalAvgPool', [x], {}, q(sOut, zpOut));
      await check(`gap ${h}x${w}x${c} zp ${zpIn}/${zpOut}`, g, { x: randI8(2 * h * w * c) });
    }
  }
});

test('Add_QS8: both inputs rescaled, broadcasts, clamps', async () => {
  let i = 0;
  for (const [a, b] of [
    [
      [1, 4, 4, 8],
      [1, 4, 4, 8],
    ],
    [[2, 3, 5], [5]],
    [
      [3, 1, 7],
      [1, 4, 1],
    ],
    [[17], [1]],
  ])
    for (const [sa, sb, so] of [
      [0.1, 0.1, 0.2],
      [0.02, 0.5, 0.3],
      [1.5, 0.001, 0.01],
    ]) {
      const qg = new QGraph();
      const x = qg.input('a', a, q(sa, pick(ZPS, i)));
      const y = qg.input('b', b, q(sb, pick(ZPS, i + 1)));
      const g = qg.node('Add', [x, y], pick(ACTS, i), q(so, pick(ZPS, i + 2)));
      await check(`add ${JSON.stringify(a)}+${JSON.stringify(b)} s ${sa}/${sb}/${so}`, g, {
        a: randI8(numel(a)),
        b: randI8(numel(b)),
      });
      i++;
    }
});

test('Add_QS8 SIMD rows (8 per step): inner sizes 8/13/24/64, broadcast rows, saturating and tiny scale ratios', async () => {
  let i = 0;
  for (const [a, b] of [
    [
      [1, 3, 3, 24],
      [1, 3, 3, 24],
    ],
    [
      [1, 2, 2, 13],
      [1, 2, 2, 13],
    ],
    [[2, 19], [19]],
    [
      [1, 2, 64],
      [1, 2, 64],
    ],
    [
      [3, 8],
      [3, 8],
    ],
  ])
    for (const [sa, sb, so] of [
      [0.1, 0.1, 0.2],
      [0.5, 0.4, 0.0001],
      [0.001, 2, 0.05],
      [0.3, 0.3, 1000],
    ]) {
      const qg = new QGraph();
      const x = qg.input('a', a, q(sa, pick(ZPS, i)));
      const y = qg.input('b', b, q(sb, pick(ZPS, i + 3)));
      const g = qg.node('Add', [x, y], pick(ACTS, i), q(so, pick(ZPS, i + 1)));
      await check(`add simd ${JSON.stringify(a)}+${JSON.stringify(b)} s ${sa}/${sb}/${so}`, g, {
        a: randI8(numel(a)),
        b: randI8(numel(b)),
      });
      i++;
    }
});

test('Quantize / Dequantize / Requantize: ties round half away, saturation, NaN → zero point', async () => {
  for (const [s, zp] of [
    [0.25, 0],
    [0.1, -128],
    [0.037, 127],
    [3, 5],
  ]) {
    const n = 300;
    const xs = Float32Array.from({ length: n }, (_, i) =>
      i < 100
        ? (i - 50 + 0.5) * s
        : i < 290
          ? (r() - 0.5) * 300 * s
          : [NaN, Infinity, -Infinity, 1e30, -1e30, 0, -0, 0.5 * s, -0.5 * s, 1.5 * s][i - 290]!,
    );
    let qg = new QGraph();
    let g = qg.node('Quantize', [qg.input('x', [n], undefined, 'float32')], {}, q(s, zp));
    await check(`quantize s ${s} zp ${zp}`, g, { x: xs });
    await check(`quantize s ${s} zp ${zp} (specials inside the 16-value SIMD blocks)`, g, { x: xs.slice().reverse() });
    qg = new QGraph();
    g = qg.node('Dequantize', [qg.input('x', [n], q(s, zp))], {});
    const { bundle } = compileGraph(g, { skipPasses: true });
    const xi = randI8(n);
    const got = (await runAll(bundle, { x: xi }, `dequantize s ${s}`)).y as Float32Array;
    const want = evaluate(g, { x: xi }).y!;
    for (let i = 0; i < n; i++)
      assert.ok(Object.is(got[i], Math.fround(want[i]!)), `dequantize [${i}] ${got[i]} vs ${want[i]}`);
    for (const [s2, zp2] of [
      [s * 0.37, -128],
      [s * 1000, 127],
      [s / 100000, 0],
    ]) {
      qg = new QGraph();
      g = qg.node('Requantize', [qg.input('x', [n], q(s, zp))], {}, q(s2, zp2));
      await check(`requantize ${s}/${zp} -> ${s2}/${zp2}`, g, { x: randI8(n) });
    }
  }
});

test('int8 data movement: Pad fills the output zero point; Transpose, Reshape and Concat pass int8 through', async () => {
  const qg = new QGraph();
  const x = qg.input('x', [1, 3, 4, 5], q(0.1, -77));
  const g = qg.node('Pad', [x], { pads: [0, 1, 2, 0, 0, 2, 1, 0] }, q(0.1, -77));
  await check('pad zp -77', g, { x: randI8(60) });
  // Transpose → Reshape → Concat (same quant) → Add: data movement keeps the int8 bytes
  const g2: Graph = { name: 'm', source: 'test', tensors: new Map(), nodes: [], inputs: ['a', 'b'], outputs: ['y'] };
  const qa = q(0.1, -77);
  g2.tensors.set('a', { name: 'a', dtype: 'int8', shape: [1, 3, 4, 5], quant: qa });
  g2.tensors.set('b', { name: 'b', dtype: 'int8', shape: [1, 7], quant: qa });
  g2.tensors.set('t', { name: 't', dtype: 'int8', shape: [1, 5, 3, 4], quant: qa });
  g2.tensors.set('r', { name: 'r', dtype: 'int8', shape: [1, 60], quant: qa });
  g2.tensors.set('c', { name: 'c', dtype: 'int8', shape: [1, 67], quant: qa });
  g2.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, 67], quant: q(0.15, 20) });
  g2.nodes.push({ name: 'tr', op: 'Transpose', inputs: ['a'], outputs: ['t'], attrs: { perm: [0, 3, 1, 2] } });
  g2.nodes.push({ name: 'rs', op: 'Reshape', inputs: ['t'], outputs: ['r'], attrs: { shape: [1, 60] } });
  g2.nodes.push({ name: 'cat', op: 'Concat', inputs: ['r', 'b'], outputs: ['c'], attrs: { axis: 1 } });
  g2.nodes.push({ name: 'add', op: 'Add', inputs: ['c', 'c'], outputs: ['y'], attrs: { activation: 'relu' } });
  await check('transpose/reshape/concat/add int8', g2, { a: randI8(60), b: randI8(7) });
});

test.run();
