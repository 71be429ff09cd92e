// NpyFile (compiler/io/npy.ts): rows read by positioned reads equal the same rows of the whole-file
// reader, for every numpy-written dtype fixture, a v2 header, scattered and consecutive rows;
// truncated files and rows out of range are clear errors naming the file. loadNpy's direct read equals readNpy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NpyError, NpyFile, loadNpy, readNpy, readNpyHeader, saveNpy, writeNpy } from '../../../compiler/io/npy.ts';

const FIX = join(import.meta.dirname, '../../fixtures/cli');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-npyfile-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function rowsOf(data: ArrayLike<unknown>, rowElements: number, idx: number[]): unknown[] {
  return idx.flatMap((r) => Array.from({ length: rowElements }, (_, k) => data[r * rowElements + k]));
}

for (const dtype of ['float32', 'float64', 'int8', 'uint8', 'int32', 'int64']) {
  test(`rows of numpy-written ${dtype} [2,3,4] equal readNpy's`, () => {
    const path = join(FIX, `npy-${dtype}.npy`);
    const whole = loadNpy(path);
    const f = new NpyFile(path);
    try {
      assert.is(f.dtype, whole.dtype);
      assert.equal(f.shape, [2, 3, 4]);
      assert.is(f.rows, 2);
      assert.is(f.rowElements, 12);
      for (const idx of [[0], [1], [1, 0], [0, 1], [1, 1, 0]]) {
        const got = f.readRows(idx);
        assert.is(got.constructor, whole.data.constructor);
        assert.equal(Array.from(got as ArrayLike<unknown>), rowsOf(whole.data, 12, idx), `rows ${idx}`);
      }
    } finally {
      f.close();
    }
  });
}

test('2,000 rows with a v2 header: scattered, repeated and consecutive rows; header offset', () => {
  const n = 2000;
  const data = Float32Array.from({ length: n * 5 }, (_, i) => Math.fround(Math.sin(i) * 100));
  const bytes = writeNpy({ shape: [n, 5], data });
  // Rewrite as a v2 header by hand: magic, 2.0, u32 length, the same dict padded to 64 bytes.
  const v1 = readNpyHeader(bytes);
  const dict = new TextDecoder().decode(bytes.subarray(10, v1.dataOffset)).trim();
  const headerLen = 128 - 12;
  const v2 = new Uint8Array(128 + data.byteLength);
  v2.set(bytes.subarray(0, 6));
  v2[6] = 2;
  new DataView(v2.buffer).setUint32(8, headerLen, true);
  v2.set(new TextEncoder().encode(dict.padEnd(headerLen - 1) + '\n'), 12);
  v2.set(new Uint8Array(data.buffer), 128);
  const path = join(tmp, 'v2.npy');
  writeFileSync(path, v2);
  assert.equal(readNpy(v2).data, data);
  const f = new NpyFile(path);
  const idx = [1999, 0, 1, 2, 3, 500, 500, 1234, 1998, 1999];
  assert.equal(Array.from(f.readRows(idx) as Float32Array), rowsOf(data, 5, idx));
  assert.throws(() => f.readRows([2000]), /v2\.npy: row 2000 outside \[0, 2000\)/);
  assert.throws(() => f.readRows([-1]), /row -1 outside/);
  f.close();
  assert.throws(() => f.readRows([0]), /read after close/);
});

test('a truncated file or a file that is not .npy is refused on open, naming the file', () => {
  const path = join(tmp, 'full.npy');
  saveNpy(path, { shape: [10, 3], data: new Int32Array(30) });
  const bytes = readFileSync(path);
  const cut = join(tmp, 'cut.npy');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 4));
  try {
    new NpyFile(cut);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, NpyError);
    assert.match((e as Error).message, /cut\.npy: truncated data: shape \[10,3\] int32 needs 120 bytes, file has 116/);
  }
  const junk = join(tmp, 'junk.npy');
  writeFileSync(junk, 'hello, world');
  assert.throws(() => new NpyFile(junk), /junk\.npy: not a \.npy file/);
  const scalar = join(tmp, 'scalar.npy');
  saveNpy(scalar, { shape: [], data: new Float32Array(1) });
  assert.throws(() => new NpyFile(scalar), /scalar\.npy: a 0-d array has no rows/);
});

test("loadNpy reads the data straight into its typed array: readNpy's arrays and errors", () => {
  for (const f of ['scalar', '1d', 'v2', 'float32', 'float64', 'int8', 'uint8', 'int32', 'int64']) {
    const path = join(FIX, `npy-${f}.npy`);
    const got = loadNpy(path),
      want = readNpy(readFileSync(path), path);
    assert.is(got.dtype, want.dtype, f);
    assert.equal(got.shape, want.shape, f);
    assert.is(got.data.constructor, want.data.constructor, f);
    assert.equal(Array.from(got.data as ArrayLike<unknown>), Array.from(want.data as ArrayLike<unknown>), f);
  }
  const full = readFileSync(join(FIX, 'npy-float32.npy'));
  for (const [name, bytes] of [
    ['t.npy', full.subarray(0, full.length - 1)],
    ['h2.npy', full.subarray(0, 40)],
    ['x.npy', new TextEncoder().encode('hello, world')],
    ['f.npy', readFileSync(join(FIX, 'npy-fortran.npy'))],
  ] as const) {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    let want = '';
    try {
      readNpy(bytes, path);
    } catch (e) {
      want = (e as Error).message;
    }
    assert.ok(want !== '', name);
    assert.throws(
      () => loadNpy(path),
      (e: unknown) => e instanceof NpyError && (e as Error).message === want,
    );
  }
});

test.run();
