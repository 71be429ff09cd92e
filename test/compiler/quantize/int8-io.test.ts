// io: 'int8' (compiler/quantize/int8-io.ts) on the MLPerf Tiny full-integer .tflite models: the raw int8 outputs
// equal TFLite's int8 outputs (test/tflite-oracle.ts) byte for byte on both wasm builds and the float-I/O bundle's
// outputs requantised; Model.info's scale / zero point are the file's (a uint8 QDQ ONNX model's shifted by −128, its
// outputs the float-I/O ones requantised too); the refused cases name file and tensor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTflite } from '../../../compiler/frontend/tflite/index.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { compileQuantized } from '../../../compiler/quantize/index.ts';
import { int8Boundaries } from '../../../compiler/quantize/int8-io.ts';
import { loadModelJson } from '../../../compiler/frontend/model-json/index.ts';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { decodeModel } from '../../../compiler/frontend/onnx/decode.ts';
import { load } from '../../../runtime/node.ts';
import { tfliteRunner } from '../../tflite-oracle.ts';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, 'tflite', name)));
const roundAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

/** xorshift32 int8 inputs, the same on every run. */
function seededInt8(n: number, seed: number): Int8Array {
  let s = seed;
  return Int8Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s & 255) - 128;
  });
}

const kwsFeatures = () => {
  const feats = new Int8Array(readFileSync(join(FIX, 'onnx', 'kws20_i8.bin')));
  return Array.from({ length: 8 }, (_, s) => feats.slice(s * 490, (s + 1) * 490));
};

const CASES: [string, () => Int8Array[]][] = [
  ['ad01_int8.tflite', () => [1, 2, 3].map((s) => seededInt8(640, s))],
  ['kws_ref_model.tflite', kwsFeatures],
  ['pretrainedResnet_quant.tflite', () => [1, 2, 3, 4].map((s) => seededInt8(3072, s))],
];

for (const [file, inputsOf] of CASES) {
  test(`${file} io int8: TFLite's int8 outputs exactly, the float-I/O bundle's requantised, the file's params`, async () => {
    const bytes = fixture(file);
    const g = parseTflite(bytes, file);
    const int8 = await compileQuantized(g, {}, { io: 'int8' });
    const float = await compileQuantized(g, {});
    const oracle = await tfliteRunner(bytes);
    const builds = await Promise.all([load(int8.bundle, { build: 'simd' }), load(int8.bundle, { build: 'scalar' })]);
    const floatModel = await load(float.bundle);
    const [i] = builds[0]!.info.inputs,
      [o] = builds[0]!.info.outputs;
    const iq = g.tensors.get(g.inputs[0]!)!.quant!,
      oq = g.tensors.get(g.outputs[0]!)!.quant!;
    assert.equal(
      { name: i!.name, dtype: i!.dtype, scale: i!.scale, zeroPoint: i!.zeroPoint },
      { name: g.inputs[0], dtype: 'int8', scale: iq.scale[0], zeroPoint: iq.zeroPoint[0] },
    );
    assert.equal(
      { name: o!.name, dtype: o!.dtype, scale: o!.scale, zeroPoint: o!.zeroPoint },
      { name: g.outputs[0], dtype: 'int8', scale: oq.scale[0], zeroPoint: oq.zeroPoint[0] },
    );
    // the .tflite's own int8 params, as TFLite reads them (nothing shifted: these files are int8, not uint8)
    assert.equal(oracle.inputs[0]!.dataType, 'int8');
    assert.is(builds[0]!.info.steps, floatModel.info.steps - 2, 'one Quantize and one Dequantize step fewer');
    for (const q of inputsOf()) {
      const want = oracle.run([q])[0]!;
      for (const m of builds) {
        const y = m.run({ [i!.name]: q })[o!.name]!;
        assert.instance(y, Int8Array);
        assert.equal([...y], [...want]);
      }
      const x = Float32Array.from(q, (v) => (v - iq.zeroPoint[0]!) * iq.scale[0]!);
      const yf = floatModel.run({ [i!.name]: x })[o!.name] as Float32Array;
      assert.equal(
        Array.from(yf, (v) => roundAway(v / oq.scale[0]!) + oq.zeroPoint[0]!),
        [...want],
      );
    }
  });
}

test("a uint8 QDQ ONNX model: int8 ports with the file's uint8 zero point − 128, the float-I/O outputs requantised", async () => {
  const file = join(FIX, 'onnx', 'cnn_small_qdq_u8s8.onnx');
  const onnx = decodeModel(readFileSync(file), file);
  const g = loadOnnx(file);
  const m8 = await load((await compileQuantized(g, {}, { io: 'int8' })).bundle);
  const mf = await load((await compileQuantized(g, {})).bundle);
  const [i] = m8.info.inputs,
    [o] = m8.info.outputs;
  const u8zp = onnx.graph.initializers.get('input_zero_point')!;
  assert.is(u8zp.dtype, 2, 'the file quantises its input to uint8 (ONNX dtype 2)');
  assert.equal(
    [i!.dtype, i!.scale, i!.zeroPoint],
    ['int8', onnx.graph.initializers.get('input_scale')!.values[0], u8zp.values[0]! - 128],
  );
  for (const seed of [1, 2]) {
    const u = Uint8Array.from(seededInt8(784, seed), (v) => v + 128); // uint8 codes as the file would take them
    const q = Int8Array.from(u, (v) => v - 128);
    const y = mf.run({ [i!.name]: Float32Array.from(u, (v) => (v - u8zp.values[0]!) * i!.scale!) })[o!.name]!;
    assert.equal(
      [...m8.run({ [i!.name]: q })[o!.name]!],
      Array.from(y, (v) => roundAway(v / o!.scale!) + o!.zeroPoint!),
    );
  }
});

test('io int8 on a float graph: refused, naming the file', () => {
  const g = parseTflite(fixture('kws_ref_model_float32.tflite'), 'kws_ref_model_float32.tflite');
  assert.throws(
    () => compileGraph(g, { io: 'int8' }),
    (e: Error) => /kws_ref_model_float32\.tflite: graph: --io int8: needs a quantised model/.test(e.message),
  );
});

test('io int8 with the first or last layer kept float: refused, naming the input / output and the node', async () => {
  const g = parseTflite(fixture('ad01_int8.tflite'), 'ad01_int8.tflite');
  const { graph: q } = await (await import('../../../compiler/quantize/index.ts')).quantize(g, {});
  const dense = q.nodes.filter((n) => n.op === 'Dense').map((n) => n.name);
  const first = await compileQuantized(g, { keepFloat: [dense[0]!] }).catch((e: Error) => e);
  assert.ok(!(first instanceof Error), 'float IO compiles');
  for (const [keep, re] of [
    [dense[0]!, /ad01_int8\.tflite: input 'input_1': --io int8: is read in float32 by node '[^']+' \(Dense\)/],
    [
      dense.at(-1)!,
      /ad01_int8\.tflite: output 'Identity': --io int8: is computed in float32 by node '[^']+' \(Dense\)/,
    ],
  ] as const) {
    const e = await compileQuantized(g, { keepFloat: [keep] }, { io: 'int8' }).catch((x: Error) => x);
    assert.instance(e, Error);
    assert.match((e as Error).message, re);
  }
});

test('io int8 on a training graph: refused', () => {
  const g = loadModelJson(join(FIX, 'model-json', 'tiny-cnn.json'));
  assert.throws(
    () => int8Boundaries({ ...g, state: new Map() }),
    (e: Error) => /graph: --io int8: a training bundle keeps float32 inputs and outputs/.test(e.message),
  );
});

test.run();
