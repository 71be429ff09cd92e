// `edgec compile --quantize int8` flags and their one-line errors (in-process through main()).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../compiler/cli.ts';
import { loadNpy, saveNpy } from '../../../compiler/io/npy.ts';
import { readFileSync } from 'node:fs';
import { argmax } from '../../../compiler/quantize/index.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const MNIST = join(FIX, 'onnx/mnist-8.onnx');
const dir = mkdtempSync(join(tmpdir(), 'edgec-quant-cli-'));
const at = (f: string) => join(dir, f);

async function edgec(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '',
    out = '';
  const we = process.stderr.write.bind(process.stderr),
    wo = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(argv), err, out };
  } finally {
    process.stderr.write = we;
    process.stdout.write = wo;
  }
}

async function fails(args: string[], code: number, ...parts: string[]): Promise<void> {
  const r = await edgec('compile', MNIST, '-o', at('m.edgec'), ...args);
  assert.is(r.code, code, r.err);
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  for (const p of parts) assert.ok(r.err.includes(p), `${JSON.stringify(r.err)} lacks '${p}'`);
}

saveNpy(at('ok.npy'), { shape: [2, 1, 28, 28], data: new Float32Array(2 * 784).fill(0.5) });
saveNpy(at('bad.npy'), { shape: [3, 5], data: new Float32Array(15) });

test('help lists the quantisation flags', async () => {
  const r = await edgec('compile', '--help');
  for (const f of ['--quantize', '--calibration', '--calibrate', '--keep-float', '--auto-mixed', '--int8-arithmetic'])
    assert.ok(r.out.includes(f), f);
});

test('flag errors are usage errors (exit 2)', async () => {
  await fails(['--quantize', 'int4'], 2, "--quantize must be int8, got 'int4'");
  await fails(['--calibration', at('ok.npy')], 2, '--calibration needs --quantize int8');
  await fails(
    ['--quantize', 'int8', '--calibration', at('ok.npy'), '--calibrate', 'mse'],
    2,
    '--calibrate must be minmax, percentile, entropy',
  );
  await fails(['--quantize', 'int8', '--calibration', at('ok.npy'), '--auto-mixed', 'x'], 2, '--auto-mixed expects');
  await fails(['--quantize', 'int8', '--auto-mixed', '1'], 2, '--auto-mixed needs --calibration');
  await fails(['--int8-arithmetic', 'edgec'], 2, '--int8-arithmetic needs --quantize int8');
  await fails(
    ['--quantize', 'int8', '--int8-arithmetic', 'tflite'],
    2,
    "--int8-arithmetic must be onnxruntime or edgec, got 'tflite'",
  );
});

test('--int8-arithmetic on a QDQ model: onnxruntime (default) runs the _FP32 kernels, edgec the fixed-point ones', async () => {
  const qdq = join(FIX, 'onnx/cnn_small_qdq_u8s8.onnx');
  for (const [flags, want] of [
    [[], 'Conv2D_QS8_FP32'],
    [['--int8-arithmetic', 'onnxruntime'], 'Conv2D_QS8_FP32'],
    [['--int8-arithmetic', 'edgec'], 'Conv2D_QS8 '],
  ] as const) {
    const out = at(`qdq-${flags.length}-${flags[1] ?? ''}.edgec`);
    const c = await edgec('compile', qdq, '-o', out, '--quantize', 'int8', ...flags);
    assert.is(c.code, 0, c.err);
    const r = await edgec('inspect', out);
    assert.ok(r.out.includes(want), `${flags.join(' ')}: ${r.out}`);
  }
});

test('calibration file missing, wrong shape; unknown --keep-float node; float model without calibration', async () => {
  await fails(['--quantize', 'int8', '--calibration', at('none.npy')], 1, 'none.npy', 'no such file');
  await fails(['--quantize', 'int8', '--calibration', at('bad.npy')], 1, 'bad.npy', "input 'Input3'", 'found [3,5]');
  await fails(
    ['--quantize', 'int8', '--calibration', at('ok.npy'), '--keep-float', 'Convolution28,nope'],
    1,
    "no node named 'nope'",
  );
  await fails(['--quantize', 'int8'], 1, 'needs --calibration');
});

test('calibration data checked like run input: uint8 refused with the x / 255 hint, NaN / Inf refused', async () => {
  const u8 = readFileSync(join(FIX, 'quantize/mnist_calib100_u8.bin')).subarray(0, 2 * 784);
  saveNpy(at('u8.npy'), { shape: [2, 1, 28, 28], data: new Uint8Array(u8) });
  await fails(
    ['--quantize', 'int8', '--calibration', at('u8.npy')],
    1,
    'u8.npy',
    "dtype uint8 does not match input 'Input3' float32",
    'x.astype(np.float32) / 255',
  );
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    const x = new Float32Array(2 * 784).fill(0.25);
    x[784 + 5] = bad;
    saveNpy(at('nan.npy'), { shape: [2, 1, 28, 28], data: x });
    await fails(
      ['--quantize', 'int8', '--calibration', at('nan.npy')],
      1,
      'nan.npy',
      'sample 1, element 5',
      `expected finite float32 values, found ${bad}`,
    );
  }
});

test('calibration warnings: raw 0–255 pixels as float, and degenerate ranges (constant samples)', async () => {
  const raw = Float32Array.from(readFileSync(join(FIX, 'quantize/mnist_calib100_u8.bin')).subarray(0, 4 * 784));
  saveNpy(at('raw.npy'), { shape: [4, 1, 28, 28], data: raw });
  const r = await edgec('compile', MNIST, '-o', at('raw.edgec'), '--quantize', 'int8', '--calibration', at('raw.npy'));
  assert.is(r.code, 0, r.err);
  assert.ok(
    r.err.includes("warning: calibration data of 'Input3' are whole numbers in [0, 255] (max 255): raw pixels?"),
    r.err,
  );
  assert.ok(!r.err.includes('degenerate'), r.err);
  const scaled = Float32Array.from(raw, (v) => v / 255);
  saveNpy(at('scaled.npy'), { shape: [4, 1, 28, 28], data: scaled });
  const s = await edgec(
    'compile',
    MNIST,
    '-o',
    at('scaled.edgec'),
    '--quantize',
    'int8',
    '--calibration',
    at('scaled.npy'),
  );
  assert.is(s.code, 0, s.err);
  assert.not.match(s.err, /warning/);
  const c = await edgec('compile', MNIST, '-o', at('const.edgec'), '--quantize', 'int8', '--calibration', at('ok.npy'));
  assert.is(c.code, 0, c.err);
  assert.match(
    c.err,
    /warning: \d+ calibrated range\(s\) are degenerate \(min = max; the samples never moved them\): 'Input3' \[0\.5, 0\.5\]/,
  );
});

test('compile --quantize int8 (entropy, one layer kept float) then run: top-1 as float on ≥ 19/20', async () => {
  const calib = Float32Array.from(readFileSync(join(FIX, 'quantize/mnist_calib100_u8.bin')), (v) => v / 255);
  saveNpy(at('calib.npy'), { shape: [100, 1, 28, 28], data: calib });
  saveNpy(at('test.npy'), {
    shape: [20, 1, 28, 28],
    data: Float32Array.from(readFileSync(join(FIX, 'onnx/mnist_test20_u8.bin')), (v) => v / 255),
  });
  const q = await edgec(
    'compile',
    MNIST,
    '-o',
    at('q.edgec'),
    '--quantize',
    'int8',
    '--calibration',
    at('calib.npy'),
    '--calibrate',
    'entropy',
    '--keep-float',
    'Convolution110',
  );
  assert.is(q.code, 0, q.err);
  assert.match(q.err, /int8: \d+ nodes int8 \(calibrated entropy on 100 samples\); float: Convolution110/);
  const f = await edgec('compile', MNIST, '-o', at('f.edgec'));
  assert.is(f.code, 0, f.err);
  assert.is((await edgec('run', at('q.edgec'), '--input', at('test.npy'), '--output', at('q.npy'))).code, 0);
  assert.is((await edgec('run', at('f.edgec'), '--input', at('test.npy'), '--output', at('f.npy'))).code, 0);
  const yq = loadNpy(at('q.npy')),
    yf = loadNpy(at('f.npy'));
  assert.equal(yq.shape, [20, 10]);
  let agree = 0;
  for (let i = 0; i < 20; i++) {
    const a = (yq.data as Float32Array).subarray(i * 10, i * 10 + 10),
      b = (yf.data as Float32Array).subarray(i * 10, i * 10 + 10);
    if (argmax(a) === argmax(b)) agree++;
  }
  assert.ok(agree >= 19, `${agree}/20`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
