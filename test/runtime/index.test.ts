// The host runtime API: load from bytes or a compiled module, info (names, shapes, dtypes, arena,
// steps, build), input checking, repeated runs, node.ts build selection and its read of a path straight into the
// wasm memory, errors as BundleError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as loadCore, BundleError, simdSupported } from '../../runtime/index.ts';
import { load, wasmPath, wasmModule } from '../../runtime/node.ts';
import { makeBundle, twoInOutBundle, rng, randF32, fb } from '../assembly/harness.ts';

test('load from bytes and from a compiled module; info', async () => {
  const bundle = twoInOutBundle();
  for (const wasm of [readFileSync(wasmPath('scalar')), wasmModule('scalar')]) {
    const m = await loadCore(bundle, { wasm });
    assert.equal(m.info.inputs, [
      { name: 'a', shape: [2, 3], dtype: 'float32' },
      { name: 'b', shape: [2, 3], dtype: 'float32' },
      { name: 'iv', shape: [2, 3], dtype: 'int32' },
    ]);
    assert.equal(m.info.outputs, [
      { name: 'sum', shape: [2, 3], dtype: 'float32' },
      { name: 'idx', shape: [3, 2], dtype: 'int32' },
    ]);
    assert.is(m.info.steps, 2);
    assert.is(m.info.arenaBytes, 5 * 32);
    assert.is(m.info.build, 'scalar');
  }
});

test('run: values, dtypes, repeated runs, independent models', async () => {
  const m1 = await load(twoInOutBundle(), { build: 'simd' });
  const m2 = await load(twoInOutBundle(), { build: 'simd' });
  assert.is(m1.info.build, 'simd');
  const a = Float32Array.of(1, 2, 3, 4, 5, 6),
    b = Float32Array.of(0.5, 0.5, 0.5, 1, 1, 1),
    iv = Int32Array.of(10, 11, 12, 20, 21, 22);
  const o1 = m1.run({ a, b, iv });
  const o2 = m2.run({ a: b, b, iv });
  assert.instance(o1.sum, Float32Array);
  assert.instance(o1.idx, Int32Array);
  assert.equal(Array.from(o1.sum!), [1.5, 2.5, 3.5, 5, 6, 7]);
  assert.equal(Array.from(o1.idx!), [10, 20, 11, 21, 12, 22]);
  assert.equal(Array.from(o2.sum!), [1, 1, 1, 2, 2, 2]);
  const again = m1.run({ a: b, b: a, iv });
  assert.equal(Array.from(again.sum!), [1.5, 2.5, 3.5, 5, 6, 7]);
  // Outputs are copies: a later run does not change an earlier result.
  assert.equal(Array.from(o1.sum!), [1.5, 2.5, 3.5, 5, 6, 7]);
});

test('run: input errors are BundleErrors', async () => {
  const m = await load(twoInOutBundle(), { build: 'scalar' });
  const a = new Float32Array(6),
    iv = new Int32Array(6);
  assert.throws(
    () => m.run({ a, iv }),
    (e: unknown) => e instanceof BundleError && /missing input 'b'/.test((e as Error).message),
  );
  assert.throws(
    () => m.run({ a, b: new Float32Array(5), iv }),
    (e: unknown) => e instanceof BundleError && /'b' has 5 elements/.test((e as Error).message),
  );
  assert.throws(
    () => m.run({ a, b: a, iv: new Float32Array(6) as unknown as Int32Array }),
    (e: unknown) => e instanceof BundleError && /Int32Array/.test((e as Error).message),
  );
  assert.throws(
    () => m.run({ a, b: a, iv, zz: a }),
    (e: unknown) => e instanceof BundleError && /unknown input 'zz'/.test((e as Error).message),
  );
});

test('run: N stacked samples run one by one, as runDetailed does; counts must agree', async () => {
  const m = await load(twoInOutBundle(), { build: 'scalar' });
  const r = rng(5);
  const n = 3,
    a = randF32(r, n * 6),
    b = randF32(r, n * 6),
    iv = Int32Array.from({ length: n * 6 }, (_, i) => i * 7 - 40);
  const stacked = m.run({ a, b, iv });
  assert.equal(stacked, m.runDetailed({ a, b, iv }).outputs);
  assert.is(stacked.sum!.length, n * 6);
  for (let k = 0; k < n; k++) {
    const one = m.run({
      a: a.subarray(k * 6, k * 6 + 6),
      b: b.subarray(k * 6, k * 6 + 6),
      iv: iv.subarray(k * 6, k * 6 + 6),
    });
    assert.equal(Array.from(stacked.sum!.subarray(k * 6, k * 6 + 6)), Array.from(one.sum!), `sample ${k} sum`);
    assert.equal(Array.from(stacked.idx!.subarray(k * 6, k * 6 + 6)), Array.from(one.idx!), `sample ${k} idx`);
  }
  assert.throws(
    () => m.run({ a, b: b.subarray(0, 12), iv }),
    (e: unknown) => e instanceof BundleError && /'b' has 12 elements.*different count/.test((e as Error).message),
  );
});

test('run after the memory has grown (a large runDetailed): the views run() keeps follow, same outputs', async () => {
  const m = await load(twoInOutBundle(), { build: 'simd' });
  const r = rng(9);
  const a = randF32(r, 6),
    b = randF32(r, 6),
    iv = Int32Array.from({ length: 6 }, (_, i) => 3 * i - 5);
  const before = m.run({ a, b, iv });
  const pages = (m.inputView('a').buffer as ArrayBuffer).byteLength;
  const n = 50_000; // ~ 50k × (3 inputs + 2 outputs) × 24 bytes: several MiB of staging, past the first memory
  const big = m.runDetailed({ a: new Float32Array(n * 6), b: new Float32Array(n * 6), iv: new Int32Array(n * 6) });
  assert.is(big.outputs.sum!.length, n * 6);
  assert.ok((m.inputView('a').buffer as ArrayBuffer).byteLength > pages, 'memory grew');
  const after = m.run({ a, b, iv });
  assert.equal([...after.sum!], [...before.sum!]);
  assert.equal([...after.idx!], [...before.idx!]);
});

test('inputView: the wasm memory run() reads an input from; filled and passed to run, the outputs of copies', async () => {
  for (const build of ['scalar', 'simd'] as const) {
    const m = await load(twoInOutBundle(), { build });
    const r = rng(9);
    const a = randF32(r, 6),
      b = randF32(r, 6),
      iv = Int32Array.from({ length: 6 }, (_, i) => i * 3 - 7);
    const want = m.run({ a, b, iv });
    const [va, vb, vi] = [m.inputView('a'), m.inputView('b'), m.inputView('iv')];
    assert.instance(va, Float32Array);
    assert.instance(vi, Int32Array);
    assert.equal([va.length, vb.length, vi.length], [6, 6, 6]);
    assert.ok(va.buffer !== a.buffer && va.buffer === vi.buffer, 'views share the wasm memory');
    va.set(a);
    vb.set(b);
    vi.set(iv);
    assert.equal(m.run({ a: va, b: vb, iv: vi }), want, build);
    assert.throws(
      () => m.inputView('sum'),
      (e: unknown) => e instanceof BundleError && /unknown input 'sum' \(inputs: a, b, iv\)/.test((e as Error).message),
    );
  }
});

test("runInto: run()'s values in the caller's arrays, only the outputs named; stacked samples; errors", async () => {
  for (const build of ['scalar', 'simd'] as const) {
    const m = await load(twoInOutBundle(), { build });
    const r = rng(11);
    const a = randF32(r, 6),
      b = randF32(r, 6),
      iv = Int32Array.from({ length: 6 }, (_, i) => 5 * i - 9);
    const want = m.run({ a, b, iv });
    const sum = new Float32Array(6).fill(-1),
      idx = new Int32Array(6).fill(-1);
    const outs = { sum, idx };
    assert.ok(m.runInto({ a, b, iv }, outs) === outs, 'returns the object it was given');
    assert.ok(outs.sum === sum && outs.idx === idx, 'the same arrays, filled in place');
    assert.equal([...sum], [...want.sum!], build);
    assert.equal([...idx], [...want.idx!], build);
    // a second run with other inputs overwrites them; an output not named is left alone
    const only = new Float32Array(6).fill(-1);
    m.runInto({ a: b, b: a, iv: iv.map((v) => -v) }, { sum: only });
    assert.equal([...only], [...m.run({ a: b, b: a, iv }).sum!]);
    assert.equal([...idx], [...want.idx!], "idx of the first call kept: it is the caller's, not the wasm memory");
    // N stacked samples: N × each output's size, as run() returns them
    const n = 3,
      sa = randF32(r, n * 6),
      sb = randF32(r, n * 6),
      siv = Int32Array.from({ length: n * 6 }, (_, i) => i - 8);
    const stacked = m.run({ a: sa, b: sb, iv: siv });
    const into = { sum: new Float32Array(n * 6), idx: new Int32Array(n * 6) };
    m.runInto({ a: sa, b: sb, iv: siv }, into);
    assert.equal([...into.sum], [...stacked.sum!]);
    assert.equal([...into.idx], [...stacked.idx!]);
    const refused = (outputs: Record<string, Float32Array | Int32Array>, re: RegExp) =>
      assert.throws(
        () => m.runInto({ a, b, iv }, outputs),
        (e: unknown) => e instanceof BundleError && re.test((e as Error).message),
      );
    refused({ zz: sum }, /unknown output 'zz' \(outputs: sum, idx\)/);
    refused({ idx: new Float32Array(6) }, /output 'idx' must be a Int32Array \(int32\)/);
    refused({ sum: new Float32Array(5) }, /output 'sum' has 5 elements, shape \[2,3\] needs 6/);
    assert.throws(
      () => m.runInto({ a: sa, b: sb, iv: siv }, { sum }),
      (e: unknown) =>
        e instanceof BundleError && /'sum' has 6 elements, 3 samples of shape \[2,3\] needs 18/.test(String(e)),
    );
    assert.throws(
      () => m.runInto({ a, iv }, { sum }),
      (e: unknown) => e instanceof BundleError && /missing input 'b'/.test((e as Error).message),
    );
  }
});

test('node load: from a file path; an unreadable path is a BundleError naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-load-'));
  try {
    const file = join(dir, 'm.edgec');
    writeFileSync(file, twoInOutBundle());
    const m = await load(file, { build: 'simd' });
    assert.equal(
      m.info.outputs.map((t) => t.name),
      ['sum', 'idx'],
    );
    const missing = join(dir, 'nope.edgec');
    await load(missing).then(
      () => assert.unreachable('loaded'),
      (e: unknown) => {
        assert.instance(e, BundleError);
        assert.ok((e as Error).message.startsWith(`${missing}: cannot read the bundle (ENOENT)`), (e as Error).message);
      },
    );
    // a directory opens; its read fails inside load, after the wasm is instantiated
    await load(dir, { build: 'scalar' }).then(
      () => assert.unreachable('loaded'),
      (e: unknown) => {
        assert.instance(e, BundleError);
        assert.ok((e as Error).message.startsWith(`${dir}: cannot read the bundle (EISDIR)`), (e as Error).message);
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('node load(path) reads the bundle straight into the wasm memory: no JS copy of it', async () => {
  const n = 1 << 20; // 4 MiB of constants
  const r = rng(3);
  const w = randF32(r, n);
  const bundle = makeBundle(
    [
      { name: 'a', shape: [n], role: 'in' },
      { name: 'w', shape: [n], role: 'const', data: w },
      { name: 'y', shape: [n], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [0, 1],
        outputs: [2],
        params: { type: 'binary', op: fb.BinaryOp.Add, shape: [n], aStrides: [1], bStrides: [1] },
      },
    ],
  );
  const dir = mkdtempSync(join(tmpdir(), 'edgec-load-'));
  try {
    const file = join(dir, 'big.edgec');
    writeFileSync(file, bundle);
    wasmModule('simd'); // compiled first: the .wasm file's bytes are not the bundle's
    // ArrayBuffers count the JS side's buffers (a Buffer of the file would be one), not the wasm memory
    const before = process.memoryUsage().arrayBuffers;
    const m = await load(file, { build: 'simd' });
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < bundle.length / 4, `ArrayBuffers grew by ${grew} bytes loading a ${bundle.length}-byte bundle`);
    const a = randF32(r, n);
    const y = m.run({ a }).y as Float32Array;
    for (let i = 0; i < n; i++) if (y[i] !== Math.fround(a[i]! + w[i]!)) assert.unreachable(`y[${i}] = ${y[i]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('node load: auto picks simd where supported; reference mode gives the same bits', async () => {
  const r = rng(11);
  const x = randF32(r, 1 * 6 * 6 * 8);
  const bundle = makeBundle(
    [
      { name: 'x', shape: [1, 6, 6, 8], role: 'in' },
      { name: 'w', shape: [1, 3, 3, 8, 8], role: 'const', data: randF32(r, 576) },
      { name: 'y', shape: [1, 6, 6, 8], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Conv2D_F32,
        inputs: [0, 1],
        outputs: [2],
        params: { type: 'conv', kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 },
      },
    ],
  );
  const auto = await load(bundle);
  assert.is(auto.info.build, simdSupported() ? 'simd' : 'scalar');
  const fast = new Uint32Array((auto.run({ x }).y as Float32Array).buffer);
  const ref = new Uint32Array(((await load(bundle, { reference: true })).run({ x }).y as Float32Array).buffer);
  assert.equal(Array.from(fast), Array.from(ref));
});

test('a refused bundle is a BundleError with the executor message', async () => {
  try {
    await load(new Uint8Array(16), { build: 'scalar' });
    assert.unreachable('accepted');
  } catch (e) {
    assert.instance(e, BundleError);
    assert.match((e as Error).message, /identifier is not 'EDGC'/);
  }
});

test('edgec_run before a load reports an error instead of trapping', async () => {
  const inst = await WebAssembly.instantiate(wasmModule('simd'), {});
  const ex = inst.exports as Record<string, CallableFunction> & { memory: WebAssembly.Memory };
  assert.is(ex.edgec_run!(), 1);
  const msg = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ex.edgec_error_ptr!(), ex.edgec_error_len!()));
  assert.match(msg, /no bundle loaded/);
});

test('runtime/index.ts bundles for the browser (no Node APIs) and runs from that bundle', async () => {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: ['runtime/index.ts'],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  assert.not.match(code, /from ["']node:/);
  const mod = await import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'));
  const m = await mod.load(twoInOutBundle(), { wasm: readFileSync(wasmPath('simd')) });
  const o = m.run({ a: Float32Array.of(1, 2, 3, 4, 5, 6), b: new Float32Array(6), iv: new Int32Array(6) });
  assert.equal(Array.from(o.sum as Float32Array), [1, 2, 3, 4, 5, 6]);
});

test.run();
