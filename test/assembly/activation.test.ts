// The fused activations on the values where f32x4.pmax/pmin and max/min could part (assembly/kernels/activation.ts):
// ±0 against bounds ±0, values at and next to the bounds, denormals, ±Inf, for Relu and Clip with every sign of zero
// as lo and hi, through each float kernel that fuses one (Binary_F32, Conv2D_F32_P8 pointwise and 3×3, Conv2D_F32,
// DepthwiseConv2D_F32, Dense_F32). Each step passes its input through unchanged (·1, + -0), so every output must be
// JS's Math.min(Math.max(v, lo), hi) bit for bit (the same ±0 rules as wasm's min/max), on every build and the
// reference twins (runAll).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fb, makeBundle, runAll } from './harness.ts';
import { packConvWeightsP8 } from '../../compiler/kernels/pack.ts';

const VALUES = [0, -0, 1e-45, -1e-45, 1e-39, -1e-39, 0.25, -0.25, 0.5, -0.5, 0.4, -0.3, 1, -1, 6, -6];
const F32 = new Float32Array([
  ...VALUES,
  Math.fround(6.0000005),
  Math.fround(5.9999995),
  Infinity,
  -Infinity,
  3.4e38,
  -3.4e38,
]);
const L = F32.length;

type Act = { activation: number; actMin: number; actMax: number };
const ACTS: Act[] = [
  { activation: fb.Activation.Relu, actMin: 0, actMax: 0 },
  ...[
    [0, 6],
    [-0, 6],
    [-0.25, 0.5],
    [0, 0],
    [-0, -0],
    [0, -0],
    [-0, 0],
    [-1, -0],
    [-6, 0],
    [1, 1],
    [-Infinity, Infinity],
  ].map(([lo, hi]) => ({ activation: fb.Activation.Clip, actMin: lo!, actMax: hi! })),
];

/** What every build must give: the input through the activation, with wasm's (and JS's) ±0 order in min and max.
 *  A bound of -0 equals the field's default 0, so the bundle omits it and the step reads +0. */
function want(v: number, a: Act): number {
  const lo = a.actMin === 0 ? 0 : a.actMin,
    hi = a.actMax === 0 ? 0 : a.actMax;
  return a.activation === fb.Activation.Relu ? Math.max(v, 0) : Math.min(Math.max(v, lo), hi);
}

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function assertPassed(got: Float32Array, per: number, a: Act, label: string): void {
  const w = new Float32Array(got.length);
  for (let i = 0; i < got.length; i++) w[i] = want(F32[Math.floor(i / per)]!, a);
  const gb = bitsOf(got),
    wb = bitsOf(w);
  for (let i = 0; i < got.length; i++)
    if (gb[i] !== wb[i])
      assert.unreachable(`${label}: [${i}] ${z(F32[Math.floor(i / per)]!)} → ${z(got[i]!)}, want ${z(w[i]!)}`);
}

/** A number as text with the sign of a zero. */
const z = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
const label = (k: string, a: Act) => `${k} act ${a.activation} [${z(a.actMin)}, ${z(a.actMax)}]`;

test('Binary_F32: x + -0 through every activation', async () => {
  for (const a of ACTS) {
    const bundle = makeBundle(
      [
        { name: 'a', shape: [L], role: 'in' },
        { name: 'z', shape: [1], role: 'const', data: Float32Array.of(-0) },
        { name: 'y', shape: [L], role: 'out' },
      ],
      [
        {
          kernel: fb.KernelId.Binary_F32,
          inputs: [0, 1],
          outputs: [2],
          params: { type: 'binary', op: fb.BinaryOp.Add, shape: [L], aStrides: [1], bStrides: [0], ...a },
        },
      ],
    );
    const got = (await runAll(bundle, { a: F32 }, label('binary', a))).y as Float32Array;
    assertPassed(got, 1, a, label('binary', a));
  }
});

/** x [1,1,L,1] → y [1,1,L,co] through a k×k conv whose centre tap is 1 (others 0), bias -0, 'same' padding. */
async function convCase(a: Act, k: number, co: number, packed: boolean, depthwise: boolean): Promise<Float32Array> {
  const p = (k - 1) / 2;
  const ci = depthwise ? co : 1;
  const x = new Float32Array(L * ci);
  for (let i = 0; i < x.length; i++) x[i] = F32[Math.floor(i / ci)]!;
  const centre = (k * k - 1) / 2;
  // OHWI for the packer, [KH,KW,Ci,Co] for Conv2D_F32, [KH,KW,C] for the depthwise step: only the centre tap is 1
  const w = new Float32Array(k * k * co * (depthwise ? 1 : ci));
  for (let o = 0; o < co; o++) w[packed ? o * k * k + centre : depthwise ? centre * co + o : centre * co + o] = 1;
  const kernel = depthwise
    ? fb.KernelId.DepthwiseConv2D_F32
    : packed
      ? fb.KernelId.Conv2D_F32_P8
      : fb.KernelId.Conv2D_F32;
  const wDesc = depthwise
    ? { name: 'w', shape: [k, k, co], role: 'const' as const, data: w }
    : packed
      ? {
          name: 'w',
          shape: [1, Math.ceil(co / 8), k, k, 1, 8],
          role: 'const' as const,
          data: packConvWeightsP8(w, 1, co, k, k, 1),
        }
      : { name: 'w', shape: [1, k, k, 1, co], role: 'const' as const, data: w };
  const bundle = makeBundle(
    [
      { name: 'x', shape: [1, 1, L, ci], role: 'in' },
      wDesc,
      { name: 'b', shape: [co], role: 'const', data: new Float32Array(co).fill(-0) },
      { name: 'y', shape: [1, 1, L, co], role: 'out' },
    ],
    [
      {
        kernel,
        inputs: [0, 1, 2],
        outputs: [3],
        params: {
          type: 'conv',
          kernelH: k,
          kernelW: k,
          strideH: 1,
          strideW: 1,
          dilationH: 1,
          dilationW: 1,
          padTop: p,
          padLeft: p,
          padBottom: p,
          padRight: p,
          ...(depthwise ? { depthMultiplier: 1 } : { groups: 1 }),
          ...a,
        },
      },
    ],
  );
  return (await runAll(bundle, { x }, label(`${fb.KernelId[kernel]} k${k} co${co}`, a))).y as Float32Array;
}

test('Conv2D_F32_P8 (pointwise and 3×3), Conv2D_F32, DepthwiseConv2D_F32: centre tap 1, bias -0', async () => {
  for (const a of ACTS)
    for (const [k, co, packed, dw] of [
      [1, 16, true, false],
      [1, 13, true, false],
      [3, 16, true, false],
      [1, 16, false, false],
      [3, 12, false, false],
      [3, 20, false, true],
      [1, 16, false, true],
    ] as const) {
      const got = await convCase(a, k, co, packed, dw);
      // a 3×3 conv adds its zero taps' products (0·x) to the sum: -0 + +0 = +0, so -0 inputs reach the activation as
      // +0 there; runAll holds every build to the reference's bits either way
      if (k === 1) assertPassed(got, co, a, label(`conv k${k} co${co} packed ${packed} dw ${dw}`, a));
    }
});

test('Dense_F32: x [L,1] · 1, bias -0', async () => {
  for (const a of ACTS)
    for (const n of [8, 16, 13]) {
      const bundle = makeBundle(
        [
          { name: 'x', shape: [L, 1], role: 'in' },
          { name: 'w', shape: [1, n], role: 'const', data: new Float32Array(n).fill(1) },
          { name: 'b', shape: [n], role: 'const', data: new Float32Array(n).fill(-0) },
          { name: 'y', shape: [L, n], role: 'out' },
        ],
        [{ kernel: fb.KernelId.Dense_F32, inputs: [0, 1, 2], outputs: [3], params: { type: 'dense', ...a } }],
      );
      const got = (await runAll(bundle, { x: F32 }, label(`dense n${n}`, a))).y as Float32Array;
      assertPassed(got, n, a, label(`dense n${n}`, a));
    }
});

test.run();
