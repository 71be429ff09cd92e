// Transpose (permutations, slices with steps incl. negative, element size 1 and 4), Concat, Copy
// and Pad (F32 value, I8/U8 zero point): pure data movement, so exact against the obvious JS loop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeBundle, runAll, rng, randF32, fb, numel } from './harness.ts';

function rowMajor(shape: number[]): number[] {
  const st: number[] = [];
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    st[k] = acc;
    acc *= shape[k]!;
  }
  return st;
}

function gather(x: ArrayLike<number>, shape: number[], strides: number[], offset: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < numel(shape); i++) {
    let rest = i,
      xi = offset;
    for (let k = shape.length - 1; k >= 0; k--) {
      xi += (rest % shape[k]!) * strides[k]!;
      rest = Math.floor(rest / shape[k]!);
    }
    out.push(x[xi]!);
  }
  return out;
}

function randI8(r: () => number, n: number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
}

test('transpose permutations, f32 and int8 (short inner rows as NCHW → NHWC walk the longer dim innermost)', async () => {
  let seed = 5000;
  const cases: [number[], number[]][] = [
    [
      [1, 4, 5, 3],
      [0, 3, 1, 2],
    ],
    [
      [1, 3, 4, 5],
      [0, 2, 3, 1],
    ],
    [
      [7, 9],
      [1, 0],
    ],
    [
      [2, 3, 4, 5, 6],
      [4, 2, 0, 3, 1],
    ],
    [
      [2, 1, 3, 1, 2, 2],
      [5, 4, 3, 2, 1, 0],
    ],
    [[17], [0]],
    [
      [1, 3, 17, 19],
      [0, 2, 3, 1],
    ],
    [
      [2, 5, 3],
      [0, 2, 1],
    ],
    // int8 3-plane interleave (16 pixels per step): widths below, at and around multiples of 16
    [
      [1, 3, 2, 15],
      [0, 2, 3, 1],
    ],
    [
      [2, 3, 3, 16],
      [0, 2, 3, 1],
    ],
    [
      [1, 3, 2, 33],
      [0, 2, 3, 1],
    ],
    [
      [1, 3, 1, 48],
      [0, 2, 3, 1],
    ],
  ];
  for (const [inShape, perm] of cases)
    for (const dtype of [fb.DType.F32, fb.DType.I8]) {
      const r = rng(seed++);
      const x = dtype === fb.DType.F32 ? randF32(r, numel(inShape)) : randI8(r, numel(inShape));
      const outShape = perm.map((p) => inShape[p]!);
      const st = rowMajor(inShape);
      const strides = perm.map((p) => st[p]!);
      const label = `transpose ${inShape} perm ${perm} dtype ${dtype}`;
      const bundle = makeBundle(
        [
          { name: 'x', shape: inShape, role: 'in', dtype },
          { name: 'y', shape: outShape, role: 'out', dtype },
        ],
        [
          {
            kernel: fb.KernelId.Transpose,
            inputs: [0],
            outputs: [1],
            params: { type: 'transpose', shape: outShape, strides, offset: 0 },
          },
        ],
      );
      const got = (await runAll(bundle, { x }, label)).y!;
      assert.equal(Array.from(got), gather(x, outShape, strides, 0), label);
    }
});

test('slices as strided gathers (offset, steps, negative step)', async () => {
  const r = rng(5100);
  const inShape = [1, 6, 7, 5];
  const x = randF32(r, numel(inShape));
  const st = rowMajor(inShape);
  const cases: { shape: number[]; strides: number[]; offset: number }[] = [
    { shape: [1, 3, 7, 5], strides: st, offset: 2 * st[1]! }, // h 2..5
    { shape: [1, 6, 3, 2], strides: [st[0]!, st[1]!, 2 * st[2]!, 1], offset: 1 * st[2]! + 3 }, // w 1::2, c 3..5
    { shape: [1, 6, 7, 5], strides: [st[0]!, -st[1]!, st[2]!, -1], offset: 5 * st[1]! + 4 }, // reversed h and c
  ];
  for (const c of cases) {
    const label = `slice ${c.shape} strides ${c.strides} offset ${c.offset}`;
    const bundle = makeBundle(
      [
        { name: 'x', shape: inShape, role: 'in' },
        { name: 'y', shape: c.shape, role: 'out' },
      ],
      [{ kernel: fb.KernelId.Transpose, inputs: [0], outputs: [1], params: { type: 'transpose', ...c } }],
    );
    const got = (await runAll(bundle, { x }, label)).y!;
    assert.equal(Array.from(got), gather(x, c.shape, c.strides, c.offset), label);
  }
});

test('concat along the channel axis and the outer axis', async () => {
  let seed = 5200;
  for (const [outer, sizes] of [
    [12, [3, 5, 1]],
    [1, [7, 9]],
    [4, [16, 16, 4, 1]],
  ] as const)
    for (const dtype of [fb.DType.F32, fb.DType.U8]) {
      const r = rng(seed++);
      const xs = sizes.map((s) =>
        dtype === fb.DType.F32
          ? randF32(r, outer * s)
          : Uint8Array.from({ length: outer * s }, () => Math.floor(r() * 256)),
      );
      const total = sizes.reduce((a, b) => a + b, 0);
      const label = `concat outer ${outer} sizes ${sizes} dtype ${dtype}`;
      const bundle = makeBundle(
        [
          ...sizes.map((s, i) => ({ name: `x${i}`, shape: [outer, s], role: 'in' as const, dtype })),
          { name: 'y', shape: [outer, total], role: 'out', dtype },
        ],
        [
          {
            kernel: fb.KernelId.Concat,
            inputs: sizes.map((_, i) => i),
            outputs: [sizes.length],
            params: { type: 'concat', outer, sizes: [...sizes] },
          },
        ],
      );
      const got = (await runAll(bundle, Object.fromEntries(xs.map((x, i) => [`x${i}`, x])), label)).y!;
      const want: number[] = [];
      for (let o = 0; o < outer; o++)
        sizes.forEach((s, i) => {
          for (let e = 0; e < s; e++) want.push(xs[i]![o * s + e]!);
        });
      assert.equal(Array.from(got), want, label);
    }
});

test('copy (reshape that cannot alias)', async () => {
  const x = randF32(rng(5300), 60);
  const bundle = makeBundle(
    [
      { name: 'x', shape: [3, 4, 5], role: 'in' },
      { name: 'y', shape: [12, 5], role: 'out' },
    ],
    [{ kernel: fb.KernelId.Copy, inputs: [0], outputs: [1] }],
  );
  assert.equal(Array.from((await runAll(bundle, { x }, 'copy')).y!), Array.from(x));
});

test('pad: f32 value, int8/uint8 zero point', async () => {
  let seed = 5400;
  const cases: [number[], number[], number[]][] = [
    [
      [1, 3, 4, 2],
      [0, 1, 2, 0],
      [1, 6, 7, 3],
    ],
    [[5], [2], [9]],
    [
      [2, 3],
      [0, 0],
      [2, 3],
    ],
    [
      [1, 2, 2, 1, 1, 3],
      [0, 1, 0, 1, 0, 2],
      [1, 4, 3, 2, 1, 6],
    ],
  ];
  for (const [inShape, before, outShape] of cases)
    for (const dtype of [fb.DType.F32, fb.DType.I8, fb.DType.U8]) {
      const r = rng(seed++);
      const n = numel(inShape);
      const x =
        dtype === fb.DType.F32
          ? randF32(r, n)
          : dtype === fb.DType.I8
            ? randI8(r, n)
            : Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      const zp = dtype === fb.DType.I8 ? -7 : 11;
      const label = `pad ${inShape} at ${before} in ${outShape} dtype ${dtype}`;
      const bundle = makeBundle(
        [
          { name: 'x', shape: inShape, role: 'in', dtype },
          { name: 'y', shape: outShape, role: 'out', dtype, zeroPoint: zp },
        ],
        [
          {
            kernel: fb.KernelId.Pad,
            inputs: [0],
            outputs: [1],
            params: { type: 'pad', shape: outShape, inShape, before, value: 0.5 },
          },
        ],
      );
      const got = (await runAll(bundle, { x }, label)).y!;
      const fill = dtype === fb.DType.F32 ? 0.5 : zp;
      const want: number[] = [];
      const inSt = rowMajor(inShape);
      for (let i = 0; i < numel(outShape); i++) {
        let rest = i,
          xi = 0,
          inside = true;
        for (let k = outShape.length - 1; k >= 0; k--) {
          const ik = (rest % outShape[k]!) - before[k]!;
          rest = Math.floor(rest / outShape[k]!);
          if (ik < 0 || ik >= inShape[k]!) inside = false;
          xi += ik * inSt[k]!;
        }
        want.push(inside ? x[xi]! : fill);
      }
      assert.equal(Array.from(got), want, label);
    }
});

test.run();
