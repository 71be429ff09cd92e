// Data-parallel training in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// dist/browser/train-parallel.js on 1, 2 and 3 threads (the page and 0, 1, 2 module Web Workers running
// dist/browser/train-worker.js) gives the losses, weights and moments the Node runtime gives on one thread, byte
// for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM, openDistPage, type DistPage } from './dist-page.ts';
import { buildShardedTraining, compileShardedTraining } from '../../compiler/train/shard.ts';
import { trainParallel } from '../../runtime/train-parallel.ts';
import { cnnGraph } from '../compiler/train/mlp.ts';
import { rng, randF32 } from '../assembly/harness.ts';
import { skipSuite } from '../skip-suite.ts';

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/train-threads', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  const B = 6;
  const fwd = cnnGraph(B);
  const bundles = compileShardedTraining(
    buildShardedTraining(fwd, B, { optimizer: { kind: 'sgd', momentum: 0.9 }, clipNorm: 1 }, 3),
  );
  const feeds = Array.from({ length: 4 }, (_, k) => {
    const r = rng(70 + k);
    return {
      x: Array.from(randF32(r, B * 98, -1.5, 1.5)),
      labels: Array.from({ length: B }, () => Math.floor(r() * 3)),
      lr: 0.05,
    };
  });
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

  test('cnn B 6 in 3 shards, 4 steps: Chromium with 1, 2, 3 workers = Node on one thread, byte for byte', async () => {
    const node = await trainParallel(bundles, { threads: 1, build: 'simd' });
    const want = { losses: [] as number[], state: [] as number[][] };
    for (const f of feeds)
      want.losses.push(
        (await node.step({ x: Float32Array.from(f.x), labels: Int32Array.from(f.labels), lr: f.lr })).loss,
      );
    want.state = node.model.variables.map((v) => Array.from(new Uint8Array(node.model.readVariable(v.name).buffer)));
    await node.close();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    for (const threads of [1, 2, 3]) {
      const got = await page.evaluate(
        async ({ plan, gradient, update, feeds, threads }) => {
          // a URL only the page resolves (the module under test, as a user's page loads it)
          const mod = '/edgec/train-parallel.js';
          const { trainParallel } = await import(mod);
          const t = await trainParallel(
            { plan, gradient: new Uint8Array(gradient), update: new Uint8Array(update) },
            { threads, build: 'simd' },
          );
          const losses: number[] = [];
          for (const f of feeds)
            losses.push(
              (await t.step({ x: Float32Array.from(f.x), labels: Int32Array.from(f.labels), lr: f.lr })).loss,
            );
          const state = t.model.variables.map((v: { name: string }) =>
            Array.from(new Uint8Array(t.model.readVariable(v.name).buffer)),
          );
          await t.close();
          return { losses, state, threads: t.threads as number };
        },
        {
          plan: bundles.plan,
          gradient: Array.from(bundles.gradient),
          update: Array.from(bundles.update),
          feeds,
          threads,
        },
      );
      assert.is(got.threads, threads, errors.join('; '));
      assert.equal(got.losses, want.losses, `${threads} threads: losses`);
      assert.equal(got.state, want.state, `${threads} threads: weights and moments`);
    }
    await page.close();
  });

  test.run();
}
