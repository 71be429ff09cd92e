// Child process of bench/memory.ts: one runtime, one model, one run, then one JSON line on stdout — the ms from
// bytes in memory (model file and input already read) to the first output, and this process's peak RSS in bytes
// (VmHWM of /proc/self/status: getrusage's maxRSS would carry the forking parent's high-water mark over exec).
// Plain JavaScript on the built package (dist/), not TypeScript through tsx: the loader would add its own memory.
// argv: edgec|ort|tflite|none <model file> <input raw little-endian: float32, int8 for tflite> <shape, comma-separated>
// tflite: TFLite's wasm interpreter as @tensorflow/tfjs-tflite ships it (simd build, XNNPACK, one thread), loaded as
// test/tflite-oracle.ts loads it; its wasm is read and compiled inside the timed span, as edgec's and ort's are.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [kind, modelPath, inputPath, shapeS] = process.argv.slice(2);
let ms = 0;
if (kind !== 'none') {
  const modelBytes = readFileSync(modelPath); // one copy, as a caller holding the file's bytes has
  const raw = readFileSync(inputPath);
  const x =
    kind === 'tflite' ? null : new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const shape = shapeS.split(',').map(Number);
  if (kind === 'tflite') {
    const require = createRequire(import.meta.url);
    const wasm = require.resolve('@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.js');
    const t0 = performance.now();
    const m = await require(wasm)({
      wasmBinary: readFileSync(wasm.replace(/js$/, 'wasm')),
      print: () => {},
      printErr: () => {},
    });
    const p = m._malloc(modelBytes.length);
    m.HEAPU8.set(modelBytes, p);
    const r = m.TFLiteWebModelRunner.CreateFromBufferAndOptions(p, modelBytes.length, {
      numThreads: 1,
      enableProfiling: false,
      maxProfilingBufferEntries: 1024,
    });
    if (!r.ok()) throw new Error(`TFLite: ${r.errorMessage()}`);
    const runner = r.value();
    runner
      .GetInputs()
      .get(0)
      .data()
      .set(new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength));
    if (!runner.Infer()) throw new Error('TFLite: Infer failed');
    ms = performance.now() - t0;
  } else if (kind === 'edgec') {
    const { load } = await import('../dist/runtime/node.js');
    const t0 = performance.now();
    const m = await load(modelBytes);
    m.run({ [m.info.inputs[0].name]: x });
    ms = performance.now() - t0;
  } else {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
    await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
    ms = performance.now() - t0;
  }
}
const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(JSON.stringify({ ms, peakRss: Number(hwm[1]) * 1024 }));
