// Conv2D_F32, Conv2D_F32_P8, DepthwiseConv2D_F32 and Dense_F32 over a grid of channels, sizes, kernels, strides,
// paddings, dilations, groups and multipliers: simd == scalar == reference bit for bit, and the
// reference within 1e-5 (relative to Σ|x·w|) of the float64 loop written out below (the spec).
// Every conv case runs on Conv2D_F32 and on Conv2D_F32_P8 (the same weights packed in 8-channel panels): same bits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeBundle, runAll, rng, randF32, assertClose, fb, numel } from './harness.ts';
import { packConvWeightsP8 } from '../../compiler/kernels/pack.ts';

const TOL = 1e-5;
type Act = { activation: number; actMin: number; actMax: number };
const ACTS: Act[] = [
  { activation: fb.Activation.None, actMin: 0, actMax: 0 },
  { activation: fb.Activation.Relu, actMin: 0, actMax: 0 },
  { activation: fb.Activation.Clip, actMin: -0.25, actMax: 0.5 },
];
function act64(v: number, a: Act): number {
  if (a.activation === fb.Activation.Relu) return Math.max(v, 0);
  if (a.activation === fb.Activation.Clip) return Math.min(Math.max(v, a.actMin), a.actMax);
  return v;
}
const outDim = (i: number, k: number, s: number, d: number, p0: number, p1: number) =>
  Math.floor((i + p0 + p1 - d * (k - 1) - 1) / s) + 1;

interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pad: [number, number, number, number];
  groups: number;
  bias: boolean;
  act: Act;
}

async function checkConv(c: ConvCase, seed: number): Promise<void> {
  const r = rng(seed);
  const { n, h, w, ci, co, kh, kw, sh, sw, dh, dw, groups: G } = c;
  const [pt, pl, pb, pr] = c.pad;
  const oh = outDim(h, kh, sh, dh, pt, pb),
    ow = outDim(w, kw, sw, dw, pl, pr);
  const cig = ci / G,
    cog = co / G;
  const x = randF32(r, n * h * w * ci),
    wt = randF32(r, G * kh * kw * cig * cog),
    b = randF32(r, co);
  const label = `conv ${n}x${h}x${w}x${ci} -> ${co} k${kh}x${kw} s${sh}${sw} d${dh}${dw} p${c.pad} g${G} bias=${c.bias} act=${c.act.activation}`;
  // the same weights in OHWI, packed for Conv2D_F32_P8
  const taps = kh * kw,
    ohwi = new Float32Array(wt.length);
  for (let o = 0; o < co; o++)
    for (let t = 0; t < taps; t++)
      for (let q = 0; q < cig; q++)
        ohwi[(o * taps + t) * cig + q] = wt[((Math.floor(o / cog) * taps + t) * cig + q) * cog + (o % cog)]!;
  const p8 = packConvWeightsP8(ohwi, G, co, kh, kw, cig);
  const bundleOf = (packed: boolean) =>
    makeBundle(
      [
        { name: 'x', shape: [n, h, w, ci], role: 'in' },
        packed
          ? { name: 'w', shape: [G, Math.ceil(cog / 8), kh, kw, cig, 8], role: 'const', data: p8 }
          : { name: 'w', shape: [G, kh, kw, cig, cog], role: 'const', data: wt },
        { name: 'b', shape: [co], role: 'const', data: b },
        { name: 'y', shape: [n, oh, ow, co], role: 'out' },
      ],
      [
        {
          kernel: packed ? fb.KernelId.Conv2D_F32_P8 : fb.KernelId.Conv2D_F32,
          inputs: [0, 1, c.bias ? 2 : -1],
          outputs: [3],
          params: {
            type: 'conv',
            kernelH: kh,
            kernelW: kw,
            strideH: sh,
            strideW: sw,
            dilationH: dh,
            dilationW: dw,
            padTop: pt,
            padLeft: pl,
            padBottom: pb,
            padRight: pr,
            groups: G,
            ...c.act,
          },
        },
      ],
    );
  const got = (await runAll(bundleOf(false), { x }, label)).y as Float32Array;
  const gotP8 = (await runAll(bundleOf(true), { x }, `${label} P8`)).y as Float32Array;
  const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < got.length; i++)
    if (bits(gotP8)[i] !== bits(got)[i]) assert.unreachable(`${label}: P8 [${i}] ${gotP8[i]} vs Conv2D_F32 ${got[i]}`);
  const want = new Float64Array(got.length),
    mag = new Float64Array(got.length);
  for (let b0 = 0; b0 < n; b0++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let o = 0; o < co; o++) {
          const g = Math.floor(o / cog);
          let acc = c.bias ? b[o]! : 0,
            m = Math.abs(acc);
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * sh - pt + i * dh,
                ix = xo * sw - pl + j * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let q = 0; q < cig; q++) {
                const t =
                  x[((b0 * h + iy) * w + ix) * ci + g * cig + q]! *
                  wt[(((g * kh + i) * kw + j) * cig + q) * cog + (o % cog)]!;
                acc += t;
                m += Math.abs(t);
              }
            }
          const k = ((b0 * oh + y) * ow + xo) * co + o;
          want[k] = act64(acc, c.act);
          mag[k] = m;
        }
  assertClose(got, want, mag, TOL, label);
}

const CHANNELS = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33];
const KERNELS: [number, number][] = [
  [1, 1],
  [3, 3],
  [5, 5],
  [1, 7],
  [7, 1],
];

test('conv2d grid: channels x kernels x strides x padding', async () => {
  const r = rng(1);
  let seed = 100;
  for (const co of CHANNELS) {
    for (const [kh, kw] of KERNELS) {
      const ci = CHANNELS[Math.floor(r() * CHANNELS.length)]!;
      const s = 1 + Math.floor(r() * 2);
      const size = 1 + Math.floor(r() * 9);
      const same = r() < 0.5;
      const pad: [number, number, number, number] = same
        ? [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2), Math.ceil((kh - 1) / 2), Math.ceil((kw - 1) / 2)]
        : [0, 0, 0, 0];
      const h = Math.max(size, same ? 1 : kh),
        w = Math.max(1 + Math.floor(r() * 9), same ? 1 : kw);
      await checkConv(
        {
          n: 1,
          h,
          w,
          ci,
          co,
          kh,
          kw,
          sh: s,
          sw: s,
          dh: 1,
          dw: 1,
          pad,
          groups: 1,
          bias: r() < 0.8,
          act: ACTS[Math.floor(r() * 3)]!,
        },
        seed++,
      );
    }
  }
});

test('conv2d spatial sizes 1..9 around the 4-pixel tile', async () => {
  let seed = 500;
  for (let w = 1; w <= 9; w++)
    for (const co of [4, 8, 9, 16, 17]) {
      await checkConv(
        {
          n: 1,
          h: 3,
          w,
          ci: 3,
          co,
          kh: 3,
          kw: 3,
          sh: 1,
          sw: 1,
          dh: 1,
          dw: 1,
          pad: [1, 1, 1, 1],
          groups: 1,
          bias: true,
          act: ACTS[1]!,
        },
        seed++,
      );
    }
});

test('conv2d strides, asymmetric padding, dilation, batch', async () => {
  let seed = 700;
  const cases: Partial<ConvCase>[] = [
    { sh: 2, sw: 2, pad: [0, 0, 1, 1] },
    { sh: 2, sw: 1, pad: [1, 0, 0, 2] },
    { dh: 2, dw: 2, pad: [2, 2, 2, 2] },
    { dh: 1, dw: 3, pad: [0, 3, 0, 3] },
    { n: 2, sh: 2, sw: 2, pad: [1, 1, 1, 1] },
    { sh: 1, sw: 2, dh: 2, dw: 1, pad: [0, 0, 0, 0] },
  ];
  for (const c of cases)
    for (const co of [5, 8, 16, 33]) {
      await checkConv(
        {
          n: 1,
          h: 9,
          w: 9,
          ci: 7,
          co,
          kh: 3,
          kw: 3,
          sh: 1,
          sw: 1,
          dh: 1,
          dw: 1,
          pad: [0, 0, 0, 0],
          groups: 1,
          bias: true,
          act: ACTS[2]!,
          ...c,
        },
        seed++,
      );
    }
});

test('conv2d with large Ci x KW (reduction split into kernel-row chunks, partial sums in y)', async () => {
  let seed = 800;
  for (const [ci, co, kh, kw] of [
    [192, 17, 3, 3],
    [130, 8, 5, 5],
    [80, 12, 5, 3],
    [520, 9, 1, 1],
    [600, 4, 3, 1],
  ] as const) {
    await checkConv(
      {
        n: 1,
        h: 5,
        w: 9,
        ci,
        co,
        kh,
        kw,
        sh: 1,
        sw: 1,
        dh: 1,
        dw: 1,
        pad: [1, 1, 1, 1],
        groups: 1,
        bias: true,
        act: ACTS[2]!,
      },
      seed++,
    );
  }
});

test('conv2d P8 pixel blocks (small weights, big x and y: blocks of pixels, the last one partial)', async () => {
  let seed = 850;
  for (const [n, h, w, ci, co, k] of [
    [1, 6, 7, 1024, 8, 1],
    [1, 12, 12, 256, 12, 3],
    [2, 3, 5, 40, 20, 1],
    [2, 7, 5, 300, 17, 3],
  ] as const) {
    const p = (k - 1) / 2;
    await checkConv(
      {
        n,
        h,
        w,
        ci,
        co,
        kh: k,
        kw: k,
        sh: 1,
        sw: 1,
        dh: 1,
        dw: 1,
        pad: [p, p, p, p],
        groups: 1,
        bias: true,
        act: ACTS[1]!,
      },
      seed++,
    );
  }
});

// the scalar build's P8 tiles run 4 pixels down an output column over the rows whose kernel rows are in bounds, with
// the column's taps in the padding cut as one kw range: heights around 4 interior rows, padded and dilated columns,
// the KWS stem's shape (10x4 stride 2, Ci 1) and grouped convs
test('conv2d P8 column tiles (scalar build): heights 1..13 around the 4-row tile, padded columns', async () => {
  let seed = 870;
  const cases: Partial<ConvCase>[] = [
    { h: 13, w: 6, ci: 1, co: 8, kh: 10, kw: 4, sh: 2, sw: 2, pad: [4, 1, 5, 2] },
    { h: 12, w: 5, ci: 1, co: 9, kh: 5, kw: 4, sh: 2, sw: 2, pad: [2, 1, 2, 2], bias: false },
    { h: 11, w: 4, ci: 3, co: 16, kh: 3, kw: 3, dh: 2, dw: 2, pad: [2, 2, 2, 2] },
    { h: 10, w: 5, ci: 6, co: 18, kh: 3, kw: 3, groups: 3, pad: [1, 1, 1, 1] },
    { h: 9, w: 3, ci: 2, co: 7, kh: 3, kw: 5, sh: 3, pad: [1, 3, 1, 3] },
  ];
  for (const c of cases) {
    for (const h of [1, 3, 4, 5, 7, 8, 9, 12, 13]) {
      if ((c.kh! - 1) * (c.dh ?? 1) + 1 > h + c.pad![0] + c.pad![2]) continue;
      await checkConv(
        {
          n: 1,
          w: 5,
          ci: 1,
          co: 8,
          kh: 3,
          kw: 3,
          sh: 1,
          sw: 1,
          dh: 1,
          dw: 1,
          pad: [0, 0, 0, 0],
          groups: 1,
          bias: true,
          act: ACTS[seed % 3]!,
          ...c,
          h,
        },
        seed++,
      );
    }
  }
});

test('conv2d groups', async () => {
  let seed = 900;
  for (const [ci, co, g] of [
    [4, 8, 2],
    [6, 9, 3],
    [8, 16, 4],
    [16, 32, 2],
    [9, 18, 9],
    [32, 64, 2],
  ] as const) {
    await checkConv(
      {
        n: 1,
        h: 6,
        w: 7,
        ci,
        co,
        kh: 3,
        kw: 3,
        sh: 1,
        sw: 1,
        dh: 1,
        dw: 1,
        pad: [1, 1, 1, 1],
        groups: g,
        bias: true,
        act: ACTS[0]!,
      },
      seed++,
    );
  }
  // pointwise grouped: the packed kernel runs it as one row of pixels
  await checkConv(
    {
      n: 2,
      h: 3,
      w: 5,
      ci: 12,
      co: 20,
      kh: 1,
      kw: 1,
      sh: 1,
      sw: 1,
      dh: 1,
      dw: 1,
      pad: [0, 0, 0, 0],
      groups: 4,
      bias: true,
      act: ACTS[2]!,
    },
    seed++,
  );
});

async function checkDw(
  n: number,
  h: number,
  w: number,
  c: number,
  mult: number,
  kh: number,
  kw: number,
  s: number,
  d: number,
  pad: [number, number, number, number],
  bias: boolean,
  a: Act,
  seed: number,
): Promise<void> {
  const r = rng(seed);
  const [pt, pl, pb, pr] = pad;
  const oh = outDim(h, kh, s, d, pt, pb),
    ow = outDim(w, kw, s, d, pl, pr),
    co = c * mult;
  const x = randF32(r, n * h * w * c),
    wt = randF32(r, kh * kw * co),
    b = randF32(r, co);
  const label = `dwconv ${n}x${h}x${w}x${c} m${mult} k${kh}x${kw} s${s} d${d} p${pad} bias=${bias}`;
  const bundle = makeBundle(
    [
      { name: 'x', shape: [n, h, w, c], role: 'in' },
      { name: 'w', shape: [kh, kw, co], role: 'const', data: wt },
      { name: 'b', shape: [co], role: 'const', data: b },
      { name: 'y', shape: [n, oh, ow, co], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.DepthwiseConv2D_F32,
        inputs: bias ? [0, 1, 2] : [0, 1],
        outputs: [3],
        params: {
          type: 'conv',
          kernelH: kh,
          kernelW: kw,
          strideH: s,
          strideW: s,
          dilationH: d,
          dilationW: d,
          padTop: pt,
          padLeft: pl,
          padBottom: pb,
          padRight: pr,
          depthMultiplier: mult,
          ...a,
        },
      },
    ],
  );
  const got = (await runAll(bundle, { x }, label)).y as Float32Array;
  const want = new Float64Array(got.length),
    mag = new Float64Array(got.length);
  for (let b0 = 0; b0 < n; b0++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let o = 0; o < co; o++) {
          let acc = bias ? b[o]! : 0,
            m = Math.abs(acc);
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * s - pt + i * d,
                ix = xo * s - pl + j * d;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const t = x[((b0 * h + iy) * w + ix) * c + Math.floor(o / mult)]! * wt[(i * kw + j) * co + o]!;
              acc += t;
              m += Math.abs(t);
            }
          const k = ((b0 * oh + y) * ow + xo) * co + o;
          want[k] = act64(acc, a);
          mag[k] = m;
        }
  assertClose(got, want, mag, TOL, label);
}

test('depthwise conv grid: channels x multipliers x kernels x strides', async () => {
  const r = rng(2);
  let seed = 1100;
  for (const c of CHANNELS)
    for (const mult of [1, 2])
      for (const [kh, kw] of KERNELS) {
        const s = 1 + Math.floor(r() * 2);
        const h = 1 + Math.floor(r() * 9),
          w = 1 + Math.floor(r() * 9);
        const pad: [number, number, number, number] = [
          Math.floor((kh - 1) / 2),
          Math.floor((kw - 1) / 2),
          Math.ceil((kh - 1) / 2),
          Math.ceil((kw - 1) / 2),
        ];
        await checkDw(1, h, w, c, mult, kh, kw, s, 1, pad, r() < 0.8, ACTS[Math.floor(r() * 3)]!, seed++);
      }
  await checkDw(2, 8, 8, 16, 1, 3, 3, 1, 2, [2, 2, 2, 2], true, ACTS[2]!, seed++);
  await checkDw(1, 9, 9, 33, 1, 3, 3, 2, 1, [0, 0, 1, 1], false, ACTS[1]!, seed++);
});

// the scalar build's 3×3 stride-1 tiles: 4 rows down an output column whose kernel rows are in bounds, the last
// run of rows overlapping the previous tile, kernel columns in the padding cut by flags: heights and widths around
// the tile, every padding from none to 2 on each side, channels 1..5
test('depthwise 3x3 stride 1 column tiles (scalar build): heights 1..13, widths 1..6, paddings 0..2', async () => {
  const r = rng(3);
  let seed = 1300;
  for (const h of [1, 2, 3, 4, 5, 6, 7, 9, 10, 13])
    for (const w of [1, 2, 3, 5, 6]) {
      const pad: [number, number, number, number] = [
        Math.floor(r() * 3),
        Math.floor(r() * 3),
        Math.floor(r() * 3),
        Math.floor(r() * 3),
      ];
      if (h + pad[0] + pad[2] < 3 || w + pad[1] + pad[3] < 3) continue;
      await checkDw(1 + (seed % 2), h, w, 1 + (seed % 5), 1, 3, 3, 1, 1, pad, r() < 0.8, ACTS[seed % 3]!, seed++);
    }
});

// the simd builds' 3×3 multiplier-1 rows (f32-dwconv2d-3x3-4x4-wasmsimd.ts): widths 1..17 around its 4- and 2-pixel
// tiles and the single pixels after them, strides 1 and 2, paddings 0..2 (border columns and rows with kernel taps
// cut, rows with none), channels 1..20 around its 4- and 16-channel blocks (the rest on the scalar loop)
test('depthwise 3x3 multiplier 1 rows (simd build): widths 1..17 x strides 1, 2 x paddings 0..2 x channels', async () => {
  const r = rng(4);
  let seed = 1500;
  for (const s of [1, 2])
    for (const w of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 17]) {
      const pad: [number, number, number, number] = [
        Math.floor(r() * 3),
        Math.floor(r() * 3),
        Math.floor(r() * 3),
        Math.floor(r() * 3),
      ];
      const h = 1 + Math.floor(r() * 6);
      if (h + pad[0] + pad[2] < 3 || w + pad[1] + pad[3] < 3) continue;
      const c = [1, 3, 4, 5, 8, 9, 16, 20][seed % 8]!;
      await checkDw(1 + (seed % 2), h, w, c, 1, 3, 3, s, 1, pad, r() < 0.8, ACTS[seed % 3]!, seed++);
    }
});

async function checkDense(M: number, K: number, N: number, bias: boolean, a: Act, seed: number): Promise<void> {
  const r = rng(seed);
  const x = randF32(r, M * K),
    wt = randF32(r, K * N),
    b = randF32(r, N);
  const label = `dense M${M} K${K} N${N} bias=${bias} act=${a.activation}`;
  const bundle = makeBundle(
    [
      { name: 'x', shape: [M, K], role: 'in' },
      { name: 'w', shape: [K, N], role: 'const', data: wt },
      { name: 'b', shape: [N], role: 'const', data: b },
      { name: 'y', shape: [M, N], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Dense_F32,
        inputs: bias ? [0, 1, 2] : [0, 1, -1],
        outputs: [3],
        params: { type: 'dense', ...a },
      },
    ],
  );
  const got = (await runAll(bundle, { x }, label)).y as Float32Array;
  const want = new Float64Array(M * N),
    mag = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = bias ? b[n]! : 0,
        g = Math.abs(acc);
      for (let k = 0; k < K; k++) {
        const t = x[m * K + k]! * wt[k * N + n]!;
        acc += t;
        g += Math.abs(t);
      }
      want[m * N + n] = act64(acc, a);
      mag[m * N + n] = g;
    }
  assertClose(got, want, mag, TOL, label);
}

test('dense grid: M, K, N around 4/8/16', async () => {
  let seed = 1500,
    i = 0;
  const sizes = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33];
  for (const M of [1, 3, 4, 5, 8, 9])
    for (const N of sizes) {
      const K = sizes[(i++ * 7) % sizes.length]!;
      await checkDense(M, K, N, i % 5 !== 0, ACTS[i % 3]!, seed++);
    }
  await checkDense(2, 256, 10, true, ACTS[0]!, seed++);
  void numel;
});

test.run();
