// Checkpoints: the real examples/mnist weights with Adam-style moments and observer tensors round-trip
// bit for bit (every dtype), the structure hash ignores weight values but not structure, a checkpoint
// of another model is refused, and every truncation / corruption is a clear CheckpointError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelJson } from '../../../compiler/frontend/model-json/index.ts';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';
import {
  CheckpointError,
  CHECKPOINT_FILE,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  modelStructureHash,
  saveCheckpoint,
  type Checkpoint,
} from '../../../compiler/train/checkpoint.ts';
import { Pcg32 } from '../../../compiler/train/data/pcg32.ts';
import { reportError } from '../../../compiler/cli/errors.ts';

const ROOT = join(import.meta.dirname, '../../..');
const MNIST = join(ROOT, 'examples/mnist/model.json');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-ckpt-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function checkpointOf(g: Graph): Checkpoint {
  const rng = new Pcg32(42, 1);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const moments = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of g.tensors.values()) {
    if (!(t.data instanceof Float32Array)) continue;
    weights.set(t.name, { shape: t.shape, data: t.data });
    for (const m of ['m', 'v'])
      moments.set(`${t.name}:${m}`, { shape: t.shape, data: Float32Array.from(t.data, () => rng.nextFloat() - 0.5) });
  }
  for (let i = 0; i < 7; i++) rng.nextU32();
  return {
    modelHash: modelStructureHash(g),
    step: 1234,
    epoch: 3,
    batch: 17,
    rng: rng.getState(),
    optimizer: { kind: 'adamw', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
    weights,
    moments,
    observers: new Map<
      string,
      { shape: number[]; data: Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array }
    >([
      ['conv.min_max', { shape: [2], data: Float32Array.of(-1.5, 2.25) }],
      ['count', { shape: [], data: Int32Array.of(99) }],
      ['ema', { shape: [3], data: Float64Array.of(Math.PI, -0, 1e-300) }],
      ['q', { shape: [2, 2], data: Int8Array.of(-128, 127, 0, 5) }],
      ['u', { shape: [1], data: Uint8Array.of(255) }],
    ]),
    extra: { bestValAccuracy: 0.9875 },
  };
}

const mnist = loadModelJson(MNIST);

test('mnist weights + moments + observers round-trip bit for bit through a directory', () => {
  const c = checkpointOf(mnist);
  const file = saveCheckpoint(join(tmp, 'run1'), c);
  assert.is(file, join(tmp, 'run1', CHECKPOINT_FILE));
  assert.equal(readdirSync(join(tmp, 'run1')), [CHECKPOINT_FILE]);
  const back = loadCheckpoint(join(tmp, 'run1'), { graph: mnist, file: MNIST });
  assert.equal(back, c);
  for (const [name, t] of c.weights)
    assert.equal(new Uint8Array(back.weights.get(name)!.data.buffer), new Uint8Array(t.data.buffer), name);
  assert.is(Object.is(back.observers.get('ema')!.data[1], -0), true);
  // The generator continues where it stopped.
  const a = Pcg32.fromState(c.rng),
    b = Pcg32.fromState(back.rng);
  assert.is(a.nextU32(), b.nextU32());
  // Loading the file path directly works too; re-encoding gives the same bytes.
  assert.ok(Buffer.from(encodeCheckpoint(loadCheckpoint(file))).equals(readFileSync(file)));
});

test('structure hash: same for changed weight values, different for another structure; other model refused', () => {
  const h = modelStructureHash(mnist);
  const changed = loadModelJson(MNIST);
  const w = [...changed.tensors.values()].find((t) => t.data instanceof Float32Array)!;
  (w.data as Float32Array)[0] += 1;
  assert.is(modelStructureHash(changed), h);
  const other = loadModelJson(MNIST);
  const conv = other.nodes.find((n) => n.op === 'Conv2D')!;
  conv.attrs = { ...conv.attrs, strides: [2, 2] };
  assert.is.not(modelStructureHash(other), h);
  const fashionPath = join(ROOT, 'test/fixtures/onnx/fashion_cnn.onnx');
  const fashion = loadOnnx(fashionPath);
  saveCheckpoint(join(tmp, 'run2'), checkpointOf(mnist));
  try {
    loadCheckpoint(join(tmp, 'run2'), { graph: fashion, file: fashionPath });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CheckpointError);
    assert.match(
      (e as Error).message,
      /run2\/checkpoint\.edgeckpt: written for another model \(structure hash [0-9a-f]{12}…, .*fashion_cnn\.onnx has [0-9a-f]{12}…\)/,
    );
    const r = reportError(e);
    assert.is(r.code, 1);
    assert.not.match(r.line, /internal error/);
  }
});

test('truncated, corrupted and foreign files: one clear error each', () => {
  const bytes = encodeCheckpoint(checkpointOf(mnist));
  const cases: [Uint8Array, RegExp][] = [
    [bytes.subarray(0, 5), /not an edgec checkpoint/],
    [bytes.subarray(0, 40), /truncated: the header needs/],
    [bytes.subarray(0, bytes.length - 1), /truncated: expected \d+ bytes, found \d+/],
    [Uint8Array.from([...bytes, 0]), /trailing bytes/],
    [
      (() => {
        const b = bytes.slice();
        b[b.length - 3] ^= 1;
        return b;
      })(),
      /corrupt: the tensor data does not match its sha256/,
    ],
    [
      (() => {
        const b = bytes.slice();
        b[16] = 0x20;
        return b;
      })(),
      /corrupt header/,
    ],
    [
      (() => {
        const b = bytes.slice();
        b[8] = 9;
        return b;
      })(),
      /checkpoint version 9, this edgec reads version 1/,
    ],
    [new TextEncoder().encode('{"format":"edgec-checkpoint"}'), /missing EDGECKPT magic/],
  ];
  for (const [b, re] of cases) {
    try {
      decodeCheckpoint(b, 'x.edgeckpt');
      assert.unreachable(String(re));
    } catch (e) {
      assert.instance(e, CheckpointError, String(e));
      assert.match((e as Error).message, /^x\.edgeckpt: /);
      assert.match((e as Error).message, re);
    }
  }
  // Truncation at every 997th length is refused (never a partial checkpoint).
  for (let n = 0; n < bytes.length; n += 997) assert.throws(() => decodeCheckpoint(bytes.subarray(0, n), 'x'), /x: /);
  assert.throws(() => loadCheckpoint(join(tmp, 'nowhere')), /nowhere: cannot read the checkpoint \(ENOENT\)/);
});

test('a failed save leaves the previous checkpoint whole', () => {
  const dir = join(tmp, 'run3');
  const c = checkpointOf(mnist);
  const file = saveCheckpoint(dir, c);
  const before = readFileSync(file);
  const broken = { ...c, weights: new Map([['w', { shape: [3], data: new Float32Array(2) }]]) };
  assert.throws(() => saveCheckpoint(dir, broken), /shape \[3\] holds 3 values, data has 2/);
  assert.equal(readFileSync(file), before);
  assert.equal(readdirSync(dir), [CHECKPOINT_FILE]);
});

test.run();
