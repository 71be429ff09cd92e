// Pipeline fuzz: random NHWC graphs built from the ops the passes rewrite (conv, bias adds, BN,
// activations, transposes pairs, pads, reshapes, skip adds, concat, pools, dense head). For each:
// the optimised graph evaluates like the original (1e-5 relative + 1e-6 absolute), and its bundle,
// run by the TS interpreter at the planned offsets and by both wasm builds (bit-identical), matches
// the reference (1e-4 rel + 1e-5 abs).
import { test } from 'uvu';
import { existsSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { GraphBuilder, closeness, inputsFor, rng } from '../ir/build-graph.ts';
import { interpretBundle } from '../emit/bundle-interpreter.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';

function randomGraph(seed: number): Graph {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const b = new GraphBuilder(`random${seed}`);
  let shape = [1, 4 + int(5), 4 + int(5), 1 + int(6)];
  let t = b.input('x', shape);
  const live: [string, number[]][] = [[t, shape]];
  const outputs: string[] = [];
  const steps = 3 + int(8);
  for (let k = 0; k < steps; k++) {
    const c = shape[3]!;
    const kind = pick([
      'conv',
      'conv',
      'dw',
      'act',
      'act',
      'bn',
      'biasadd',
      'mulc',
      'tpair',
      'pad',
      'reshape',
      'skip',
      'concat',
      'pool',
    ]);
    if (kind === 'conv' || kind === 'dw') {
      const dw = kind === 'dw';
      const co = dw ? c * (1 + int(2)) : 1 + int(9);
      const kk = pick([1, 3]);
      const s = shape[1]! > 4 && r() < 0.3 ? 2 : 1;
      const ins = [t, b.constant(`w${k}`, [co, kk, kk, dw ? 1 : c], undefined, -0.5, 0.5)];
      if (r() < 0.5) ins.push(b.constant(`b${k}`, [co]));
      const small = Math.min(shape[1]!, shape[2]!) < kk;
      t = b.node('Conv2D', ins, {
        padding: small ? 'same' : pick(['same', 'valid', [1, 0, 0, 1]]),
        strides: [s, s],
        groups: dw ? c : 1,
      });
    } else if (kind === 'act') {
      t = pick([
        () => b.node('Relu', [t]),
        () => b.node('Relu6', [t]),
        () => b.node('Clip', [t], { min: -0.5, max: 1 }),
        () => b.node('Sigmoid', [t]),
        () => b.node('LeakyRelu', [t], { alpha: 0.1 }),
      ])();
    } else if (kind === 'bn') {
      t = b.node('BatchNorm', [
        t,
        b.constant(`s${k}`, [c], undefined, 0.5, 1.5),
        b.constant(`bb${k}`, [c]),
        b.constant(`m${k}`, [c]),
        b.constant(`v${k}`, [c], undefined, 0.5, 2),
      ]);
    } else if (kind === 'biasadd') {
      t = b.node('Add', [t, b.constant(`k${k}`, pick([[c], [1, 1, 1, c]]))]);
    } else if (kind === 'mulc') {
      t = b.node('Mul', [t, b.constant(`q${k}`, [c])]);
    } else if (kind === 'tpair') {
      t = b.node('Transpose', [t], { perm: [0, 3, 1, 2] });
      const mid = int(4);
      if (mid === 1) t = b.node('Relu', [t]);
      if (mid === 2)
        t = b.node('Add', [t, b.constant(`tc${k}`, pick([[c, 1, 1], [c, shape[1]!, 1], [1]]))], { activation: 'relu' });
      if (mid === 3) t = b.node('Mul', [b.constant(`tm${k}`, [1, c, 1, shape[2]!]), t]);
      t = b.node('Transpose', [t], { perm: [0, 2, 3, 1] });
    } else if (kind === 'pad') {
      t = b.node('Pad', [t], { pads: [0, int(2), int(2), 0, 0, int(2), int(2), 0] });
    } else if (kind === 'reshape') {
      t = b.node('Reshape', [t], { shape: [0, 0, 0, -1] });
    } else if (kind === 'skip') {
      const same = live.filter(([, s]) => s.join() === shape.join());
      t = b.node('Add', [t, pick(same)[0]]);
    } else if (kind === 'concat') {
      const same = live.filter(([, s]) => s.slice(0, 3).join() === shape.slice(0, 3).join());
      t = b.node('Concat', [t, pick(same)[0]], { axis: 3 });
    } else if (kind === 'pool' && shape[1]! >= 2 && shape[2]! >= 2) {
      t = b.node(pick(['MaxPool', 'AvgPool'] as const), [t], { kernel: [2, 2] });
    }
    inferShapes.run(b.g);
    shape = b.g.tensors.get(t)!.shape;
    live.push([t, shape]);
    if (r() < 0.15) outputs.push(t);
  }
  t = b.node('Flatten', [t]);
  inferShapes.run(b.g);
  const f = b.g.tensors.get(t)!.shape[1]!;
  t = b.node('Dense', [t, b.constant('wd', [5, f], undefined, -0.2, 0.2)], {}, 'y');
  return b.output(...new Set([...outputs, 'y']));
}

const root = new URL('../../../', import.meta.url);
const runtimeReady = ['runtime/node.ts', 'build/edgec-simd.wasm', 'build/edgec-scalar.wasm'].every((p) =>
  existsSync(new URL(p, root)),
);

for (let seed = 1; seed <= 60; seed++) {
  test(`random graph ${seed}: passes keep values; bundle ≈ reference (TS interpreter, wasm simd == scalar)`, async () => {
    const g = randomGraph(seed);
    const inputs = inputsFor(g, seed);
    const ref = evaluate(g, inputs);
    const { bundle, graph } = compileGraph(g);
    const opt = evaluate(graph, inputs);
    const got = interpretBundle(bundle, inputs);
    for (const o of g.outputs) {
      const w1 = closeness(opt[o]!, ref[o]!, 1e-5, 1e-6);
      assert.ok(w1 <= 1, `${o}: optimised graph off by ${w1.toFixed(2)}× tolerance`);
      const w2 = closeness(got[o]!, ref[o]!, 1e-4, 1e-5);
      assert.ok(w2 <= 1, `${o}: bundle off by ${w2.toFixed(2)}× tolerance`);
    }
    if (!runtimeReady) return;
    const { load } = await import('../../../runtime/node.ts');
    const simd = (await load(bundle, { build: 'simd' })).run(inputs);
    const scalar = (await load(bundle, { build: 'scalar' })).run(inputs);
    for (const o of g.outputs) {
      const a = simd[o] as Float32Array,
        b = scalar[o] as Float32Array;
      const w3 = closeness(a, ref[o]!, 1e-4, 1e-5);
      assert.ok(w3 <= 1, `${o}: wasm off by ${w3.toFixed(2)}× tolerance`);
      assert.equal(
        new Uint32Array(a.buffer, a.byteOffset, a.length),
        new Uint32Array(b.buffer, b.byteOffset, b.length),
        'simd == scalar bits',
      );
    }
  });
}

test.run();
