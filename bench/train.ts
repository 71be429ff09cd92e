// npm run bench -- --train [model.onnx] [--batch 32] [--steps N]: training throughput (samples/s, one thread and all
// cores) of an ONNX classifier (default ../shared/models/fashion_cnn.onnx) — SGD momentum 0.9, softmax cross-entropy,
// the same starting weights and the same batches everywhere — in edgec (simd and scalar builds, each in a child
// process on the built dist/ that also reports its peak RSS, VmHWM; the data-parallel plan `edgec train` runs on 1 and
// on all cores), tfjs-backend-wasm (conv backward kernels supplied by tf.customGrad), tfjs-cpu and PyTorch CPU with one
// thread and with all cores (python3 subprocess; skipped with a line when torch is absent); every edgec row is also
// compared with PyTorch at its thread count. The loss after the last step is printed per runtime: equal starts and
// batches make them agree to float rounding, a check that every peer trained the same network. Then distillation
// (issue 13): teacher inference + a KD student step per batch, edgec (bench/distill-edgec.mjs) on 1 and all cores
// against PyTorch one thread doing the same loop. Run by hand only: the machine is shared, so numbers never gate a test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import type { Graph } from '../compiler/ir/graph.ts';
import { fashionBatches, forwardGraph, writeSamples } from './train-graph.ts';
import { initWeights } from '../compiler/train/init.ts';
import { prepareTfjsTraining } from './peers/tfjs-train.ts';
import { registerTfjsGradients } from './peers/tfjs-gradients.ts';

interface Result {
  name: string;
  threads: number;
  samplesPerS?: number;
  loss?: number;
  peakRss?: number;
  note?: string;
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const LR = 0.01;
const CPU_STEPS = 2;
/** Distillation rows: the KD temperature (loss T² · KL(softmax(t/T) ‖ softmax(s/T)), edgec's and the torch peer's). */
const KD_T = 4;

function child(cmd: string, args: string[]): Record<string, number> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

/** The forward graph as the layer list bench/peers/torch-train.py builds (NCHW there; weights in IR layouts). */
function torchLayers(g: Graph): unknown[] {
  const t = (name: string) => {
    const x = g.tensors.get(name)!;
    return { shape: x.shape, data: Array.from(x.data as ArrayLike<number>) };
  };
  return g.nodes.flatMap((n): unknown[] => {
    const a = n.attrs,
      bias = n.inputs[2] ? { b: t(n.inputs[2]) } : {};
    if (n.op === 'Conv2D')
      return [
        {
          op: n.op,
          w: t(n.inputs[1]!),
          ...bias,
          strides: a.strides,
          dilations: a.dilations,
          padding: a.padding,
          groups: a.groups,
          activation: a.activation,
        },
      ];
    if (n.op === 'Dense') return [{ op: n.op, w: t(n.inputs[1]!), ...bias, activation: a.activation }];
    if (n.op === 'MaxPool') return [{ op: n.op, kernel: a.kernel, strides: a.strides }];
    if (n.op === 'GlobalAvgPool') return [{ op: n.op }];
    const outRank = g.tensors.get(n.outputs[0]!)!.shape.length;
    // the input's NCHW → NHWC reshape (one channel) is the identity in PyTorch's NCHW
    if (
      n.op === 'Reshape' &&
      outRank === 4 &&
      n.inputs[0] === g.inputs[0] &&
      g.tensors.get(n.outputs[0]!)!.shape[3] === 1
    )
      return [];
    if ((n.op === 'Reshape' || n.op === 'Flatten') && outRank === 2) return [{ op: 'Flatten' }];
    throw new Error(`torch peer: op ${n.op} (${n.name}) not mapped`);
  });
}

async function tfjsRun(
  name: string,
  backend: 'wasm' | 'cpu',
  g: Graph,
  x: Float32Array,
  labels: Int32Array,
  B: number,
  warm: number,
  steps: number,
): Promise<Result> {
  await tf.setBackend(backend);
  await tf.ready();
  const step = prepareTfjsTraining(g, backend === 'wasm', LR);
  const batch = (i: number): [Float32Array, Int32Array] => [
    x.subarray(i * B * 784, (i + 1) * B * 784),
    labels.subarray(i * B, (i + 1) * B),
  ];
  let loss = 0;
  for (let i = 0; i < warm; i++) loss = await step(...batch(i));
  const t0 = performance.now();
  for (let i = warm; i < warm + steps; i++) loss = await step(...batch(i));
  const s = (performance.now() - t0) / 1000;
  tf.disposeVariables();
  return { name, threads: 1, samplesPerS: (steps * B) / s, loss };
}

/** Runs every runtime and prints the table. */
export async function trainBench(args: { model?: string; batch?: string; steps?: string }): Promise<void> {
  const model = args.model ?? '../shared/models/fashion_cnn.onnx';
  if (!existsSync(model)) {
    console.error(
      `edgec bench --train: no model at '${model}'; give the path of fashion_cnn.onnx, e.g. npm run bench -- --train ../shared/models/fashion_cnn.onnx`,
    );
    process.exit(2);
  }
  // the edgec rows run the built package (dist/), as `edgec train` does: rebuild it when a source is newer
  const built = spawnSync(process.execPath, [here('../scripts/build.js'), '--if-stale'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('edgec bench --train: npm run build failed');
  const B = Number(args.batch ?? 32),
    steps = Number(args.steps ?? 20),
    warm = 3;
  const g = forwardGraph(model, B);
  const data = fashionBatches(B * (warm + steps));
  const dir = mkdtempSync(join(tmpdir(), 'edgec-train-bench-'));
  const dataPath = join(dir, 'samples.bin');
  writeSamples(dataPath, data);
  const results: Result[] = [],
    distill: Result[] = [];
  const cores = availableParallelism();
  // the first python3 that imports torch: PATH's (e.g. a virtualenv), else Debian's python3-torch
  const python = ['python3', '/usr/bin/python3'].find(
    (p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0,
  );
  const edgecChild = (build: string, threads?: number) =>
    child(process.execPath, [
      here('./train-edgec.mjs'),
      model,
      dataPath,
      String(B),
      String(warm),
      String(steps),
      build,
      String(LR),
      ...(threads === undefined ? [] : [String(threads)]),
    ]);
  try {
    for (const build of ['simd', 'scalar']) {
      const r = edgecChild(build);
      results.push({ name: `edgec ${build}`, threads: 1, ...r });
      if (build === 'simd') console.log(`edgec training arena ${r.arenaBytes} B (one training bundle)`);
    }
    // what `edgec train --threads N` runs: the sharded plan, on one thread and on every core
    for (const threads of cores > 1 ? [1, cores] : [1]) {
      const r = edgecChild('simd', threads);
      results.push({ name: `edgec simd ${r.shards} shards`, ...r, threads: r.threads! });
      console.log(`edgec sharded arena on ${r.threads} thread(s): ${r.arenaBytes} B (${r.shards} shards)`);
    }
    await registerTfjsGradients();
    tfwasm.setThreadsCount(1);
    results.push(await tfjsRun('tfjs-wasm', 'wasm', g, data.x, data.labels, B, warm, steps));
    // tfjs-cpu's JS convolution gradients are ~50× slower: a few steps give its rate (its loss is from fewer steps)
    results.push({
      ...(await tfjsRun('tfjs-cpu', 'cpu', g, data.x, data.labels, B, 1, CPU_STEPS)),
      name: `tfjs-cpu (${CPU_STEPS} steps)`,
    });
    for (const threads of cores > 1 ? [1, cores] : [1]) {
      const name = `pytorch ${threads} thread${threads > 1 ? 's' : ''}`;
      if (!python) {
        results.push({ name, threads, note: 'skipped: python3 cannot import torch' });
        continue;
      }
      const specPath = join(dir, 'spec.json');
      writeFileSync(
        specPath,
        JSON.stringify({ batch: B, warm, steps, lr: LR, threads, data: dataPath, layers: torchLayers(g) }),
      );
      results.push({ name, threads, ...child(python, [here('./peers/torch-train.py'), specPath]) });
    }
    // distillation: teacher inference + student step per batch (bench/distill-edgec.mjs), edgec on 1 and all cores
    const student = forwardGraph(model, B);
    initWeights(student, 'he', 1);
    for (const threads of cores > 1 ? [1, cores] : [1]) {
      const r = child(process.execPath, [
        here('./distill-edgec.mjs'),
        model,
        dataPath,
        String(B),
        String(warm),
        String(steps),
        String(LR),
        String(KD_T),
        String(threads),
      ]);
      distill.push({ name: `edgec simd ${r.shards} shards`, ...r, threads: r.threads! });
    }
    if (!python) distill.push({ name: 'pytorch 1 thread', threads: 1, note: 'skipped: python3 cannot import torch' });
    else {
      const specPath = join(dir, 'distill.json');
      writeFileSync(
        specPath,
        JSON.stringify({
          batch: B,
          warm,
          steps,
          lr: LR,
          threads: 1,
          data: dataPath,
          layers: torchLayers(student),
          teacher: torchLayers(g),
          temperature: KD_T,
        }),
      );
      distill.push({
        name: 'pytorch 1 thread',
        threads: 1,
        ...child(python, [here('./peers/torch-train.py'), specPath]),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const edgec = results[0]!.samplesPerS!;
  console.log(
    `training throughput, ${model}, batch ${B}, ${steps} timed steps after ${warm} warm-up, ` +
      `${cores} cores, data: ${data.source}; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log('targets: edgec simd ≥ 3× tfjs-wasm, ≥ 0.5× pytorch 1 thread; peak RSS of the edgec process ≤ 150 MB');
  const torchAt = (threads: number) => results.find((r) => r.name.startsWith('pytorch') && r.threads === threads);
  const head = [
    'runtime',
    'threads',
    'samples/s',
    'edgec simd / it',
    'it / pytorch same threads',
    'loss after last step',
    'peak RSS MB',
  ];
  const rows = results.map((r) => {
    if (r.note) return [r.name, String(r.threads), r.note, '', '', '', ''];
    const torch = torchAt(r.threads)?.samplesPerS;
    return [
      r.name,
      String(r.threads),
      r.samplesPerS!.toFixed(1),
      (edgec / r.samplesPerS!).toFixed(2),
      r.name.startsWith('edgec') && torch ? (r.samplesPerS! / torch).toFixed(2) : '',
      r.loss!.toFixed(5),
      r.peakRss ? (r.peakRss / 1e6).toFixed(1) : '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));

  const torchKd = distill.find((r) => r.name.startsWith('pytorch') && !r.note)?.samplesPerS;
  console.log(
    `\ndistillation throughput (teacher ${model} inference + student step, the student re-initialised --init he ` +
      `--seed 1, KD loss at T = ${KD_T}, SGD momentum 0.9), same batches; target (issue 13): samples/s against ` +
      `pytorch 1 thread doing the same loop`,
  );
  const kdHead = ['runtime', 'threads', 'samples/s', 'it / pytorch 1 thread', 'loss after last step', 'peak RSS MB'];
  const kdRows = distill.map((r) =>
    r.note
      ? [r.name, String(r.threads), r.note, '', '', '']
      : [
          r.name,
          String(r.threads),
          r.samplesPerS!.toFixed(1),
          torchKd ? (r.samplesPerS! / torchKd).toFixed(2) : '',
          r.loss!.toFixed(5),
          r.peakRss ? (r.peakRss / 1e6).toFixed(1) : '-',
        ],
  );
  const kdW = kdHead.map((h, i) => Math.max(h.length, ...kdRows.map((r) => r[i]!.length)));
  const kdFmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(kdW[i]!) : c.padStart(kdW[i]!))).join('  ');
  console.log(kdFmt(kdHead));
  for (const r of kdRows) console.log(kdFmt(r));
}
