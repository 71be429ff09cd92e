// One-file wasm (compiler/embed): the MNIST bundle embedded into the WASI build runs under node:wasi
// with only input/output names and writes the same bytes as the plain WASI runtime and Node scalar;
// wasm3 features only, no bundle import, unused kernels removed, a kernel-using model keeps its kernel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedBundle, KERNEL_ENTRIES } from '../../compiler/embed/index.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { readNpy } from '../../compiler/io/npy.ts';
import { load } from '../../runtime/node.ts';
import { makeBundle, fb } from '../assembly/harness.ts';
import { runWasi } from '../wasi/run-wasi.ts';
import { compileCommand } from '../../compiler/cli/compile.ts';
import { compileWithQuantizeFlags } from '../../compiler/quantize/cli.ts';
import { KERNELS } from '../../compiler/kernels/registry.ts';
import { q, qs8Tools } from '../assembly/qs8-harness.ts';

const WASM3_FEATURES = [
  '--mvp-features',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-bulk-memory-opt',
];
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgec-embed-'));
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('MNIST one-file wasm: same bytes as Node scalar for 4 images, wasm3 features, smaller than runtime + bundle', async () => {
  const bundle = compileGraph(loadModelJson('examples/mnist/model.json')).bundle;
  const e = await embedBundle(bundle);
  assert.equal(
    e.kernels,
    [fb.KernelId.Conv2D_F32_P8, fb.KernelId.Dense_F32, fb.KernelId.MaxPool_F32].sort((a, b) => a - b),
  );
  assert.ok(e.removed.includes('assembly/kernels/elementwise/f32-binary/binaryF32'), e.removed.join());
  assert.not.ok(
    e.removed.some(
      (n) => n.includes('f32-conv2d-4x8-packed') || n.includes('f32-gemm') || n.includes('f32-pool/poolF32'),
    ),
  );
  writeFileSync(join(dir, 'model.wasm'), e.wasm);
  const r0 = spawnSync('node_modules/.bin/wasm-opt', [...WASM3_FEATURES, join(dir, 'model.wasm'), '-o', '/dev/null'], {
    encoding: 'utf8',
  });
  assert.is(r0.status, 0, r0.stderr);
  const m = new WebAssembly.Module(e.wasm as Uint8Array<ArrayBuffer>);
  assert.ok(WebAssembly.Module.imports(m).every((i) => i.module === 'wasi_snapshot_preview1' && i.kind === 'function'));
  const exports = WebAssembly.Module.exports(m)
    .map((x) => x.name)
    .sort();
  assert.equal(exports, ['_start', 'memory']);
  const runtimeBytes = readFileSync('build/edgec-wasi.wasm').length;
  assert.ok(e.wasm.length < runtimeBytes + bundle.length, `${e.wasm.length} >= ${runtimeBytes} + ${bundle.length}`);

  const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  const x = (images.data as Float32Array).slice(0, 4 * 784);
  writeFileSync(join(dir, 'in.bin'), bytesOf(x));
  const r = runWasi(m, ['model.wasm', 'in.bin', 'out.bin'], dir);
  assert.is(r.code, 0, r.stderr);
  const model = await load(bundle, { build: 'scalar' });
  const want: number[] = [];
  for (let i = 0; i < 4; i++)
    want.push(...bytesOf(model.run({ Input3: x.subarray(i * 784, (i + 1) * 784) }).Plus214_Output_0!));
  assert.equal(Array.from(readFileSync(join(dir, 'out.bin'))), want);
  // Two file names only: a bundle argument is a usage error.
  const u = runWasi(m, ['model.wasm', 'mnist.edgec', 'in.bin', 'out.bin'], dir);
  assert.is(u.code, 2);
  assert.match(u.stderr, /usage: model\.wasm input\.bin output\.bin/);
});

test('int8 MNIST one-file wasm: int8 steps kept, float convolutions dropped, bytes = Node scalar', async () => {
  const bundle = (
    await compileWithQuantizeFlags(
      loadModelJson('examples/mnist/model.json'),
      { calibration: 'examples/mnist/images.npy', method: 'minmax', keepFloat: [] },
      {},
    )
  ).bundle;
  const e = await embedBundle(bundle);
  assert.not.ok(e.removed.includes('assembly/kernels/qs8-steps/runQs8Step'));
  assert.ok(e.removed.includes('assembly/kernels/conv/f32-conv2d/conv2dF32'), e.removed.join());
  const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  const x = (images.data as Float32Array).slice(10 * 784, 13 * 784);
  writeFileSync(join(dir, 'q.bin'), bytesOf(x));
  const r = runWasi(e.wasm, ['q.wasm', 'q.bin', 'q-out.bin'], dir);
  assert.is(r.code, 0, r.stderr);
  const model = await load(bundle, { build: 'scalar' });
  const want: number[] = [];
  for (let i = 0; i < 3; i++)
    want.push(...bytesOf(model.run({ Input3: x.subarray(i * 784, (i + 1) * 784) }).Plus214_Output_0!));
  assert.equal(Array.from(readFileSync(join(dir, 'q-out.bin'))), want);
});

test('a binary-only model keeps binaryF32 and drops the convolutions', async () => {
  const bundle = makeBundle(
    [
      { name: 'a', shape: [2, 3], role: 'in' },
      { name: 'b', shape: [2, 3], role: 'in' },
      { name: 'y', shape: [2, 3], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [0, 1],
        outputs: [2],
        params: { type: 'binary', op: fb.BinaryOp.Mul, shape: [2, 3], aStrides: [3, 1], bStrides: [3, 1] },
      },
    ],
  );
  const e = await embedBundle(bundle);
  assert.not.ok(e.removed.includes('assembly/kernels/elementwise/f32-binary/binaryF32'));
  assert.ok(e.removed.includes('assembly/kernels/conv/f32-conv2d/conv2dF32'));
  // Every entry named in the table that exists in the runtime is either kept or removed, never missing by typo:
  const known = new Set(KERNEL_ENTRIES.map(([n]) => n));
  for (const n of e.removed) assert.ok(known.has(n));
  assert.ok(e.removed.length >= 5, `only ${e.removed.length} entries found in the runtime: names changed?`);
  writeFileSync(
    join(dir, 'ab.bin'),
    Buffer.concat([bytesOf(Float32Array.of(1, 2, 3, 4, 5, 6)), bytesOf(Float32Array.of(2, 2, 2, -1, 0.5, 0))]),
  );
  const r = runWasi(e.wasm, ['m.wasm', 'ab.bin', 'y.bin'], dir);
  assert.is(r.code, 0, r.stderr);
  const y = readFileSync(join(dir, 'y.bin'));
  assert.equal(Array.from(new Float32Array(y.buffer.slice(y.byteOffset, y.byteOffset + 24))), [2, 4, 6, -4, 2.5, 0]);
});

test('int8 steps that are only Conv1xK_QS8 / ConvKx1_QS8 keep the int8 dispatch: one-file bytes = Node scalar', async () => {
  // the bug: KERNEL_ENTRIES kept runQs8Step for KernelIds 17..26 only, so this bundle trapped `unreachable`
  const { randI8, QGraph } = qs8Tools(20261202);
  const qg = new QGraph();
  const H = 5,
    W = 6,
    C = 3,
    M = 4;
  const x = qg.input('x', [1, H, W, C], q(0.05, -7));
  const g = qg.g;
  g.tensors.set('t', { name: 't', dtype: 'int8', shape: [1, H, W, M], quant: q(0.08, -128) });
  g.nodes.push({
    name: 'c1x3',
    op: 'Conv2D',
    inputs: [x, qg.weights('w1', [M, 1, 3, C], new Array(M).fill(0.004)), qg.bias('b1', M, 3000)],
    outputs: ['t'],
    attrs: { padding: 'same' },
  });
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, H, W, C], quant: q(0.06, 5) });
  g.nodes.push({
    name: 'c3x1',
    op: 'Conv2D',
    inputs: ['t', qg.weights('w2', [C, 3, 1, M], new Array(C).fill(0.003)), qg.bias('b2', C, 3000)],
    outputs: ['y'],
    attrs: { padding: 'same' },
  });
  g.outputs.push('y');
  const bundle = compileGraph(g, { skipPasses: true }).bundle;
  const e = await embedBundle(bundle);
  assert.equal(e.kernels, [fb.KernelId.Conv1xK_QS8, fb.KernelId.ConvKx1_QS8]);
  const xs = randI8(H * W * C);
  writeFileSync(join(dir, 'line.bin'), bytesOf(xs));
  const r = runWasi(e.wasm, ['line.wasm', 'line.bin', 'line-out.bin'], dir);
  assert.is(r.code, 0, r.stderr);
  const model = await load(bundle, { build: 'scalar' });
  assert.equal(Array.from(readFileSync(join(dir, 'line-out.bin'))), Array.from(bytesOf(model.run({ x: xs }).y!)));
});

test('every KernelId is covered: each registry row is one fb.KernelId, and each of its entries is kept when it is used', () => {
  const ids = Object.values(fb.KernelId).filter((v): v is number => typeof v === 'number' && v !== fb.KernelId.Invalid);
  assert.equal(
    KERNELS.map((k) => k.id),
    ids,
    'one registry row per fb.KernelId',
  );
  const users = new Map(KERNEL_ENTRIES);
  for (const k of KERNELS)
    for (const n of k.entries) assert.ok(users.get(n)?.includes(k.id), `${k.name}: ${n} would be stubbed`);
  // a row without entries runs inline in the executor (never stubbed); any other row must name its code
  assert.equal(
    KERNELS.filter((k) => k.entries.length === 0).map((k) => k.name),
    ['Copy', 'Dispatch', 'Exit', 'Jump'],
  );
  // the int8 dispatch is listed for every *_QS8 KernelId (27 and 28 were missing)
  assert.equal(
    users.get('assembly/kernels/qs8-steps/runQs8Step'),
    KERNELS.filter((k) => k.family === 'qs8').map((k) => k.id),
  );
});

test('CLI: edgec compile --embed writes the one-file wasm, also for a Branch model (in process: binaryen loads once)', async () => {
  const out = join(dir, 'cli.wasm');
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => {
    lines.push(a.join(' '));
  };
  try {
    assert.is(await compileCommand(['examples/mnist/model.json', '--embed', '-o', out]), 0);
  } finally {
    console.log = log;
  }
  assert.match(lines.join('\n'), /one-file wasm [\d,]+ bytes/);
  // A model with Branch blocks (examples/branches/gated.json) embeds too and runs its control steps.
  const gated = join(dir, 'gated.wasm');
  console.log = () => {};
  try {
    assert.is(await compileCommand(['examples/branches/gated.json', '--embed', '-o', gated]), 0);
  } finally {
    console.log = log;
  }
  const gb = join(dir, 'gated.edgec');
  console.log = () => {};
  try {
    assert.is(await compileCommand(['examples/branches/gated.json', '-o', gb]), 0);
  } finally {
    console.log = log;
  }
  const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy')));
  writeFileSync(join(dir, 'g.bin'), bytesOf((images.data as Float32Array).slice(0, 6 * 784)));
  const r1 = runWasi(new Uint8Array(readFileSync(gated)), ['gated.wasm', 'g.bin', 'g1.bin'], dir);
  assert.is(r1.code, 0, r1.stderr);
  const gm = await load(new Uint8Array(readFileSync(gb)), { build: 'scalar' });
  const want: number[] = [];
  for (let i = 0; i < 6; i++)
    want.push(
      ...bytesOf(
        gm.run({ [gm.info.inputs[0]!.name]: (images.data as Float32Array).subarray(i * 784, (i + 1) * 784) })[
          gm.info.outputs[0]!.name
        ]!,
      ),
    );
  assert.equal(Array.from(readFileSync(join(dir, 'g1.bin'))), want);
  const m = new WebAssembly.Module(readFileSync(out));
  assert.equal(
    WebAssembly.Module.exports(m)
      .map((x) => x.name)
      .sort(),
    ['_start', 'memory'],
  );
});

test.run();
