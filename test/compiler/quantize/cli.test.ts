// `edgec compile --quantize int8` flags and their one-line errors (in-process through main()).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../compiler/cli.ts';
import { saveNpy } from '../../../compiler/io/npy.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const MNIST = join(FIX, 'onnx/mnist-8.onnx');
const dir = mkdtempSync(join(tmpdir(), 'edgec-quant-cli-'));
const at = (f: string) => join(dir, f);

async function edgec(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '', out = '';
  const we = process.stderr.write.bind(process.stderr), wo = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
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
  for (const f of ['--quantize', '--calibration', '--calibrate', '--keep-float', '--auto-mixed']) assert.ok(r.out.includes(f), f);
});

test('flag errors are usage errors (exit 2)', async () => {
  await fails(['--quantize', 'int4'], 2, "--quantize must be int8, got 'int4'");
  await fails(['--calibration', at('ok.npy')], 2, '--calibration needs --quantize int8');
  await fails(['--quantize', 'int8', '--calibration', at('ok.npy'), '--calibrate', 'mse'], 2, '--calibrate must be minmax, percentile, entropy');
  await fails(['--quantize', 'int8', '--calibration', at('ok.npy'), '--auto-mixed', 'x'], 2, '--auto-mixed expects');
  await fails(['--quantize', 'int8', '--auto-mixed', '1'], 2, '--auto-mixed needs --calibration');
});

test('calibration file missing, wrong shape; unknown --keep-float node; float model without calibration', async () => {
  await fails(['--quantize', 'int8', '--calibration', at('none.npy')], 1, 'none.npy', 'no such file');
  await fails(['--quantize', 'int8', '--calibration', at('bad.npy')], 1, 'bad.npy', "input 'Input3'", 'found [3,5]');
  await fails(['--quantize', 'int8', '--calibration', at('ok.npy'), '--keep-float', 'Convolution28,nope'], 1, "no node named 'nope'");
  await fails(['--quantize', 'int8'], 1, 'needs --calibration');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
