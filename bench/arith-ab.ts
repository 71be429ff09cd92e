// The int8 arithmetics of a pre-quantised ONNX model side by side: `--before DIR`'s edgec-simd.wasm runs the bundle
// compiled with `--int8-arithmetic edgec` (fixed point), this build's the default one (onnxruntime's float32
// requantisation, docs/quantization.md); whole runs interleaved in one process, median µs of each and their ratio.
// Prints the largest difference of the two outputs too (the arithmetics differ by design, by one int8 step at most
// here). Without --before both bundles run on this build.
//   node --import tsx bench/arith-ab.ts [--dir /work/shared/models/bench] [--model mobilenet_v2] [--before DIR]
//     [--rounds 201]
// Run by hand only, like the rest of the bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { wasmModule } from '../runtime/node.ts';
import type { Exports } from '../runtime/index.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/work/shared/models/bench' },
    model: { type: 'string', default: 'mobilenet_v2' },
    before: { type: 'string' },
    rounds: { type: 'string', default: '201' },
  },
});
const dir = values.dir;
const x = Float32Array.from(readNpy(readFileSync(join(dir, `${values.model}.input.npy`))).data as ArrayLike<number>);
const file = join(dir, `${values.model}_qdq_u8s8.onnx`);
const compile = async (arithmetic: 'edgec' | 'onnxruntime') =>
  (await compileQuantized(parseOnnx(readFileSync(file), file), { arithmetic }, {})).bundle;

async function instance(module: WebAssembly.Module, bundle: Uint8Array) {
  const ex = (await WebAssembly.instantiate(module, {})).exports as unknown as Exports;
  const ptr = ex.edgec_alloc(bundle.length);
  new Uint8Array(ex.memory.buffer, ptr, bundle.length).set(bundle);
  if (ex.edgec_load(ptr, bundle.length) !== 0) throw new Error('bench/arith-ab.ts: bundle refused');
  const run = () => {
    new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), x.length).set(x);
    const s = performance.now();
    if (ex.edgec_run() !== 0) throw new Error('bench/arith-ab.ts: run failed');
    return (performance.now() - s) * 1000;
  };
  // ≥ 1.5 s of runs first, so V8 has tiered every kernel up
  for (const end = performance.now() + 1500; performance.now() < end;) run();
  const out = () => new Float32Array(ex.memory.buffer.slice(ex.edgec_output_ptr(0)), 0, ex.edgec_output_size(0) / 4);
  return { run, out };
}

const before = values.before
  ? new WebAssembly.Module(readFileSync(join(values.before, 'edgec-simd.wasm')))
  : wasmModule('simd');
const A = await instance(before, await compile('edgec'));
const B = await instance(wasmModule('simd'), await compile('onnxruntime'));
const a = A.out(),
  b = B.out();
let step = Infinity;
for (let i = 1; i < b.length; i++) if (b[i] !== b[0]) step = Math.min(step, Math.abs(b[i]! - b[0]!));
const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const ta: number[] = [],
  tb: number[] = [];
const load0 = loadavg()[0]!;
for (let r = 0; r < Number(values.rounds); r++) {
  if (r & 1) (ta.push(A.run()), tb.push(B.run()));
  else (tb.push(B.run()), ta.push(A.run()));
}
const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1]!;
console.log(
  `${values.model} int8, simd, 1 thread, whole runs (median of ${values.rounds}, load ${load0.toFixed(1)} → ` +
    `${loadavg()[0]!.toFixed(1)}): ${values.before ? 'before' : 'this'} build, edgec arithmetic ${median(ta).toFixed(0)} µs; ` +
    `this build, onnxruntime arithmetic ${median(tb).toFixed(0)} µs; ${(median(tb) / median(ta)).toFixed(3)}`,
);
console.log(
  `max |Δ| of the two outputs ${worst.toExponential(1)} (the output's smallest step ≈ ${step.toExponential(1)})`,
);
