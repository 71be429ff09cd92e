// Accuracy, average executed MACs (counted by the executor) and latency of the early-exit and the
// gated MNIST models (fit.ts's logistic regression and distill.ts's distilled heads) at several thresholds, against the full network, on real MNIST test digits.
// Usage: node --import tsx examples/branches/evaluate.ts [dir with test_images_u8.bin, test_labels_u8.bin]
// (no argument: the 500 test images shipped in examples/mnist). Latency: models timed in 15 interleaved rounds over (up to) 500 digits; the fastest round per model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBlockModel } from '../../compiler/ir/blocks.ts';
import { compileBlockModel } from '../../compiler/lower/branches.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { loadNpy } from '../../compiler/io/npy.ts';
import { load } from '../../runtime/node.ts';

const here = import.meta.dirname;
const src = process.argv[2];
let x: Float32Array, labels: Uint8Array;
if (src) {
  const img = new Uint8Array(readFileSync(join(src, 'test_images_u8.bin')));
  labels = new Uint8Array(readFileSync(join(src, 'test_labels_u8.bin')));
  x = Float32Array.from(img, (v) => v / 255);
} else {
  x = loadNpy(join(here, '..', 'mnist', 'images.npy')).data as Float32Array;
  labels = loadNpy(join(here, '..', 'mnist', 'labels_u8.npy')).data as Uint8Array;
}
const N = labels.length;
const build = (process.env.EDGEC_BUILD as 'simd' | 'scalar' | undefined) ?? 'simd';

/** Latency probes: every model is timed in the same rounds, so machine load hits all alike. */
const probes: { run: () => void; best: number }[] = [];
const lat = x.subarray(0, Math.min(N, 500) * 784);

async function measure(bundle: Uint8Array) {
  const m = await load(bundle, { build });
  m.runDetailed({ Input3: x.subarray(0, 100 * 784) });
  const r = m.runDetailed({ Input3: x });
  const probe = {
    run: () => {
      m.runDetailed({ Input3: lat });
    },
    best: Infinity,
  };
  probes.push(probe);
  const out = r.outputs.Plus214_Output_0!;
  let ok = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (out[i * 10 + c]! > out[i * 10 + best]!) best = c;
    if (best === labels[i]) ok++;
  }
  const macs = r.samples.reduce((a, s) => a + s.macs, 0) / N;
  const cheap = r.samples.filter((s) => s.exitedAt !== null || Object.values(s.branches).some((b) => b === 0)).length;
  return { acc: ok / N, macs, cheap: cheap / N, probe };
}

const rows: string[][] = [];
const full = await measure(compileGraph(loadModelJson(join(here, '..', 'mnist', 'model.json'))).bundle);
const cells: [string[], { best: number }][] = [];
cells.push([
  [
    'full network (examples/mnist)',
    '-',
    (100 * full.acc).toFixed(2),
    Math.round(full.macs).toLocaleString('en-US'),
    '100%',
    '0%',
  ],
  full.probe,
]);
for (const [file, what] of [
  ['early-exit.json', 'early exit (max_prob >)'],
  ['early-exit.distilled.json', 'distilled early exit'],
  ['gated.json', 'gated, P(cheap right) >'],
  ['gated.distilled.json', 'distilled gated'],
] as const) {
  const json = JSON.parse(readFileSync(join(here, file), 'utf8'));
  const bin = new Uint8Array(readFileSync(join(here, json.weights)));
  for (const t of [0.9, 0.99, 0.999]) {
    const j = structuredClone(json);
    for (const n of j.nodes) {
      if (n.op === 'EarlyExit') n.threshold = t;
      if (n.op === 'Branch') {
        const gb = j.tensors.gate_b;
        // the gate bias of the "full" score is logit(tau): rewrite it in a copy of the weights
        const b = new Float32Array(bin.slice(gb.offset, gb.offset + 8).buffer);
        b[1] = Math.log(t / (1 - t));
        const patched = bin.slice();
        patched.set(new Uint8Array(b.buffer), gb.offset);
        (j as { __bin?: Uint8Array }).__bin = patched;
      }
    }
    const weights = (j as { __bin?: Uint8Array }).__bin ?? bin;
    delete (j as { __bin?: Uint8Array }).__bin;
    const r = await measure(compileBlockModel(parseBlockModel(j, weights, file)).bundle);
    cells.push([
      [
        what,
        String(t),
        (100 * r.acc).toFixed(2),
        Math.round(r.macs).toLocaleString('en-US'),
        `${((100 * r.macs) / full.macs).toFixed(1)}%`,
        `${(100 * r.cheap).toFixed(1)}%`,
      ],
      r.probe,
    ]);
  }
}
// latency: 15 rounds, each timing every model once over the same digits; the fastest round counts
for (let round = 0; round < 15; round++) {
  for (const p of probes) {
    const t0 = performance.now();
    p.run();
    p.best = Math.min(p.best, (performance.now() - t0) / (lat.length / 784));
  }
}
for (const [c, p] of cells) rows.push([...c, p.best.toFixed(4)]);
const head = ['model', 'threshold', 'top-1 %', 'MACs/sample', 'vs full', 'cheap path', 'ms/sample'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(`${N} MNIST test digits (${src ? 'full test set' : 'examples/mnist'}), build ${build}`);
console.log('| ' + head.map((h, i) => h.padEnd(w[i]!)).join(' | ') + ' |');
console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|');
for (const r of rows) console.log('| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |');
