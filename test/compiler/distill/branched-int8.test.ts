// Branched students in int8 (distillBranched with `quantize`): the shipped gated and early-exit MNIST models
// (examples/branches) distilled on the 100 calibration digits, every piece then quantised on them, scored on the
// 500 shipped test digits. The int8 bundle is really int8, runs the same bytes and routes on simd / scalar and
// fast / reference kernels (its reference twin), and against the float model it was quantised from: the same
// route (exit / branch) on ≥ 97 % of digits (measured 98.0 / 99.4 %), the same top-1 on ≥ 98 % (99.4 / 100 %),
// and where the route is the same every logit within 10 % of that digit's float logit span (max − min; measured
// ≤ 8.2 %) and 99 % of them within 5 % (measured 99.9 %). The report's int8 row at the model's own threshold is
// exactly what the written bundle does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadBlockModel } from '../../../compiler/cli/branches.ts';
import { distillBranched } from '../../../compiler/distill/branched.ts';
import { readBundle, fb } from '../../../compiler/emit/bundle-writer.ts';
import type { BlockModel } from '../../../compiler/ir/blocks.ts';
import { compileBlockModel } from '../../../compiler/lower/branches.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';
import { load } from '../../../runtime/node.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EX = join(ROOT, 'examples', 'branches');
const npy = (f: string) => loadNpy(join(ROOT, f)).data;
const x = npy('examples/branches/calib.npy') as Float32Array;
const y = Int32Array.from(npy('examples/branches/calib_labels.npy') as Uint8Array);
const vx = npy('examples/mnist/images.npy') as Float32Array;
const vy = Int32Array.from(npy('examples/mnist/labels_u8.npy') as Uint8Array);
const N = 500;

const fixed = (bm: BlockModel) =>
  bm.pieces.flatMap((p) =>
    p.kind === 'graph'
      ? p.graph.nodes.map((n) => n.name)
      : p.kind === 'branch'
        ? p.branches.at(-1)!.nodes.map((n) => n.name)
        : [],
  );

const top = (o: Float32Array, i: number) => {
  let b = 0;
  for (let c = 1; c < 10; c++) if (o[i * 10 + c]! > o[i * 10 + b]!) b = c;
  return b;
};

for (const file of ['gated.json', 'early-exit.json']) {
  test(`${file}: int8 bundle = its reference twin; routes, top-1 and logits against the float model`, async () => {
    const bm = loadBlockModel(join(EX, file))!;
    const r = await distillBranched({
      student: bm,
      data: { x, labels: y },
      validation: { x: vx, labels: vy },
      exitWeights: [1, 0],
      epochs: 2,
      batch: 20,
      optimizer: { kind: 'adam' },
      lr: 0.001,
      frozen: fixed(bm),
      thresholds: [0.9, 0.99],
      seed: 1,
      quantize: {},
    });
    assert.is(r.status, 'done');
    const q = r.int8!;
    const b = readBundle(q);
    let i8 = 0;
    for (let k = 0; k < b.tensorsLength(); k++) if (b.tensors(k)!.dtype() === fb.DType.I8) i8++;
    assert.ok(i8 > 5, `${i8} int8 tensors`);
    assert.is(r.report.int8!.calibration, 100);
    assert.is(r.report.int8!.bundleBytes, q.length);

    const runs = [];
    for (const build of ['simd', 'scalar'] as const)
      for (const reference of [false, true]) {
        const d = (await load(q, { build, reference })).runDetailed({ Input3: vx });
        runs.push({ y: d.outputs.Plus214_Output_0 as Float32Array, samples: d.samples });
      }
    for (const o of runs.slice(1)) {
      assert.ok(Buffer.from(o.y.buffer).equals(Buffer.from(runs[0]!.y.buffer)), 'outputs equal across builds / twins');
      assert.equal(o.samples, runs[0]!.samples);
    }
    const f = (await load(compileBlockModel(r.model).bundle)).runDetailed({ Input3: vx });
    const fy = f.outputs.Plus214_Output_0 as Float32Array,
      qy = runs[0]!.y;
    const route = (s: (typeof f.samples)[number]) => JSON.stringify([s.exitedAt, s.branches]);
    const rel: number[] = [];
    let sameRoute = 0,
      sameTop = 0;
    for (let i = 0; i < N; i++) {
      if (top(fy, i) === top(qy, i)) sameTop++;
      if (route(f.samples[i]!) !== route(runs[0]!.samples[i]!)) continue;
      sameRoute++;
      let lo = Infinity,
        hi = -Infinity;
      for (let c = 0; c < 10; c++) [lo, hi] = [Math.min(lo, fy[i * 10 + c]!), Math.max(hi, fy[i * 10 + c]!)];
      for (let c = 0; c < 10; c++) rel.push(Math.abs(fy[i * 10 + c]! - qy[i * 10 + c]!) / (hi - lo));
    }
    assert.ok(sameRoute >= 0.97 * N, `same route on ${sameRoute} of ${N}`);
    assert.ok(sameTop >= 0.98 * N, `same top-1 on ${sameTop} of ${N}`);
    // int8 noise against each digit's float logit span (max − min, 14–79 here)
    const worst = Math.max(...rel),
      within = rel.filter((d) => d <= 0.05).length;
    assert.ok(worst <= 0.1, `largest logit difference on a shared route: ${worst} of the span`);
    assert.ok(within >= 0.99 * rel.length, `${within} of ${rel.length} logits within 5 % of the span`);
    // the path is cheap for some digits and full for others in both
    const cheap = runs[0]!.samples.filter((s) => s.exitedAt !== null || s.branches.route === 0).length;
    assert.ok(cheap > 0 && cheap < N, `cheap path taken by ${cheap}`);

    // the report's int8 row at the model's own threshold (0.9) is the written bundle
    const row = r.report.thresholds.find((t) => t.threshold === 0.9)!.int8!;
    let ok = 0;
    for (let i = 0; i < N; i++) if (top(qy, i) === vy[i]) ok++;
    assert.is(row.accuracy, ok / N);
    assert.is(row.macs, runs[0]!.samples.reduce((a, s) => a + s.macs, 0) / N);
    assert.is(row.sameRoute, sameRoute / N);
    assert.is(row.sameTop1, sameTop / N);
  });
}

test.run();
