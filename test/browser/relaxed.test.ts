// The relaxed-SIMD build in headless Chromium (Debian's /usr/bin/chromium; relaxed SIMD on by default): the demo page
// (examples/web, runtime from dist/browser/) must pick it by itself, and the kernel grid of test/kernels/grid.test.ts
// (every KernelId but control and training, sizes around every variant's tile, the relaxed GEMM's 2×8c4 among them)
// must give on it the bytes Node's simd and scalar builds give: each case's bundle and inputs go to the page's
// edgecDemo.runBytes('auto', …). Node's own engine may fail the relaxed probe (test/runtime/relaxed.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { KERNELS, VARIANTS } from '../../compiler/kernels/registry.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { load, type TensorArray } from '../../runtime/node.ts';
// @ts-expect-error: plain JS module without types
import { serveDemo } from '../../examples/web/serve.js';
import { gridDims, type Builder } from '../kernels/grid/case.ts';
import { GRID as F32 } from '../kernels/grid/f32.ts';
import { GRID as QS8 } from '../kernels/grid/qs8.ts';
import { skipSuite } from '../skip-suite.ts';

const CHROMIUM = '/usr/bin/chromium';
const BUILDERS: Record<string, Builder> = { ...F32, ...QS8 };
const bytesOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/relaxed', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  let dir = '',
    server: { url: string; close(): Promise<void> },
    ctx: BrowserContext,
    page: Page;

  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgec-relaxed-'));
    writeFileSync(join(dir, 'none.edgec'), new Uint8Array(0));
    server = await serveDemo({ bundlePath: join(dir, 'none.edgec') });
    ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    page = await ctx.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (window as any).edgecDemo !== undefined, null, { timeout: 30_000 });
  });
  test.after(async () => {
    await ctx?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('Chromium: auto picks the relaxed build (relaxed SIMD validates and passes the dot-product probe)', async () => {
    assert.is(await page.evaluate(() => (window as any).edgecDemo.pickBuild('auto')), 'relaxed');
  });

  let cases = 0;
  for (const row of KERNELS.filter((k) => k.family !== 'control' && k.family !== 'train')) {
    const tiles = [
      ...new Map(
        VARIANTS.filter((v) => v.serves.includes(row.name) && v.tile).map((v) => [JSON.stringify(v.tile), v]),
      ).values(),
    ];
    test(`${row.name}: Chromium relaxed = Node simd = Node scalar around ${tiles.map((v) => v.name).join(', ')}`, async () => {
      let i = 0;
      for (const v of tiles) {
        for (const d of gridDims(v.tile!)) {
          const label = `${row.name} (${v.name}) m${d.m} n${d.n} k${d.k}`;
          const c = BUILDERS[row.name]!(d, i++);
          const bundle = compileGraph(c.graph, { skipPasses: true }).bundle;
          const want: number[][] = [];
          for (const build of ['simd', 'scalar'] as const) {
            const m = await load(bundle, { build });
            const out = m.run(c.inputs);
            want.push(m.info.outputs.flatMap((t) => bytesOf(out[t.name]!)));
            if (build === 'simd') {
              const inputs = m.info.inputs.map((t) => bytesOf(c.inputs[t.name] as TensorArray));
              const res = await page.evaluate(([bs, ins]) => (window as any).edgecDemo.runBytes('auto', [ins], bs), [
                Array.from(bundle),
                inputs,
              ] as const);
              assert.is(res.build, 'relaxed', label);
              want.push((res.outputs[0] as number[][]).flat());
            }
          }
          const [simd, relaxed, scalar] = want;
          assert.equal(scalar, simd, `${label}: Node scalar ≠ Node simd`);
          assert.equal(relaxed, simd, `${label}: Chromium relaxed ≠ Node simd`);
          cases++;
        }
      }
    });
  }

  test('the grid ran in Chromium', () => {
    assert.ok(cases >= 200, `${cases} cases`);
  });

  test.run();
}
