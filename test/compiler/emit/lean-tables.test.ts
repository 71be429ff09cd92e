// Lean bundle tables (issue 4, int8 bundle ≤ 0.3 × float): the shipped mnist example compiled as the CLI
// does (source hash, options), float and int8; table bytes = file − constants. Names the API needs survive,
// nothing is stored twice, and bundles in the older full layout (every name, nothing shared) still run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { compileGraph, type CompileOptions } from '../../../compiler/compile.ts';
import * as flatbuffers from 'flatbuffers';
import {
  fb,
  readBundle,
  sealBundle,
  specTables,
  writeBundle,
  BUNDLE_VERSION,
} from '../../../compiler/emit/bundle-writer.ts';
import { loadModelJson } from '../../../compiler/frontend/model-json/index.ts';
import { compileWithQuantizeFlags } from '../../../compiler/quantize/cli.ts';
import { readNpy } from '../../../compiler/io/npy.ts';
import { sourceHash } from '../../../compiler/cli/compile.ts';
import { load } from '../../../runtime/node.ts';

const MODEL = 'examples/mnist/model.json';
const FLAGS = { calibration: 'examples/mnist/images.npy', method: 'minmax' as const, keepFloat: [] as string[] };
const graph = loadModelJson(MODEL);
const cli = (quantize?: object): CompileOptions => ({
  target: 'simd',
  sourceHash: sourceHash([MODEL, 'examples/mnist/model.bin']),
  modelName: graph.name,
  options: { target: 'simd', ...(quantize ? { quantize: { ...quantize, calibration: 'images.npy' } } : {}) },
});
const images = readNpy(new Uint8Array(readFileSync(FLAGS.calibration))).data as Float32Array;

let float: Uint8Array, int8: Uint8Array;
test.before(async () => {
  float = compileGraph(graph, cli()).bundle;
  int8 = (await compileWithQuantizeFlags(graph, FLAGS, cli(FLAGS))).bundle;
});

const tableBytes = (b: Uint8Array) => b.length - readBundle(b).constantsLength();

test('mnist example: int8 / float size and table bytes (before the lean tables: 0.344, 2,528 and 1,904 B)', () => {
  const ratio = int8.length / float.length;
  assert.ok(ratio <= 0.33, `int8 ${int8.length} / float ${float.length} = ${ratio.toFixed(3)}`);
  assert.ok(tableBytes(int8) <= 1950, `int8 tables ${tableBytes(int8)} B`);
  assert.ok(tableBytes(float) <= 1500, `float tables ${tableBytes(float)} B`);
});

test('graph inputs/outputs keep their names, internal tensors are nameless, steps keep node names', async () => {
  for (const bundle of [float, int8]) {
    const u = readBundle(bundle).unpack();
    const io = new Set([...u.inputs, ...u.outputs]);
    u.tensors.forEach((t, i) => assert.is(t.name ?? '', io.has(i) ? t.name : '', `tensor ${i}`));
    assert.equal(
      u.inputs.map((i) => u.tensors[i]!.name),
      graph.inputs,
    );
    assert.equal(
      u.outputs.map((i) => u.tensors[i]!.name),
      graph.outputs,
    );
    for (const s of u.steps)
      assert.ok(String(s.node ?? '').length > 0, `step ${fb.KernelId[s.kernel]} has a node name`);
    const m = await load(bundle, { build: 'scalar' });
    assert.equal(
      m.info.inputs.map((t) => t.name),
      graph.inputs,
    );
    assert.equal(
      m.info.outputs.map((t) => t.name),
      graph.outputs,
    );
    const out = m.run({ [graph.inputs[0]!]: images.subarray(0, 784) })[graph.outputs[0]!]!;
    assert.is(out.length, 10);
  }
});

test('every tensor in the table is used by a step or the graph interface', () => {
  for (const bundle of [float, int8]) {
    const u = readBundle(bundle).unpack();
    const used = new Set([...u.inputs, ...u.outputs, ...u.steps.flatMap((s) => [...s.inputs, ...s.outputs])]);
    u.tensors.forEach((_, i) => assert.ok(used.has(i), `tensor ${i} unused`));
  }
});

/** Where field `slot` of a table points (0 if absent): the position of its string or vector. */
function target(t: { bb: flatbuffers.ByteBuffer | null; bb_pos: number }, slot: number): number {
  const bb = t.bb!;
  const off = bb.__offset(t.bb_pos, 4 + 2 * slot);
  return off === 0 ? 0 : t.bb_pos + off + bb.readInt32(t.bb_pos + off);
}

test('each distinct string and int vector is stored once', () => {
  for (const bundle of [float, int8]) {
    const b = readBundle(bundle);
    const where = new Map<string, Set<number>>();
    const at = (key: string, pos: number) => {
      if (pos) where.set(key, (where.get(key) ?? new Set()).add(pos));
    };
    for (let i = 0; i < b.tensorsLength(); i++) {
      const t = b.tensors(i)!;
      at(`name ${t.name()}`, target(t, 0));
      at(`ints ${t.shapeArray()!.join(',')}`, target(t, 2));
    }
    for (let i = 0; i < b.stepsLength(); i++) {
      const s = b.steps(i)!;
      at(`ints ${Array.from(s.inputsArray()!).join(',')}`, target(s, 1));
      at(`ints ${Array.from(s.outputsArray()!).join(',')}`, target(s, 2));
      at(`name ${s.node()}`, target(s, 6));
    }
    assert.ok(where.size > 10);
    for (const [key, positions] of where) assert.is(positions.size, 1, `${key} stored ${positions.size} times`);
  }
});

test('writeBundle shares a string used as a tensor name and a node name, and equal params tables', () => {
  const t = (name: string, offset: number) => ({
    name,
    dtype: fb.DType.F32,
    shape: [4],
    constant: false,
    offset,
    size: 16,
  });
  const relu = { type: 'unary' as const, op: fb.UnaryOp.Relu };
  const bytes = writeBundle({
    tensors: [t('x', 0), t('', 16), t('y', 32)],
    steps: [
      { kernel: fb.KernelId.Unary_F32, inputs: [0], outputs: [1], params: relu, node: 'y' },
      { kernel: fb.KernelId.Unary_F32, inputs: [1], outputs: [2], params: { ...relu }, node: 'y' },
    ],
    inputs: [0],
    outputs: [2],
    arenaSize: 48,
    constants: new Uint8Array(0),
    metadata: { edgecVersion: 't', sourceHash: '', compileOptions: '', target: 'simd', modelName: 'y' },
  });
  const b = readBundle(bytes);
  const y = target(b.tensors(2)!, 0);
  assert.ok(y > 0);
  assert.is(target(b.steps(0)!, 6), y, 'node name = tensor name: one string');
  assert.is(target(b.steps(1)!, 6), y);
  assert.is(target(b.metadata()!, 4), y, 'model name too');
  assert.is(target(b.tensors(1)!, 0), 0, 'an empty name is left out');
  assert.is(target(b.metadata()!, 1), 0, 'an empty source hash is left out');
  assert.is(target(b.steps(0)!, 4), target(b.steps(1)!, 4), 'equal params: one table');
  assert.is(target(b.tensors(0)!, 2), target(b.tensors(2)!, 2), 'equal shapes: one vector');
});

/**
 * The writer before the lean tables (format 1 as well): every tensor named, each string and vector
 * written on its own, fields in schema order, empty strings written. Kept here as the old-layout fixture.
 */
function fullLayout(bundle: Uint8Array): Uint8Array {
  const u = readBundle(bundle).unpack();
  const spec = specTables(u);
  const m = u.metadata!;
  const b = new flatbuffers.Builder(1024);
  const meta = fb.Metadata.createMetadata(
    b,
    b.createString(String(m.edgecVersion)),
    b.createString(String(m.sourceHash ?? '')),
    b.createString(String(m.compileOptions ?? '')),
    b.createString(String(m.target)),
    b.createString(String(m.modelName)),
  );
  b.startVector(1, u.constants.length, 16);
  const bi = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
  bi.bb.setPosition((bi.space -= u.constants.length));
  bi.bb.bytes().set(u.constants, bi.space);
  const constants = b.endVector();
  const tensors = spec.tensors.map((t, i) => {
    const name = b.createString(t.name || `tensor_${i}`);
    const shape = fb.Tensor.createShapeVector(b, t.shape);
    fb.Tensor.startTensor(b);
    fb.Tensor.addName(b, name);
    fb.Tensor.addDtype(b, t.dtype);
    fb.Tensor.addShape(b, shape);
    fb.Tensor.addConstant(b, t.constant);
    fb.Tensor.addOffset(b, t.offset);
    fb.Tensor.addSize(b, t.size);
    fb.Tensor.addScale(b, t.scale ?? 0);
    fb.Tensor.addZeroPoint(b, t.zeroPoint ?? 0);
    return fb.Tensor.endTensor(b);
  });
  const steps = u.steps.map((s) => {
    const node = b.createString(String(s.node ?? ''));
    const inputs = fb.Step.createInputsVector(b, s.inputs);
    const outputs = fb.Step.createOutputsVector(b, s.outputs);
    const params = s.params ? s.params.pack(b) : 0;
    fb.Step.startStep(b);
    fb.Step.addKernel(b, s.kernel);
    fb.Step.addInputs(b, inputs);
    fb.Step.addOutputs(b, outputs);
    if (s.params) {
      fb.Step.addParamsType(b, s.paramsType);
      fb.Step.addParams(b, params);
    }
    fb.Step.addMacs(b, s.macs);
    fb.Step.addNode(b, node);
    return fb.Step.endStep(b);
  });
  const tv = fb.Bundle.createTensorsVector(b, tensors),
    sv = fb.Bundle.createStepsVector(b, steps);
  const iv = fb.Bundle.createInputsVector(b, u.inputs),
    ov = fb.Bundle.createOutputsVector(b, u.outputs);
  fb.Bundle.startBundle(b);
  fb.Bundle.addVersion(b, BUNDLE_VERSION);
  fb.Bundle.addTensors(b, tv);
  fb.Bundle.addSteps(b, sv);
  fb.Bundle.addInputs(b, iv);
  fb.Bundle.addOutputs(b, ov);
  fb.Bundle.addArenaSize(b, u.arenaSize);
  fb.Bundle.addConstants(b, constants);
  fb.Bundle.addMetadata(b, meta);
  b.finish(fb.Bundle.endBundle(b), 'EDGC');
  return sealBundle(b.asUint8Array());
}

test('bundles in the older full layout still load and give the same outputs', async () => {
  for (const bundle of [float, int8]) {
    const old = fullLayout(bundle);
    assert.ok(old.length > bundle.length, `full layout ${old.length} B > lean ${bundle.length} B`);
    for (const build of ['simd', 'scalar'] as const) {
      const a = await load(bundle, { build }),
        b = await load(old, { build });
      for (let i = 0; i < 3; i++) {
        const x = images.subarray(i * 784, (i + 1) * 784);
        assert.equal(
          Array.from(b.run({ [graph.inputs[0]!]: x })[graph.outputs[0]!]!),
          Array.from(a.run({ [graph.inputs[0]!]: x })[graph.outputs[0]!]!),
        );
      }
    }
  }
});

test.run();
