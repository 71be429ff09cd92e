// Compile refuses what cannot run: dims beyond int32, tensors over 1 GiB and arenas over 1 GiB − 64 (what
// the runtime allocates), ONNX initializers with negative or huge dims, and graphs with no outputs,
// each with one ModelError naming the file, the tensor / initializer / graph and the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError, type Graph } from '../../../compiler/ir/graph.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { parseModelJson } from '../../../compiler/frontend/model-json/index.ts';
import { parseOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { encodeModel } from '../frontend/onnx/build-model.ts';

function fails(fn: () => unknown, file: string, where: string, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    assert.is(e.file, file, e.message);
    assert.ok(e.where.endsWith(where), `where '${e.where}' in: ${e.message}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return;
  }
  assert.unreachable('compiled');
}

/** model.json: inputs of the given shapes → one node `op` → y. */
function jsonModel(op: string, shapes: number[][]): Graph {
  const inputs = shapes.map((shape, i) => ({ name: `x${i}`, shape, dtype: 'float32' }));
  return parseModelJson(
    {
      format: 'edgec-model',
      version: 1,
      name: 'big',
      inputs,
      outputs: [{ name: 'y' }],
      nodes: [{ name: 'n', op, inputs: inputs.map((i) => i.name), outputs: ['y'] }],
    },
    undefined,
    'big.json',
  );
}

test('model.json: a dim of 1e9 (4 GB of float32) and of 1e300 are refused naming the tensor, not wrapped', () => {
  fails(
    () => compileGraph(jsonModel('Relu', [[1, 1e9]])),
    'big.json',
    "tensor 'x0'",
    'shape [1,1000000000]',
    '4,000,000,000 bytes',
    '1,073,741,824',
  );
  fails(
    () => compileGraph(jsonModel('Relu', [[1, 1e300]])),
    'big.json',
    "tensor 'x0'",
    'shape [1,1e+300]',
    'dims ≤ 2,147,483,647',
  );
  fails(() => compileGraph(jsonModel('Relu', [[3, 2 ** 31]])), 'big.json', "tensor 'x0'", 'int32 dims');
});

test('arena: tensors that fit one by one but not together (3 × 400 MB live at once) are refused', () => {
  fails(
    () =>
      compileGraph(
        jsonModel('Add', [
          [1, 1e8],
          [1, 1e8],
        ]),
      ),
    'big.json',
    'arena',
    '1,200,000,000 bytes',
    '1,073,741,760',
  );
  // the same model at a size that fits compiles
  assert.ok(
    compileGraph(
      jsonModel('Add', [
        [1, 4e3],
        [1, 4e3],
      ]),
    ).bundle.length > 0,
  );
});

test('a graph with no outputs is refused (it would be a 0-step bundle)', () => {
  const g = jsonModel('Relu', [[1, 4]]);
  fails(() => compileGraph({ ...g, outputs: [] }), 'big.json', 'graph', 'outputs: expected at least one graph output');
  const onnx = encodeModel({
    inputs: [{ name: 'x', dims: [1, 4] }],
    outputs: [],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  fails(() => parseOnnx(onnx, 'none.onnx'), 'none.onnx', 'graph', 'outputs: expected at least one graph output');
});

test('ONNX initializers with negative or huge dims are refused naming the initializer', () => {
  for (const dims of [[-1, 4], [4, -4], [100000, 100000], [2 ** 40]]) {
    const bytes = encodeModel({
      inputs: [{ name: 'x', dims: [1, 4] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims, data: [1, 2, 3, 4] }],
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    fails(() => parseOnnx(bytes, 'bad.onnx'), 'bad.onnx', "initializer 'w'", 'dims:', `[${dims}]`);
  }
});

test.run();
