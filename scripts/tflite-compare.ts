// Compares edgec's int8 bundles of .tflite models with TFLite's own interpreter (the @tensorflow/tfjs-tflite
// wasm, test/tflite-oracle.ts) on the same int8 inputs: share of identical output bytes and the largest
// difference in quantisation steps, per model and build. KWS runs on its real MFCC features (a file of
// N×490 int8 given by --kws, e.g. ../shared/data/kws/features_i8.bin with --kws-labels for accuracy);
// the other models on seeded uniform int8 inputs.
// Run: node --import tsx scripts/tflite-compare.ts [--n 50] [--kws FILE --kws-labels FILE] model.tflite…
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTflite } from '../compiler/frontend/tflite/index.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { load } from '../runtime/node.ts';
import { tfliteRunner } from '../test/tflite-oracle.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { n: { type: 'string', default: '50' }, kws: { type: 'string' }, 'kws-labels': { type: 'string' } },
});

/** xorshift32: the same inputs on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const round = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

for (const file of positionals) {
  const bytes = new Uint8Array(readFileSync(file));
  const graph = parseTflite(bytes, file);
  const { bundle, report } = await compileQuantized(graph, {});
  const oracle = await tfliteRunner(bytes);
  const inQ = graph.tensors.get(graph.inputs[0]!)!.quant!;
  const outQ = graph.outputs.map((o) => graph.tensors.get(o)!.quant!);
  const inLen = oracle.inputs[0]!.data().length;
  const kws = basename(file).startsWith('kws') && values.kws;
  const feats = kws ? new Int8Array(readFileSync(values.kws!)) : undefined;
  const labels = kws && values['kws-labels'] ? readFileSync(values['kws-labels']) : undefined;
  const n = feats ? Math.min(Number(values.n), feats.length / inLen) : Number(values.n);
  const rnd = seeded(12345);
  const inputs: Int8Array[] = [];
  for (let s = 0; s < n; s++) {
    inputs.push(
      feats ? feats.slice(s * inLen, (s + 1) * inLen) : Int8Array.from({ length: inLen }, () => (rnd() & 255) - 128),
    );
  }
  const uint8In = oracle.inputs[0]!.dataType === 'uint8';
  for (const build of ['simd', 'scalar'] as const) {
    const model = await load(bundle, { build });
    let same = 0,
      total = 0,
      maxStep = 0,
      correctE = 0,
      correctT = 0;
    for (let s = 0; s < n; s++) {
      const q = inputs[s]!;
      const x = Float32Array.from(q, (v) => Math.fround((v - inQ.zeroPoint[0]!) * inQ.scale[0]!));
      const y = model.run({ [graph.inputs[0]!]: x });
      const t = oracle.run([uint8In ? Uint8Array.from(q, (v) => v + 128) : q]);
      graph.outputs.forEach((o, k) => {
        const ye = y[o] as Float32Array,
          yt = t[k]!;
        const off = oracle.outputs[k]!.dataType === 'uint8' ? 128 : 0;
        let bestE = 0,
          bestT = 0;
        for (let i = 0; i < ye.length; i++) {
          const qe = round(ye[i]! / outQ[k]!.scale[0]!) + outQ[k]!.zeroPoint[0]!;
          const qt = yt[i]! - off;
          if (qe === qt) same++;
          total++;
          maxStep = Math.max(maxStep, Math.abs(qe - qt));
          if (ye[i]! > ye[bestE]!) bestE = i;
          if (yt[i]! > yt[bestT]!) bestT = i;
        }
        if (labels && k === 0) {
          if (bestE === labels[s]) correctE++;
          if (bestT === labels[s]) correctT++;
        }
      });
    }
    const acc = labels
      ? `; top-1 edgec ${((100 * correctE) / n).toFixed(1)} %, TFLite ${((100 * correctT) / n).toFixed(1)} %`
      : '';
    console.log(
      `${basename(file)} [${build}] ${n} inputs: ${same}/${total} bytes identical (${((100 * same) / total).toFixed(2)} %), max ${maxStep} step(s); int8 nodes ${report.int8Nodes.length}, float ${report.floatNodes.length} (${report.floatNodes.join(', ')})${acc}`,
    );
  }
}
