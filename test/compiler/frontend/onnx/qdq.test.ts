// QDQ import: DequantizeLinear of int8/int32 constants folds to float32 weights (q − zp)·s that
// carry the file's exact scales and zero points; QuantizeLinear of an activation becomes a Clip to
// its representable range with the exact params recorded. The float graph then tracks onnxruntime's
// int8 output within quantisation noise (bound 0.05 here; measured ≈ 0.011) with the same top-1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadOnnx, parseOnnx } from '../../../../compiler/frontend/onnx/index.ts';
import { encodeModel } from './build-model.ts';
import { decodeModel } from '../../../../compiler/frontend/onnx/decode.ts';
import { compileGraph } from '../../../../compiler/compile.ts';
import { loadNpy } from '../../../../compiler/io/npy.ts';
import { load } from '../../../../runtime/node.ts';
import { FIXTURES, argmax } from './oracle-data.ts';

const MODEL = join(FIXTURES, 'cnn_small_qdq_u8s8.onnx');

test("cnn_small_qdq_u8s8: weight and activation scales / zero points are the file's, exactly", () => {
  const onnx = decodeModel(readFileSync(MODEL), MODEL);
  const init = onnx.graph.initializers;
  const g = loadOnnx(MODEL);
  const w = [...g.tensors.values()].find((t) => t.name.startsWith('/conv1/Conv_W_dequantized'))!;
  assert.ok(w, 'conv1 weights present');
  assert.equal(w.quant!.scale, [...init.get('/conv1/Conv_W_scale')!.values]);
  assert.equal(w.quant!.zeroPoint, [...init.get('/conv1/Conv_W_zero_point')!.values]);
  assert.is(w.quant!.axis, 0);
  // OHWI data = (q − zp)·s of the ONNX [Co,Ci,KH,KW] int8 weights (Ci = 1, so same order).
  const q = init.get('/conv1/Conv_W_quantized')!;
  const s = init.get('/conv1/Conv_W_scale')!.values;
  for (let i = 0; i < q.values.length; i++)
    assert.is(w.data![i], Math.fround(q.values[i] * Math.fround(s[Math.floor(i / 9)])));
  const input = g.tensors.get('input_quantized')!;
  assert.equal(input.quant, { scale: [init.get('input_scale')!.values[0]], zeroPoint: [0] });
  assert.not.ok(
    g.nodes.some((n) => n.op === 'Relu'),
    'the QDQ graph has no Relu: the u8 Clip carries it',
  );
  const clips = g.nodes.filter((n) => n.op === 'Clip');
  for (const n of clips) {
    const qp = g.tensors.get(n.outputs[0])!.quant!;
    assert.is(n.attrs.min, (0 - qp.zeroPoint[0]) * Math.fround(qp.scale[0]), `${n.name}: min = (0 − zp)·s`);
    assert.is(n.attrs.max, (255 - qp.zeroPoint[0]) * Math.fround(qp.scale[0]), `${n.name}: max = (255 − zp)·s`);
  }
  assert.is(clips.length, 9, 'one Clip per QuantizeLinear');
});

for (const build of ['simd', 'scalar'] as const) {
  test(`cnn_small_qdq_u8s8 ${build}: float run tracks onnxruntime's int8 output`, async () => {
    const g = loadOnnx(MODEL);
    const model = await load(compileGraph(g, { target: build }).bundle, { build });
    const x = loadNpy(join(FIXTURES, 'cnn_small.input.npy')).data as Float32Array;
    const want = loadNpy(join(FIXTURES, 'cnn_small_qdq_u8s8.output.npy')).data as Float32Array;
    const got = model.run({ input: x })[g.outputs[0]] as Float32Array;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    assert.ok(maxAbs <= 0.05, `max abs ${maxAbs}`);
    assert.is(argmax(got), argmax(want));
  });
}

test('QuantizeLinear of float weights folds to their integer values, then DequantizeLinear to the grid', () => {
  const g = parseOnnx(
    encodeModel({
      inputs: [{ name: 'x', dims: [1, 3] }],
      outputs: ['y'],
      initializers: [
        { name: 'W', dims: [2, 3], data: [0.1, -0.25, 0.26, 1, -1, 0.05] },
        { name: 's', dims: [2], data: [0.1, 0.01] },
        { name: 'zp', dims: [2], data: [0, 0], dtype: 'int8' },
      ],
      nodes: [
        { op: 'QuantizeLinear', inputs: ['W', 's', 'zp'], outputs: ['Wq'], attrs: { axis: 0 } },
        { op: 'DequantizeLinear', inputs: ['Wq', 's', 'zp'], outputs: ['Wd'], attrs: { axis: 0 } },
        { op: 'Gemm', inputs: ['x', 'Wd'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    }),
    'qw.onnx',
  );
  const w = g.tensors.get(g.nodes.find((n) => n.op === 'Dense')!.inputs[1])!;
  // row 0 scale 0.1: 0.1→1, −0.25→−2, 0.26→3; row 1 scale 0.01: 1→100, −1→−100, 0.05→5
  const q = [1, -2, 3, 100, -100, 5];
  const s = [0.1, 0.1, 0.1, 0.01, 0.01, 0.01].map(Math.fround);
  assert.equal(
    [...w.data!],
    q.map((v, i) => Math.fround(v * s[i])),
  );
  assert.equal(w.quant, { scale: [0.1, 0.01].map(Math.fround), zeroPoint: [0, 0], axis: 0 });
});

test.run();
