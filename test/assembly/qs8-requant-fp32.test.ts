// XNNPACK's fp32 requantisation (the *_QS8_FP32 kernels) in the SIMD builds (gemm/qs8-requant.ts requantFp32v):
// clamped with pmax / pmin and rounded by adding 1.5·2^23, which must equal round-half-even-then-clamp
// (compiler/ir/requant.ts requantizeFp32). First the formula, emulated in float32 steps, over accumulator edges,
// exact ties and scales up to overflow; then Dense / depthwise / Mul graphs with power-of-two scale ratios (so many
// accumulators land on exact halves) byte for byte against the TS reference on every build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { requantizeFp32 } from '../../compiler/ir/requant.ts';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261203);
const f32 = Math.fround;
const bits = new Int32Array(1),
  fl = new Float32Array(bits.buffer);

/** requantFp32v lane by lane: pmax(a, b) = a < b ? b : a, pmin(a, b) = b < a ? b : a, then the magic add's bits. */
function magicEmulated(acc: number, scale: number, zp: number, lo: number, hi: number): number {
  let v = f32(f32(acc) * f32(scale));
  v = v < lo - zp ? lo - zp : v;
  v = hi - zp < v ? hi - zp : v;
  fl[0] = f32(v + 12582912);
  return (bits[0]! - 0x4b400000 + zp) | 0;
}

test('magic-bias fp32 requantisation equals round-half-even then clamp: i32 edges, exact halves, scales to overflow', () => {
  const accs: number[] = [-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 2 ** 24 + 1, -(2 ** 24) - 3];
  for (let a = -600; a <= 600; a++) accs.push(a);
  for (let k = 1; k < 31; k++) accs.push(2 ** k + 1, -(2 ** k) - 1, 3 * 2 ** (k - 1), -3 * 2 ** (k - 1));
  const scales = [1, 0.5, 0.25, 2 ** -7, 2 ** -20, 1.5, 0.3, 0.0007, 1e-9, 3e38, 1e30, 2 ** -149];
  const clamps: [number, number][] = [
    [-128, 127],
    [0, 6],
    [-128, -128],
    [127, 127],
  ];
  let n = 0;
  for (const s of scales)
    for (const zp of [...ZPS, -127])
      for (const [lo, hi] of clamps)
        for (const acc of accs) {
          const want = requantizeFp32(acc, s, zp, lo, hi),
            got = magicEmulated(acc, s, zp, lo, hi);
          if (got !== want) assert.unreachable(`acc ${acc} scale ${s} zp ${zp} [${lo}, ${hi}]: ${got}, want ${want}`);
          n++;
        }
  assert.ok(n > 100000);
});

test('Dense_QS8_FP32 / depthwise FP32 / Mul_QS8_FP32 with power-of-two scale ratios (exact halves) on every build', async () => {
  let i = 0;
  for (const k of [1, 3, 7, 10])
    for (const op of ['Dense', 'Depthwise', 'Mul'] as const) {
      const qg = new QGraph();
      qg.g.int8Arithmetic = 'tflite';
      const zpIn = pick(ZPS, i),
        zpOut = pick(ZPS, i + 1),
        sIn = 2 ** -4,
        sW = 2 ** -5;
      const act: Attrs = i % 3 === 1 ? { activation: 'relu' } : {};
      let label: string, xs: Int8Array;
      if (op === 'Dense') {
        const [M, K, N] = [5 + (i % 3), 8 + k, 16 + (i % 9)];
        const x = qg.input('x', [M, K], q(sIn, zpIn));
        const w = qg.weights('w', [N, K], new Array(N).fill(sW));
        // s_out = s_in·s_w·2^k: the float scale is exactly 2^-k
        qg.node('Dense', [x, w, qg.bias('b', N, 200)], act, q(sIn * sW * 2 ** k, zpOut));
        label = `dense M${M} K${K} N${N}`;
        xs = randI8(M * K);
      } else if (op === 'Depthwise') {
        const [h, wd, c] = [4 + (i % 3), 5, 16 + (i % 5) * 4];
        const x = qg.input('x', [1, h, wd, c], q(sIn, zpIn));
        const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(sW));
        qg.node(
          'Conv2D',
          [x, w, qg.bias('b', c, 200)],
          { strides: [1 + (i % 2), 1 + (i % 2)], padding: 'same', groups: c, ...act },
          q(sIn * sW * 2 ** (k + 3), zpOut),
        );
        label = `dwconv ${h}x${wd}x${c}`;
        xs = randI8(h * wd * c);
      } else {
        const shape = [3, 5, 16 + (i % 7)];
        const n = shape.reduce((a, b) => a * b, 1);
        const a = qg.input('x', shape, q(sIn, zpIn));
        qg.g.tensors.set('b', { name: 'b', dtype: 'int8', shape, data: randI8(n), quant: q(sW, pick(ZPS, i + 3)) });
        qg.node('Mul', [a, 'b'], act, q(sIn * sW * 2 ** (k + 6), zpOut));
        label = `mul ${shape.join('x')}`;
        xs = randI8(n);
      }
      await check(`${label} 2^-${k} zp ${zpIn}/${zpOut}`, qg.g, { x: xs });
      i++;
    }
});

test.run();
