// Branched students on Fashion-MNIST (docs/distillation.md "Branched students"): fashion_cnn.onnx gets an early
// exit (a zero-initialised Dense 10 head on the features after `--at` node, 2×2-average-pooled when 14×14), trunk
// frozen; the head is trained on the first 10,000 training images for 5 epochs (Adam 0.003 cosine, batch 32) by KD
// (T 4, α 0.7) or on the labels alone (α 0), and scored on the 10,000 test images: top-1, agreement with the full
// network and executed MACs per threshold; with --int8 also of the int8 bundle (every piece calibrated on the first
// 500 training images), beside the float one. Usage:
// node --import tsx scripts/branched-fashion.ts <fashion_cnn.onnx> <dir with {train,test}_{x,y}.npy> <alpha> [node] [--int8]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../compiler/cli/compile.ts';
import { writeModelJson } from '../compiler/frontend/model-json/index.ts';
import { parseBlockModel } from '../compiler/ir/blocks.ts';
import { distillBranched } from '../compiler/distill/branched.ts';
import { loadNpy } from '../compiler/io/npy.ts';
const int8 = process.argv.includes('--int8');
const [model, dir, a, atNode] = process.argv.slice(2).filter((v) => v !== '--int8');
if (!model || !dir || a === undefined) {
  console.error(
    'usage: branched-fashion.ts <fashion_cnn.onnx> <fmnist dir> <alpha> [exit after node, default /3/MaxPool]',
  );
  process.exit(2);
}
const alpha = Number(a);
const tmp = mkdtempSync(join(tmpdir(), 'branched-fashion-'));
const g = loadModel(model, undefined);
writeModelJson(g, join(tmp, 'f.json'));
const j = JSON.parse(readFileSync(join(tmp, 'f.json'), 'utf8'));
const bin0 = new Uint8Array(readFileSync(join(tmp, j.weights)));
rmSync(tmp, { recursive: true, force: true });
const at = atNode ?? '/3/MaxPool';
const cut = j.nodes.findIndex((n: { name: string }) => n.name === at);
const feat0 = g.tensors.get(at + '_output_0')!.shape;
const pool = feat0[1] === 14;
const feat = pool ? [1, 7, 7, feat0[3]] : feat0;
const F = feat.slice(1).reduce((a: number, b: number) => a * b, 1);
const off = Math.ceil(bin0.length / 16) * 16;
const bin = new Uint8Array(off + 40 * F);
bin.set(bin0);
j.tensors.head_w = { dtype: 'float32', shape: [10, F], offset: off, length: 40 * F };
j.tensors.head_b = { dtype: 'float32', shape: [10], data: new Array(10).fill(0) };
j.nodes.splice(cut + 1, 0, {
  name: 'exit1',
  op: 'EarlyExit',
  inputs: [at + '_output_0'],
  metric: 'max_prob',
  threshold: 0.9,
  head: {
    nodes: [
      ...(pool
        ? [
            {
              name: 'pool',
              op: 'AvgPool',
              inputs: [at + '_output_0'],
              outputs: ['exit_pool'],
              attrs: { kernel: [2, 2], strides: [2, 2] },
            },
          ]
        : []),
      {
        name: 'flat',
        op: 'Reshape',
        inputs: [pool ? 'exit_pool' : at + '_output_0'],
        outputs: ['exit_feat'],
        attrs: { shape: [1, F] },
      },
      { name: 'dense', op: 'Dense', inputs: ['exit_feat', 'head_w', 'head_b'], outputs: ['exit_logits'] },
    ],
    outputs: ['exit_logits'],
  },
});
const bm = parseBlockModel(j, bin, 'fashion-ee.json');
const N = 10000,
  per = 784;
const tx = loadNpy(join(dir, 'train_x.npy')).data as Float32Array;
const ty = loadNpy(join(dir, 'train_y.npy')).data as Int32Array;
const vx = loadNpy(join(dir, 'test_x.npy')).data as Float32Array;
const vy = Int32Array.from(loadNpy(join(dir, 'test_y.npy')).data as Int32Array);
const t0 = performance.now();
const r = await distillBranched({
  student: bm,
  data: { x: tx.slice(0, N * per), labels: Int32Array.from(ty.subarray(0, N)) },
  validation: { x: vx, labels: vy },
  alpha,
  temperature: 4,
  exitWeights: [1, 0],
  epochs: 5,
  batch: 32,
  optimizer: { kind: 'adam' },
  lr: (t, total) => 0.003 * 0.5 * (1 + Math.cos((Math.PI * t) / total)),
  seed: 1,
  frozen: bm.pieces.flatMap((p) => (p.kind === 'graph' ? p.graph.nodes.map((n) => n.name) : [])),
  thresholds: [0.5, 0.7, 0.9, 0.99],
  ...(int8 && { quantize: {} }),
  onEpoch: (e) => console.log(e.phase, e.epoch, e.loss.toFixed(4)),
});
console.log('features', feat, 'teacher', r.report.teacher);
for (const t of r.report.thresholds)
  console.log(
    alpha,
    t.threshold,
    'acc',
    t.after.accuracy,
    'agree',
    t.after.agreement,
    'macs',
    Math.round(t.after.macs),
    'cheap',
    t.after.cheap,
    ...(t.int8
      ? [
          '| int8 acc',
          t.int8.accuracy,
          'agree',
          t.int8.agreement,
          'macs',
          Math.round(t.int8.macs),
          'cheap',
          t.int8.cheap,
          'same route',
          t.int8.sameRoute,
          'same top-1',
          t.int8.sameTop1,
        ]
      : []),
  );
if (r.report.int8) console.log('int8 bundle', r.report.int8);
console.log(((performance.now() - t0) / 1000).toFixed(0) + ' s');
