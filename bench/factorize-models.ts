// Factorises real models and reports what it bought: per-layer decisions (rank, MACs, measured ms before → after),
// whole-model MACs, measured simd latency float32 and int8 (median CPU ms, interleaved), and the factorised float
// model's agreement with the original before any recovery (top-1 on the inputs, relative L2 error of the output).
//   node --import tsx bench/factorize-models.ts model.onnx [--input x.npy] [--methods svd,separable] [--energy F | --rank R]
//        [--dtype float32|int8] [--samples N]
// Inputs: the .npy given (first axis = samples) plus random normal ones up to --samples. Run by hand; docs/compression.md
// records its output for kws_dscnn and mobilenet_v2.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { factorizeGraph, type FactorizeMethod } from '../compiler/compress/factorize.ts';
import { wasmLayerTimer } from '../compiler/compress/layer-timing.ts';
import { compileGraph } from '../compiler/compile.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { numElements, type Graph } from '../compiler/ir/graph.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { runPasses } from '../compiler/passes/index.ts';
import { argmax } from '../compiler/quantize/index.ts';
import { load } from '../runtime/node.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    input: { type: 'string' },
    methods: { type: 'string' },
    energy: { type: 'string' },
    rank: { type: 'string' },
    dtype: { type: 'string' },
    samples: { type: 'string' },
  },
});
const path = positionals[0];
if (!path) {
  console.error(
    'usage: factorize-models.ts model.onnx [--input x.npy] [--methods …] [--energy F | --rank R] [--dtype …]',
  );
  process.exit(2);
}
const methods = (values.methods ?? 'svd,separable').split(',') as FactorizeMethod[];
const dtype = (values.dtype ?? 'float32') as 'float32' | 'int8';

const g0 = runPasses(parseOnnx(readFileSync(path), path));
const inName = g0.inputs[0]!,
  outName = g0.outputs[0]!;
const size = numElements(g0.tensors.get(inName)!.shape);
const xs: Float32Array[] = [];
if (values.input) {
  const a = readNpy(readFileSync(values.input));
  const d = Float32Array.from(a.data as ArrayLike<number>);
  for (let i = 0; i + size <= d.length; i += size) xs.push(d.slice(i, i + size));
}
let s = 7;
const normal = () => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const u = (s + 1) / 2 ** 32;
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * s) / 2 ** 32);
};
while (xs.length < Number(values.samples ?? 8)) xs.push(Float32Array.from({ length: size }, normal));

const t0 = performance.now();
const { graph: g1, layers } = await factorizeGraph(g0, {
  factorize: methods,
  dtype,
  ...(values.rank ? { rank: Number(values.rank) } : { energy: Number(values.energy ?? 0.9) }),
  progress: (d, n) => process.stderr.write(`\rlayer ${d}/${n}`),
});
process.stderr.write('\n');
const short = (name: string) => (name.length > 40 ? '…' + name.slice(-39) : name);
console.log(
  `${path}: methods ${methods.join(',')}, ${values.rank ? `rank ${values.rank}` : `energy ${values.energy ?? 0.9}`}, decided on ${dtype} timings` +
    ` (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
);
for (const r of layers) {
  if (r.method === null) continue;
  const ms =
    r.msBefore === null ? '' : `  ${r.msBefore.toFixed(3)} → ${r.msAfter!.toFixed(3)} ms (${r.timeRatio!.toFixed(2)}×)`;
  console.log(
    `  ${short(r.layer).padEnd(41)} ${r.kind.padEnd(8)} ${String(r.method).padEnd(9)} r ${JSON.stringify(r.rank)}/${JSON.stringify(r.fullRank)}` +
      ` kept ${(100 * r.energyKept!).toFixed(1)}%  ${r.factorised ? `MACs ${r.macsBefore} → ${r.macsAfter}${ms}  FACTORISED` : 'kept: ' + r.reason}`,
  );
}
const stats = (g: Graph) => ({ macs: layersMacs(g), bytes: compileGraph(g).bundle.length });
function layersMacs(g: Graph): number {
  let m = 0;
  for (const n of g.nodes) {
    if (n.op !== 'Conv2D' && n.op !== 'Dense') continue;
    const w = g.tensors.get(n.inputs[1]!)!,
      y = g.tensors.get(n.outputs[0]!)!,
      x = g.tensors.get(n.inputs[0]!)!;
    m +=
      n.op === 'Dense'
        ? x.shape[0]! * w.shape[0]! * w.shape[1]!
        : numElements(y.shape) * w.shape[1]! * w.shape[2]! * w.shape[3]!;
  }
  return m;
}
const [a, b] = [stats(g0), stats(g1)];
console.log(
  `  Conv/Dense MACs ${a.macs} → ${b.macs} (${(100 * (1 - b.macs / a.macs)).toFixed(1)} % fewer); float bundle ${a.bytes} → ${b.bytes} B`,
);
for (const dt of ['float32', 'int8'] as const) {
  const t = await wasmLayerTimer({ dtype: dt, rounds: 11 })(g0, g1);
  console.log(
    `  ${dt} simd latency ${t.before.toFixed(3)} → ${t.after.toFixed(3)} ms (median paired ratio ${t.ratio.toFixed(2)})`,
  );
}
const [m0, m1] = await Promise.all([g0, g1].map((g) => load(compileGraph(g).bundle, { build: 'simd' })));
let agree = 0,
  num = 0,
  den = 0;
for (const x of xs) {
  const y0 = m0!.run({ [inName]: x })[outName] as Float32Array,
    y1 = m1!.run({ [inName]: x })[outName] as Float32Array;
  if (argmax(y0) === argmax(y1)) agree++;
  for (let i = 0; i < y0.length; i++) {
    num += (y1[i]! - y0[i]!) ** 2;
    den += y0[i]! ** 2;
  }
}
console.log(
  `  float output vs original (no recovery): top-1 agreement ${agree}/${xs.length}, relative L2 error ${Math.sqrt(num / den).toFixed(4)}`,
);
