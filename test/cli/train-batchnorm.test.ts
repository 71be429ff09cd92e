// `edgec train --batchnorm` on a digits MLP with a BatchNorm on its input (64 → bn0 → 32 relu → 10): in train mode
// the written model (json and ONNX) keeps the BatchNorm with its trained gamma/beta and running statistics, and those
// statistics are the float64 moving average (PyTorch's: momentum 0.1, unbiased variance) of exactly the batches the
// run saw, within 1e-5·(1 + |v|); 1 and 3 threads write the same bytes; the checkpoint carries the statistics; the
// default is train with --init and frozen without (statistics and gamma unchanged); Ctrl-C + --resume ends on the
// bytes of an uninterrupted run in train mode (the statistics come back from the checkpoint) and in fold mode; a bad
// mode is a usage error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph, Tensor } from '../../compiler/ir/graph.ts';
import { writeModelJson } from '../../compiler/frontend/model-json/index.ts';
import { loadModel } from '../../compiler/cli/compile.ts';
import { loadCheckpoint } from '../../compiler/train/checkpoint.ts';
import { arrayBatches } from '../../runtime/train.ts';
import { randF32, rng } from '../assembly/harness.ts';
import { CLI, edgecIn } from './run-edgec.ts';
import { digits, mlpGraph, TRAIN_N, writeTrainFixtures } from './train-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-train-bn-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
writeTrainFixtures(tmp);
const edgec = edgecIn(tmp);

/** mlp.json with a BatchNorm on the input (running mean 0, var 1: nothing like the pixels' statistics). */
function bnMlp(): Graph {
  const g = mlpGraph();
  const r = rng(9);
  const t = (name: string, data: Float32Array): Tensor => ({ name, dtype: 'float32', shape: [64], data });
  g.tensors.set('g0', t('g0', randF32(r, 64, 0.8, 1.2)));
  g.tensors.set('be0', t('be0', randF32(r, 64, -0.1, 0.1)));
  g.tensors.set('m0', t('m0', new Float32Array(64)));
  g.tensors.set('v0', t('v0', new Float32Array(64).fill(1)));
  g.tensors.set('xn', { name: 'xn', dtype: 'float32', shape: [1, 64] });
  g.nodes[0]!.inputs[0] = 'xn';
  g.nodes.unshift({ name: 'bn0', op: 'BatchNorm', inputs: ['x', 'g0', 'be0', 'm0', 'v0'], outputs: ['xn'], attrs: {} });
  g.source = 'bn.json';
  return g;
}
writeModelJson(bnMlp(), at('bn.json'));

const COMMON = ['--data', 'x.npy', '--labels', 'y.npy', '--batch', '32', '--lr', '0.05', '--momentum', '0.9'];
const f32 = (g: Graph, name: string) => g.tensors.get(name)!.data as Float32Array;

test('--batchnorm train: json and ONNX keep bn0 with the running statistics of the batches seen (float64 within 1e-5)', () => {
  const r = edgec(
    'train',
    'bn.json',
    ...COMMON,
    '--epochs',
    '2',
    '--batchnorm',
    'train',
    '--threads',
    '3',
    '--val-data',
    'vx.npy',
    '--val-labels',
    'vy.npy',
    '--checkpoint',
    'ck',
    '-o',
    'bn-train.json',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /1 BatchNorm node train: batch statistics of each 16-sample shard, .*\(--batchnorm train\)/);
  assert.match(r.out, /2 shards on 2 threads/);
  const trained = loadModel(at('bn-train.json'), undefined);
  assert.ok(
    trained.nodes.some((n) => n.op === 'BatchNorm' && n.name === 'bn0'),
    'bn0 written as a BatchNorm',
  );
  // float64: PyTorch's running update over every batch of both epochs, in the loader's order
  const d = digits();
  const src = arrayBatches(d.x.slice(0, TRAIN_N * 64), Int32Array.from(d.y.slice(0, TRAIN_N)), {
    batch: 32,
    sampleShape: [64],
  });
  const rm = new Float64Array(64),
    rv = new Float64Array(64).fill(1);
  for (let e = 0; e < 2; e++) {
    for (let k = 0; k < src.batchesPerEpoch; k++) {
      const x = src.batch(e, k).x;
      for (let c = 0; c < 64; c++) {
        let m = 0,
          q = 0;
        for (let i = 0; i < 32; i++) m += x[i * 64 + c]! / 32;
        for (let i = 0; i < 32; i++) q += (x[i * 64 + c]! - m) ** 2;
        rm[c] = 0.9 * rm[c]! + 0.1 * m;
        rv[c] = 0.9 * rv[c]! + 0.1 * (q / 31);
      }
    }
  }
  let worst = 0;
  for (const [name, want] of [
    ['m0', rm],
    ['v0', rv],
  ] as const) {
    const got = f32(trained, name);
    for (let c = 0; c < 64; c++) {
      const err = Math.abs(got[c]! - want[c]!) / (1 + Math.abs(want[c]!));
      if (!(err <= 1e-5)) assert.unreachable(`${name}[${c}]: got ${got[c]} want ${want[c]}`);
      worst = Math.max(worst, err);
    }
  }
  assert.ok(
    f32(trained, 'v0').some((v) => v < 0.5),
    'the running variance moved to the pixels’',
  );
  assert.ok(
    f32(trained, 'g0').some((v, i) => v !== f32(bnMlp(), 'g0')[i]),
    'gamma trained',
  );
  // the checkpoint holds the same statistics; the validation line is what edgec eval measures on the file
  const ck = loadCheckpoint(join(tmp, 'ck'));
  for (const s of ['m0', 'v0', 'g0', 'be0'])
    assert.equal(Array.from(ck.weights.get(s)!.data as Float32Array), Array.from(f32(trained, s)), `checkpoint ${s}`);
  const val = [...r.out.matchAll(/validation: loss [\d.]+, accuracy ([\d.]+) %/g)].pop()!;
  const ev = edgec('eval', 'bn-train.json', '--input', 'vx.npy', '--labels', 'vy.npy');
  assert.is(ev.code, 0, ev.err);
  assert.ok(ev.out.includes(`top-1 ${val[1]} %`), `${ev.out} vs ${val[0]}`);

  // the same run on one thread, written as ONNX: the same statistics and weights, byte for byte
  const one = edgec(
    'train',
    'bn.json',
    ...COMMON,
    '--epochs',
    '2',
    '--batchnorm',
    'train',
    '--threads',
    '1',
    '-o',
    'bn.onnx',
  );
  assert.is(one.code, 0, one.err);
  const onnx = loadModel(at('bn.onnx'), undefined);
  // ONNX import names tensors its own way: pair them by the nodes that read them
  const weightsOf = (g: Graph) =>
    g.nodes.flatMap((n) => (n.op === 'BatchNorm' ? n.inputs.slice(1) : n.op === 'Dense' ? n.inputs.slice(1, 3) : []));
  const names = weightsOf(trained);
  assert.equal(names, ['g0', 'be0', 'm0', 'v0', 'w1', 'b1', 'w2', 'b2']);
  weightsOf(onnx).forEach((o, i) =>
    assert.equal(Array.from(f32(onnx, o)), Array.from(f32(trained, names[i]!)), `ONNX ${o} (1 vs 3 threads)`),
  );
  assert.ok(worst < 1e-5);
});

test('--batchnorm default: train with --init, frozen when fine-tuning (statistics and gamma as they were)', () => {
  const scratch = edgec('train', 'bn.json', ...COMMON, '--init', 'he', '--threads', '1', '-o', 'scratch.json');
  assert.is(scratch.code, 0, scratch.err);
  assert.match(scratch.out, /\(--batchnorm train\)/);
  const tune = edgec('train', 'bn.json', ...COMMON, '--threads', '1', '-o', 'tune.json');
  assert.is(tune.code, 0, tune.err);
  assert.match(
    tune.out,
    /1 BatchNorm node frozen: the fixed affine of their running statistics \(--batchnorm frozen\)/,
  );
  const g = loadModel(at('tune.json'), undefined),
    before = bnMlp();
  for (const s of ['m0', 'v0', 'g0', 'be0']) assert.equal(Array.from(f32(g, s)), Array.from(f32(before, s)), s);
  assert.ok(
    f32(g, 'w1').some((v, i) => v !== f32(before, 'w1')[i]),
    'the dense weights trained',
  );
  const fold = edgec('train', 'bn.json', ...COMMON, '--batchnorm', 'fold', '--threads', '1', '-o', 'fold.json');
  assert.is(fold.code, 0, fold.err);
  assert.not.ok(
    loadModel(at('fold.json'), undefined).nodes.some((n) => n.op === 'BatchNorm'),
    'fold: no BatchNorm left',
  );
  const bad = edgec('train', 'bn.json', ...COMMON, '--batchnorm', 'sync', '-o', 'bad.json');
  assert.is(bad.code, 2, bad.err);
  assert.match(bad.err, /--batchnorm must be train, frozen, fold, got 'sync'/);
  assert.not.ok(readFileSync(at('scratch.json')).length === 0);
});

for (const mode of ['train', 'fold']) {
  test(`--batchnorm ${mode}: Ctrl-C and --resume end on the bytes of an uninterrupted run`, async () => {
    const args = [
      'train',
      'bn.json',
      ...COMMON,
      '--epochs',
      '30',
      '--batchnorm',
      mode,
      '--seed',
      '4',
      '--threads',
      '2',
    ];
    const full = edgec(...args, '-o', `full-${mode}.json`);
    assert.is(full.code, 0, full.err);
    const stop = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [...CLI, ...args, '--checkpoint', `ckr-${mode}`, '-o', `part-${mode}.json`], {
        cwd: tmp,
        env: { ...process.env, EDGEC_DEBUG: '' },
      });
      let out = '',
        sent = false;
      p.stdout.on('data', (d: Buffer) => {
        out += d;
        if (!sent && /^epoch 2\/30/m.test(out)) {
          sent = true;
          p.kill('SIGINT');
        }
      });
      p.on('close', (code) => resolve({ code, out }));
    });
    assert.is(stop.code, 130, stop.out);
    assert.match(stop.out, /interrupted at step/);
    const resumed = edgec(...args, '--resume', `ckr-${mode}`, '-o', `part-${mode}.json`);
    assert.is(resumed.code, 0, resumed.err);
    assert.ok(
      readFileSync(at(`part-${mode}.bin`)).equals(readFileSync(at(`full-${mode}.bin`))),
      `${mode}: resumed = uninterrupted bytes (weights and running statistics)`,
    );
  });
}

test.run();
