// Binary_F32 (every op, broadcast by strides, fused activation, in place), Unary_F32 (every op)
// and Softmax_F32: builds bit-identical; reference vs float64 (exact ops within one f32 rounding,
// transcendentals within 1e-5 relative).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeBundle, runAll, rng, randF32, assertClose, fb, numel } from './harness.ts';

const BIN: [string, (a: number, b: number) => number][] = [
  ['Add', (a, b) => a + b],
  ['Sub', (a, b) => a - b],
  ['Mul', (a, b) => a * b],
  ['Div', (a, b) => a / b],
  ['Max', Math.max],
  ['Min', Math.min],
  ['PRelu', (a, b) => (a < 0 ? a * b : a)],
];

/** Row-major strides of `shape` broadcast to `out` (0 where shape has 1 and out does not). */
function bstrides(shape: number[], out: number[]): number[] {
  const pad = [...Array(out.length - shape.length).fill(1), ...shape];
  const st: number[] = [];
  let acc = 1;
  for (let k = out.length - 1; k >= 0; k--) {
    st[k] = pad[k] === 1 && out[k] !== 1 ? 0 : acc;
    acc *= pad[k]!;
  }
  return st;
}

test('binary ops with broadcasting and fused activation', async () => {
  const shapes: [number[], number[], number[]][] = [
    [
      [1, 4, 4, 8],
      [1, 4, 4, 8],
      [1, 4, 4, 8],
    ],
    [[2, 3, 5, 7], [7], [2, 3, 5, 7]],
    // rank 6: every digit of the kernel's outer-axis odometer turns, b broadcast on three of them
    [
      [2, 1, 3, 2, 2, 5],
      [3, 1, 1, 5],
      [2, 1, 3, 2, 2, 5],
    ],
    [
      [1, 3, 3, 17],
      [1, 1, 1, 17],
      [1, 3, 3, 17],
    ],
    [
      [5, 1],
      [1, 9],
      [5, 9],
    ],
    [[33], [1], [33]],
    [
      [2, 1, 3, 1, 5, 6],
      [1, 4, 1, 2, 1, 6],
      [2, 4, 3, 2, 5, 6],
    ],
    [[1], [3, 1], [3, 1]],
  ];
  let seed = 3000;
  for (const [opIndex, [name, f]] of BIN.entries())
    for (const [sa, sb, so] of shapes)
      for (const act of [0, 1, 2]) {
        const r = rng(seed++);
        const a = randF32(r, numel(sa)),
          b = randF32(r, numel(sb), name === 'Div' ? 0.5 : -1, name === 'Div' ? 2 : 1);
        const label = `binary ${name} ${sa} ${sb} act=${act}`;
        const bundle = makeBundle(
          [
            { name: 'a', shape: sa, role: 'in' },
            { name: 'b', shape: sb, role: 'const', data: b },
            { name: 'y', shape: so, role: 'out' },
          ],
          [
            {
              kernel: fb.KernelId.Binary_F32,
              inputs: [0, 1],
              outputs: [2],
              params: {
                type: 'binary',
                op: opIndex,
                shape: so,
                aStrides: bstrides(sa, so),
                bStrides: bstrides(sb, so),
                activation: act,
                actMin: -0.3,
                actMax: 0.4,
              },
            },
          ],
        );
        const got = (await runAll(bundle, { a }, label)).y as Float32Array;
        const as = bstrides(sa, so),
          bs = bstrides(sb, so);
        const want = new Float64Array(numel(so));
        for (let i = 0; i < want.length; i++) {
          let rest = i,
            ai = 0,
            bi = 0;
          for (let k = so.length - 1; k >= 0; k--) {
            const ik = rest % so[k]!;
            rest = Math.floor(rest / so[k]!);
            ai += ik * as[k]!;
            bi += ik * bs[k]!;
          }
          let v = f(a[ai]!, b[bi]!);
          if (act === 1) v = Math.max(v, 0);
          if (act === 2) v = Math.min(Math.max(v, -0.3), 0.4);
          want[i] = v;
        }
        // One f32 rounding of an exact result: within 2^-24 relative.
        assertClose(got, want, Array.from(want, Math.abs), 2 ** -23, label);
      }
});

test('binary in place (output aliases input a), then copied out', async () => {
  const r = rng(3500);
  const a = randF32(r, 37),
    b = randF32(r, 37);
  const bundle = makeBundle(
    [
      { name: 'a', shape: [37], role: 'in' },
      { name: 'b', shape: [37], role: 'const', data: b },
      { name: 'y', shape: [37], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [0, 1],
        outputs: [0],
        params: { type: 'binary', op: 0, shape: [37], aStrides: [1], bStrides: [1] },
      },
      { kernel: fb.KernelId.Copy, inputs: [0], outputs: [2] },
    ],
  );
  const got = (await runAll(bundle, { a }, 'binary in place')).y as Float32Array;
  // The sum of two f32 values is exact in float64, so fround gives the one correctly rounded f32 add.
  for (let i = 0; i < 37; i++) assert.is(got[i], Math.fround(a[i]! + b[i]!));
});

test('binary in place on input b, and a rank-0 (scalar) broadcast shape', async () => {
  const r = rng(3600);
  const a = randF32(r, 1),
    b = randF32(r, 12);
  const bundle = makeBundle(
    [
      { name: 'a', shape: [1], role: 'in' },
      { name: 'b', shape: [3, 4], role: 'in' },
      { name: 'y', shape: [3, 4], role: 'out' },
      { name: 's', shape: [1], role: 'in' },
      { name: 'z', shape: [1], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [0, 1],
        outputs: [1],
        params: { type: 'binary', op: fb.BinaryOp.Sub, shape: [3, 4], aStrides: [0, 0], bStrides: [4, 1] },
      },
      { kernel: fb.KernelId.Copy, inputs: [1], outputs: [2] },
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [3, 3],
        outputs: [4],
        params: { type: 'binary', op: fb.BinaryOp.Mul, shape: [], aStrides: [], bStrides: [] },
      },
    ],
  );
  const s = Float32Array.of(3);
  const out = await runAll(bundle, { a, b, s }, 'binary in place on b');
  for (let i = 0; i < 12; i++) assert.is(out.y![i], Math.fround(a[0]! - b[i]!));
  assert.is(out.z![0], 9);
});

const UN: [string, (v: number, al: number, be: number) => number, number][] = [
  ['Relu', (v) => Math.max(v, 0), 0],
  ['Clip', (v, al, be) => Math.min(Math.max(v, al), be), 0],
  ['Sigmoid', (v) => 1 / (1 + Math.exp(-v)), 1e-5],
  ['Tanh', Math.tanh, 1e-5],
  ['Exp', Math.exp, 1e-5],
  ['LeakyRelu', (v, al) => (v < 0 ? v * al : v), 2 ** -23],
  ['Neg', (v) => -v, 0],
  ['Abs', Math.abs, 0],
  ['Sqrt', Math.sqrt, 2 ** -23],
];

test('unary ops', async () => {
  let seed = 4000;
  for (const [op, [name, f, tol]] of UN.entries())
    for (const n of [1, 3, 4, 7, 16, 33, 100]) {
      const r = rng(seed++);
      const x = randF32(r, n, name === 'Sqrt' ? 0 : -4, 4);
      const label = `unary ${name} n${n}`;
      const bundle = makeBundle(
        [
          { name: 'x', shape: [n], role: 'in' },
          { name: 'y', shape: [n], role: 'out' },
        ],
        [
          {
            kernel: fb.KernelId.Unary_F32,
            inputs: [0],
            outputs: [1],
            params: { type: 'unary', op, alpha: name === 'Clip' ? -0.5 : 0.1, beta: 0.75 },
          },
        ],
      );
      const got = (await runAll(bundle, { x }, label)).y as Float32Array;
      const want = Array.from(x, (v) => f(v, name === 'Clip' ? -0.5 : 0.1, 0.75));
      assertClose(got, want, want.map(Math.abs), tol, label);
    }
});

test('softmax over outer x axis x inner', async () => {
  let seed = 4500;
  for (const [outer, axis, inner] of [
    [1, 10, 1],
    [3, 7, 1],
    [2, 5, 3],
    [1, 1, 4],
    [4, 33, 2],
  ] as const) {
    const r = rng(seed++);
    const n = outer * axis * inner;
    const x = randF32(r, n, -5, 5);
    const label = `softmax ${outer}x${axis}x${inner}`;
    const bundle = makeBundle(
      [
        { name: 'x', shape: [outer, axis, inner], role: 'in' },
        { name: 'y', shape: [outer, axis, inner], role: 'out' },
      ],
      [{ kernel: fb.KernelId.Softmax_F32, inputs: [0], outputs: [1], params: { type: 'softmax', outer, axis, inner } }],
    );
    const got = (await runAll(bundle, { x }, label)).y as Float32Array;
    const want = new Float64Array(n);
    for (let o = 0; o < outer; o++)
      for (let q = 0; q < inner; q++) {
        let m = -Infinity,
          s = 0;
        for (let k = 0; k < axis; k++) m = Math.max(m, x[(o * axis + k) * inner + q]!);
        for (let k = 0; k < axis; k++) s += Math.exp(x[(o * axis + k) * inner + q]! - m);
        for (let k = 0; k < axis; k++)
          want[(o * axis + k) * inner + q] = Math.exp(x[(o * axis + k) * inner + q]! - m) / s;
      }
    assertClose(got, want, Array.from(want, Math.abs), 1e-5, label);
  }
});

test.run();
