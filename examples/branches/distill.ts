// Trains the example's exit head / cheap branch and gate by distillation from the full network (mnist-8) —
// `distillBranched`, what `edgec distill` runs on a branched student — instead of fit.ts's logistic regression, and
// writes distilled.bin, early-exit.distilled.json and gated.distilled.json beside this file (the shipped
// early-exit.json / gated.json / model.bin stay as fit.ts made them: the baseline). Heads start at zero; the trunk
// (mnist-8) is frozen. One run on gated.json trains the head (its cheap branch, the same tensors as the early exit's
// head) on 8,000 of the 10,000 calibration digits and the gate on the other 2,000. Deterministic.
// Usage: node --import tsx examples/branches/distill.ts <dir with calib_images_u8.bin, calib_labels_u8.bin>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBlockModel } from '../../compiler/ir/blocks.ts';
import { distillBranched } from '../../compiler/distill/branched.ts';
import { patchModelJson } from '../../compiler/distill/branched-graph.ts';
import { branchedSummary } from '../../compiler/cli/distill-branched.ts';

const src = process.argv[2];
if (!src) {
  console.error('usage: distill.ts <dir with calib_images_u8.bin and calib_labels_u8.bin>');
  process.exit(2);
}
const here = import.meta.dirname;
const x = Float32Array.from(new Uint8Array(readFileSync(join(src, 'calib_images_u8.bin'))), (v) => v / 255);
const labels = Int32Array.from(new Uint8Array(readFileSync(join(src, 'calib_labels_u8.bin'))));
const bin = new Uint8Array(readFileSync(join(here, 'model.bin')));
const gatedJson = JSON.parse(readFileSync(join(here, 'gated.json'), 'utf8'));
// the head and the gate from zero: distillation alone fits them
const zero = new Map(
  ['head_w', 'head_b', 'gate_w', 'gate_b'].map((k) => [k, new Float32Array(gatedJson.tensors[k].length / 4)]),
);
const start = patchModelJson(gatedJson, bin, zero, 'gated.json');
const student = parseBlockModel(start.json, start.bin, 'gated.json');
const trunk = student.pieces.flatMap((p) => (p.kind === 'graph' ? p.graph.nodes.map((n) => n.name) : []));
const full = student.pieces.flatMap((p) => (p.kind === 'branch' ? p.branches.at(-1)!.nodes.map((n) => n.name) : []));
const r = await distillBranched({
  student,
  data: { x, labels },
  temperature: 4,
  alpha: 0.7,
  exitWeights: [1, 0], // the full branch is mnist-8 itself, frozen: its term would be a constant
  epochs: 20,
  batch: 32,
  optimizer: { kind: 'adam' },
  lr: (t, total) => 0.005 * 0.5 * (1 + Math.cos((Math.PI * t) / total)),
  frozen: [...trunk, ...full],
  gateHoldout: 0.2,
  gateEpochs: 40,
  gateThreshold: 0.9,
  seed: 1,
  onEpoch: (e) => console.log(`${e.phase} epoch ${e.epoch + 1}/${e.epochs}: loss ${e.loss.toFixed(4)}`),
});
for (const l of branchedSummary(r.report)) console.log(l);
const out = patchModelJson(start.json, start.bin, r.weights, 'gated.json');
writeFileSync(join(here, 'distilled.bin'), out.bin!);
for (const f of ['early-exit', 'gated']) {
  const j = JSON.parse(readFileSync(join(here, `${f}.json`), 'utf8'));
  j.weights = 'distilled.bin';
  j.name = `${j.name}-distilled`;
  writeFileSync(join(here, `${f}.distilled.json`), JSON.stringify(j, null, 1) + '\n');
}
console.log(`wrote distilled.bin, early-exit.distilled.json, gated.distilled.json to ${here}`);
