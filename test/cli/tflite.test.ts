// The CLI on .tflite files: compile (with the note for a pre-quantised file, and with --quantize int8 on its own
// params), inspect showing the source format, import to model.json (with the note about activation params), and a
// bad file's one-line error with nothing written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, edgecIn } from './run-edgec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-tflite-cli-'));
const edgec = edgecIn(tmp);
copyFileSync(join(ROOT, 'test/fixtures/tflite/kws_ref_model.tflite'), join(tmp, 'kws.tflite'));

test('compile --quantize int8 keeps the file params; inspect says from tflite', () => {
  const r = edgec('compile', 'kws.tflite', '--quantize', 'int8', '-o', 'kws8.edgec');
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /13 nodes int8 \(the model's own scales \(pre-quantised\)\)/);
  const i = edgec('inspect', 'kws8.edgec');
  assert.is(i.code, 0, i.err);
  assert.match(i.out, /^kws8\.edgec: model 'kws', target simd, edgec [^,]+, from tflite$/m);
  assert.match(i.out, /Softmax_QS8/);
});

test('compile without --quantize: a float bundle and a note saying how to keep the int8 params', () => {
  const r = edgec('compile', 'kws.tflite', '-o', 'kws.edgec');
  assert.is(r.code, 0, r.err);
  assert.match(
    r.err,
    /note: kws\.tflite is pre-quantised \(int8 TFLite\): without --quantize it compiles to a float bundle/,
  );
});

test('import to model.json: written, with a note on the activation params', () => {
  const r = edgec('import', 'kws.tflite', '-o', 'kws.json');
  assert.is(r.code, 0, r.err);
  assert.ok(existsSync(join(tmp, 'kws.json')) && existsSync(join(tmp, 'kws.bin')));
  assert.match(r.err, /keeps the weights' int8 scales but not the activations'/);
});

test('a file without the TFL3 identifier: one line, exit 1, nothing written', () => {
  writeFileSync(join(tmp, 'bad.tflite'), new Uint8Array(64).fill(7));
  const r = edgec('compile', 'bad.tflite', '-o', 'bad.edgec');
  assert.is(r.code, 1);
  assert.is(
    r.err.trim(),
    "edgec: error: bad.tflite: header: expected the TFLite file identifier 'TFL3' at byte 4, found bytes 07 07 07 07",
  );
  assert.not.ok(existsSync(join(tmp, 'bad.edgec')));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
