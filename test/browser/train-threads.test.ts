// Data-parallel training in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// dist/browser/train-parallel.js with 1, 2 and 3 module Web Workers (dist/browser/train-worker.js) gives
// the losses, weights and moments the Node runtime gives on one thread, byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { buildShardedTraining, compileShardedTraining } from '../../compiler/train/shard.ts';
import { trainParallel } from '../../runtime/train-parallel.ts';
import { cnnGraph } from '../compiler/train/mlp.ts';
import { rng, randF32 } from '../assembly/harness.ts';
import { skipSuite } from '../skip-suite.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const DIST = fileURLToPath(new URL('../../dist/browser/', import.meta.url));

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
  let server: Server,
    url = '',
    browser: Browser;

  test.before(async () => {
    // / is an empty page (a same-origin home for the module and its workers); /edgec/ is dist/browser
    server = createServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!path.startsWith('/edgec/'))
        return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>edgec</title>');
      const rel = normalize(path.slice('/edgec/'.length));
      const type = rel.endsWith('.js')
        ? 'text/javascript'
        : rel.endsWith('.wasm')
          ? 'application/wasm'
          : 'application/octet-stream';
      try {
        res
          .writeHead(200, { 'content-type': type })
          .end(await readFile(join(DIST, rel.startsWith('..') ? 'none' : rel)));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  });
  test.after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
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
      assert.equal(got.losses, want.losses, `${threads} workers: losses`);
      assert.equal(got.state, want.state, `${threads} workers: weights and moments`);
    }
    await page.close();
  });

  test.run();
}
