// compiler/io/npy.ts against numpy-written fixtures (test/fixtures/cli/make-npy.py): every dtype
// reads back the generator's closed-form values exactly and re-serialises to numpy's exact bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy, loadNpy, saveNpy, NpyError, type NpyArray } from '../../compiler/io/npy.ts';

const FIX = join(import.meta.dirname, '../fixtures/cli');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'edgec-npy-'));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const ramp = Array.from({ length: 24 }, (_, i) => i);

const CASES: [string, NpyArray['dtype'], (i: number) => number | bigint][] = [
  ['npy-float32.npy', 'float32', (i) => Math.fround((i - 7) / 4)],
  ['npy-float64.npy', 'float64', (i) => (i - 7) / 3],
  ['npy-int8.npy', 'int8', (i) => i * 11 - 128],
  ['npy-uint8.npy', 'uint8', (i) => i * 11],
  ['npy-int32.npy', 'int32', (i) => i * 100003 - 1000000],
  ['npy-int64.npy', 'int64', (i) => BigInt(i) * 400000000n - 5000000000n],
];

for (const [file, dtype, value] of CASES) {
  test(`read ${dtype} [2,3,4] written by numpy`, () => {
    const a = readNpy(fixture(file), file);
    assert.is(a.dtype, dtype);
    assert.equal(a.shape, [2, 3, 4]);
    assert.equal(Array.from(a.data as ArrayLike<number | bigint>), ramp.map(value));
  });
  test(`write ${dtype} reproduces numpy's bytes`, () => {
    const a = readNpy(fixture(file), file);
    assert.equal(Array.from(writeNpy(a)), Array.from(fixture(file)));
  });
}

test('round trip every dtype through a file (saveNpy/loadNpy)', () => {
  const dir = tempDir();
  const arrays = [
    new Float32Array([1.5, -2, 3.25]),
    new Float64Array([1e-300, -0, Math.PI]),
    new Int8Array([-128, 0, 127]),
    new Uint8Array([0, 128, 255]),
    new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]),
    new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
  ];
  for (const [i, data] of arrays.entries()) {
    const p = join(dir, `a${i}.npy`);
    saveNpy(p, { shape: [3, 1], data });
    const back = loadNpy(p);
    assert.equal(back.shape, [3, 1]);
    assert.is(back.data.constructor, data.constructor);
    assert.equal(Array.from(back.data as ArrayLike<number | bigint>), Array.from(data as ArrayLike<number | bigint>));
  }
  assert.equal(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test("loadNpy into a target: the file's data lands in the array the callback names, at its offset", () => {
  const dir = tempDir();
  const p = join(dir, 't.npy');
  const data = Int32Array.from({ length: 12 }, (_, i) => i * 100003 - 600000);
  saveNpy(p, { shape: [3, 4], data });
  const host = new Int32Array(20).fill(-1);
  const target = host.subarray(5, 17);
  let seen: unknown;
  const back = loadNpy(p, (h) => ((seen = h), target));
  assert.equal(seen, { dtype: 'int32', shape: [3, 4], dataOffset: 128 });
  assert.is(back.data, target);
  assert.equal(Array.from(host), [-1, -1, -1, -1, -1, ...data, -1, -1, -1]);
  assert.equal(Array.from(loadNpy(p, () => undefined).data as Int32Array), Array.from(data));
  assert.throws(() => loadNpy(p, () => new Float32Array(12)), /not a int32 array of 12 elements/);
  assert.throws(() => loadNpy(p, () => new Int32Array(11)), /not a int32 array of 12 elements/);
});

test('reads a Node Buffer (readFileSync) and a subarray with an offset', () => {
  const buf = readFileSync(join(FIX, 'npy-int32.npy'));
  const want = ramp.map((i) => i * 100003 - 1000000);
  assert.equal(Array.from(readNpy(buf).data as Int32Array), want);
  const padded = new Uint8Array(buf.length + 3);
  padded.set(buf, 3);
  assert.equal(Array.from(readNpy(padded.subarray(3)).data as Int32Array), want);
});

test('scalar, 1-d and v2 headers', () => {
  const s = readNpy(fixture('npy-scalar.npy'));
  assert.equal(s.shape, []);
  assert.equal(Array.from(s.data as Float32Array), [2.5]);
  assert.equal(Array.from(writeNpy(s)), Array.from(fixture('npy-scalar.npy')));
  const v = readNpy(fixture('npy-1d.npy'));
  assert.equal(v.shape, [5]);
  assert.equal(Array.from(writeNpy(v)), Array.from(fixture('npy-1d.npy')));
  const v2 = readNpy(fixture('npy-v2.npy'));
  assert.equal(v2.shape, [2, 3, 4]);
  assert.equal(Array.from(v2.data as Float32Array), ramp);
});

function throwsNpy(bytes: Uint8Array, file: string, pattern: RegExp) {
  try {
    readNpy(bytes, file);
  } catch (e) {
    assert.instance(e, NpyError);
    assert.ok(pattern.test((e as Error).message), (e as Error).message);
    assert.ok((e as Error).message.startsWith(`${file}: `));
    return;
  }
  assert.unreachable(`${file} was accepted`);
}

test('clear errors: Fortran order, big-endian, float16, truncation, not npy', () => {
  throwsNpy(fixture('npy-fortran.npy'), 'f.npy', /Fortran-order/);
  throwsNpy(fixture('npy-bigendian.npy'), 'b.npy', /unsupported dtype '>f4'/);
  throwsNpy(fixture('npy-float16.npy'), 'h.npy', /unsupported dtype '<f2'/);
  const full = fixture('npy-float32.npy');
  throwsNpy(full.subarray(0, full.length - 1), 't.npy', /truncated data/);
  throwsNpy(full.subarray(0, 40), 'h2.npy', /truncated .npy header/);
  throwsNpy(new TextEncoder().encode('hello, world'), 'x.npy', /not a .npy file/);
});

test('writeNpy refuses a shape that does not match the data', () => {
  assert.throws(() => writeNpy({ shape: [2, 2], data: new Float32Array(3) }), /holds 4 elements, data has 3/);
});

test('a failed saveNpy leaves an existing file untouched', () => {
  const dir = tempDir();
  const p = join(dir, 'keep.npy');
  writeFileSync(p, 'old');
  assert.throws(() => saveNpy(p, { shape: [2], data: new Float32Array(3) }));
  assert.is(readFileSync(p, 'utf8'), 'old');
  assert.equal(readdirSync(dir), ['keep.npy']);
});

test.run();
