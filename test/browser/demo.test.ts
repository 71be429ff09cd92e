// End to end in headless Chromium (Debian's /usr/bin/chromium via playwright-core): the demo page
// served on 127.0.0.1 loads the MNIST bundle, predicts picked and drawn digits like the Node runtime,
// opens a multi-variant .edgec, and the bit-exactness matrix (float and int8): Node simd/scalar/WASI =
// Chromium relaxed/simd/scalar bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { load } from '../../runtime/node.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { readNpy } from '../../compiler/io/npy.ts';
// @ts-expect-error: plain JS module without types
import { serveDemo } from '../../examples/web/serve.js';
import { runWasi } from '../wasi/run-wasi.ts';
import { compileWithQuantizeFlags } from '../../compiler/quantize/cli.ts';
import { compileVariants } from '../../compiler/variants/cli.ts';
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
const WASI_PATH = fileURLToPath(new URL('../../build/edgec-wasi.wasm', import.meta.url));

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/demo', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  const bytesOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  let dir = '',
    server: { url: string; close(): Promise<void> },
    ctx: BrowserContext,
    page: Page;
  const graph = loadModelJson('examples/mnist/model.json');
  const bundle = compileGraph(graph).bundle;
  const QFLAGS = { calibration: 'examples/mnist/images.npy', method: 'minmax' as const, keepFloat: [] as string[] };
  let int8: Uint8Array = new Uint8Array(0),
    merged: Uint8Array = new Uint8Array(0),
    gated: Uint8Array = new Uint8Array(0);
  let matrixFloat: number[] = [];
  const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  const digits = JSON.parse(readFileSync('examples/web/digits.json', 'utf8')).digits as {
    label: number;
    pixels: string;
  }[];

  async function nodeRun(build: 'simd' | 'scalar', x: Float32Array, b = bundle): Promise<Float32Array> {
    const m = await load(b, { build });
    return m.run({ [m.info.inputs[0]!.name]: x })[m.info.outputs[0]!.name] as Float32Array;
  }
  const argmax = (y: ArrayLike<number>) => {
    let b = 0;
    for (let k = 1; k < y.length; k++) if (y[k]! > y[b]!) b = k;
    return b;
  };

  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgec-browser-'));
    int8 = (await compileWithQuantizeFlags(graph, QFLAGS, {})).bundle;
    merged = (await compileVariants(['fp32', 'int8'], graph, QFLAGS, {})).bundle;
    // The branch example (examples/branches/gated.json: a gate picks a cheap or the full branch).
    const c = spawnSync(
      process.execPath,
      ['bin/edgec.js', 'compile', 'examples/branches/gated.json', '-o', join(dir, 'gated.edgec')],
      { encoding: 'utf8' },
    );
    assert.is(c.status, 0, c.stderr);
    gated = new Uint8Array(readFileSync(join(dir, 'gated.edgec')));
    writeFileSync(join(dir, 'mnist.edgec'), bundle);
    server = await serveDemo({ bundlePath: join(dir, 'mnist.edgec') });
    ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
    page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('status')!.textContent !== 'loading', null, {
      timeout: 30_000,
    });
    assert.is(await page.textContent('#status'), 'ready', errors.join('; '));
  });
  test.after(async () => {
    await ctx?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('page: auto picks the relaxed build (Chromium runs relaxed SIMD and passes its dot-product probe)', async () => {
    assert.is(await page.textContent('#buildUsed'), 'relaxed');
    assert.is(await page.evaluate(() => (window as any).edgecDemo.pickBuild('auto')), 'relaxed');
  });

  test("pick shipped digits: prediction equals the Node runtime's, latency and branch shown", async () => {
    for (const d of digits.slice(0, 4)) {
      await page.click(`#digits button[data-digit="${d.label}"]`);
      await page.waitForFunction(() => document.getElementById('status')!.textContent === 'done');
      const x = Float32Array.from(Buffer.from(d.pixels, 'base64'), (v) => v / 255);
      const want = argmax(await nodeRun('simd', x));
      assert.is(await page.textContent('#prediction'), String(want), `digit ${d.label}`);
      assert.match((await page.textContent('#latency'))!, /^\d+\.\d\d ms$/);
      assert.match((await page.textContent('#branch'))!, /none/);
    }
  });

  test('draw a digit with the mouse: prediction equals the Node runtime on the same 28x28 input', async () => {
    await page.click('#clear');
    const box = (await page.locator('#pad').boundingBox())!;
    // A "7": top bar, then the diagonal down.
    await page.mouse.move(box.x + 80, box.y + 70);
    await page.mouse.down();
    for (const [x, y] of [
      [200, 70],
      [180, 130],
      [150, 200],
      [130, 240],
    ])
      await page.mouse.move(box.x + x!, box.y + y!, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('status')!.textContent === 'done');
    const shown = await page.textContent('#prediction');
    const input = Float32Array.from(await page.evaluate(() => (window as any).edgecDemo.lastInput() as number[]));
    assert.ok(
      input.some((v) => v > 0.5),
      'the stroke reached the input',
    );
    assert.is(shown, String(argmax(await nodeRun('simd', input))));
  });

  test('open a chosen multi-variant .edgec, switch to scalar and to the int8 variant', async () => {
    writeFileSync(join(dir, 'mine.edgec'), merged);
    await page.selectOption('#build', 'scalar');
    await page.waitForFunction(() => document.getElementById('buildUsed')!.textContent === 'scalar');
    await page.setInputFiles('#file', join(dir, 'mine.edgec'));
    await page.waitForFunction(() => /^mine\.edgec:/.test(document.getElementById('model')!.textContent!));
    assert.equal(await page.$$eval('#variant option', (os) => os.map((o) => o.textContent)), ['fp32', 'int8']);
    await page.selectOption('#variant', 'int8');
    await page.click('#digits button[data-digit="3"]');
    await page.waitForFunction(() => document.getElementById('status')!.textContent === 'done');
    assert.is(await page.textContent('#buildUsed'), 'scalar, variant int8');
    const d = digits.find((x) => x.label === 3)!;
    const x = Float32Array.from(Buffer.from(d.pixels, 'base64'), (v) => v / 255);
    assert.is(await page.textContent('#prediction'), String(argmax(await nodeRun('scalar', x, int8))));
  });

  test('branch example: the page shows the branch taken, as Node runDetailed reports it', async () => {
    writeFileSync(join(dir, 'gated-pick.edgec'), gated);
    await page.selectOption('#build', 'auto');
    await page.waitForFunction(() => /relaxed/.test(document.getElementById('buildUsed')!.textContent!));
    await page.setInputFiles('#file', join(dir, 'gated-pick.edgec'));
    await page.waitForFunction(() => /^gated-pick\.edgec:/.test(document.getElementById('model')!.textContent!));
    const m = await load(gated, { build: 'simd' });
    const seen = new Set<number>();
    for (const d of digits) {
      await page.click(`#digits button[data-digit="${d.label}"]`);
      await page.waitForFunction(() => document.getElementById('status')!.textContent === 'done');
      const x = Float32Array.from(Buffer.from(d.pixels, 'base64'), (v) => v / 255);
      const r = m.runDetailed({ [m.info.inputs[0]!.name]: x });
      const route = r.samples[0]!;
      const want = Object.entries(route.branches)
        .map(([b, k]) => `${b} → ${k === null ? 'not reached' : `branch ${k}`}`)
        .join(', ');
      for (const k of Object.values(route.branches)) if (k !== null) seen.add(k);
      assert.ok(want.length > 0, 'the gated model reports its branch');
      assert.is(await page.textContent('#branch'), want, `digit ${d.label}`);
      assert.is(await page.textContent('#prediction'), String(argmax(r.outputs[m.info.outputs[0]!.name]!)));
    }
    assert.ok(seen.size >= 1);
  });

  // The matrix: 8 MNIST images through the float and the int8 bundle (and the int8 variant of the
  // merged bundle in Chromium): every engine and build must give the Node simd bytes.
  for (const kind of ['float32', 'int8', 'gated'] as const) {
    test(`bit-exactness matrix (${kind} MNIST, 8 images): Node simd = Node scalar = Node WASI = Chromium relaxed = Chromium simd = Chromium scalar`, async () => {
      const b = kind === 'int8' ? int8 : kind === 'gated' ? gated : bundle;
      const per = 784,
        n = 8;
      const x = (images.data as Float32Array).slice(0, n * per);
      const rows: Record<string, number[]> = {};
      for (const build of ['simd', 'scalar'] as const) {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push(...bytesOf(await nodeRun(build, x.subarray(i * per, (i + 1) * per), b)));
        rows[`node-${build}`] = out;
      }
      writeFileSync(join(dir, `${kind}.edgec`), b);
      writeFileSync(join(dir, 'in.bin'), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      const r = runWasi(
        new Uint8Array(readFileSync(WASI_PATH)),
        ['edgec-wasi.wasm', `${kind}.edgec`, 'in.bin', 'out.bin'],
        dir,
      );
      assert.is(r.code, 0, r.stderr);
      rows['node-wasi'] = Array.from(readFileSync(join(dir, 'out.bin')));
      const cases: [string, 'relaxed' | 'simd' | 'scalar', Uint8Array, string | undefined][] = [
        ['chromium-relaxed', 'relaxed', b, undefined],
        ['chromium-simd', 'simd', b, undefined],
        ['chromium-scalar', 'scalar', b, undefined],
      ];
      if (kind === 'int8')
        cases.push(
          ['chromium-relaxed-variant', 'relaxed', merged, 'int8'],
          ['chromium-simd-variant', 'simd', merged, 'int8'],
          ['chromium-scalar-variant', 'scalar', merged, 'int8'],
        );
      for (const [label, build, bytes, variant] of cases) {
        const samples = Array.from({ length: n }, (_, i) => [bytesOf(x.subarray(i * per, (i + 1) * per))]);
        const res = await page.evaluate(([bb, ss, bs, v]) => (window as any).edgecDemo.runBytes(bb, ss, bs, v), [
          build,
          samples,
          Array.from(bytes),
          variant,
        ] as const);
        assert.is(res.build, build);
        assert.is(res.variant, variant ?? '');
        rows[label] = (res.outputs as number[][][]).flatMap((o) => o[0]!);
      }
      assert.is(rows['node-simd']!.length, n * 10 * 4);
      for (const [k, v] of Object.entries(rows)) assert.equal(v, rows['node-simd'], `${k} differs from node-simd`);
      if (kind === 'float32') matrixFloat = rows['node-simd']!;
      else assert.not.equal(rows['node-simd'], matrixFloat, `${kind} bytes differ from float (that model really ran)`);
    });
  }

  test.run();
}
