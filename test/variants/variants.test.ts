// Model variants: --variants merges fp32 and int8 MNIST into one bundle with shared constants; each
// variant run from the merged bundle gives the bytes of its standalone bundle (simd and scalar);
// useVariant switches in one instance and back; load({ variant }); info read from the wasm's copy of the bundle;
// errors; the policy helper.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, BundleError, VariantPolicy, chooseVariant, type PolicyState } from '../../runtime/node.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { readNpy } from '../../compiler/io/npy.ts';
import { readBundle } from '../../compiler/emit/bundle-writer.ts';
import { mergeVariants } from '../../compiler/variants/merge.ts';
import { compileVariants, parseVariants } from '../../compiler/variants/cli.ts';
import { compileWithQuantizeFlags } from '../../compiler/quantize/cli.ts';
import { compileCommand } from '../../compiler/cli/compile.ts';

const graph = loadModelJson('examples/mnist/model.json');
const FLAGS = { calibration: 'examples/mnist/images.npy', method: 'minmax' as const, keepFloat: [] as string[] };
const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy'))).data as Float32Array;
const sample = (i: number) => images.subarray(i * 784, (i + 1) * 784);
const hex = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

let fp32: Uint8Array, int8: Uint8Array, merged: Uint8Array;
test.before(async () => {
  fp32 = compileGraph(graph).bundle;
  int8 = (await compileWithQuantizeFlags(graph, FLAGS, {})).bundle;
  merged = (await compileVariants(['fp32', 'int8'], graph, FLAGS, {})).bundle;
});

test('merged bundle: root is the fp32 variant, both named, constants of both kept', () => {
  const b = readBundle(merged);
  assert.is(b.variantsLength(), 2);
  assert.equal([b.variants(0)!.name(), b.variants(1)!.name()], ['fp32', 'int8']);
  assert.is(b.variants(0)!.stepsLength(), 0);
  assert.is(b.stepsLength(), readBundle(fp32).stepsLength());
  assert.is(b.variants(1)!.stepsLength(), readBundle(int8).stepsLength());
  assert.ok(merged.length < fp32.length + int8.length, `${merged.length} vs ${fp32.length} + ${int8.length}`);
});

test('identical constants are stored once (two fp32 variants with different targets)', () => {
  const scalar = compileGraph(graph, { target: 'scalar' }).bundle;
  const { bundle, stats } = mergeVariants([
    { name: 'simd', bundle: fp32 },
    { name: 'scalar', bundle: scalar },
  ]);
  assert.is(stats.constantsAfter * 2, stats.constantsBefore);
  assert.ok(bundle.length < fp32.length + scalar.length - stats.constantsAfter + 1024);
});

for (const build of ['simd', 'scalar'] as const) {
  test(`${build}: each variant's bytes equal its standalone bundle; useVariant switches and back`, async () => {
    const m = await load(merged, { build });
    const mf = await load(fp32, { build }),
      mq = await load(int8, { build });
    assert.equal([...m.variants], ['fp32', 'int8']);
    assert.is(m.variant, 'fp32');
    const run = (model: typeof m, i: number) => hex(model.run({ Input3: sample(i) }).Plus214_Output_0!);
    for (let i = 0; i < 3; i++) assert.is(run(m, i), run(mf, i));
    m.useVariant('int8');
    assert.is(m.variant, 'int8');
    assert.is(m.info.steps, readBundle(int8).stepsLength());
    assert.is(m.info.arenaBytes, mq.info.arenaBytes);
    for (let i = 0; i < 3; i++) assert.is(run(m, i), run(mq, i));
    m.useVariant('fp32');
    assert.is(m.info.arenaBytes, mf.info.arenaBytes);
    assert.is(run(m, 4), run(mf, 4));
    m.useVariant('int8');
    assert.is(run(m, 5), run(mq, 5));
    const m2 = await load(merged, { build, variant: 'int8' });
    assert.is(m2.variant, 'int8');
    assert.is(run(m2, 6), run(mq, 6));
  });
}

test("the runtime reads the wasm's copy, not the caller's bytes: zeroed after load, or a path read into the wasm", async () => {
  const mq = await load(int8, { build: 'simd' });
  const run = (model: typeof mq, i: number) => hex(model.run({ Input3: sample(i) }).Plus214_Output_0!);
  const bytes = merged.slice();
  const zeroed = await load(bytes, { build: 'simd' });
  bytes.fill(0);
  const dir = mkdtempSync(join(tmpdir(), 'edgec-variants-'));
  try {
    writeFileSync(join(dir, 'merged.edgec'), merged);
    const fromPath = await load(join(dir, 'merged.edgec'), { build: 'simd' });
    for (const m of [zeroed, fromPath]) {
      // the int8 variant's info and steps are read from the bundle only now
      m.useVariant('int8');
      assert.is(m.info.steps, readBundle(int8).stepsLength());
      assert.equal(m.info.inputs, mq.info.inputs);
      assert.is(run(m, 7), run(mq, 7));
      assert.equal(m.runDetailed({ Input3: sample(8) }).samples, mq.runDetailed({ Input3: sample(8) }).samples);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors: unknown variant, variant on a plain bundle', async () => {
  const m = await load(merged, { build: 'scalar' });
  assert.throws(
    () => m.useVariant('fp16'),
    (e: unknown) =>
      e instanceof BundleError && /'fp16' is not in this bundle \(variants: fp32, int8\)/.test((e as Error).message),
  );
  assert.is(m.variant, 'fp32');
  let err: unknown;
  try {
    await load(fp32, { build: 'scalar', variant: 'int8' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof BundleError && /variants: none/.test(err.message), String(err));
  const plain = await load(fp32, { build: 'scalar' });
  assert.equal([...plain.variants], []);
  assert.is(plain.variant, '');
});

test('parseVariants and compileVariants refuse bad lists', async () => {
  assert.equal(parseVariants('fp32, int8'), ['fp32', 'int8']);
  assert.throws(() => parseVariants('fp32'), /at least two/);
  assert.throws(() => parseVariants('fp32,fp16'), /unknown variant 'fp16'/);
  assert.throws(() => parseVariants('int8,int8'), /twice/);
  let err: unknown;
  try {
    await compileVariants(['fp32', 'int8'], graph, undefined, {});
  } catch (e) {
    err = e;
  }
  assert.match(String(err), /needs --quantize int8/);
  assert.throws(
    () =>
      mergeVariants([
        { name: 'a', bundle: merged },
        { name: 'b', bundle: fp32 },
      ]),
    /already a multi-variant bundle/,
  );
});

test('CLI: compile --variants fp32,int8 --quantize int8 --calibration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-variants-'));
  const log = console.log,
    err = console.error;
  try {
    console.log = () => {};
    console.error = () => {};
    const out = join(dir, 'mv.edgec');
    assert.is(
      await compileCommand([
        'examples/mnist/model.json',
        '--variants',
        'fp32,int8',
        '--quantize',
        'int8',
        '--calibration',
        'examples/mnist/images.npy',
        '-o',
        out,
      ]),
      0,
    );
    const b = readBundle(new Uint8Array(readFileSync(out)));
    assert.is(b.variantsLength(), 2);
    assert.match(String(b.metadata()!.compileOptions()), /"variants":\["fp32","int8"\]/);
  } finally {
    console.log = log;
    console.error = err;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('policy: battery, latency budget, callback', () => {
  const s = (over: Partial<PolicyState>): PolicyState => ({
    latencyMs: {},
    variants: ['fp32', 'int8'],
    current: 'fp32',
    ...over,
  });
  assert.is(chooseVariant(s({})), 'fp32');
  assert.is(chooseVariant(s({ battery: { level: 0.2, charging: false } })), 'int8');
  assert.is(chooseVariant(s({ battery: { level: 0.2, charging: true } })), 'fp32');
  assert.is(chooseVariant(s({ battery: { level: 0.5, charging: false } }), { lowBattery: 0.6 }), 'int8');
  assert.is(chooseVariant(s({ latencyMs: { fp32: 12, int8: 3 } }), { latencyBudgetMs: 5 }), 'int8');
  assert.is(chooseVariant(s({ latencyMs: { fp32: 4 } }), { latencyBudgetMs: 5 }), 'fp32');
  assert.is(chooseVariant(s({ latencyMs: { fp32: 12 } }), { latencyBudgetMs: 5 }), 'int8', 'unmeasured int8 is tried');
  assert.is(
    chooseVariant(s({ latencyMs: { fp32: 12, int8: 9 } }), { latencyBudgetMs: 5 }),
    'int8',
    'nothing fits: cheapest',
  );
  assert.is(chooseVariant(s({ battery: { level: 0.1, charging: false } }), { choose: () => 'fp32' }), 'fp32');
});

test('VariantPolicy switches the live model by battery', async () => {
  const m = await load(merged, { build: 'simd' });
  const p = new VariantPolicy(m);
  await p.refreshBattery(); // Node has no navigator.getBattery: stays unknown
  assert.is(p.state().battery, undefined);
  p.run({ Input3: sample(0) });
  assert.is(m.variant, 'fp32');
  p.setBattery({ level: 0.1, charging: false });
  const y = p.run({ Input3: sample(1) });
  assert.is(m.variant, 'int8');
  const mq = await load(int8, { build: 'simd' });
  assert.is(hex(y.Plus214_Output_0!), hex(mq.run({ Input3: sample(1) }).Plus214_Output_0!));
  assert.ok(p.state().latencyMs.int8! >= 0 && p.state().latencyMs.fp32! >= 0);
});

test.run();
