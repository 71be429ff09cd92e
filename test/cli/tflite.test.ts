// The CLI on .tflite files: compile (with the note for a pre-quantised file, and with --quantize int8 on its own
// params), --io int8 (int8 .npy in and out of `edgec run`), inspect showing the source format, import to model.json
// (with the note about activation params), and a bad file's one-line error with nothing written; eval of the .tflite
// itself equals eval of its int8 bundle's outputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy } from '../../compiler/io/npy.ts';
import { loadTflite } from '../../compiler/frontend/tflite/index.ts';
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

test('eval model.tflite --quantize int8: the top-1 / top-5 counts of edgec run of its int8 bundle', () => {
  // 20 real KWS features (int8 in the model's input params) fed as their real values (q − zp)·s
  const g = loadTflite(join(tmp, 'kws.tflite'));
  const iq = g.tensors.get(g.inputs[0]!)!.quant!;
  const feats = new Int8Array(readFileSync(join(ROOT, 'test/fixtures/onnx/kws20_i8.bin')));
  const labels = new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/onnx/kws20_labels_u8.bin')));
  saveNpy(join(tmp, 'x.npy'), {
    shape: [20, 49, 10, 1],
    data: Float32Array.from(feats, (q) => (q - iq.zeroPoint[0]!) * iq.scale[0]!),
  });
  saveNpy(join(tmp, 'y.npy'), { shape: [20], data: labels });
  assert.is(edgec('compile', 'kws.tflite', '--quantize', 'int8', '-o', 'kws8e.edgec').code, 0);
  const r = edgec('run', 'kws8e.edgec', '--input', 'x.npy', '--output', 'p.npy');
  assert.is(r.code, 0, r.err);
  const p = loadNpy(join(tmp, 'p.npy')).data as Float32Array;
  let top1 = 0,
    top5 = 0;
  for (let i = 0; i < 20; i++) {
    const order = Array.from(p.subarray(i * 12, i * 12 + 12), (v, k) => [v, k] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .map((e) => e[1]);
    if (order[0] === labels[i]) top1++;
    if (order.slice(0, 5).includes(labels[i]!)) top5++;
  }
  assert.ok(top1 >= 17, `top-1 ${top1}/20`);
  const e = edgec('eval', 'kws.tflite', '--quantize', 'int8', '--input', 'x.npy', '--labels', 'y.npy');
  assert.is(e.code, 0, e.err);
  const pct = (k: number) => `${((100 * k) / 20).toFixed(2)} % (${k}/20)`;
  assert.is(e.out, `kws.tflite: 20 samples, 12 classes: top-1 ${pct(top1)}, top-5 ${pct(top5)}\n`);
});

test('compile --io int8, run on int8 .npy: int8 .npy out, equal to the float-I/O bundle requantised', () => {
  const g = loadTflite(join(tmp, 'kws.tflite'));
  const iq = g.tensors.get(g.inputs[0]!)!.quant!,
    oq = g.tensors.get(g.outputs[0]!)!.quant!;
  const feats = new Int8Array(readFileSync(join(ROOT, 'test/fixtures/onnx/kws20_i8.bin'))).slice(0, 4 * 490);
  saveNpy(join(tmp, 'x8.npy'), { shape: [4, 49, 10, 1], data: feats });
  saveNpy(join(tmp, 'xf.npy'), {
    shape: [4, 49, 10, 1],
    data: Float32Array.from(feats, (q) => (q - iq.zeroPoint[0]!) * iq.scale[0]!),
  });
  const c = edgec('compile', 'kws.tflite', '--quantize', 'int8', '--io', 'int8', '-o', 'kws-io8.edgec');
  assert.is(c.code, 0, c.err);
  assert.match(
    edgec('inspect', 'kws-io8.edgec').out,
    /^inputs: input_1 1x49x10x1 int8 \(scale 0\.58\d+, zero point 83\)$/m,
  );
  assert.is(edgec('compile', 'kws.tflite', '--quantize', 'int8', '-o', 'kws-iof.edgec').code, 0);
  const r = edgec('run', 'kws-io8.edgec', '--input', 'x8.npy', '--output', 'y8.npy');
  assert.is(r.code, 0, r.err);
  assert.is(edgec('run', 'kws-iof.edgec', '--input', 'xf.npy', '--output', 'yf.npy').code, 0);
  const y8 = loadNpy(join(tmp, 'y8.npy')),
    yf = loadNpy(join(tmp, 'yf.npy'));
  assert.equal([y8.dtype, y8.shape], ['int8', [4, 12]]);
  const roundAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));
  assert.equal(
    [...(y8.data as Int8Array)],
    Array.from(yf.data as Float32Array, (v) => roundAway(v / oq.scale[0]!) + oq.zeroPoint[0]!),
  );
  const f = edgec('run', 'kws-io8.edgec', '--input', 'xf.npy', '--output', 'y.npy');
  assert.is(f.code, 1);
  assert.match(
    f.err,
    /xf\.npy: dtype float32 does not match input 'input_1' int8 \(the bundle was compiled with --io int8/,
  );
});

test('--io int8 without --quantize, or --io uint8: a usage error (exit 2) naming the file / option', () => {
  const a = edgec('compile', 'kws.tflite', '--io', 'int8', '-o', 'no.edgec');
  assert.is(a.code, 2);
  assert.match(a.err, /^edgec: error: kws\.tflite: --io int8 is not supported for a float bundle: add --quantize int8/);
  const b = edgec('compile', 'kws.tflite', '--quantize', 'int8', '--io', 'uint8', '-o', 'no.edgec');
  assert.is(b.code, 2);
  assert.match(b.err, /^edgec: error: --io must be float or int8, got 'uint8'/);
  assert.not.ok(existsSync(join(tmp, 'no.edgec')));
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
