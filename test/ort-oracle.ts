// The ONNX oracle of the tests: onnxruntime's CPU kernels compiled to WebAssembly (onnxruntime-web),
// run in Node on one thread. It is the same engine as onnxruntime-node without a native binary whose
// install script downloads CUDA libraries from outside the npm registry (issue 10).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export { ort };

/** A session over a model file path or its bytes (onnxruntime-web cannot open paths itself). */
export function ortSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const bytes = typeof model === 'string' ? new Uint8Array(readFileSync(model)) : model;
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
}
