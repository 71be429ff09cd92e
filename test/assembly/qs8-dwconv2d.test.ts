// DepthwiseConv2D_QS8 3×3 SIMD paths (assembly/kernels/conv/qs8-dwconv2d.ts): the per-group requantisation
// modes (one shift 32..54 with zp folded into the rounding constant, 31 / 55..62, per-channel), the whole-image
// copy of small stride-1 images vs the row-by-row walk, byte for byte against the TS integer reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZPS, pick, q, check, qs8Tools, requantSpec, requantE40Scaled } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randInt, randI8, QGraph } = qs8Tools(20261130);

/** requantFold8 step by step in the wasm's integer widths: i64 X = acc·mult + (2^(s−1) + zp·2^s) (wrapping),
 * its high i32 half, i32 arithmetic shift by s − 32, saturating narrow to i16, clamp in i16. */
function requantFoldEmulated(acc: bigint, mult: bigint, s: bigint, zp: bigint, lo: bigint, hi: bigint): bigint {
  const k = BigInt.asIntN(64, (1n << (s - 1n)) + (zp << s));
  const X = BigInt.asIntN(64, acc * mult + k);
  const high = BigInt.asIntN(32, X >> 32n);
  const u = high >> (s - 32n);
  const h = u < -32768n ? -32768n : u > 32767n ? 32767n : u;
  return h < lo ? lo : h > hi ? hi : h;
}

test('3x3 zp-folded requantisation (shift 32..54) equals the spec over the i32 accumulator edges, every shift, multiplier edges, zero points and clamps', () => {
  const I32 = [
    -(2n ** 31n),
    -(2n ** 31n) + 1n,
    -(2n ** 30n),
    -65536n,
    -147456n,
    -1n,
    0n,
    1n,
    147456n,
    65535n,
    2n ** 30n,
    2n ** 31n - 1n,
  ];
  const MULT = [0n, 1n, 2n ** 15n, 2n ** 30n, 2n ** 30n + 1n, 2n ** 31n - 1n];
  const CLAMP: [bigint, bigint][] = [
    [-128n, 127n],
    [0n, 6n],
    [127n, 127n],
    [-128n, -128n],
  ];
  let n = 0;
  for (let s = 32n; s <= 54n; s++)
    for (const mult of MULT)
      for (const zp of [-128n, -1n, 0n, 127n])
        for (const [lo, hi] of CLAMP) {
          // the accumulator edges, values around each rounding boundary of this shift, and seeded random ones
          const accs = [...I32];
          if (mult > 0n)
            for (let j = -300n; j <= 300n; j += 37n) {
              const b = ((j << s) - (1n << (s - 1n))) / mult;
              for (const d of [-1n, 0n, 1n]) if (b + d >= -(2n ** 31n) && b + d < 2n ** 31n) accs.push(b + d);
            }
          for (let j = 0; j < 8; j++) accs.push(BigInt(randInt(-(2 ** 31), 2 ** 31 - 1)));
          for (const acc of accs) {
            const want = requantSpec(acc, mult, s, zp, lo, hi),
              got = requantFoldEmulated(acc, mult, s, zp, lo, hi);
            if (got !== want)
              assert.unreachable(`acc ${acc} mult ${mult} s ${s} zp ${zp} [${lo}, ${hi}]: ${got} vs ${want}`);
            n++;
          }
        }
  assert.ok(n > 100000);
});

/** requantE40 on the accumulator times 2^e (e = 40 − s), which must be an i32. */
function requantE40Emulated(acc: bigint, mult: bigint, s: bigint, zp: bigint, lo: bigint, hi: bigint): bigint {
  return requantE40Scaled(acc << (40n - s), mult, zp, lo, hi);
}

test('3x3 requantisation with the weights and bias times 2^(40 − s) (shift 32..40) equals the spec over the accumulators that bound allows', () => {
  const MULT = [0n, 1n, 2n ** 15n, 2n ** 30n, 2n ** 30n + 1n, 2n ** 31n - 1n];
  const CLAMP: [bigint, bigint][] = [
    [-128n, 127n],
    [0n, 6n],
    [127n, 127n],
    [-128n, -128n],
  ];
  let n = 0;
  for (let s = 32n; s <= 40n; s++) {
    // the kernel's limit: |bias_f| ≤ 2^(31−e) − 1 − 9·128·128, so |acc| ≤ 2^(31−e) − 1
    const amax = (1n << (31n - (40n - s))) - 1n;
    for (const mult of MULT)
      for (const zp of [-128n, -1n, 0n, 127n])
        for (const [lo, hi] of CLAMP) {
          const accs = [-amax, -amax + 1n, -147456n, -1n, 0n, 1n, 147456n, amax - 1n, amax];
          if (mult > 0n)
            for (let j = -300n; j <= 300n; j += 37n) {
              const b = ((j << s) - (1n << (s - 1n))) / mult;
              for (const d of [-1n, 0n, 1n]) if (b + d >= -amax && b + d <= amax) accs.push(b + d);
            }
          for (let j = 0; j < 8; j++) accs.push(BigInt(randInt(-Number(amax), Number(amax))));
          for (const acc of accs) {
            const want = requantSpec(acc, mult, s, zp, lo, hi),
              got = requantE40Emulated(acc, mult, s, zp, lo, hi);
            if (got !== want)
              assert.unreachable(`acc ${acc} mult ${mult} s ${s} zp ${zp} [${lo}, ${hi}]: ${got} vs ${want}`);
            n++;
          }
        }
  }
  assert.ok(n > 30000);
});

const BIG = 2 ** 31 - 9 * 256 * 127 - 16; // |bias| + 9·255·127 and |bias − zp·Σw| + 9·128·127 stay below 2^31
const ACTS: Attrs[] = [
  { activation: 'none' },
  { activation: 'clip', clip: [0, 6] },
  { activation: 'relu' },
  { activation: 'clip', clip: [-0.5, 0.25] },
];

test('DepthwiseConv2D_QS8 3x3: one shift 31 / 32 / 33 / 54 / 55 / 62 and per-channel shifts; zero points at the extremes, biases at the i32 limit, w = −128', async () => {
  let i = 0;
  for (const shift of [31, 32, 33, 54, 55, 62, 0])
    for (const zp of [-128, 127])
      for (const s of [1, 2]) {
        const qg = new QGraph();
        const c = 16 + (i % 3) * 9;
        const h = 5 + (i % 2),
          wd = 6 + (i % 4);
        const x = qg.input('x', [1, h, wd, c], q(0.5, zp));
        // r = 0.5·sW / 1 = 0.75·2^(31 − shift): r·2^shift = 0.75·2^31 gives exactly that shift
        const w = qg.weights(
          'w',
          [c, 3, 3, 1],
          Array.from({ length: c }, (_, o) => (shift ? 1.5 * 2 ** (31 - shift) : 1e-5 * 4 ** (o % 9))),
        );
        const b = qg.bias('b', c, i % 2 ? BIG : 3000);
        const w128 = i % 3 === 0;
        if (w128) {
          const wd8 = qg.g.tensors.get(w)!.data as Int8Array;
          for (let o = 0; o < 9 * c; o += 5) wd8[o] = -128;
        }
        const g = qg.node(
          'Conv2D',
          [x, w, b],
          { strides: [s, s], padding: i % 4 < 2 ? 'same' : [1, 0, 2, 1], groups: c, ...pick(ACTS, i) },
          q(1, -1 - zp),
        );
        const xs = randI8(h * wd * c);
        for (let j = 0; j < xs.length; j += 4) xs[j] = j % 8 ? 127 : -128;
        await check(
          `dwconv 3x3 ${h}x${wd}x${c} s${s} shift ${shift || 'per channel'} zp ${zp}${w128 ? ' w −128' : ''}`,
          g,
          { x: xs },
        );
        i++;
      }
});

test('DepthwiseConv2D_QS8 3x3: one shift 33..54 (high halves in i32), unclamped (ReLU6 over the whole int8 range, no activation) and clamped, strides 1 and 2', async () => {
  let i = 0;
  for (const shift of [33, 34, 41, 53, 54])
    for (const act of ['relu6 full range', 'none', 'relu6 clamped'] as const)
      for (const s of [1, 2]) {
        const qg = new QGraph();
        const c = 8 + (i % 3) * 8 + (i % 2);
        const h = 4 + (i % 3),
          wd = 5 + (i % 4);
        const zpIn = pick(ZPS, i);
        const x = qg.input('x', [1, h, wd, c], q(0.5, zpIn));
        // ReLU6 with the output's scale 6/255 and zero point −128: [q_min, q_max] = [−128, 127], no clamp
        const relu6: Attrs = { activation: 'clip', clip: [0, 6] };
        const attrs = act === 'none' ? { activation: 'none' } : relu6;
        const sOut = act === 'relu6 full range' ? 6 / 255 : 0.05;
        const out = act === 'relu6 full range' ? q(sOut, -128) : q(sOut, pick(ZPS, i + 1));
        // r = 0.5·sW / sOut = 0.75·2^(31 − shift): r·2^shift = 0.75·2^31 gives exactly that shift
        const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(1.5 * 2 ** (31 - shift) * sOut));
        const b = qg.bias('b', c, i % 2 ? 2 ** (shift - 25) : 3000);
        const g = qg.node('Conv2D', [x, w, b], { strides: [s, s], padding: 'same', groups: c, ...attrs }, out);
        await check(`dwconv 3x3 ${h}x${wd}x${c} s${s} shift ${shift} ${act}`, g, { x: randI8(h * wd * c) });
        i++;
      }
});

test('DepthwiseConv2D_QS8 3x3: one shift 32..41 with folded biases at the 2^(40 − s) scaling limit and one past it, extreme taps, channels around 8 and 16, strides 1 and 2', async () => {
  let i = 0;
  for (const shift of [32, 33, 36, 37, 40, 41])
    for (const s of [1, 2])
      for (const act of ['relu6 full range', 'clamped'] as const) {
        const qg = new QGraph();
        const c = pick([8, 9, 15, 16, 17, 24, 31, 40], i);
        // 37 wide at stride 2 (OW 19): the row-by-row walk, unclamped and clamped; the others copy the whole image
        const h = 4 + (i % 3),
          wd = i % 8 === 2 || i % 8 === 7 ? 37 : 5 + (i % 5);
        const zpIn = pick(ZPS, i);
        const x = qg.input('x', [1, h, wd, c], q(0.5, zpIn));
        const sOut = act === 'relu6 full range' ? 6 / 255 : 0.05;
        const out = act === 'relu6 full range' ? q(sOut, -128) : q(sOut, pick(ZPS, i + 2));
        const attrs: Attrs = act === 'relu6 full range' ? { activation: 'clip', clip: [0, 6] } : pick(ACTS, i);
        // r = 0.5·sW / sOut = 0.75·2^(31 − shift): exactly that shift
        const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(1.5 * 2 ** (31 - shift) * sOut));
        const b = qg.bias('b', c, 3000);
        const wd8 = qg.g.tensors.get(w)!.data as Int8Array,
          bd = qg.g.tensors.get(b)!.data as Int32Array;
        // channels 0 and 9: w = −128 (with x = −128: Σ x·w = +9·128·128, the most), channel 1: w = 127
        wd8.fill(-128, 0, 9);
        wd8.fill(127, 9, 18);
        if (c > 9) wd8.fill(-128, 81, 90);
        // folded bias bias − zp_in·Σw at the limit 2^(31−e) − 1 − 9·128·128 (e = 40 − shift) in channels 0 and 1 of
        // the first group (it scales) and one past it in channel 9 (that group does not); others random. Shift 40
        // (e = 0): the compiler's own bound on the raw bias comes first
        const lim = 2 ** (31 - Math.max(0, 40 - shift)) - 1 - 9 * 128 * 128;
        const sumW = (o: number) => wd8.slice(9 * o, 9 * o + 9).reduce((a, v) => a + v, 0);
        const RAW = 2 ** 31 - 1 - 9 * 255 * 128; // the compiler's bound on a raw bias with w = −128 taps
        const setFolded = (o: number, v: number) => {
          if (o < c) bd[o] = Math.max(-RAW, Math.min(RAW, v + zpIn * sumW(o)));
        };
        setFolded(0, lim);
        setFolded(1, i % 2 ? -lim : lim);
        setFolded(9, lim + 1);
        const g = qg.node(
          'Conv2D',
          [x, w, b],
          { strides: [s, s], padding: i % 3 === 2 ? [1, 0, 2, 1] : 'same', groups: c, ...attrs },
          out,
        );
        // x = −128 in channels 0, 1 and 9 (the accumulators' extremes: a 2^e scaling past the limit overflows there)
        const xs = randI8(h * wd * c);
        for (let j = 0; j < xs.length; j += c) {
          xs[j] = -128;
          xs[j + 1] = -128;
          if (c > 9) xs[j + 9] = -128;
        }
        await check(`dwconv 3x3 ${h}x${wd}x${c} s${s} shift ${shift} ${act} zp ${zpIn} bias at the limit`, g, {
          x: xs,
        });
        i++;
      }
});

test('DepthwiseConv2D_QS8 3x3: widths around the whole-image copy limits (stride 1 OW 127..130, stride 2 OW 16, 17), batch 2', async () => {
  let i = 0;
  for (const wd of [31, 33, 127, 128, 129, 130])
    for (const s of [1, 2]) {
      const qg = new QGraph();
      // stride 1 'same': OW = the width, both channel counts over the list; stride 2 also 'valid'
      const c = (i >> 1) % 2 ? 24 : 9;
      const zpIn = pick(ZPS, i),
        zpOut = pick(ZPS, i + 1);
      const x = qg.input('x', [2, 4 + (i % 3), wd, c], q(0.04, zpIn));
      const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(0.01));
      const g = qg.node(
        'Conv2D',
        [x, w, qg.bias('b', c, 20000)],
        { strides: [s, s], padding: s === 2 && i % 3 === 2 ? 'valid' : 'same', groups: c, ...pick(ACTS, i) },
        q(0.05, zpOut),
      );
      await check(`dwconv 3x3 2x${4 + (i % 3)}x${wd}x${c} s${s}`, g, { x: randI8(2 * (4 + (i % 3)) * wd * c) });
      i++;
    }
});

test('DepthwiseConv2D_QS8 3x3: a small stride-1 image whose padded copy exceeds the 1 MiB block walks row by row', async () => {
  const qg = new QGraph();
  const h = 34,
    wd = 30,
    c = 1024; // (34 + 2)·(30 + 2)·1024 bytes > 2^20
  const x = qg.input('x', [1, h, wd, c], q(0.04, -128));
  const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(0.01));
  const g = qg.node(
    'Conv2D',
    [x, w, qg.bias('b', c, 20000)],
    { padding: 'same', groups: c, activation: 'clip', clip: [0, 6] },
    q(0.05, 7),
  );
  await check(`dwconv 3x3 ${h}x${wd}x${c}`, g, { x: randI8(h * wd * c) });
});

test('DepthwiseConv2D_QS8 3x3 two- and three-pixel loops: widths 1..9 and 14 (every last step), heights 1..3, C 8 / 9 / 16 / 17, strides 1 and 2, three paddings, each fixed-point requantisation', async () => {
  // [shift, bias magnitude, output]: 37 small bias → RQ_E40 (weights times 2^3), unclamped (ReLU6 over the int8 range)
  // or clamped (ReLU with zp > −128); 45 → RQ_HIGH32(C) at stride 1, RQ_FOLD at stride 2; 32 with a bias past the
  // 2^(40 − s) scaling limit → RQ_FOLD (k in i64)
  const MODES: [number, number, 'full' | 'relu'][] = [
    [37, 3000, 'full'],
    [37, 3000, 'relu'],
    [45, 3000, 'full'],
    [45, 3000, 'relu'],
    [32, 2 ** 26, 'relu'],
  ];
  const PADS = ['same', 'valid', [1, 0, 2, 1]] as const;
  let i = 0;
  for (const s of [1, 2])
    for (const wd of [1, 2, 3, 4, 5, 6, 7, 8, 9, 14])
      for (const [shift, bmag, out] of MODES) {
        const qg = new QGraph();
        const c = pick([8, 9, 16, 17], i),
          h = 1 + (i % 3) + (s === 2 ? 1 : 0),
          pad = pick(PADS, i);
        // 'valid' needs 3 input columns and rows, [1, 0, 2, 1] (top, left, bottom, right) 2 columns
        const W = pad === 'valid' ? wd + 2 : pad === 'same' ? wd : wd + 1,
          H = pad === 'valid' ? h + 2 : h;
        const zpIn = pick(ZPS, i);
        const x = qg.input('x', [1, H, W, c], q(0.5, zpIn));
        const sOut = out === 'full' ? 6 / 255 : 0.05;
        const attrs: Attrs = out === 'full' ? { activation: 'clip', clip: [0, 6] } : { activation: 'relu' };
        // r = 0.5·sW / sOut = 0.75·2^(31 − shift): exactly that shift
        const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(1.5 * 2 ** (31 - shift) * sOut));
        const g = qg.node(
          'Conv2D',
          [x, w, qg.bias('b', c, bmag)],
          { strides: [s, s], padding: pad === 'valid' || pad === 'same' ? pad : [...pad], groups: c, ...attrs },
          q(sOut, out === 'full' ? -128 : pick(ZPS, i + 1)),
        );
        await check(`dwconv 3x3 ${H}x${W}x${c} s${s} ${JSON.stringify(pad)} shift ${shift} bias ±${bmag} ${out}`, g, {
          x: randI8(H * W * c),
        });
        i++;
      }
});

test.run();
