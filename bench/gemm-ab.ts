// Int8 GEMM A/B: the MobileNetV2 GEMM shapes whose K is small (1×1 expand 112² / 56² / 28², project 112², the stem's
// im2col GEMM as K = 27) and one K = 96 expand for reference, each a one-node Dense graph (bench/gemm.ts), and the stem
// itself (Conv2D 224² × 3 → 112² × 32, 3×3 stride 2 'same': im2col rows of 32 bytes, then the GEMM), run on two
// or more simd builds interleaved round by round in one process; per shape each build's µs and GMAC/s (the minimum
// over rounds, or the median),
// its ratio to the first, and whether every build gave the same output bytes. A quick check of a tile or epilogue
// change on exactly these shapes (~20 s; bench/profile.ts times the whole model's steps). `--arith` picks the int8
// arithmetic the graphs are compiled with: 'onnxruntime' (default; the u8s8 QDQ MobileNetV2's, so its *_QS8_FP32
// kernels and the tile's EpiFp32N epilogue), 'tflite', or 'edgec' (its own fixed point: the E40 epilogues); each
// line names the kernel the bundle runs.
//   node --import tsx bench/gemm-ab.ts --before DIR [extra.wasm …]   (DIR/edgec-simd.wasm, then build/edgec-simd.wasm)
//   node --import tsx bench/gemm-ab.ts a.wasm b.wasm [c.wasm …]       [--rounds 25] [--median] [--arith edgec] [--tail]
// Run by hand only; numbers never gate a test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { compileGraph } from '../compiler/compile.ts';
import { wasmPath } from '../runtime/node.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { summarizeBundle } from '../compiler/cli/inspect.ts';
import { denseGraph, randI8 } from './gemm.ts';

const { values, positionals } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '25' },
    median: { type: 'boolean', default: false },
    arith: { type: 'string', default: 'onnxruntime' },
    tail: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const files = values.before ? [join(values.before, 'edgec-simd.wasm'), wasmPath('simd'), ...positionals] : positionals;
if (files.length < 2) throw new Error('bench/gemm-ab.ts: give --before DIR or at least two .wasm files');
const rounds = Number(values.rounds);
const arith = values.arith;
if (arith !== 'onnxruntime' && arith !== 'tflite' && arith !== 'edgec')
  throw new Error(`bench/gemm-ab.ts: --arith wants onnxruntime, tflite or edgec, not '${arith}'`);

/** MobileNetV2's stem as one int8 node: x [1, 224, 224, 3] → y [1, 112, 112, 32]. */
function stemGraph(): Graph {
  const g: Graph = { name: 'stem', source: 'bench', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  g.tensors.set('x', { name: 'x', dtype: 'int8', shape: [1, 224, 224, 3], quant: { scale: [0.02], zeroPoint: [-5] } });
  g.tensors.set('w', {
    name: 'w',
    dtype: 'int8',
    shape: [32, 3, 3, 3],
    data: randI8(32 * 27, 7),
    quant: { scale: new Array(32).fill(0.002), zeroPoint: new Array(32).fill(0), axis: 0 },
  });
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, 112, 112, 32], quant: { scale: [0.05], zeroPoint: [3] } });
  g.nodes.push({
    name: 'stem',
    op: 'Conv2D',
    inputs: ['x', 'w'],
    outputs: ['y'],
    attrs: { strides: [2, 2], padding: 'same' },
  });
  return g;
}

/** [label, M, K, N]; N = 0: the stem conv (M·K·N its MACs) */
const SHAPES: [string, number, number, number][] = [
  ['expand 112² K16', 12544, 16, 96],
  ['expand 56² K24', 3136, 24, 144],
  ['expand 28² K32', 784, 32, 192],
  ['project 112² K32', 12544, 32, 16],
  ['stem GEMM K27', 12544, 27, 32],
  ['expand 14² K96', 196, 96, 576],
  ['stem conv K27', 12544, 27, 0],
];
/** --tail: MobileNetV2's 7² 1×1 shapes (M 49: a lone row past 12 tiles) and M 48, 50, 51 beside them */
const TAIL_SHAPES: [string, number, number, number][] = [48, 49, 50, 51].flatMap((M) => [
  [`expand 7² M${M} K160`, M, 160, 960] as [string, number, number, number],
  [`project 7² M${M} K960`, M, 960, 160] as [string, number, number, number],
]);

interface Exports {
  memory: WebAssembly.Memory;
  edgec_alloc(bytes: number): number;
  edgec_load(ptr: number, len: number): number;
  edgec_input_ptr(i: number): number;
  edgec_output_ptr(i: number): number;
  edgec_output_size(i: number): number;
  edgec_run(): number;
}

const modules = files.map((f) => new WebAssembly.Module(readFileSync(f)));
console.log(files.map((f, i) => `[${i}] ${f}`).join('\n'));
console.log(
  `load average ${loadavg()[0]!.toFixed(2)}; ${values.median ? 'median' : 'minimum'} of ${rounds} rounds; ` +
    `µs (GMAC/s) per build, ratio to [0]; ${arith} arithmetic`,
);
for (const [label, M, K, N] of values.tail ? TAIL_SHAPES : SHAPES) {
  const g = N ? denseGraph(M, K, N) : stemGraph();
  if (arith !== 'edgec') g.int8Arithmetic = arith;
  const bundle = compileGraph(g, { skipPasses: true }).bundle;
  const kernel = summarizeBundle(bundle).rows.at(-1)!.kernel;
  const x = randI8(N ? M * K : 224 * 224 * 3, 3);
  const runs: (() => void)[] = [];
  const outs: Buffer[] = [];
  for (const m of modules) {
    const ex = (await WebAssembly.instantiate(m, {})).exports as unknown as Exports;
    const p = ex.edgec_alloc(bundle.length);
    new Uint8Array(ex.memory.buffer, p, bundle.length).set(bundle);
    if (ex.edgec_load(p, bundle.length) !== 0) throw new Error(`${label}: bundle refused`);
    new Int8Array(ex.memory.buffer, ex.edgec_input_ptr(0), x.length).set(x);
    const run = () => {
      if (ex.edgec_run() !== 0) throw new Error(`${label}: run failed`);
    };
    run();
    outs.push(Buffer.from(ex.memory.buffer, ex.edgec_output_ptr(0), ex.edgec_output_size(0)));
    runs.push(run);
  }
  const same = outs.every((o) => o.equals(outs[0]!));
  // warm up 300 ms per build: without it V8 (Node 20) had not tiered the kernels up for many of the timed runs, and the
  // minimum read 24 GMAC/s where the same Dense runs 33 warm (and MobileNetV2's expand 112² step)
  for (const run of runs) for (const end = performance.now() + 300; performance.now() < end;) run();
  const macs = M * K * (N || 32);
  const reps = Math.max(1, Math.round(4e7 / macs));
  const times = runs.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++)
    runs.forEach((run, i) => {
      const t0 = performance.now();
      for (let j = 0; j < reps; j++) run();
      times[i]!.push((performance.now() - t0) / reps);
    });
  // the minimum over rounds (the rounds where the build had a core to itself), or with --median the median
  const med = times.map((t) => t.sort((a, b) => a - b)[values.median ? t.length >> 1 : 0]!);
  console.log(
    `${label.padEnd(18)} ${`${M}×${K}→${N || 32}`.padEnd(14)}` +
      med.map((ms) => `${(ms * 1e3).toFixed(1)} (${(macs / ms / 1e6).toFixed(1)})`.padEnd(16)).join('') +
      med
        .slice(1)
        .map((ms) => (ms / med[0]!).toFixed(3))
        .join(' ') +
      (same ? '  same bytes' : '  OUTPUTS DIFFER') +
      `  ${kernel}`,
  );
}
console.log(`load average ${loadavg()[0]!.toFixed(2)}`);
