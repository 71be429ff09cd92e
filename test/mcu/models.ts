// The bit-exactness matrix's models, shared by the wasm3 and Cortex-M tests: MNIST float, MNIST int8
// (minmax calibration on the shipped images) and the gated-branch MNIST model, each with a few samples
// of input bytes and the output bytes Node's scalar runtime writes for them (the reference every engine
// must equal byte for byte).
import { readFileSync } from 'node:fs';
import { readNpy } from '../../compiler/io/npy.ts';
import { compileModel } from '../../compiler/cli/compile.ts';
import { parseTflite } from '../../compiler/frontend/tflite/index.ts';
import { parseOnnx } from '../../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../../compiler/quantize/index.ts';
import { encodeModel } from '../compiler/frontend/onnx/build-model.ts';
import { load, type Build, type TensorArray, type TensorInfo } from '../../runtime/node.ts';

const ARRAYS = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array } as const;

export interface MatrixModel {
  name: string;
  bundle: Uint8Array;
  /** `samples` samples, each every input in bundle order (docs/embedding.md, "WASI command"). */
  input: Uint8Array;
  samples: number;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function images(first: number, n: number): Float32Array {
  const x = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  return (x.data as Float32Array).slice(first * 784, (first + n) * 784);
}

/** `edgec compile` (the CLI's own path) of a model file; `int8`: --quantize int8 on the shipped MNIST images. */
export async function compileFile(path: string, int8 = false): Promise<Uint8Array> {
  const quantize = int8 ? { quantize: 'int8', calibration: 'examples/mnist/images.npy' } : {};
  return (await compileModel(path, { target: 'simd', quantize })).bundle;
}

/** The MLPerf Tiny KWS int8 .tflite with its own params (TFLite's int8 arithmetic: the *_QS8_FP32 kernels), on real
 *  MFCC features dequantised with the model's input scale and zero point. */
async function kwsTflite(samples: number): Promise<MatrixModel> {
  const file = 'test/fixtures/tflite/kws_ref_model.tflite';
  const bundle = (await compileModel(file, { target: 'simd', quantize: { quantize: 'int8' } })).bundle;
  const g = parseTflite(new Uint8Array(readFileSync(file)), file);
  const iq = g.tensors.get(g.inputs[0]!)!.quant!;
  const len = g.tensors.get(g.inputs[0]!)!.shape.reduce((a, b) => a * b, 1);
  const q = new Int8Array(readFileSync('test/fixtures/onnx/kws20_i8.bin')).slice(0, samples * len);
  const x = Float32Array.from(q, (v) => Math.fround((v - iq.zeroPoint[0]!) * iq.scale[0]!));
  return { name: 'kws tflite int8', bundle, input: bytesOf(x), samples };
}

/** A QDQ ONNX x → Q → DQ → Add(itself) → Q → DQ on onnxruntime's int8 arithmetic (Quantize_QS8_RNE, Add_QS8_FP32),
 *  on inputs that are rounding ties of the first QuantizeLinear (scale 1/8) and values around them. */
async function onnxQdqAdd(samples: number): Promise<MatrixModel> {
  const n = 301;
  const bytes = encodeModel({
    inputs: [{ name: 'x', dims: [1, n] }],
    outputs: ['y'],
    initializers: [
      { name: 'sx', dims: [], data: [0.125] },
      { name: 'zx', dims: [], data: [1], dtype: 'int8' },
      { name: 'sy', dims: [], data: [0.1] },
      { name: 'zy', dims: [], data: [3], dtype: 'int8' },
    ],
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'sx', 'zx'], outputs: ['xf'] },
      { op: 'Add', inputs: ['xf', 'xf'], outputs: ['af'] },
      { op: 'QuantizeLinear', inputs: ['af', 'sy', 'zy'], outputs: ['aq'] },
      { op: 'DequantizeLinear', inputs: ['aq', 'sy', 'zy'], outputs: ['y'] },
    ],
  });
  // Add_QS8 off: the float kernel under wasm3 even if these scales were ever proven exact on the fixed point
  const bundle = (await compileQuantized(parseOnnx(bytes, 'qdq-add.onnx'), {}, { disableKernels: ['Add_QS8'] })).bundle;
  const x = Float32Array.from(
    { length: samples * n },
    (_, i) => ((i % n) - 150.5 + (i / n >= 1 ? 0.25 * (i % 3) : 0)) / 8,
  );
  return { name: 'onnx qdq int8', bundle, input: bytesOf(x), samples };
}

/** `tflite`: also the KWS .tflite model (kwsTflite); `onnx`: also a QDQ ONNX Add on onnxruntime's arithmetic. */
export async function matrixModels(samples = 3, tflite = false, onnx = false): Promise<MatrixModel[]> {
  const model = async (name: string, path: string, int8: boolean, first: number) => ({
    name,
    bundle: await compileFile(path, int8),
    input: bytesOf(images(first, samples)),
    samples,
  });
  return [
    await model('mnist float', 'examples/mnist/model.json', false, 0),
    await model('mnist int8', 'examples/mnist/model.json', true, 10),
    await model('gated float', 'examples/branches/gated.json', false, 20),
    ...(tflite ? [await kwsTflite(samples)] : []),
    ...(onnx ? [await onnxQdqAdd(samples)] : []),
  ];
}

/** Output bytes of Node's runtime (`build`) for every sample of `m.input`, sample-major, outputs in bundle order. */
export async function nodeOutput(m: MatrixModel, build: Build = 'scalar'): Promise<Uint8Array> {
  const model = await load(m.bundle, { build });
  const ins = model.info.inputs;
  const bytes = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1) * ARRAYS[t.dtype].BYTES_PER_ELEMENT;
  const per = ins.reduce((s, t) => s + bytes(t), 0);
  const out: number[] = [];
  for (let k = 0; k < m.samples; k++) {
    let at = k * per;
    const feeds: Record<string, TensorArray> = {};
    for (const t of ins) {
      feeds[t.name] = new ARRAYS[t.dtype](m.input.slice(at, at + bytes(t)).buffer);
      at += bytes(t);
    }
    const y = model.run(feeds);
    for (const t of model.info.outputs) out.push(...bytesOf(y[t.name]!));
  }
  return Uint8Array.from(out);
}
