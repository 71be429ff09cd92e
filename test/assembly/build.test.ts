// Static checks of the two .wasm builds: no imports at all (wasm3 refuses unresolved ones), the
// ABI exports present, and the scalar build passes wasm-opt with only the features wasm3 >= 0.5
// supports (docs: WASM3 facts) while the simd build fails that same check (so the check can fail), and no function
// an MCU host runs nests its blocks deeper than wasm3 0.9.0 validates at its embedded stack height 128.
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

// wasm3 0.9.0 validates a function with at most d_m3ValCtrlDepth = stack height / 8 = 16 control frames, the
// function's own included: 15 nested block / loop / if at stack height 128 ("compiling function overran its stack
// height limit" at edgec_load otherwise). Read off the scalar build's text form (build/edgec-scalar.wat, the same
// module asc writes as the .wasm, one instruction per line). Not run by an inference host, so not bounded here:
// the training steps and kernels, and the reference twins (load(…, { reference: true }) only).
const WASM3_MAX_NESTING = 15;
const NOT_INFERENCE = /^\$assembly\/(reference\/|kernels\/train\/|kernels\/train-(steps|checks)\/)/;

/** Deepest block / loop / if nesting of every function in a .wat in linear form. */
export function blockNesting(wat: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of wat.split('\n (func ').slice(1)) {
    const lines = f.split('\n');
    let depth = 0,
      max = 0;
    for (const line of lines.slice(1)) {
      const t = line.trim();
      if (/^(block|loop|if)\b/.test(t)) max = Math.max(max, ++depth);
      else if (/^end\b/.test(t)) depth--;
    }
    out.set(lines[0]!.split(' ')[0]!, max);
  }
  return out;
}

test('scalar build: every function an inference host runs nests ≤ 15 blocks (wasm3 0.9.0 at stack height 128)', () => {
  const nesting = blockNesting(readFileSync(wasmPath('scalar').replace(/\.wasm$/, '.wat'), 'utf8'));
  assert.ok(nesting.size > 100, `read ${nesting.size} functions`);
  assert.ok(
    nesting.get('$assembly/kernels/qs8-steps/checkQs8Step')! >= 2,
    'checkQs8Step (the function that once nested 20 deep) is in the module',
  );
  const deep = [...nesting].filter(([name, d]) => d > WASM3_MAX_NESTING && !NOT_INFERENCE.test(name));
  assert.equal(deep, []);
  // the measure can fail: the training dispatch (one else-if chain over every training id) is found deep
  const train = nesting.get('$assembly/kernels/train-steps/runTrainStep')!;
  assert.ok(train > WASM3_MAX_NESTING, `runTrainStep nests ${train}`);
});

test.run();
