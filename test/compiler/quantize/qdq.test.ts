// Pre-quantised ONNX models (onnxruntime's QDQ output) become the int8 IR with the model's own scales
// and zero points: uint8 activations shift to int8 (zp − 128), weights keep their per-channel scales.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { quantize } from '../../../compiler/quantize/index.ts';
import { activationsAreUint8, hasQdqAnnotations } from '../../../compiler/quantize/qdq.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const u8s8 = join(FIX, 'onnx/cnn_small_qdq_u8s8.onnx');
const s8s8 = join(FIX, 'quantize/cnn_small_qdq_s8s8.onnx');
const mlp = join(FIX, 'quantize/mlp_qdq_s8s8.onnx');

/** Activation params as the importer annotated them (the model's own). */
function annotations(g: Graph): Map<string, { s: number; zp: number }> {
  return new Map(
    [...g.tensors]
      .filter(([, t]) => !t.data && t.quant && t.quant.axis === undefined)
      .map(([k, t]) => [k, { s: t.quant!.scale[0]!, zp: t.quant!.zeroPoint[0]! }]),
  );
}

test('detection: annotations present; u8 vs s8 activations', () => {
  const a = loadOnnx(u8s8),
    b = loadOnnx(s8s8);
  assert.ok(hasQdqAnnotations(a) && hasQdqAnnotations(b));
  assert.ok(activationsAreUint8(a));
  assert.not.ok(activationsAreUint8(b));
  assert.not.ok(hasQdqAnnotations(loadOnnx(join(FIX, 'onnx/cnn_small.onnx'))));
});

for (const [file, shift] of [
  [u8s8, 128],
  [s8s8, 0],
] as const) {
  test(`${file.split('/').pop()}: every conv int8 with the model's own scales, zero points shifted by ${shift}`, async () => {
    const src = loadOnnx(file);
    const own = annotations(src);
    const { graph: g, report } = await quantize(src);
    assert.is(report.mode, 'pre-quantised');
    assert.equal(report.floatNodes, []);
    let checked = 0;
    for (const [name, t] of g.tensors) {
      if (t.dtype !== 'int8' || t.data) continue;
      const o = own.get(name);
      if (!o) continue;
      assert.is(t.quant!.scale[0], Math.fround(o.s), name);
      assert.is(t.quant!.zeroPoint[0], o.zp - shift, name);
      checked++;
    }
    assert.ok(checked >= 4, `${checked} tensors`);
    for (const n of g.nodes.filter((x) => x.op === 'Conv2D')) {
      const w = g.tensors.get(n.inputs[1]!)!;
      assert.is(w.dtype, 'int8');
      const srcW = [...src.tensors.values()].find(
        (t) =>
          t.data &&
          t.quant?.axis !== undefined &&
          t.quant.scale.length === w.shape[0] &&
          t.quant.scale.every((s, i) => Math.fround(s) === w.quant!.scale[i]),
      );
      assert.ok(srcW, `weights of ${n.name} keep the model's scales`);
    }
  });
}

test('mlp s8s8: three int8 Dense, only the input Quantize and output Dequantize are added', async () => {
  const { graph: g } = await quantize(loadOnnx(mlp));
  assert.equal(
    g.nodes.map((n) => n.op),
    ['Quantize', 'Dense', 'Dense', 'Dense', 'Dequantize'],
  );
});

test('a float model without --calibration is refused', async () => {
  try {
    await quantize(loadOnnx(join(FIX, 'onnx/mlp.onnx')));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /needs --calibration/);
  }
});

test.run();
