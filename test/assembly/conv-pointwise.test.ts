// Conv2D_F32_P8 on pointwise convs (1×1, stride 1, unpadded), where the simd builds run whole 4-pixel tiles × whole
// 8-channel panels (pairs of panels as 2 × 16) on conv/f32-conv2d-1x1-4x8-packed.ts (a short last tile pixel by pixel
// there) and the rest on tileInterior: pixel counts and channel counts at, below and above the tile (4 pixels, 8 and
// 16 channels), groups, bias or none, no activation / Relu / Relu6 / Clip, the three weight-size loop orders (a group's
// panels ≤ 32 KiB, ≤ 256 KiB, bigger). Every build and the reference twin refConv2dP8 agree bit for bit (runAll), and
// the sums match float64 within 1e-5 of their magnitude.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, fb, makeBundle, randF32, rng, runAll } from './harness.ts';
import { packConvWeightsP8 } from '../../compiler/kernels/pack.ts';

type Act = { activation: number; actMin: number; actMax: number };
const NONE: Act = { activation: fb.Activation.None, actMin: 0, actMax: 0 };
const RELU: Act = { activation: fb.Activation.Relu, actMin: 0, actMax: 0 };
const RELU6: Act = { activation: fb.Activation.Clip, actMin: 0, actMax: 6 };
const CLIP: Act = { activation: fb.Activation.Clip, actMin: -0.25, actMax: 0.5 };

function act64(v: number, a: Act): number {
  if (a.activation === fb.Activation.Relu) return Math.max(v, 0);
  if (a.activation === fb.Activation.Clip) return Math.min(Math.max(v, a.actMin), a.actMax);
  return v;
}

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  groups: number;
  bias: boolean;
  act: Act;
}

async function checkPointwise(c: Case, seed: number): Promise<void> {
  const r = rng(seed);
  const { n, h, w, ci, co, groups: G } = c;
  const cig = ci / G,
    cog = co / G,
    px = n * h * w;
  const x = randF32(r, px * ci),
    ohwi = randF32(r, co * cig),
    b = randF32(r, co);
  const label = `pointwise ${n}x${h}x${w}x${ci} -> ${co} g${G} bias=${c.bias} act=${c.act.activation}[${c.act.actMin},${c.act.actMax}]`;
  const bundle = makeBundle(
    [
      { name: 'x', shape: [n, h, w, ci], role: 'in' },
      {
        name: 'w',
        shape: [G, Math.ceil(cog / 8), 1, 1, cig, 8],
        role: 'const',
        data: packConvWeightsP8(ohwi, G, co, 1, 1, cig),
      },
      { name: 'b', shape: [co], role: 'const', data: b },
      { name: 'y', shape: [n, h, w, co], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Conv2D_F32_P8,
        inputs: [0, 1, c.bias ? 2 : -1],
        outputs: [3],
        params: {
          type: 'conv',
          kernelH: 1,
          kernelW: 1,
          strideH: 1,
          strideW: 1,
          dilationH: 1,
          dilationW: 1,
          padTop: 0,
          padLeft: 0,
          padBottom: 0,
          padRight: 0,
          groups: G,
          ...c.act,
        },
      },
    ],
  );
  const got = (await runAll(bundle, { x }, label)).y as Float32Array;
  const want = new Float64Array(px * co),
    mag = new Float64Array(px * co);
  for (let p = 0; p < px; p++)
    for (let o = 0; o < co; o++) {
      const g = Math.floor(o / cog);
      let acc = c.bias ? b[o]! : 0,
        m = Math.abs(acc);
      for (let q = 0; q < cig; q++) {
        const t = x[p * ci + g * cig + q]! * ohwi[o * cig + q]!;
        acc += t;
        m += Math.abs(t);
      }
      want[p * co + o] = act64(acc, c.act);
      mag[p * co + o] = m;
    }
  assertClose(got, want, mag, 1e-5, label);
}

test('pointwise P8: pixels × output channels around the 4×8 tile, every activation, bias or none', async () => {
  let seed = 1;
  const acts = [NONE, RELU, RELU6, CLIP];
  for (const px of [1, 3, 4, 5, 7, 8, 9, 12, 13, 31, 33])
    for (const co of [1, 7, 8, 9, 15, 16, 17, 24, 33]) {
      const ci = [1, 3, 8, 17][seed % 4]!;
      await checkPointwise(
        { n: 1, h: 1, w: px, ci, co, groups: 1, bias: seed % 3 !== 0, act: acts[seed % 4]! },
        seed++,
      );
    }
});

test('pointwise P8: a short last tile (1–3 pixels) per pixel on tilePointwise1, whole and partial panels', async () => {
  let seed = 300;
  const acts = [NONE, RELU, RELU6, CLIP];
  for (const px of [1, 2, 3, 6, 10, 11, 49])
    for (const co of [8, 16, 23, 40, 41]) {
      const ci = [1, 4, 9, 24][seed % 4]!;
      await checkPointwise(
        { n: 1, h: 1, w: px, ci, co, groups: 1, bias: seed % 3 !== 1, act: acts[seed % 4]! },
        seed++,
      );
    }
  // 7×7 images, 49 pixels: each of the three weight-size loop orders ends on a 1-pixel tile; two images: 2 pixels
  const cases: Case[] = [
    { n: 1, h: 7, w: 7, ci: 24, co: 48, groups: 1, bias: true, act: RELU6 },
    { n: 2, h: 7, w: 7, ci: 16, co: 34, groups: 2, bias: false, act: CLIP },
    { n: 1, h: 7, w: 7, ci: 100, co: 96, groups: 1, bias: true, act: RELU6 },
    { n: 1, h: 7, w: 7, ci: 264, co: 260, groups: 1, bias: true, act: NONE },
  ];
  for (const c of cases) await checkPointwise(c, seed++);
  assert.ok(cases.length > 0);
});

test('pointwise P8: images and rows as one pixel row, groups, the three weight-size loop orders', async () => {
  const cases: Case[] = [
    { n: 2, h: 3, w: 5, ci: 16, co: 24, groups: 1, bias: true, act: RELU6 },
    { n: 3, h: 1, w: 3, ci: 5, co: 17, groups: 1, bias: false, act: RELU },
    { n: 1, h: 3, w: 3, ci: 12, co: 40, groups: 2, bias: true, act: RELU6 },
    { n: 2, h: 2, w: 3, ci: 9, co: 27, groups: 3, bias: false, act: CLIP },
    // a group's panels over 32 KiB: blocks of pixels; over 256 KiB: one panel at a time over every pixel
    { n: 1, h: 5, w: 7, ci: 96, co: 100, groups: 1, bias: true, act: RELU6 },
    { n: 1, h: 3, w: 7, ci: 260, co: 264, groups: 1, bias: true, act: NONE },
    { n: 1, h: 1, w: 10, ci: 300, co: 250, groups: 1, bias: false, act: RELU },
    // pairs of panels (2 pixels × 16 channels) in the pixel-block and the big-weights orders ending on a lone panel
    { n: 1, h: 5, w: 7, ci: 120, co: 136, groups: 1, bias: true, act: RELU6 },
    { n: 1, h: 3, w: 5, ci: 290, co: 232, groups: 1, bias: true, act: CLIP },
  ];
  let seed = 500;
  for (const c of cases) await checkPointwise(c, seed++);
  assert.ok(cases.length > 0);
});

test.run();
