// The WASI command build (build/edgec-wasi.wasm) under node:wasi: imports only the WASI calls wasm3
// >= 0.5 implements, passes the wasm3 feature check, and writes output bytes identical to the Node
// scalar runtime (exact: same kernels) for the MNIST example batch and a two-input/two-output model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from '../../runtime/node.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { readNpy } from '../../compiler/io/npy.ts';
import { twoInOutBundle } from '../assembly/harness.ts';
import { runWasi } from './run-wasi.ts';
import { compileWithQuantizeFlags } from '../../compiler/quantize/cli.ts';
import { compileVariants } from '../../compiler/variants/cli.ts';

const WASM3_WASI = [
  'args_get',
  'args_sizes_get',
  'fd_close',
  'fd_prestat_dir_name',
  'fd_prestat_get',
  'fd_read',
  'fd_seek',
  'fd_write',
  'path_open',
  'proc_exit',
];
const WASM3_FEATURES = [
  '--mvp-features',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-bulk-memory-opt',
];

const WASI_PATH = fileURLToPath(new URL('../../build/edgec-wasi.wasm', import.meta.url));
const wasiBytes = () => new Uint8Array(readFileSync(WASI_PATH));
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgec-wasi-'));
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('wasi build: only wasm3-implemented WASI imports, _start and memory exported, wasm3 features', () => {
  const m = new WebAssembly.Module(wasiBytes());
  const imports = WebAssembly.Module.imports(m);
  for (const i of imports) {
    assert.is(i.module, 'wasi_snapshot_preview1', `import ${i.module}.${i.name}`);
    assert.is(i.kind, 'function', `import ${i.name} is a ${i.kind}`);
    assert.ok(WASM3_WASI.includes(i.name), `import ${i.name} is not one wasm3 0.5 implements`);
  }
  const exports = WebAssembly.Module.exports(m).map((e) => e.name);
  assert.ok(exports.includes('_start') && exports.includes('memory'));
  const r = spawnSync('node_modules/.bin/wasm-opt', [...WASM3_FEATURES, WASI_PATH, '-o', '/dev/null'], {
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
});

test('MNIST: 5 images in one input file, bytes equal to the Node scalar runtime', async () => {
  const bundle = compileGraph(loadModelJson('examples/mnist/model.json')).bundle;
  const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  const per = images.data.length / images.shape[0]!;
  const batch = (images.data as Float32Array).slice(0, 5 * per);
  writeFileSync(join(dir, 'mnist.edgec'), bundle);
  writeFileSync(join(dir, 'in.bin'), bytesOf(batch));
  const r = runWasi(wasiBytes(), ['edgec-wasi.wasm', 'mnist.edgec', 'in.bin', 'out.bin'], dir);
  assert.is(r.code, 0, r.stderr);
  const got = new Uint8Array(readFileSync(join(dir, 'out.bin')));
  const model = await load(bundle, { build: 'scalar' });
  const name = model.info.outputs[0]!.name;
  const want: number[] = [];
  for (let i = 0; i < 5; i++)
    want.push(...bytesOf(model.run({ [model.info.inputs[0]!.name]: batch.subarray(i * per, (i + 1) * per) })[name]!));
  assert.is(got.length, 5 * 10 * 4);
  assert.equal(Array.from(got), want);
});

test('several inputs and outputs: sample-major, each in bundle order; 2 samples', () => {
  writeFileSync(join(dir, 'two.edgec'), twoInOutBundle());
  const s = (k: number) => [
    Float32Array.of(1, 2, 3, 4, 5, 6).map((v) => v + k),
    Float32Array.of(0.5, 0.5, 0.5, 1, 1, 1),
    Int32Array.of(10, 11, 12, 20, 21, 22).map((v) => v + k),
  ];
  const parts = [...s(0), ...s(100)].map(bytesOf);
  writeFileSync(join(dir, 'two.bin'), Buffer.concat(parts));
  // Paths may also be given with a leading './'.
  const r = runWasi(wasiBytes(), ['w', './two.edgec', 'two.bin', 'two-out.bin'], dir);
  assert.is(r.code, 0, r.stderr);
  const out = readFileSync(join(dir, 'two-out.bin'));
  assert.is(out.length, 2 * (24 + 24));
  const f = (o: number) => Array.from(new Float32Array(out.buffer.slice(out.byteOffset + o, out.byteOffset + o + 24)));
  const i = (o: number) => Array.from(new Int32Array(out.buffer.slice(out.byteOffset + o, out.byteOffset + o + 24)));
  assert.equal(f(0), [1.5, 2.5, 3.5, 5, 6, 7]);
  assert.equal(i(24), [10, 20, 11, 21, 12, 22]);
  assert.equal(f(48), [101.5, 102.5, 103.5, 105, 106, 107]);
  assert.equal(i(72), [110, 120, 111, 121, 112, 122]);
});

test('--variant=NAME runs that variant of a multi-variant bundle (bytes = its standalone bundle)', async () => {
  const graph = loadModelJson('examples/mnist/model.json');
  const flags = { calibration: 'examples/mnist/images.npy', method: 'minmax' as const, keepFloat: [] as string[] };
  const int8 = (await compileWithQuantizeFlags(graph, flags, {})).bundle;
  const merged = (await compileVariants(['fp32', 'int8'], graph, flags, {})).bundle;
  writeFileSync(join(dir, 'q.edgec'), int8);
  writeFileSync(join(dir, 'mv.edgec'), merged);
  const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  writeFileSync(join(dir, 'v.bin'), bytesOf((images.data as Float32Array).slice(0, 3 * 784)));
  const run = (args: string[]) => runWasi(wasiBytes(), ['w', ...args], dir);
  assert.is(run(['q.edgec', 'v.bin', 'q.out']).code, 0);
  let r = run(['mv.edgec', 'v.bin', 'mv-int8.out', '--variant=int8']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(Array.from(readFileSync(join(dir, 'mv-int8.out'))), Array.from(readFileSync(join(dir, 'q.out'))));
  assert.is(run(['mv.edgec', 'v.bin', 'mv-def.out']).code, 0);
  assert.not.equal(
    Array.from(readFileSync(join(dir, 'mv-def.out'))),
    Array.from(readFileSync(join(dir, 'q.out'))),
    'default is fp32',
  );
  r = run(['mv.edgec', 'v.bin', 'x.out', '--variant=fp16']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /variant 'fp16' is not in the bundle \(variants: fp32, int8\)/);
  r = run(['q.edgec', 'v.bin', 'x.out', '--variant=int8']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /\(variants: none\)/);
});

test('errors: one stderr line and a non-zero exit', () => {
  writeFileSync(join(dir, 'two.edgec'), twoInOutBundle());
  writeFileSync(join(dir, 'short.bin'), new Uint8Array(70));
  let r = runWasi(wasiBytes(), ['w', 'two.edgec', 'short.bin', 'x.bin'], dir);
  assert.is(r.code, 1);
  assert.match(r.stderr, /short\.bin has 70 bytes, not a positive multiple of the 72 bytes of one sample/);
  assert.not.ok(existsSync(join(dir, 'x.bin')));
  r = runWasi(wasiBytes(), ['w', 'missing.edgec', 'short.bin', 'x.bin'], dir);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot open missing\.edgec/);
  writeFileSync(join(dir, 'bad.edgec'), new Uint8Array(64).fill(7));
  r = runWasi(wasiBytes(), ['w', 'bad.edgec', 'short.bin', 'x.bin'], dir);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^edgec-wasi: bundle refused: /);
  r = runWasi(wasiBytes(), ['w', 'two.edgec'], dir);
  assert.is(r.code, 2);
  assert.match(r.stderr, /usage: runtime\.wasm model\.edgec input\.bin output\.bin/);
});

test.run();
