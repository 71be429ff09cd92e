// Threaded inference in headless Chromium (Debian's /usr/bin/chromium via playwright-core): on a cross-origin isolated
// page (COOP same-origin, COEP require-corp) dist/browser/edgec.js with threads 2 and 3 loads the threads build with
// module Web Workers and gives, sample after sample, the output bytes Node's simd build gives on one thread; int8
// models holding conv steps large enough to be split (test/runtime/threads.test.ts shows they are). Without
// isolation (no SharedArrayBuffer), and with build 'relaxed' (no relaxed threads build), load() falls back to one
// thread with the same bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, openDistPage, type DistPage } from './dist-page.ts';
import { parseOnnx } from '../../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../../compiler/quantize/index.ts';
import { load } from '../../runtime/node.ts';
import { readSteps } from '../../runtime/branches.ts';
import { fb } from '../assembly/harness.ts';
import { skipSuite } from '../skip-suite.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
/** assembly/threads.ts MIN_SPLIT_MACS: conv steps from here on run on every thread. */
const MIN_SPLIT_MACS = 400_000;

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/threads', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  const mnistRaw = readFileSync(join(FIXTURES, 'quantize', 'mnist_calib100_u8.bin'));
  const mnist = Array.from({ length: 12 }, (_, s) =>
    Float32Array.from(mnistRaw.subarray(s * 784, (s + 1) * 784), (q) => q / 255),
  );
  const quantized = async (file: string, samples?: { input: string; data: Float32Array[] }) => {
    const path = join(FIXTURES, 'onnx', file);
    return (await compileQuantized(parseOnnx(readFileSync(path), path), samples ? { samples } : {})).bundle;
  };
  const cases = [
    { name: 'cnn_small_qdq_u8s8', bundle: () => quantized('cnn_small_qdq_u8s8.onnx') },
    { name: 'mnist-8 int8', bundle: () => quantized('mnist-8.onnx', { input: 'Input3', data: mnist }) },
  ];
  const samples = mnist.slice(0, 3).map((x) => Array.from(x));
  let site: DistPage | undefined;

  test.before(async () => {
    site = await openDistPage({ isolated: true });
  });
  test.after(async () => {
    await site?.close();
  });

  /** Per sample, the output bytes of `bundle` in the page at `path` loaded with `opts`, and what load() picked. */
  async function inPage(path: string, bundle: Uint8Array, opts: { threads: number; build?: string }) {
    const page = await site!.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(site!.url + path);
    const got = await page.evaluate(
      async ({ bundle, opts, samples }) => {
        const mod = '/edgec/edgec.js';
        const api = await import(mod);
        const m = await api.load(new Uint8Array(bundle), opts);
        const name = m.info.inputs[0].name;
        const outs = samples.map((x: number[]) => {
          const o = Object.values(m.run({ [name]: Float32Array.from(x) }))[0] as Float32Array;
          return Array.from(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
        });
        m.close();
        return {
          outs,
          threads: m.info.threads as number,
          build: m.info.build as string,
          isolated: crossOriginIsolated,
        };
      },
      { bundle: Array.from(bundle), opts, samples },
    );
    await page.close();
    assert.equal(errors, [], `${path}: page errors`);
    return got;
  }

  for (const c of cases)
    test(`${c.name}: Chromium, cross-origin isolated, 2 and 3 threads = Node simd on one thread, byte for byte`, async () => {
      const bundle = await c.bundle();
      const steps = readSteps(bundle);
      assert.ok(
        steps.kernel.some(
          (k, i) =>
            // pre-quantised ONNX models run onnxruntime's arithmetic: the _FP32 variants
            (k === fb.KernelId.Conv2D_QS8 ||
              k === fb.KernelId.Conv2D_QS8_FP32 ||
              k === fb.KernelId.Conv2DWino_QS8 ||
              k === fb.KernelId.Conv2DWino_QS8_FP32 ||
              k === fb.KernelId.DepthwiseConv2D_QS8 ||
              k === fb.KernelId.DepthwiseConv2D_QS8_FP32) &&
            steps.macs[i]! >= MIN_SPLIT_MACS,
        ),
        'a conv step large enough to be split',
      );
      const node = await load(bundle, { build: 'simd' });
      const name = node.info.inputs[0]!.name;
      const want = samples.map((x) => {
        const o = Object.values(node.run({ [name]: Float32Array.from(x) }))[0]!;
        return Array.from(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
      });
      for (const threads of [2, 3]) {
        const got = await inPage('isolated', bundle, { threads });
        assert.ok(got.isolated, 'the /isolated page is cross-origin isolated');
        assert.is(got.threads, threads, `${threads} threads: load() ran on one`);
        assert.equal(got.outs, want, `${threads} threads: output bytes`);
      }
      // no SharedArrayBuffer: one thread; relaxed: no threaded build of it, one thread
      const plain = await inPage('', bundle, { threads: 2 });
      assert.ok(!plain.isolated);
      assert.is(plain.threads, 1);
      assert.equal(plain.outs, want, 'not isolated: output bytes');
      const relaxed = await inPage('isolated', bundle, { threads: 2, build: 'relaxed' });
      assert.is(relaxed.build, 'relaxed');
      assert.is(relaxed.threads, 1);
      assert.equal(relaxed.outs, want, 'relaxed, threads 2: output bytes');
    });

  test.run();
}
