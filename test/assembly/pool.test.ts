// MaxPool_F32, AvgPool_F32 (count_include_pad both ways) and GlobalAvgPool_F32 over channels,
// sizes, windows, strides and padding: builds bit-identical; reference within 1e-5 of float64.
import { test } from 'uvu';
import { makeBundle, runAll, rng, randF32, assertClose, fb } from './harness.ts';

const outDim = (i: number, k: number, s: number, p0: number, p1: number) => Math.floor((i + p0 + p1 - k) / s) + 1;

async function checkPool(
  isMax: boolean,
  n: number,
  h: number,
  w: number,
  c: number,
  kh: number,
  kw: number,
  s: number,
  pad: [number, number, number, number],
  includePad: boolean,
  seed: number,
): Promise<void> {
  const r = rng(seed);
  const [pt, pl, pb, pr] = pad;
  const oh = outDim(h, kh, s, pt, pb),
    ow = outDim(w, kw, s, pl, pr);
  const x = randF32(r, n * h * w * c);
  const label = `${isMax ? 'max' : 'avg'}pool ${n}x${h}x${w}x${c} k${kh}x${kw} s${s} p${pad} incl=${includePad}`;
  const bundle = makeBundle(
    [
      { name: 'x', shape: [n, h, w, c], role: 'in' },
      { name: 'y', shape: [n, oh, ow, c], role: 'out' },
    ],
    [
      {
        kernel: isMax ? fb.KernelId.MaxPool_F32 : fb.KernelId.AvgPool_F32,
        inputs: [0],
        outputs: [1],
        params: {
          type: 'pool',
          kernelH: kh,
          kernelW: kw,
          strideH: s,
          strideW: s,
          padTop: pt,
          padLeft: pl,
          padBottom: pb,
          padRight: pr,
          countIncludePad: includePad,
        },
      },
    ],
  );
  const got = (await runAll(bundle, { x }, label)).y as Float32Array;
  const want = new Float64Array(got.length),
    mag = new Float64Array(got.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let ch = 0; ch < c; ch++) {
          let acc = isMax ? -Infinity : 0,
            m = 0,
            cnt = 0,
            padded = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * s - pt + i,
                ix = xo * s - pl + j;
              if (iy < h + pb && ix < w + pr) padded++;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x[((b * h + iy) * w + ix) * c + ch]!;
              acc = isMax ? Math.max(acc, v) : acc + v;
              m += Math.abs(v);
              cnt++;
            }
          const k = ((b * oh + y) * ow + xo) * c + ch;
          const div = includePad ? padded : cnt;
          want[k] = isMax ? acc : acc / div;
          mag[k] = isMax ? Math.abs(acc) : m / div;
        }
  assertClose(got, want, mag, isMax ? 0 : 1e-5, label);
}

test('max and avg pool grid', async () => {
  const r = rng(3);
  let seed = 2000;
  for (const c of [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33])
    for (const isMax of [true, false]) {
      for (const [kh, kw, s] of [
        [2, 2, 2],
        [3, 3, 1],
        [3, 3, 2],
        [1, 7, 1],
        [5, 5, 2],
      ] as const) {
        const h = kh + Math.floor(r() * 6),
          w = kw + Math.floor(r() * 6);
        const padded = r() < 0.5;
        const pad: [number, number, number, number] = padded
          ? [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2), Math.ceil((kh - 1) / 2), Math.ceil((kw - 1) / 2)]
          : [0, 0, 0, 0];
        await checkPool(isMax, 1, h, w, c, kh, kw, s, pad, !isMax && r() < 0.5, seed++);
      }
    }
  await checkPool(false, 2, 7, 7, 8, 3, 3, 2, [1, 1, 1, 1], true, seed++);
  await checkPool(false, 2, 7, 7, 8, 3, 3, 2, [1, 1, 1, 1], false, seed++);
  await checkPool(false, 1, 5, 6, 5, 3, 3, 2, [0, 0, 2, 2], true, seed++);
  await checkPool(true, 1, 1, 1, 9, 1, 1, 1, [0, 0, 0, 0], false, seed++);
});

test('global average pool', async () => {
  let seed = 2500;
  for (const c of [1, 3, 4, 5, 8, 17, 33])
    for (const [n, h, w] of [
      [1, 1, 1],
      [1, 7, 7],
      [2, 3, 5],
    ] as const) {
      const r = rng(seed++);
      const x = randF32(r, n * h * w * c);
      const label = `gap ${n}x${h}x${w}x${c}`;
      const bundle = makeBundle(
        [
          { name: 'x', shape: [n, h, w, c], role: 'in' },
          { name: 'y', shape: [n, 1, 1, c], role: 'out' },
        ],
        [{ kernel: fb.KernelId.GlobalAvgPool_F32, inputs: [0], outputs: [1] }],
      );
      const got = (await runAll(bundle, { x }, label)).y as Float32Array;
      const want = new Float64Array(n * c),
        mag = new Float64Array(n * c);
      for (let b = 0; b < n; b++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0,
            m = 0;
          for (let i = 0; i < h * w; i++) {
            const v = x[(b * h * w + i) * c + ch]!;
            s += v;
            m += Math.abs(v);
          }
          want[b * c + ch] = s / (h * w);
          mag[b * c + ch] = m / (h * w);
        }
      assertClose(got, want, mag, 1e-5, label);
    }
});

test.run();
