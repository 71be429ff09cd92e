// --auto-mixed: the ranking and the binary search for the fewest float layers (on a model of the
// agreement), and the end-to-end path on mnist-8 (int8 already agrees: nothing kept float).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { fewestFloatLayers, quantize, splitSamples } from '../../../compiler/quantize/index.ts';

const sens = [
  { name: 'a', agree: 0.99, mse: 0.1 },
  { name: 'b', agree: 0.9, mse: 0.5 },
  { name: 'c', agree: 0.99, mse: 0.3 },
  { name: 'd', agree: 1, mse: 0 },
  { name: 'e', agree: 0.95, mse: 0.2 },
];
// agreement of the model with `layers` float: each float layer gives back its own loss
const loss: Record<string, number> = { a: 0.01, b: 0.1, c: 0.01, d: 0, e: 0.05 };
const model = (layers: string[]) => Promise.resolve(0.83 + layers.reduce((s, l) => s + loss[l]!, 0));

test('ranked by agreement alone, then by MSE; fewest prefix meeting the target', async () => {
  const calls: string[][] = [];
  const m = (l: string[]) => {
    calls.push(l);
    return model(l);
  };
  assert.equal(await fewestFloatLayers(sens, m, 0.975), { layers: ['b', 'e'], agree: 0.83 + 0.15 });
  assert.ok(calls.length <= 3, `${calls.length} measurements`);
  assert.equal((await fewestFloatLayers(sens, model, 0.9)).layers, ['b']);
  assert.equal((await fewestFloatLayers(sens, model, 0.99)).layers, ['b', 'e', 'c']);
});

test('a target nothing meets keeps every layer float (agreement measured)', async () => {
  const r = await fewestFloatLayers(sens, model, 1.5);
  assert.equal(r.layers, ['b', 'e', 'c', 'a', 'd']);
  assert.ok(Math.abs(r.agree - 1) < 1e-12);
});

test('mnist-8 --auto-mixed 1: int8 holds the agreement, nothing kept float, agreement reported', async () => {
  const g = loadOnnx(join(import.meta.dirname, '../../fixtures/onnx/mnist-8.onnx'));
  const x = Float32Array.from(
    readFileSync(join(import.meta.dirname, '../../fixtures/quantize/mnist_calib100_u8.bin')),
    (v) => v / 255,
  );
  const { report } = await quantize(g, { samples: splitSamples(g, x, [100, 1, 28, 28], 'c'), autoMixed: 1 });
  assert.equal(report.autoFloat, []);
  assert.ok(report.agreement! >= 0.99, `${report.agreement}`);
});

test.run();
