// `edgec run` on one sample compiles the runtime with Liftoff only (no TurboFan tier-up: issue 17's peak RSS):
// which samples count as one (the .npy headers, read before the model loads), and the bytes of a one-sample run
// (Liftoff) equal an N-sample run's (tiered) and the API's after enough runs for V8 to tier the kernels up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy } from '../../compiler/io/npy.ts';
import { oneSampleInputs } from '../../compiler/cli/run.ts';
import { load } from '../../runtime/node.ts';
import { ROOT, edgecIn } from './run-edgec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-run-tiers-'));
const at = (f: string) => join(tmp, f);
const edgec = edgecIn(tmp);
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('oneSampleInputs: every .npy has a first axis of 1; NAME=file; anything unreadable is false', () => {
  saveNpy(at('one.npy'), { shape: [1, 3], data: new Float32Array(3) });
  saveNpy(at('three.npy'), { shape: [3, 1], data: new Float32Array(3) });
  saveNpy(at('scalar.npy'), { shape: [], data: new Float32Array(1) });
  saveNpy(at('a=b.npy'), { shape: [1], data: new Int8Array(1) });
  writeFileSync(at('junk.npy'), 'not npy');
  assert.is(oneSampleInputs([at('one.npy')]), true);
  assert.is(oneSampleInputs([`x=${at('one.npy')}`, at('a=b.npy')]), true);
  assert.is(oneSampleInputs([at('one.npy'), at('three.npy')]), false);
  assert.is(oneSampleInputs([at('scalar.npy')]), false);
  assert.is(oneSampleInputs([at('junk.npy')]), false);
  assert.is(oneSampleInputs([at('absent.npy')]), false);
  assert.is(oneSampleInputs([]), false);
});

test('KWS int8: one sample (Liftoff only) = 5 samples (tiered) = the API after 300 runs, byte for byte', async () => {
  copyFileSync(join(ROOT, 'test/fixtures/tflite/kws_ref_model.tflite'), at('kws.tflite'));
  const c = edgec('compile', 'kws.tflite', '--quantize', 'int8', '-o', 'kws8.edgec');
  assert.is(c.code, 0, c.err);
  const m = await load(at('kws8.edgec'));
  const [port] = m.info.inputs;
  assert.is(port!.dtype, 'float32');
  const per = port!.shape.reduce((a, b) => a * b, 1);
  let s = 12345;
  const xs = Float32Array.from({ length: 5 * per }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  saveNpy(at('x5.npy'), { shape: [5, ...port!.shape.slice(1)], data: xs });
  saveNpy(at('x1.npy'), { shape: port!.shape, data: xs.slice(0, per) });
  assert.is(edgec('run', 'kws8.edgec', '-i', 'x1.npy', '-o', 'y1.npy').code, 0);
  assert.is(edgec('run', 'kws8.edgec', '-i', 'x5.npy', '-o', 'y5.npy').code, 0);
  const y1 = loadNpy(at('y1.npy')).data as Float32Array,
    y5 = loadNpy(at('y5.npy')).data as Float32Array;
  let api = m.run({ [port!.name]: xs.subarray(0, per) });
  for (let i = 0; i < 300; i++) api = m.run({ [port!.name]: xs.subarray(0, per) });
  const out = api[m.info.outputs[0]!.name] as Float32Array;
  assert.equal(Array.from(y5.subarray(0, y1.length)), Array.from(y1));
  assert.equal(Array.from(out), Array.from(y1));
  assert.ok(new Set(y1).size > 1, 'the output is not constant');
});

test.run();
