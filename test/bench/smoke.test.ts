// The bench harness (bench/run.ts's TFLite rows and tables) run on its smallest model, so `npm run bench` cannot rot
// unnoticed; test/browser/bench.test.ts does the same for `--browser`. Never timed: it checks that every runtime ran
// (a positive median) and gave the values the int8 path must give (the MLPerf Tiny AD fixture: edgec and
// TFLite-wasm agree on every output value, as test/compiler/frontend/tflite checks).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tfliteBench, tflitePath } from '../../bench/tflite.ts';
import { printTables } from '../../bench/table.ts';

test('node: AD int8 row, edgec (int8 and float I/O) and TFLite-wasm, every value identical; the table prints it', async () => {
  const r = await tfliteBench('ad', tflitePath('ad')!, 2);
  assert.ok(r.ms.edgecI8! > 0 && r.ms.edgecQ8! > 0 && r.ms.tfliteI8! > 0, JSON.stringify(r.ms));
  assert.is(r.ratio.edgecQ8_tfliteI8, r.ms.edgecQ8! / r.ms.tfliteI8!);
  assert.is(r.ratio.edgecI8_tfliteI8, r.ms.edgecI8! / r.ms.tfliteI8!);
  assert.equal(r.sameValues, { edgecQ8_vs_tfliteI8: '640/640', edgecI8_vs_tfliteI8: '640/640' });
  const lines: string[] = [];
  printTables([r], (l) => lines.push(l));
  assert.match(lines[0]!, /edgec i8 ms +edgec q8 ms +tflite i8 ms +edgec q8 \/ tflite i8 +edgec i8 \/ tflite i8/);
  assert.match(lines[1]!, /^ad +\d/);
});

test.run();
