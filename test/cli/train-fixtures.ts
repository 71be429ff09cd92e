// Fixtures of the `edgec train` tests: scikit-learn's 8×8 digits (test/fixtures/train/digits.u8.gz)
// as .npy files — the first 1440 samples for training, the other 357 for validation, pixels / 16 —
// and an MLP model.json (64 → 32 relu → 10, softmax) with seeded uniform weights.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Graph, Node, Tensor } from '../../compiler/ir/graph.ts';
import { writeModelJson } from '../../compiler/frontend/model-json/index.ts';
import { saveNpy } from '../../compiler/io/npy.ts';
import { inferShapes } from '../../compiler/passes/infer-shapes.ts';
import { randF32, rng } from '../assembly/harness.ts';
import { ROOT } from './run-edgec.ts';

export const TRAIN_N = 1440;

export function digits(): { x: Float32Array; y: Uint8Array; n: number } {
  const raw = gunzipSync(readFileSync(join(ROOT, 'test/fixtures/train/digits.u8.gz')));
  const n = raw.length / 65;
  const x = new Float32Array(n * 64),
    y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = raw[i * 65]!;
    for (let k = 0; k < 64; k++) x[i * 64 + k] = raw[i * 65 + 1 + k]! / 16;
  }
  return { x, y, n };
}

export function mlpGraph(): Graph {
  const r = rng(5);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [1, 64]),
    t('w1', [32, 64], randF32(r, 2048, -0.3, 0.3)),
    t('b1', [32], new Float32Array(32)),
    t('w2', [10, 32], randF32(r, 320, -0.4, 0.4)),
    t('b2', [10], new Float32Array(10)),
  ]);
  const nodes: Node[] = [
    { name: 'fc1', op: 'Dense', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { activation: 'relu' } },
    { name: 'fc2', op: 'Dense', inputs: ['h', 'w2', 'b2'], outputs: ['logits'], attrs: {} },
    { name: 'prob', op: 'Softmax', inputs: ['logits'], outputs: ['p'], attrs: { axis: -1 } },
  ];
  const g: Graph = { name: 'digits-mlp', tensors, nodes, inputs: ['x'], outputs: ['p'], source: 'mlp.json' };
  inferShapes.run(g);
  return g;
}

/** Writes mlp.json (+ .bin), x.npy / y.npy (training) and vx.npy / vy.npy (validation) into `dir`. */
export function writeTrainFixtures(dir: string): void {
  const d = digits();
  writeModelJson(mlpGraph(), join(dir, 'mlp.json'));
  saveNpy(join(dir, 'x.npy'), { shape: [TRAIN_N, 64], data: d.x.slice(0, TRAIN_N * 64) });
  saveNpy(join(dir, 'y.npy'), { shape: [TRAIN_N], data: d.y.slice(0, TRAIN_N) });
  saveNpy(join(dir, 'vx.npy'), { shape: [d.n - TRAIN_N, 64], data: d.x.slice(TRAIN_N * 64) });
  saveNpy(join(dir, 'vy.npy'), { shape: [d.n - TRAIN_N], data: d.y.slice(TRAIN_N) });
}
