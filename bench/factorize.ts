// Per-layer latency of k×k convs against their Tai et al. factorisation k×1 (r channels) → 1×k, same run: 7×7 and
// 3×3 'same' convs at a few channel counts, ranks C/2 and C (a stride-2 stem with Ci = 3: ranks 4 and 8 of its
// full rank 21; k×1 then carries stride [2,1], 1×k [1,2]), float32 and int8 (the int8 pair runs on the dedicated
// ConvKx1_QS8 / Conv1xK_QS8 kernels), simd build. Times: median CPU ms of interleaved batches; ratio: the median of
// the rounds' paired ratios (layer-timing.ts, the same measurement `factorizeGraph` decides with). Run by hand (`node --import tsx bench/factorize.ts`) or from
// `npm run bench`; numbers never gate a test. `node --import tsx bench/factorize.ts TEXT` runs the rows whose
// label contains TEXT.
import { planFactorization, spliceFactorization } from '../compiler/compress/factorize.ts';
import { wasmLayerTimer } from '../compiler/compress/layer-timing.ts';
import { cloneGraph } from '../compiler/compile.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { runPasses } from '../compiler/passes/index.ts';

/** [label, H (= W), Ci, Co, k, stride (default 1), ranks (default Ci/2 and Ci)] */
export const FACTOR_SHAPES: [string, number, number, number, number, number?, number[]?][] = [
  ['7×7 28² 16→16', 28, 16, 16, 7],
  ['7×7 17² 64→64', 17, 64, 64, 7],
  ['7×7 14² 32→64', 14, 32, 64, 7],
  ['3×3 28² 32→32', 28, 32, 32, 3],
  ['3×3 14² 64→64', 14, 64, 64, 3],
  ['3×3 7² 128→128', 7, 128, 128, 3],
  ['7×7/2 56² 3→32', 56, 3, 32, 7, 2, [4, 8]],
];

function convLayer(h: number, ci: number, co: number, k: number, stride: number): Graph {
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const g: Graph = { name: 'conv', source: 'bench', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  g.tensors.set('x', { name: 'x', dtype: 'float32', shape: [1, h, h, ci] });
  g.tensors.set('w', {
    name: 'w',
    dtype: 'float32',
    shape: [co, k, k, ci],
    data: Float32Array.from({ length: co * k * k * ci }, rand),
  });
  g.tensors.set('b', { name: 'b', dtype: 'float32', shape: [co], data: Float32Array.from({ length: co }, rand) });
  g.tensors.set('y', { name: 'y', dtype: 'float32', shape: [] });
  g.nodes.push({
    name: 'conv',
    op: 'Conv2D',
    inputs: ['x', 'w', 'b'],
    outputs: ['y'],
    attrs: { padding: 'same', activation: 'relu', strides: [stride, stride] },
  });
  return runPasses(g);
}

export async function factorizeBench(log: (line: string) => void = console.log, only?: string): Promise<void> {
  log(
    'k×k conv vs k×1 (rank r) → 1×k, simd build, median CPU ms per run (interleaved); ratio = median of paired factorised / original (< 1: faster)',
  );
  const head = ['layer', 'r', 'MACs ratio', 'f32 ms', 'f32 fact ms', 'f32 ratio', 'i8 ms', 'i8 fact ms', 'i8 ratio'];
  const rows: string[][] = [];
  const f32 = wasmLayerTimer({ dtype: 'float32' }),
    i8 = wasmLayerTimer({ dtype: 'int8' });
  for (const [label, h, ci, co, k, stride = 1, ranks = [ci / 2, ci]] of FACTOR_SHAPES) {
    if (only !== undefined && !label.includes(only)) continue;
    const g = convLayer(h, ci, co, k, stride);
    for (const r of ranks) {
      const f = cloneGraph(g);
      const p = planFactorization(f, f.nodes[0]!, 'separable', { rank: r });
      spliceFactorization(f, f.nodes[0]!, p);
      const oh = Math.ceil(h / stride);
      const macs = oh * oh * co * k * k * ci;
      const a = await f32(g, runPasses(f)),
        b = await i8(g, runPasses(f));
      rows.push([
        label,
        String(r),
        (p.macs / macs).toFixed(2),
        a.before.toFixed(3),
        a.after.toFixed(3),
        a.ratio.toFixed(2),
        b.before.toFixed(3),
        b.after.toFixed(3),
        b.ratio.toFixed(2),
      ]);
    }
  }
  const widths = head.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(fmt(head));
  for (const r of rows) log(fmt(r));
}

if (import.meta.url === `file://${process.argv[1]}`) await factorizeBench(console.log, process.argv[2]);
