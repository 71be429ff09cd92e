// qs8 GEMM throughput of the simd build: GMAC/s (median and best of several runs) on 256³, 512³ (also as a share of
// the register-only dot peak measured in the same run) and the
// 224×224 MobileNetV2 layer shapes (1×1 convs as M = H·W, K = Ci, N = Co; depthwise 3×3 per layer); 1×7 / 7×1
// convs on the dedicated kernels vs im2col (GMAC/s and arena bytes).
// Each shape is a one-node int8 graph compiled like any model. Run by hand (`node --import tsx bench/gemm.ts`,
// `--dw` for the depthwise rows only, `--line` for the 1×7 / 7×1 rows only) or from `npm run bench`; numbers never
// gate a test.
import { compileGraph } from '../compiler/compile.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { load, type Build } from '../runtime/node.ts';
import { fb } from '../compiler/emit/bundle-writer.ts';
import * as flatbuffers from 'flatbuffers';

export function randI8(n: number, seed: number): Int8Array {
  let s = seed >>> 0;
  return Int8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return ((s >>> 16) % 255) - 127;
  });
}

export function denseGraph(M: number, K: number, N: number): Graph {
  const g: Graph = { name: 'gemm', source: 'bench', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  g.tensors.set('x', { name: 'x', dtype: 'int8', shape: [M, K], quant: { scale: [0.02], zeroPoint: [-5] } });
  g.tensors.set('w', {
    name: 'w',
    dtype: 'int8',
    shape: [N, K],
    data: randI8(N * K, 7),
    quant: { scale: new Array(N).fill(0.002), zeroPoint: new Array(N).fill(0), axis: 0 },
  });
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [M, N], quant: { scale: [0.05], zeroPoint: [3] } });
  g.nodes.push({ name: 'gemm', op: 'Dense', inputs: ['x', 'w'], outputs: ['y'], attrs: {} });
  return g;
}

function dwGraph(H: number, C: number, stride: number): Graph {
  const g: Graph = { name: 'dw', source: 'bench', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  const OH = Math.ceil(H / stride);
  g.tensors.set('x', { name: 'x', dtype: 'int8', shape: [1, H, H, C], quant: { scale: [0.02], zeroPoint: [-5] } });
  g.tensors.set('w', {
    name: 'w',
    dtype: 'int8',
    shape: [C, 3, 3, 1],
    data: randI8(C * 9, 9),
    quant: { scale: new Array(C).fill(0.01), zeroPoint: new Array(C).fill(0), axis: 0 },
  });
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, OH, OH, C], quant: { scale: [0.05], zeroPoint: [3] } });
  g.nodes.push({
    name: 'dw',
    op: 'Conv2D',
    inputs: ['x', 'w'],
    outputs: ['y'],
    attrs: { strides: [stride, stride], padding: 'same', groups: C },
  });
  return g;
}

/** A 'same'-padded int8 1×k (rows) or k×1 conv H×W×C → Co. */
function lineGraph(H: number, W: number, C: number, Co: number, k: number, rows: boolean): Graph {
  const g: Graph = { name: 'line', source: 'bench', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  const ws = rows ? [Co, 1, k, C] : [Co, k, 1, C];
  g.tensors.set('x', { name: 'x', dtype: 'int8', shape: [1, H, W, C], quant: { scale: [0.02], zeroPoint: [-5] } });
  g.tensors.set('w', {
    name: 'w',
    dtype: 'int8',
    shape: ws,
    data: randI8(Co * k * C, 11),
    quant: { scale: new Array(Co).fill(0.002), zeroPoint: new Array(Co).fill(0), axis: 0 },
  });
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, H, W, Co], quant: { scale: [0.05], zeroPoint: [3] } });
  g.nodes.push({ name: 'line', op: 'Conv2D', inputs: ['x', 'w'], outputs: ['y'], attrs: { padding: 'same' } });
  return g;
}

/** GMAC/s of one graph on one build: at the median time and at the fastest (least disturbed) time. */
async function measure(g: Graph, macs: number, build: Build, minMs = 300): Promise<{ median: number; best: number }> {
  const m = await load(compileGraph(g, { skipPasses: true }).bundle, { build });
  const x = randI8(
    g.tensors.get('x')!.shape.reduce((a, b) => a * b, 1),
    3,
  );
  m.run({ x });
  let reps = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) m.run({ x });
    if (performance.now() - t > 20) break;
    reps *= 2;
  }
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 7 || (performance.now() - t0 < minMs && times.length < 50)) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) m.run({ x });
    times.push((performance.now() - t) / reps);
  }
  times.sort((a, b) => a - b);
  return { median: macs / (times[times.length >> 1]! * 1e6), best: macs / (times[0]! * 1e6) };
}

/** "median (best)" GMAC/s: on the shared cores the median moves with other load, the best much less. */
const rate = (r: { median: number; best: number }) => `${r.median.toFixed(1)} (${r.best.toFixed(1)})`;

/**
 * The register-only `i32x4.dot_i16x8_s` peak of this core right now: 8 independent accumulators, each step one
 * dot of loop-invariant registers and one add (the GEMM's pair of instructions per 8 MACs), no memory; 4 distinct
 * left and 2 right operands (8 distinct dots, nothing to share) so that 8 + 4 + 2 vectors stay within x64's 16
 * registers (8 + 8 + 1 would spill). Built with
 * binaryen from text so it needs no build step. GMAC/s of the best of 7 runs of ~50 ms each.
 */
export async function dotPeak(): Promise<number> {
  const binaryen = (await import('binaryen')).default;
  const r = [0, 1, 2, 3, 4, 5, 6, 7];
  const wat = `(module (func (export "peak") (param $n i32) (result i32) (local $w0 v128) (local $w1 v128)
    ${r.map((i) => `(local $x${i} v128) (local $a${i} v128)`).join(' ')}
    (local.set $w0 (v128.const i16x8 3 -5 7 -9 11 -13 15 -17)) (local.set $w1 (v128.const i16x8 -2 4 -6 8 -10 12 -14 16))
    ${r.map((i) => `(local.set $x${i} (i16x8.splat (i32.add (local.get $n) (i32.const ${i}))))`).join(' ')}
    (loop $l
      ${r.map((i) => `(local.set $a${i} (i32x4.add (local.get $a${i}) (i32x4.dot_i16x8_s (local.get $x${i & 3}) (local.get $w${i >> 2}))))`).join(' ')}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32x4.extract_lane 0 ${r.slice(1).reduce((e, i) => `(v128.xor ${e} (local.get $a${i}))`, '(local.get $a0)')})))`;
  const mod = binaryen.parseText(wat);
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
  const bin = new Uint8Array(mod.emitBinary());
  mod.dispose();
  const peak = new WebAssembly.Instance(new WebAssembly.Module(bin)).exports.peak as (n: number) => number;
  // ~0.5 s of calls first: V8 starts wasm on its baseline compiler (locals in memory) and swaps in the optimised
  // code for later calls once its background compile is done
  const t0 = performance.now();
  let n = 1 << 12;
  while (performance.now() - t0 < 500) {
    const t = performance.now();
    peak(n);
    if (performance.now() - t < 25 && n < 1 << 28) n *= 2;
  }
  let best = Infinity;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    peak(n);
    best = Math.min(best, performance.now() - t);
  }
  return (n * 8 * 8) / (best * 1e6);
}

export const GEMM_SHAPES: [string, number, number, number][] = [
  ['256³', 256, 256, 256],
  ['512³', 512, 512, 512],
  ['mnv2 pw 112² 32→16', 12544, 32, 16],
  ['mnv2 pw 112² 16→96', 12544, 16, 96],
  ['mnv2 pw 56² 96→24', 3136, 96, 24],
  ['mnv2 pw 56² 24→144', 3136, 24, 144],
  ['mnv2 pw 56² 144→24', 3136, 144, 24],
  ['mnv2 pw 28² 144→32', 784, 144, 32],
  ['mnv2 pw 28² 32→192', 784, 32, 192],
  ['mnv2 pw 28² 192→32', 784, 192, 32],
  ['mnv2 pw 14² 192→64', 196, 192, 64],
  ['mnv2 pw 14² 64→384', 196, 64, 384],
  ['mnv2 pw 14² 384→64', 196, 384, 64],
  ['mnv2 pw 14² 384→96', 196, 384, 96],
  ['mnv2 pw 14² 96→576', 196, 96, 576],
  ['mnv2 pw 14² 576→96', 196, 576, 96],
  ['mnv2 pw 7² 576→160', 49, 576, 160],
  ['mnv2 pw 7² 160→960', 49, 160, 960],
  ['mnv2 pw 7² 960→160', 49, 960, 160],
  ['mnv2 pw 7² 960→320', 49, 960, 320],
  ['mnv2 pw 7² 320→1280', 49, 320, 1280],
];
/** 1×7 / 7×1 layers: Inception-v3's 17×17×128 → 128 (factorised 7×7) and an MCU-sized 12×12×16 → 16. */
export const LINE_SHAPES: [string, number, number, number][] = [
  ['inception 17² 128→128', 17, 128, 128],
  ['mcu 12² 16→16', 12, 16, 16],
];

export const DW_SHAPES: [number, number, number][] = [
  [112, 32, 1],
  [112, 96, 2],
  [56, 144, 1],
  [56, 144, 2],
  [28, 192, 1],
  [28, 192, 2],
  [14, 384, 1],
  [14, 576, 1],
  [14, 576, 2],
  [7, 960, 1],
];

/** Rows [shape, GMAC/s] for the simd build (`dwOnly`: the depthwise rows alone). */
export async function gemmBench(log: (line: string) => void = console.log, dwOnly = false): Promise<void> {
  if (!dwOnly) {
    // the shared cores' speed drifts by 2× within minutes: the dot peak, measured before and after the two cubes,
    // says how fast this core is right now (the issue's 30 GMAC/s target is 56 % of the 54 it measured then)
    const peak0 = await dotPeak();
    log('qs8 GEMM, simd build, single thread, GMAC/s at the median (best) time; target 512³ ≥ 30');
    let cube = 0;
    for (const [name, M, K, N] of GEMM_SHAPES) {
      const r = await measure(denseGraph(M, K, N), M * K * N, 'simd');
      if (M === 512 && K === 512 && N === 512) cube = r.best;
      log(`  ${name.padEnd(24)} M=${M} K=${K} N=${N}`.padEnd(56) + rate(r));
      if (M === 512 && K === 512 && N === 512) {
        const peak = Math.max(peak0, await dotPeak());
        log(
          `  register-only dot peak now ${peak.toFixed(1)} GMAC/s: 512³ (best) at ${((100 * cube) / peak).toFixed(0)} % of it (30 / 54 = 56 % is the target's share)`,
        );
      }
    }
  }
  log('qs8 depthwise 3×3 (same padding), simd build, GMAC/s at the median (best) time');
  for (const [H, C, s] of DW_SHAPES) {
    const oh = Math.ceil(H / s);
    log(`  mnv2 dw ${H}² C=${C} s${s}`.padEnd(56) + rate(await measure(dwGraph(H, C, s), oh * oh * C * 9, 'simd')));
  }
  if (!dwOnly) await lineConvBench(log);
}

/** Rows [layer, GMAC/s dedicated vs im2col, arena bytes] for the simd build. */
export async function lineConvBench(log: (line: string) => void = console.log): Promise<void> {
  log(
    'qs8 1×7 / 7×1 conv (same padding), simd build, GMAC/s of the best CPU time of 15 interleaved rounds, and arena bytes: dedicated kernel vs im2col',
  );
  for (const [name, H, C, Co] of LINE_SHAPES) {
    for (const rows of [true, false]) {
      const g = lineGraph(H, H, C, Co, 7, rows),
        macs = H * H * Co * 7 * C;
      const bundles = [[], ['Conv1xK_QS8', 'ConvKx1_QS8']].map(
        (off) => compileGraph(g, { skipPasses: true, disableKernels: off }).bundle,
      );
      const arena = bundles.map((b) => fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(b)).arenaSize());
      const models = await Promise.all(bundles.map((b) => load(b, { build: 'simd' })));
      const x = randI8(H * H * C, 3),
        reps = Math.max(1, Math.round(2e8 / macs));
      // CPU time, not wall time: the two cores are shared, and another process's burst would land in one side only
      const best = [Infinity, Infinity];
      for (let round = 0; round < 15; round++) {
        for (let i = 0; i < 2; i++) {
          const c0 = process.cpuUsage();
          for (let j = 0; j < reps; j++) models[i]!.run({ x });
          const c = process.cpuUsage(c0);
          best[i] = Math.min(best[i]!, (c.user + c.system) / reps);
        }
      }
      const [fast, slow] = best.map((us) => macs / (us * 1e3));
      log(
        `  ${name} ${rows ? '1×7' : '7×1'}`.padEnd(40) +
          `${fast!.toFixed(1)} vs ${slow!.toFixed(1)} (${(fast! / slow!).toFixed(2)}×)`.padEnd(24) +
          `arena ${arena[0]} vs ${arena[1]} B`,
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--line')) await lineConvBench();
  else await gemmBench(console.log, process.argv.includes('--dw'));
}
