// Fits the example's exit head and gate on REAL MNIST training-like digits (the calibration set,
// disjoint from the test set) and writes early-exit.json, gated.json, model.bin and 100 calibration
// digits (calib.npy, calib_labels.npy) beside this file.
// Usage: node --import tsx examples/branches/fit.ts <dir with calib_images_u8.bin, calib_labels_u8.bin>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { load } from '../../runtime/node.ts';
import { saveNpy } from '../../compiler/io/npy.ts';

const PIXELS = 784,
  FEAT = 392,
  CLASSES = 10;
const src = process.argv[2];
if (!src) {
  console.error('usage: fit.ts <dir with calib_images_u8.bin and calib_labels_u8.bin>');
  process.exit(2);
}
const images = new Uint8Array(readFileSync(join(src, 'calib_images_u8.bin')));
const labels = new Uint8Array(readFileSync(join(src, 'calib_labels_u8.bin')));
const N = labels.length;
if (images.length !== N * PIXELS) throw new Error(`expected ${N} images of 28x28, got ${images.length} bytes`);

const here = import.meta.dirname;
const mnistDir = join(here, '..', 'mnist');
const base = JSON.parse(readFileSync(join(mnistDir, 'model.json'), 'utf8'));
const baseBin = new Uint8Array(readFileSync(join(mnistDir, 'model.bin')));
const cut = base.nodes.findIndex((n: { name: string }) => n.name === 'Pooling66');
const trunkNodes = base.nodes.slice(0, cut + 1);
const restNodes = base.nodes.slice(cut + 1);
const TRUNK_OUT = 'Pooling66_Output_0'; // [1,14,14,8] NHWC after conv 5x5 (8) + relu + maxpool 2
// the cheap features: 2x2 average pool → [1,7,7,8] → 392 values in h, w, c order
const featNodes = [
  {
    name: 'feat/pool',
    op: 'AvgPool',
    inputs: [TRUNK_OUT],
    outputs: ['feat_pool'],
    attrs: { kernel: [2, 2], strides: [2, 2] },
  },
  { name: 'feat/flat', op: 'Reshape', inputs: ['feat_pool'], outputs: ['feat'], attrs: { shape: [1, FEAT] } },
];

// 1. trunk features of every calibration digit, computed by the edgec runtime itself
const trunkJson = { ...base, name: 'trunk', outputs: [{ name: 'feat' }], nodes: [...trunkNodes, ...featNodes] };
const trunk = compileGraph(parseModelJson(trunkJson, baseBin, 'trunk.json')).bundle;
const model = await load(trunk, { build: 'simd' });
const x = Float32Array.from(images, (v) => v / 255);
const F = model.runDetailed({ Input3: x }).outputs.feat as Float32Array;

// 2. standardise (folded back into the weights at the end)
const mu = new Float64Array(FEAT),
  sd = new Float64Array(FEAT);
for (let i = 0; i < N; i++) for (let j = 0; j < FEAT; j++) mu[j] += F[i * FEAT + j]! / N;
for (let i = 0; i < N; i++) for (let j = 0; j < FEAT; j++) sd[j] += (F[i * FEAT + j]! - mu[j]!) ** 2 / N;
// the floor keeps rarely-lit features from getting huge folded weights (which would also wreck a
// per-channel int8 scale of the head)
for (let j = 0; j < FEAT; j++) sd[j] = Math.sqrt(sd[j]!) + 0.05;
const Z = new Float64Array(N * FEAT);
for (let i = 0; i < N; i++) for (let j = 0; j < FEAT; j++) Z[i * FEAT + j] = (F[i * FEAT + j]! - mu[j]!) / sd[j]!;

/** Deterministic shuffling (LCG), so a rerun writes the same weights. */
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

/**
 * Multinomial logistic regression by mini-batch SGD with L2 (K classes; K = 2 for the gate).
 * rows: sample indices to fit on; y: class per sample. Returns W [K][FEAT] and b [K] on standardised features.
 */
function fitLogistic(rows: number[], y: ArrayLike<number>, K: number, epochs: number, lr: number, l2: number) {
  const W = new Float64Array(K * FEAT),
    b = new Float64Array(K);
  const order = [...rows];
  const p = new Float64Array(K);
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const rate = lr / (1 + e * 0.2);
    for (const i of order) {
      let mx = -Infinity;
      for (let k = 0; k < K; k++) {
        let s = b[k]!;
        for (let j = 0; j < FEAT; j++) s += W[k * FEAT + j]! * Z[i * FEAT + j]!;
        p[k] = s;
        mx = Math.max(mx, s);
      }
      let sum = 0;
      for (let k = 0; k < K; k++) {
        p[k] = Math.exp(p[k]! - mx);
        sum += p[k]!;
      }
      for (let k = 0; k < K; k++) {
        const g = p[k]! / sum - (y[i] === k ? 1 : 0);
        b[k] -= rate * g;
        for (let j = 0; j < FEAT; j++) W[k * FEAT + j] -= rate * (g * Z[i * FEAT + j]! + l2 * W[k * FEAT + j]!);
      }
    }
  }
  return { W, b };
}
const predict = (W: Float64Array, b: Float64Array, K: number, i: number): number[] => {
  const s: number[] = [];
  for (let k = 0; k < K; k++) {
    let v = b[k]!;
    for (let j = 0; j < FEAT; j++) v += W[k * FEAT + j]! * Z[i * FEAT + j]!;
    s.push(v);
  }
  return s;
};
const argmax = (v: number[]) => v.indexOf(Math.max(...v));

// 3. the exit head / cheap branch on 8000 of the digits
// the calibration digits come sorted by class: split on a fixed shuffle
const all = Array.from({ length: N }, (_, i) => i);
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [all[i], all[j]] = [all[j]!, all[i]!];
}
const headRows = all.slice(0, 8000),
  gateRows = all.slice(8000);
const head = fitLogistic(headRows, labels, CLASSES, 8, 0.05, 1e-4);
const acc = (rows: number[]) =>
  rows.filter((i) => argmax(predict(head.W, head.b, CLASSES, i)) === labels[i]).length / rows.length;
console.log(
  `head: train accuracy ${(100 * acc(headRows)).toFixed(2)}% (8000), held-out ${(100 * acc(gateRows)).toFixed(2)}% (2000)`,
);

// 4. the gate on the other 2000: does the cheap head get this digit right? (out-of-sample answers)
const correct = new Uint8Array(N);
for (const i of gateRows) correct[i] = argmax(predict(head.W, head.b, CLASSES, i)) === labels[i] ? 1 : 0;
const gate = fitLogistic(gateRows, correct, 2, 20, 0.02, 1e-3);
// scores: [cheap, full] = [z1 - z0, logit(tau)]: the cheap branch wins when P(cheap right) > tau
const TAU = 0.9;

// 5. fold standardisation into Dense weights ([out, in]) and write the files
const fold = (W: Float64Array, b: Float64Array, K: number) => {
  const w = new Float32Array(K * FEAT),
    bb = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let s = b[k]!;
    for (let j = 0; j < FEAT; j++) {
      w[k * FEAT + j] = W[k * FEAT + j]! / sd[j]!;
      s -= (W[k * FEAT + j]! * mu[j]!) / sd[j]!;
    }
    bb[k] = s;
  }
  return { w, b: bb };
};
const h = fold(head.W, head.b, CLASSES);
const gDiff = new Float64Array(FEAT),
  gb = new Float64Array(1);
for (let j = 0; j < FEAT; j++) gDiff[j] = gate.W[FEAT + j]! - gate.W[j]!;
gb[0] = gate.b[1]! - gate.b[0]!;
const g1 = fold(gDiff, gb, 1);
const gw = new Float32Array(2 * FEAT);
gw.set(g1.w, 0);
const gbias = new Float32Array([g1.b[0]!, Math.log(TAU / (1 - TAU))]);

const pieces: Float32Array[] = [h.w, h.b, gw, gbias];
const pad = (n: number) => Math.ceil(n / 16) * 16;
let at = pad(baseBin.length);
const tensors: Record<string, unknown> = { ...base.tensors };
const names = ['head_w', 'head_b', 'gate_w', 'gate_b'];
const shapes = [[CLASSES, FEAT], [CLASSES], [2, FEAT], [2]];
const chunks: [number, Float32Array][] = [];
pieces.forEach((p, k) => {
  tensors[names[k]!] = { dtype: 'float32', shape: shapes[k], offset: at, length: p.byteLength };
  chunks.push([at, p]);
  at = pad(at + p.byteLength);
});
const bin = new Uint8Array(at);
bin.set(baseBin, 0);
for (const [o, p] of chunks) bin.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o);
writeFileSync(join(here, 'model.bin'), bin);

const headNodes = (prefix: string, from: string, out: string) => [
  {
    name: `${prefix}pool`,
    op: 'AvgPool',
    inputs: [from],
    outputs: [`${out}_pool`],
    attrs: { kernel: [2, 2], strides: [2, 2] },
  },
  {
    name: `${prefix}flat`,
    op: 'Reshape',
    inputs: [`${out}_pool`],
    outputs: [`${out}_feat`],
    attrs: { shape: [1, FEAT] },
  },
  { name: `${prefix}dense`, op: 'Dense', inputs: [`${out}_feat`, 'head_w', 'head_b'], outputs: [out] },
];
const common = {
  format: 'edgec-model',
  version: 1,
  inputs: base.inputs,
  outputs: [{ name: 'Plus214_Output_0', shape: [1, 10], dtype: 'float32' }],
  weights: 'model.bin',
  tensors,
};
const earlyExit = {
  ...common,
  name: 'mnist-early-exit',
  nodes: [
    ...trunkNodes,
    {
      name: 'exit1',
      op: 'EarlyExit',
      inputs: [TRUNK_OUT],
      metric: 'max_prob',
      threshold: 0.9,
      head: { nodes: headNodes('', TRUNK_OUT, 'exit1_logits'), outputs: ['exit1_logits'] },
    },
    ...restNodes,
  ],
};
const gated = {
  ...common,
  name: 'mnist-gated',
  nodes: [
    ...trunkNodes,
    ...featNodes,
    {
      name: 'route',
      op: 'Branch',
      inputs: ['feat', TRUNK_OUT],
      outputs: ['Plus214_Output_0'],
      gate: {
        nodes: [{ name: 'scores', op: 'Dense', inputs: ['feat', 'gate_w', 'gate_b'], outputs: ['gate_scores'] }],
        outputs: ['gate_scores'],
      },
      branches: [
        {
          nodes: [{ name: 'dense', op: 'Dense', inputs: ['feat', 'head_w', 'head_b'], outputs: ['cheap_logits'] }],
          outputs: ['cheap_logits'],
        },
        {
          nodes: restNodes.map((n: { name: string; outputs: string[] }) => ({
            ...n,
            outputs: n.outputs.map((o) => (o === 'Plus214_Output_0' ? 'full_logits' : o)),
          })),
          outputs: ['full_logits'],
        },
      ],
    },
  ],
};
writeFileSync(join(here, 'early-exit.json'), JSON.stringify(earlyExit, null, 1) + '\n');
writeFileSync(join(here, 'gated.json'), JSON.stringify(gated, null, 1) + '\n');
// 100 of the held-out calibration digits (x/255) and labels: data for --calibration (int8, pruning)
const keep = gateRows.slice(0, 100);
const cx = new Float32Array(keep.length * PIXELS);
keep.forEach((i, k) => {
  for (let p = 0; p < PIXELS; p++) cx[k * PIXELS + p] = images[i * PIXELS + p]! / 255;
});
saveNpy(join(here, 'calib.npy'), { shape: [keep.length, 1, 28, 28], data: cx });
saveNpy(join(here, 'calib_labels.npy'), { shape: [keep.length], data: Uint8Array.from(keep, (i) => labels[i]!) });
console.log(
  `wrote early-exit.json, gated.json, model.bin (${bin.length} bytes), calib.npy, calib_labels.npy to ${here}`,
);
