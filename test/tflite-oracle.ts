// The TFLite oracle of the tests: TFLite's interpreter compiled to WebAssembly as @tensorflow/tfjs-tflite
// ships it (wasm/tflite_web_api_cc_simd.*, the XNNPACK delegate on), loaded straight from the package's
// Emscripten module in Node on one thread: only the model runner is used, not the tfjs wrapper.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');

interface TensorInfo {
  name: string;
  dataType: string;
  shape: string;
  data(): Int8Array | Uint8Array | Float32Array | Int32Array;
}
interface CppVector<T> {
  size(): number;
  get(i: number): T;
}
interface Runner {
  GetInputs(): CppVector<TensorInfo>;
  GetOutputs(): CppVector<TensorInfo>;
  Infer(): boolean;
}
interface TfliteModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(
      ptr: number,
      len: number,
      o: object,
    ): { ok(): boolean; errorMessage(): string; value(): Runner };
  };
}

let modulePromise: Promise<TfliteModule> | undefined;

function tfliteModule(): Promise<TfliteModule> {
  if (!modulePromise) {
    const factory = require(join(wasmDir, 'tflite_web_api_cc_simd.js')) as (o: object) => Promise<TfliteModule>;
    // its own loader fetch()es the .wasm by URL, which Node cannot do for a path: hand it the bytes
    modulePromise = factory({
      wasmBinary: readFileSync(join(wasmDir, 'tflite_web_api_cc_simd.wasm')),
      print: () => {},
      printErr: () => {},
    });
  }
  return modulePromise;
}

export interface TfliteRunner {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Copies the inputs in (typed like the model's tensors), runs, and returns copies of the outputs. */
  run(inputs: ArrayLike<number>[]): (Int8Array | Uint8Array | Float32Array | Int32Array)[];
}

/** TFLite's interpreter over a .tflite file's bytes (kept alive for the process). */
export async function tfliteRunner(bytes: Uint8Array): Promise<TfliteRunner> {
  const m = await tfliteModule();
  const ptr = m._malloc(bytes.length);
  m.HEAPU8.set(bytes, ptr);
  const r = m.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length, {
    numThreads: 1,
    enableProfiling: false,
    maxProfilingBufferEntries: 1024,
  });
  if (!r.ok()) throw new Error(`TFLite: ${r.errorMessage()}`);
  const runner = r.value();
  const list = (v: CppVector<TensorInfo>) => Array.from({ length: v.size() }, (_, i) => v.get(i));
  const inputs = list(runner.GetInputs()),
    outputs = list(runner.GetOutputs());
  return {
    inputs,
    outputs,
    run(xs) {
      xs.forEach((x, i) => inputs[i]!.data().set(x));
      if (!runner.Infer()) throw new Error('TFLite: Infer failed');
      return outputs.map((o) => o.data().slice());
    },
  };
}
