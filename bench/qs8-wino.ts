// One int8 3×3 stride-1 'same' conv per shape HxWxCixCo, Winograd (Conv2DWino_QS8) against im2col + GEMM on the simd
// build, interleaved run by run: prints the median over 7 rounds of each round's median-time ratio (the machine is
// shared, so ratios only). Outputs must be byte-identical or it stops. Fixed-point requantisation with FIXED=1, else
// TFLite's fp32 one (the .tflite models' ids). The lowering's speed rule (compiler/lower/int8.ts winoWins) is set
// from these numbers (docs/benchmarks.md). Run by hand:  node --import tsx bench/qs8-wino.ts [32x32x16x16,...]
import { CaseGraph, q } from '../test/kernels/grid/case.ts';
import { compileGraph } from '../compiler/compile.ts';
import { load } from '../runtime/node.ts';
const shapes = (process.argv[2] ?? '32x32x16x16,16x16x32x32,8x8x64x64,4x4x64x64,8x8x8x8,16x16x4x16,2x2x128x128').split(
  ',',
);
for (const sh of shapes) {
  const [h, w, ci, co] = sh.split('x').map(Number) as [number, number, number, number];
  const c = new CaseGraph(1);
  const y = c.node(
    'Conv2D',
    [
      c.i8('x', [1, h, w, ci], q(0.03, 3)),
      c.constI8('w', [co, 3, 3, ci], Array(co).fill(0.004)),
      c.constI32('b', co, 2000),
    ],
    { padding: 'same', activation: 'relu' },
    q(0.05, -100),
  );
  const cs = c.done(y);
  if (!process.env.FIXED) cs.graph.int8Arithmetic = 'tflite';
  const a = compileGraph(cs.graph, { skipPasses: true, disableKernels: ['Conv2DWino_QS8'] }).bundle;
  const b = compileGraph(cs.graph, { skipPasses: true, forceKernels: ['Conv2DWino_QS8'] }).bundle;
  const ma = await load(a, { build: 'simd' }),
    mb = await load(b, { build: 'simd' });
  const feed = cs.inputs;
  const oa = Buffer.from((ma.run(feed)[y] as Int8Array).buffer),
    ob = Buffer.from((mb.run(feed)[y] as Int8Array).buffer);
  if (!oa.equals(ob)) throw new Error(sh + ' differ');
  const ratios: number[] = [];
  const runs = Math.max(20, Math.round(2e6 / (h * w * ci * co)));
  for (let r = 0; r < 7; r++) {
    const ta: number[] = [],
      tb: number[] = [];
    for (let i = 0; i < runs; i++) {
      ma.run(feed);
      let s = performance.now();
      ma.run(feed);
      ta.push(performance.now() - s);
      mb.run(feed);
      s = performance.now();
      mb.run(feed);
      tb.push(performance.now() - s);
    }
    ta.sort((x, y) => x - y);
    tb.sort((x, y) => x - y);
    ratios.push(tb[runs >> 1]! / ta[runs >> 1]!);
  }
  ratios.sort((x, y) => x - y);
  console.log(`${sh}: wino/direct ${ratios[3]!.toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(' ')})`);
}
process.exit(0);
