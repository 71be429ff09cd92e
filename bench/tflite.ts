// The TFLite rows of `npm run bench` (bench/run.ts): edgec int8 against TFLite's own interpreter in wasm
// (@tensorflow/tfjs-tflite: TFLite + XNNPACK, one thread, test/tflite-oracle.ts) on the same full-integer .tflite
// model and the same int8 input (bench/interleave.ts lcgInt8), in one process, the runtimes interleaved run by
// run: median ms, ratio edgec / TFLite (< 1 = edgec faster) and the share of identical output values. edgec runs
// twice: `q8` compiled with --io int8 and fed the very Int8Array TFLite gets (int8 out, as TFLite's: the like-for-
// like row), and `i8` with float32 I/O (the same values dequantised; a Quantize and a Dequantize step more).
// Models: the MLPerf Tiny fixtures (test/fixtures/tflite; no VWW fixture) by short name, plus any .tflite given.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseTflite } from '../compiler/frontend/tflite/index.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import type { CompileOptions } from '../compiler/compile.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { load } from '../runtime/node.ts';
import { tfliteRunner } from '../test/tflite-oracle.ts';
import { interleavedMedians, lcgInt8, requantize, sameBytes } from './interleave.ts';
import type { ModelRecord } from './table.ts';

/** Short name → the MLPerf Tiny int8 fixture. */
export const TFLITE_MODELS: Record<string, string> = {
  kws: 'kws_ref_model.tflite',
  resnet8: 'pretrainedResnet_quant.tflite',
  ad: 'ad01_int8.tflite',
};

/** A bench model name (a key of TFLITE_MODELS) or a path ending in .tflite → the file. */
export function tflitePath(name: string): string | undefined {
  if (name.endsWith('.tflite')) return name;
  const f = TFLITE_MODELS[name];
  return f && join(import.meta.dirname, '..', 'test', 'fixtures', 'tflite', f);
}

export interface TfliteCase {
  name: string;
  tflite: Uint8Array;
  /** float32 I/O */
  bundle: Uint8Array;
  /** --io int8: takes `q` itself, gives the int8 output TFLite gives. */
  bundleQ8: Uint8Array;
  /** The int8 input the runtimes get: TFLite and edgec q8 as it is, edgec i8 dequantised with the input's scale. */
  q: Int8Array;
  x: Float32Array;
  shape: number[];
  inName: string;
  outName: string;
  outScale: number;
  outZeroPoint: number;
}

/** Parses and compiles one .tflite and makes its input (shared with the Chromium bench). */
export async function tfliteCase(file: string, opts: CompileOptions = {}): Promise<TfliteCase> {
  const bytes = new Uint8Array(readFileSync(file));
  const g: Graph = parseTflite(bytes, file);
  const { bundle } = await compileQuantized(g, {}, opts);
  const { bundle: bundleQ8 } = await compileQuantized(g, {}, { ...opts, io: 'int8' });
  const inT = g.tensors.get(g.inputs[0]!)!,
    iq = inT.quant!,
    oq = g.tensors.get(g.outputs[0]!)!.quant!;
  const q = lcgInt8(inT.shape.reduce((a, b) => a * b, 1));
  return {
    name: basename(file, '.tflite'),
    tflite: bytes,
    bundle,
    bundleQ8,
    q,
    x: Float32Array.from(q, (v) => (v - iq.zeroPoint[0]!) * iq.scale[0]!),
    shape: inT.shape,
    inName: g.inputs[0]!,
    outName: g.outputs[0]!,
    outScale: oq.scale[0]!,
    outZeroPoint: oq.zeroPoint[0]!,
  };
}

/** One .tflite in Node: edgec simd (float and int8 I/O) and TFLite-wasm, one thread each, interleaved. */
export async function tfliteBench(name: string, file: string, runs: number): Promise<ModelRecord> {
  const c = await tfliteCase(file);
  const model = await load(c.bundle, { build: 'simd' });
  const modelQ8 = await load(c.bundleQ8, { build: 'simd' });
  const oracle = await tfliteRunner(c.tflite);
  if (oracle.inputs[0]!.data().length !== c.q.length)
    throw new Error(
      `bench: ${file}: TFLite's input has ${oracle.inputs[0]!.data().length} elements, edgec's ${c.q.length}`,
    );
  const feed = { [c.inName]: c.x },
    feedQ8 = { [c.inName]: c.q };
  const [te, tq, tt] = (await interleavedMedians(
    [() => model.run(feed), () => modelQ8.run(feedQ8), () => oracle.run([c.q])],
    runs,
  )) as [number, number, number];
  const want = oracle.run([c.q])[0]!;
  const y = requantize(model.run(feed)[c.outName] as Float32Array, c.outScale, c.outZeroPoint);
  return {
    model: name,
    runs,
    ms: { edgecI8: te, edgecQ8: tq, tfliteI8: tt },
    ratio: { edgecQ8_tfliteI8: tq / tt, edgecI8_tfliteI8: te / tt },
    sameValues: {
      edgecQ8_vs_tfliteI8: sameBytes(modelQ8.run(feedQ8)[c.outName]!, want),
      edgecI8_vs_tfliteI8: sameBytes(y, want),
    },
    bytes: { i8Arena: model.info.arenaBytes, i8Bundle: c.bundle.length, q8Bundle: c.bundleQ8.length },
  };
}
