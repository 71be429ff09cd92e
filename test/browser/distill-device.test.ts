// Distillation on the device (issue 13 item 5) in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// a page holds a teacher inference bundle and a student's sharded training plan (kd, α = 1, T = 4: data-only), scores
// the 24 samples it "collected" with the teacher once (edgec.js load), then trains the student for one epoch through
// the browser API — Trainer (dist/browser/edgec.js) over parallelStepRunner(trainParallel(...)) with 2 module Web
// Workers (dist/browser/train-parallel.js), batches in arrayBatches' seeded order with the teacher's rows as targets.
// Node does the same on one thread: teacher logits, epoch loss, weights and Adam moments are equal byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM, openDistPage, type DistPage } from './dist-page.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { buildShardedTraining, compileShardedTraining } from '../../compiler/train/shard.ts';
import { compileTraining } from '../../compiler/train/compile-training.ts';
import type { TrainingOptions } from '../../compiler/train/training-graph.ts';
import { load } from '../../runtime/node.ts';
import { trainParallel, parallelStepRunner } from '../../runtime/train-parallel.ts';
import { Trainer, arrayBatches, type BatchSource } from '../../runtime/train.ts';
import { cnnGraph } from '../compiler/train/mlp.ts';
import { rng, randF32 } from '../assembly/harness.ts';
import { skipSuite } from '../skip-suite.ts';

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/distill-device', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  const B = 6,
    N = 24,
    PER = 98,
    SEED = 7,
    LR = 0.01;
  const OPTS: TrainingOptions = { loss: { kind: 'kd', alpha: 1, temperature: 4 }, optimizer: { kind: 'adam' } };
  // teacher and student: the test CNN (x [B,7,7,2] → 3 classes) from two seeds
  const teacher = compileGraph(cnnGraph(B, 3)).bundle;
  const student = cnnGraph(B, 8);
  const bundles = compileShardedTraining(buildShardedTraining(student, B, OPTS, 3));
  const spec = compileTraining(student, B, OPTS).spec;
  const collected = Array.from(randF32(rng(21), N * PER, -1.5, 1.5));

  /** The page's code, also run by Node: teacher logits once, then one epoch of the student on them. */
  interface Api {
    load(b: Uint8Array, o: { build: 'simd' }): Promise<import('../../runtime/index.ts').Model>;
    Trainer: typeof Trainer;
    arrayBatches: typeof arrayBatches;
    trainParallel(b: typeof bundles, o: { threads: number; build: 'simd' }): ReturnType<typeof trainParallel>;
    parallelStepRunner: typeof parallelStepRunner;
  }

  let site: DistPage | undefined,
    url = '',
    browser: Browser;

  test.before(async () => {
    site = await openDistPage();
    ({ url, browser } = site);
  });
  test.after(async () => {
    await site?.close();
  });

  test('one epoch of data-only KD in Chromium (2 workers) = Node (1 thread): teacher logits, loss, weights, moments', async () => {
    // the page's function, serialised into the page as is: it may use only its arguments and the API it imports
    const onDevice = async (a: {
      api?: Api;
      teacher: number[];
      plan: typeof bundles.plan;
      gradient: number[];
      update: number[];
      spec: typeof spec;
      x: number[];
      threads: number;
      n: number;
      per: number;
      seed: number;
      lr: number;
    }) => {
      const api: Api = a.api ?? {
        ...(await import(/* page URL */ '/edgec/edgec.js' as string)),
        ...(await import('/edgec/train-parallel.js' as string)),
      };
      const x = Float32Array.from(a.x);
      // the teacher scores the collected samples once (its batch at a time)
      const tm = await api.load(new Uint8Array(a.teacher), { build: 'simd' });
      const tin = tm.info.inputs[0]!,
        tout = tm.info.outputs[0]!;
      const tb = tin.shape[0]!,
        classes = tout.shape[tout.shape.length - 1]!;
      const soft = new Float32Array(a.n * classes);
      for (let i = 0; i < a.n; i += tb)
        soft.set(
          tm.run({ [tin.name]: x.subarray(i * a.per, (i + tb) * a.per) })[tout.name] as Float32Array,
          i * classes,
        );
      // the student: one epoch, batches in the seeded order, the teacher's logits of the same rows as targets
      const par = await api.trainParallel(
        { plan: a.plan, gradient: new Uint8Array(a.gradient), update: new Uint8Array(a.update) },
        { threads: a.threads, build: 'simd' },
      );
      const order = api.arrayBatches(x, new Int32Array(a.n), {
        batch: par.batch,
        sampleShape: [7, 7, 2],
        seed: a.seed,
      });
      const source: BatchSource = {
        batchesPerEpoch: order.batchesPerEpoch,
        batch(e, k) {
          const b = order.batch(e, k);
          const y = new Float32Array(b.rows.length * classes);
          b.rows.forEach((r, i) => y.set(soft.subarray(r * classes, (r + 1) * classes), i * classes));
          return { x: b.x, y };
        },
      };
      const trainer = new api.Trainer(api.parallelStepRunner(par, a.spec));
      const fit = await trainer.fit(source, { epochs: 1, lr: a.lr });
      const vars = trainer.state().variables;
      await par.close();
      return {
        teacher: Array.from(new Uint8Array(soft.buffer)),
        loss: fit.epochs[0]!.loss,
        steps: fit.position.step,
        threads: par.threads,
        vars: [...vars].map(([k, v]) => [k, Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))] as const),
      };
    };
    const args = {
      teacher: Array.from(teacher),
      plan: bundles.plan,
      gradient: Array.from(bundles.gradient),
      update: Array.from(bundles.update),
      spec,
      x: collected,
      n: N,
      per: PER,
      seed: SEED,
      lr: LR,
    };
    const node = await onDevice({
      ...args,
      threads: 1,
      api: { load, Trainer, arrayBatches, trainParallel, parallelStepRunner },
    });
    assert.is(node.steps, N / B);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const got = await page.evaluate(onDevice, { ...args, threads: 2 });
    await page.close();
    assert.is(got.threads, 2, errors.join('; '));
    assert.equal(got.teacher, node.teacher, 'teacher logits');
    assert.is(got.loss, node.loss, 'epoch loss');
    assert.equal(
      got.vars.map(([k]) => k),
      node.vars.map(([k]) => k),
    );
    for (let i = 0; i < node.vars.length; i++) assert.equal(got.vars[i]![1], node.vars[i]![1], node.vars[i]![0]);
    // the student moved towards the teacher: its weights are not the ones it started with
    const w0 = new Uint8Array(student.tensors.get(spec.params[0]!)!.data!.buffer);
    assert.not.equal(node.vars.find(([k]) => k === spec.params[0])![1], Array.from(w0));
  });

  test.run();
}
