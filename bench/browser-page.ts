// The page side of the Chromium bench (bench/browser.ts bundles it with esbuild and serves it cross-origin isolated):
// loads every runtime once — edgec's browser entry (dist/browser, 1 and 2 threads), onnxruntime-web (wasm, 1 thread),
// tfjs-backend-wasm (1 thread, the graph edgec compiles, bench/peers/tfjs-graph.ts) and TFLite's wasm interpreter
// (@tensorflow/tfjs-tflite's Emscripten builds, simd on 1 thread and simd-threaded on 2) — then, per model, builds the
// runners over the files bench/browser.ts serves under /m/ and times them interleaved (bench/interleave.ts).
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import type { Graph, Tensor } from '../compiler/ir/graph.ts';
import { prepareTfjsGraph } from './peers/tfjs-graph.ts';
import { interleavedMedians, type Runner, type WarmUp } from './interleave.ts';

/** What bench/browser.ts asks for one model; every string is a URL under /m/. */
export type ModelSpec =
  | { kind: 'onnx'; f32: string; i8: string; onnx: string; qdq?: string; graph: string; x: string; shape: number[] }
  | { kind: 'tflite'; i8: string; q8: string; tflite: string; q: string; x: string; inName: string; outName: string };

/** time()'s answer: median ms per runtime key, and per group of runtimes what its warm-up did. */
export interface Timed {
  ms: Record<string, number>;
  warm: ({ keys: string[] } & WarmUp)[];
}

/** Per runtime key (bench/table.ts RUNTIMES): its first output, as numbers. */
export type Outputs = Record<string, number[]>;

interface TfliteInfo {
  data(): Int8Array | Uint8Array | Float32Array;
}
interface TfliteModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(
      p: number,
      n: number,
      o: object,
    ): {
      ok(): boolean;
      errorMessage(): string;
      value(): { GetInputs(): TfliteList; GetOutputs(): TfliteList; Infer(): boolean };
    };
  };
}
interface TfliteList {
  size(): number;
  get(i: number): TfliteInfo;
}
type Factory = (o: object) => Promise<TfliteModule>;
interface EdgecModel {
  info: { threads: number; inputs: { name: string }[] };
  run(feed: Record<string, Float32Array | Int8Array>): Record<string, Float32Array | Int8Array>;
  runInto(
    feed: Record<string, Float32Array | Int8Array>,
    out: Record<string, Float32Array | Int8Array>,
  ): Record<string, Float32Array | Int8Array>;
  close(): void;
}

const bytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());

/** A classic script's Emscripten factory (both TFLite builds declare the same global, so one at a time). */
function scriptFactory(src: string): Promise<Factory> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () =>
      resolve((globalThis as unknown as { tflite_web_api_ModuleFactory: Factory }).tflite_web_api_ModuleFactory);
    s.onerror = () => reject(new Error(`bench page: ${src} did not load`));
    document.head.append(s);
  });
}

let edgec: { load(b: Uint8Array, o: object): Promise<EdgecModel> };
let ort: any;
const tflite: TfliteModule[] = [];
const loaded: Record<string, string> = {};
let runners: Record<string, Runner> = {};
let open: EdgecModel[] = [];

/** Loads the runtimes; returns which loaded (or why not) and whether the page is cross-origin isolated. */
async function init(): Promise<{ isolated: boolean; ua: string; loaded: Record<string, string> }> {
  edgec = await import('/edgec/edgec.js' as string);
  loaded.edgec = 'ok';
  try {
    ort = await import('/ort/ort.wasm.min.mjs' as string);
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = '/ort/';
    loaded.ort = 'ok';
  } catch (e) {
    loaded.ort = String(e);
  }
  try {
    tfwasm.setWasmPaths('/tfjs/');
    tfwasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    loaded.tfjs = tf.getBackend() === 'wasm' ? 'ok' : `backend ${tf.getBackend()}`;
  } catch (e) {
    loaded.tfjs = String(e);
  }
  try {
    for (const build of ['tflite_web_api_cc_simd', 'tflite_web_api_cc_simd_threaded']) {
      const factory = await scriptFactory(`/tflite/${build}.js`);
      tflite.push(
        await factory({
          locateFile: (f: string) => `/tflite/${f}`,
          mainScriptUrlOrBlob: `/tflite/${build}.js`,
          print: () => {},
          printErr: () => {},
        }),
      );
    }
    loaded.tflite = 'ok';
  } catch (e) {
    loaded.tflite = String(e);
  }
  return { isolated: crossOriginIsolated, ua: navigator.userAgent, loaded };
}

function tfliteRunner(m: TfliteModule, model: Uint8Array, threads: number, q: Int8Array) {
  const p = m._malloc(model.length);
  m.HEAPU8.set(model, p);
  const r = m.TFLiteWebModelRunner.CreateFromBufferAndOptions(p, model.length, {
    numThreads: threads,
    enableProfiling: false,
    maxProfilingBufferEntries: 1024,
  });
  if (!r.ok()) throw new Error(`TFLite: ${r.errorMessage()}`);
  const runner = r.value();
  const input = runner.GetInputs().get(0),
    output = runner.GetOutputs().get(0);
  return () => {
    input.data().set(q);
    if (!runner.Infer()) throw new Error('TFLite: Infer failed');
    return output.data();
  };
}

async function readGraph(url: string): Promise<Graph> {
  const doc = await (await fetch(url)).json();
  const bin = await bytes(`${url}.bin`);
  const ctor = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array, int64: BigInt64Array };
  const tensors = new Map<string, Tensor>();
  for (const t of doc.tensors) {
    const { at, length, ...rest } = t;
    const C = ctor[t.dtype as keyof typeof ctor];
    tensors.set(t.name, at == null ? rest : { ...rest, data: new C(bin.slice(at, at + length).buffer) });
  }
  return { ...doc, tensors };
}

/** Builds the model's runners (closing the previous model's); returns each runner's first output. */
async function setup(spec: ModelSpec): Promise<Outputs> {
  for (const m of open) m.close();
  open = [];
  runners = {};
  const x = new Float32Array((await bytes(spec.x)).buffer);
  const q = spec.kind === 'tflite' ? new Int8Array((await bytes(spec.q)).buffer) : undefined;
  // into: Model.runInto with the runner's own output arrays, as TFLite's runner hands back its own tensor (the .tflite
  // rows); else run() and its fresh arrays, as ort's and tfjs's runs give fresh tensors (the ONNX rows)
  const edgecRunner = async (url: string, threads: number, input: Float32Array | Int8Array = x, into = false) => {
    const m = await edgec.load(await bytes(url), { build: 'simd', threads });
    open.push(m);
    if (m.info.threads !== threads) throw new Error(`bench page: edgec ran ${m.info.threads} threads, not ${threads}`);
    const feed = { [m.info.inputs[0]!.name]: input };
    if (!into) return () => Object.values(m.run(feed))[0]!;
    const out = m.run(feed),
      y = Object.values(out)[0]!;
    return () => (m.runInto(feed, out), y);
  };
  if (spec.kind === 'onnx') {
    runners.edgecF32 = await edgecRunner(spec.f32, 1);
    runners.edgecI8 = await edgecRunner(spec.i8, 1);
    runners.edgecI8x2 = await edgecRunner(spec.i8, 2);
    if (loaded.ort === 'ok') {
      const ortRunner = async (url: string) => {
        const s = await ort.InferenceSession.create(await bytes(url), { executionProviders: ['wasm'] });
        const feed = { [s.inputNames[0]]: new ort.Tensor('float32', x, spec.shape) };
        return async () => (await s.run(feed))[s.outputNames[0]].data as Float32Array;
      };
      runners.ortF32 = await ortRunner(spec.onnx);
      if (spec.qdq) runners.ortU8s8 = await ortRunner(spec.qdq);
    }
    if (loaded.tfjs === 'ok') {
      const g = await readGraph(spec.graph);
      const run = prepareTfjsGraph(g);
      runners.tfjsF32 = async () => (await run({ [g.inputs[0]!]: x }))[g.outputs[0]!]!;
    }
  } else {
    runners.edgecI8 = await edgecRunner(spec.i8, 1, x, true);
    runners.edgecQ8 = await edgecRunner(spec.q8, 1, q, true);
    runners.edgecQ8run = await edgecRunner(spec.q8, 1, q);
    runners.edgecQ8x2 = await edgecRunner(spec.q8, 2, q, true);
    if (loaded.tflite === 'ok') {
      const model = await bytes(spec.tflite);
      runners.tfliteI8 = tfliteRunner(tflite[0]!, model, 1, q!);
      runners.tfliteI8x2 = tfliteRunner(tflite[1]!, model, 2, q!);
    }
  }
  const out: Outputs = {};
  for (const [k, f] of Object.entries(runners)) out[k] = Array.from((await f()) as ArrayLike<number>);
  return out;
}

/**
 * Median per-run ms of every runner of the current model, interleaved sample by sample in two groups timed one after
 * the other: the one-thread runners, then the two-thread ones (a threaded runtime's workers spin a while after each
 * run, which would land on whichever runner comes next). A sample is ≥ 0.5 ms of back-to-back runs: with the clock's
 * 5 µs steps one run of AD could only read 0.015 or 0.020 ms; a 0.5 ms sample catches a loaded machine's preemptions
 * (a few ms each) more often than one 15 µs run would, which the median over samples then drops.
 */
async function time(runs: number): Promise<Timed> {
  const keys = Object.keys(runners);
  const ms: Record<string, number> = {};
  const warm: Timed['warm'] = [];
  for (const group of [keys.filter((k) => !k.endsWith('x2')), keys.filter((k) => k.endsWith('x2'))]) {
    const t = await interleavedMedians(
      group.map((k) => runners[k]!),
      runs,
      0.5,
      (w) => warm.push({ keys: group, ...w }),
    );
    group.forEach((k, i) => (ms[k] = t[i]!));
  }
  return { ms, warm };
}

(globalThis as unknown as { bench: object }).bench = { init, setup, time };
