// runtime/index.ts classifyDot, the rule behind relaxedDotMode (which int8 GEMM tile the relaxed build runs), on
// models of the dot products engines compile i32x4.relaxed_dot_i8x16_i7x16_add_s to: only the exact ones may take the
// one-dot tile, every saturating or otherwise inexact one must get 'split'. The real engines: Chromium here
// (test/browser/relaxed-dot.test.ts), Node 20 with the flag (test/runtime/relaxed.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyDot, relaxedDotMode, relaxedSupported, type DotProbe } from '../../runtime/index.ts';

const sat = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** Each lane's sum over 4 equal products of splat(a) · splat(b), plus c, as one engine computes it. */
const ENGINES: Record<string, [DotProbe, string]> = {
  // x86 AVX-VNNI vpdpbusd (V8 on this CPU): b as u8, exact, wrapping
  vpdpbusd: [(a, b, c) => (c + 4 * a * (b & 255)) | 0, 'usdot'],
  // ARM sdot, AVX-VNNI-INT8 vpdpbssd: both signed, exact, wrapping
  sdot: [(a, b, c) => (c + 4 * a * b) | 0, 'sdot'],
  // x86 SSSE3 pmaddubsw (u8 · i8 pairs saturated to i16) + pmaddwd + paddd: f(127, −1, 0) = 65534
  pmaddubsw: [(a, b, c) => (c + 2 * sat(2 * a * (b & 255), -32768, 32767)) | 0, 'split'],
  // the saturating form vpdpbusds: exact products, i32 sum clamped
  vpdpbusds: [(a, b, c) => sat(c + 4 * a * (b & 255), -(2 ** 31), 2 ** 31 - 1), 'split'],
  // signed products, i32 sum clamped
  sdotSaturating: [(a, b, c) => sat(c + 4 * a * b, -(2 ** 31), 2 ** 31 - 1), 'split'],
  // Node 20's V8 on x64 with --experimental-wasm-relaxed-simd: twice the dot, accumulator dropped
  node20: [(a, b) => (8 * a * b) | 0, 'split'],
  // b read as 7 bits (the spec's i7 taken literally)
  sevenBit: [(a, b, c) => (c + 4 * a * (b & 127)) | 0, 'split'],
};

for (const [name, [f, want]] of Object.entries(ENGINES))
  test(`classifyDot: a ${name}-like engine → '${want}'`, () => {
    assert.is(classifyDot(f), want);
  });

test("relaxedDotMode: 'split' wherever relaxedSupported() fails (Node 20 here), one of the three everywhere", () => {
  const mode = relaxedDotMode();
  assert.ok(['usdot', 'sdot', 'split'].includes(mode), mode);
  if (!relaxedSupported()) assert.is(mode, 'split');
});

test.run();
