// Bundle checksum (issue 10, item 6): every bundle the compiler writes (float, int8, multi-variant,
// --embed) ends in zlib's CRC-32 of the bytes before it; the executor refuses a bundle with any byte
// changed (2,000 seeded one-byte changes over the MNIST float and int8 bundles, 500 over fp32+int8), unless
// the host skips the check; the host readers name the offset of a read past the end; `inspect`
// validates as `load` does, every variant included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { compileGraph } from '../../compiler/compile.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileWithQuantizeFlags } from '../../compiler/quantize/cli.ts';
import { mergeVariants } from '../../compiler/variants/merge.ts';
import { readBundle } from '../../compiler/emit/bundle-writer.ts';
import { embedBundle } from '../../compiler/embed/index.ts';
import { readNpy } from '../../compiler/io/npy.ts';
import { readBundleInfo } from '../../runtime/bundle-info.ts';
import { readSteps } from '../../runtime/branches.ts';
import { load, BundleError } from '../../runtime/node.ts';
import { makeBundle, rng, fb } from '../assembly/harness.ts';
import { runWasi } from '../wasi/run-wasi.ts';
import { edgecIn } from '../cli/run-edgec.ts';

const graph = loadModelJson('examples/mnist/model.json');
const FLAGS = { calibration: 'examples/mnist/images.npy', method: 'minmax' as const, keepFloat: [] as string[] };
const image = (readNpy(new Uint8Array(readFileSync('examples/mnist/images.npy'))).data as Float32Array).slice(0, 784);
const trailer = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(b.length - 4, true);

let bundles: Record<'float' | 'int8' | 'fp32+int8', Uint8Array>;
let dir = '';
test.before(async () => {
  const float = compileGraph(graph).bundle,
    int8 = (await compileWithQuantizeFlags(graph, FLAGS, {})).bundle;
  // what `--variants fp32,int8` writes (compiler/variants/cli.ts merges the two compiled bundles)
  bundles = {
    float,
    int8,
    'fp32+int8': mergeVariants([
      { name: 'fp32', bundle: float },
      { name: 'int8', bundle: int8 },
    ]).bundle,
  };
  dir = mkdtempSync(join(tmpdir(), 'edgec-crc-'));
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("every writer ends the file in zlib's CRC-32 of the bytes before it; version 2", () => {
  for (const [name, b] of Object.entries(bundles)) {
    assert.is(trailer(b), crc32(b.subarray(0, b.length - 4)), name);
    assert.is(readBundle(b).version(), 2, name);
  }
});

async function refusal(b: Uint8Array, build: 'simd' | 'scalar', verifyChecksum = true): Promise<string | null> {
  try {
    await load(b, { build, verifyChecksum });
    return null;
  } catch (e) {
    assert.instance(e, BundleError, String(e));
    assert.not.match((e as Error).message, /wasm trap/, (e as Error).message);
    return (e as Error).message;
  }
}

for (const [name, trials] of [
  ['float', 1000],
  ['int8', 1000],
  ['fp32+int8', 500],
] as const) {
  test(`${name} MNIST: each of ${trials} seeded one-byte changes is refused with a BundleError`, async () => {
    const base = bundles[name];
    const r = rng(name.length * 1009);
    let byChecksum = 0,
      skippedLoads = 0;
    for (let trial = 0; trial < trials; trial++) {
      const b = base.slice();
      const at = Math.floor(r() * b.length);
      b[at] ^= 1 + Math.floor(r() * 255);
      const build = trial % 2 ? 'scalar' : 'simd';
      const msg = await refusal(b, build);
      assert.ok(msg !== null, `${name}: byte ${at} changed, bundle accepted`);
      if (/checksum mismatch/.test(msg!)) byChecksum++;
      // What the checksum adds: without it, some of these load (and run with altered weights or params).
      if (trial < 100 && (await refusal(b, build, false)) === null) skippedLoads++;
    }
    assert.ok(
      byChecksum > trials * 0.75,
      `${name}: ${byChecksum} of ${trials} refused by the checksum (the rest by structure or version)`,
    );
    assert.ok(
      skippedLoads > 0,
      `${name}: with the check skipped none of 100 loaded: the test would not see a missing checksum`,
    );
  });
}

test('verifyChecksum: false skips only the checksum: an altered weight then loads and changes the output', async () => {
  const base = bundles.float;
  const constantsAt = readBundle(base).constantsArray()!.byteOffset - base.byteOffset;
  const altered = base.slice();
  for (let i = 0; i < 64; i++) altered[constantsAt + 4 * i + 3] ^= 0x40; // 64 weights' exponent bits
  assert.match(
    (await refusal(altered, 'simd'))!,
    /checksum mismatch: the CRC-32 of bytes \[0, \d+\) is 0x[0-9a-f]{8}, the trailer at byte \d+ says 0x[0-9a-f]{8}/,
  );
  for (const build of ['simd', 'scalar'] as const) {
    const good = (await load(base, { build })).run({ Input3: image }).Plus214_Output_0!;
    const bad = (await load(altered, { build, verifyChecksum: false })).run({ Input3: image }).Plus214_Output_0!;
    assert.not.equal(Array.from(bad), Array.from(good), build);
  }
  // Structure is still checked with the checksum skipped.
  assert.match((await refusal(base.slice(0, 40), 'simd', false))!, /bundle: .* at byte \d+/);
});

test('a version-1 bundle (no trailer) is refused with a recompile message', async () => {
  const v1 = bundles.int8.slice(0, bundles.int8.length - 4);
  const dv = new DataView(v1.buffer);
  const root = dv.getUint32(0, true);
  const vt = root - dv.getInt32(root, true);
  dv.setUint32(root + dv.getUint16(vt + 4, true), 1, true);
  for (const verifyChecksum of [true, false]) {
    assert.match(
      (await refusal(v1, 'scalar', verifyChecksum))!,
      /format version 1 has no checksum and is no longer read; compile the model again/,
    );
  }
});

test('host readers: every cut of the multi-variant bundle is a BundleError naming the offset, never a RangeError', () => {
  const full = bundles['fp32+int8'];
  let thrown = 0;
  for (let n = 0; n < full.length; n += n < 2048 ? 1 : 97) {
    const cut = full.slice(0, n);
    for (const read of [() => readBundleInfo(cut, 1), () => readSteps(cut, 1), () => readBundleInfo(cut, 0)]) {
      try {
        read();
      } catch (e) {
        assert.instance(e, BundleError, `cut at ${n}: ${String(e)}`);
        assert.match(
          (e as Error).message,
          new RegExp(`^bundle: \\d+-byte read at offset \\d+ runs past the end of the ${n}-byte file`),
        );
        thrown++;
      }
    }
  }
  assert.ok(thrown > 100, `${thrown} cuts refused`);
});

test('edgec inspect validates as load does: a cut multi-variant bundle, a bad variant', () => {
  const edgec = edgecIn(dir);
  const full = bundles['fp32+int8'];
  writeFileSync(join(dir, 'cut.edgec'), full.subarray(0, 5000));
  const cut = edgec('inspect', 'cut.edgec');
  assert.is(cut.code, 1, cut.out);
  assert.is(cut.out, '');
  assert.match(cut.err, /^edgec: error: cut\.edgec: bundle: checksum mismatch/);
  // Variant 'bad' breaks a step contract: load starts on variant 0 fine, switching to 'bad' is refused.
  const bad = makeBundle(
    [
      { name: 'x', shape: [1, 4], role: 'in' },
      { name: 'y', shape: [1, 5], role: 'out' },
    ],
    [{ kernel: fb.KernelId.Copy, inputs: [0], outputs: [1] }],
  );
  writeFileSync(
    join(dir, 'bad.edgec'),
    mergeVariants([
      { name: 'fp32', bundle: bundles.float },
      { name: 'bad', bundle: bad },
    ]).bundle,
  );
  const r = edgec('inspect', 'bad.edgec');
  assert.is(r.code, 1, r.out);
  assert.is(r.out, '');
  assert.match(r.err, /^edgec: error: bad\.edgec: bundle: step 0 \(Copy.*is 16 bytes, output 'y' is 20/);
  writeFileSync(join(dir, 'ok.edgec'), full);
  assert.is(edgec('inspect', 'ok.edgec').code, 0);
});

test('--embed: a byte changed inside the embedded bundle is refused by the one-file wasm', async () => {
  const bundle = bundles.int8;
  const e = await embedBundle(bundle);
  const at = Buffer.from(e.wasm).indexOf(Buffer.from(bundle));
  assert.ok(at > 0, 'the bundle sits verbatim in a data segment');
  writeFileSync(join(dir, 'in.bin'), new Uint8Array(image.buffer, 0, 784 * 4));
  assert.is(runWasi(e.wasm, ['model.wasm', 'in.bin', 'out.bin'], dir).code, 0);
  const r = rng(10);
  for (let trial = 0; trial < 12; trial++) {
    const w = e.wasm.slice();
    w[at + Math.floor(r() * bundle.length)] ^= 1 + Math.floor(r() * 255);
    const res = runWasi(w, ['model.wasm', 'in.bin', 'out.bin'], dir);
    assert.is(res.code, 1, res.stderr);
    assert.match(res.stderr, /bundle: /);
  }
});

test.run();
