// Static checks of the two .wasm builds: no imports at all (wasm3 refuses unresolved ones), the
// ABI exports present, and the scalar build passes wasm-opt with only the features wasm3 >= 0.5
// supports (docs: WASM3 facts) while the simd build fails that same check (so the check can fail).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { wasmPath } from '../../runtime/node.ts';

const WASM3_FEATURES = [
  '--mvp-features',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-bulk-memory-opt',
];

function wasmOpt(file: string): { status: number | null; stderr: string } {
  const r = spawnSync('node_modules/.bin/wasm-opt', [...WASM3_FEATURES, file, '-o', '/dev/null'], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const ABI = [
  'edgec_alloc',
  'edgec_load',
  'edgec_error_ptr',
  'edgec_error_len',
  'edgec_arena_size',
  'edgec_input_count',
  'edgec_input_ptr',
  'edgec_input_size',
  'edgec_output_count',
  'edgec_output_ptr',
  'edgec_output_size',
  'edgec_run',
  'edgec_set_reference',
  'memory',
];

for (const build of ['simd', 'scalar'] as const) {
  test(`${build} build: no imports, every ABI export`, () => {
    const m = new WebAssembly.Module(readFileSync(wasmPath(build)));
    assert.equal(WebAssembly.Module.imports(m), []);
    const names = WebAssembly.Module.exports(m).map((e) => e.name);
    for (const e of ABI) assert.ok(names.includes(e), `missing export ${e}`);
  });
}

test('scalar build validates with wasm3 features only', () => {
  const r = wasmOpt(wasmPath('scalar'));
  assert.is(r.status, 0, r.stderr);
});

test('simd build fails the wasm3 feature check (the check is able to fail)', () => {
  const r = wasmOpt(wasmPath('simd'));
  assert.is.not(r.status, 0);
});

test.run();
