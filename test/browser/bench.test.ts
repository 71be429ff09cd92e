// `npm run bench -- --browser` (bench/browser.ts) on its smallest model in headless Chromium, so the browser bench
// cannot rot unnoticed. Never timed: the page must be cross-origin isolated, every runtime must run (a positive
// median) on 1 and 2 threads after a warm-up, and the MLPerf Tiny AD fixture's int8 values must agree everywhere (edgec --io int8 on
// 2 threads = 1 thread = TFLite-wasm = TFLite-wasm 2 threads = edgec float I/O requantised, as
// test/compiler/frontend/tflite, test/compiler/quantize/int8-io and docs/threads.md promise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { browserBench } from '../../bench/browser.ts';
import { CHROMIUM } from './dist-page.ts';
import { skipSuite } from '../skip-suite.ts';

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/bench', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  test('chromium: AD int8 on a cross-origin isolated page, edgec and TFLite-wasm on 1 and 2 threads', async () => {
    const { isolated, records } = await browserBench('', ['ad'], 2);
    assert.ok(isolated);
    const r = records[0]!;
    for (const k of ['edgecI8', 'edgecQ8', 'edgecQ8run', 'edgecQ8x2', 'tfliteI8', 'tfliteI8x2'])
      assert.ok(r.ms[k]! > 0, `${k}: ${r.ms[k]}`);
    // the two groups' warm-ups ran ≥ 1 s and ≥ 2 phases each (bench/interleave.ts warmUp)
    assert.is(r.warmUp?.length, 2);
    for (const w of r.warmUp!) assert.ok(w.ms >= 1000 && w.phases >= 2 && w.last.length === w.keys.length, `${w.keys}`);
    // edgec q8 through runInto (its own output array) and through run() (a fresh one) give the same values
    assert.equal(r.sameValues, {
      edgecQ8x2_vs_edgecQ8: '640/640',
      edgecQ8run_vs_edgecQ8: '640/640',
      edgecQ8_vs_tfliteI8: '640/640',
      edgecI8_vs_tfliteI8: '640/640',
      tfliteI8x2_vs_tfliteI8: '640/640',
    });
  });

  test.run();
}
