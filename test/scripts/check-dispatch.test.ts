// scripts/check-dispatch.ts on modified copies of the AS dispatch sites in a temp dir: each way a hand-written switch
// can drift from compiler/kernels/registry.ts (a kernel forgotten, named twice, named in the wrong family's file,
// an id the registry lacks, a branch not calling the registry's twin, a family hand-off lost) is one message naming
// the file and the kernel, and `scripts/gen-kernels.ts --check --root` exits 1 with it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dispatchProblems, SITES } from '../../scripts/check-dispatch.ts';
import { KERNELS } from '../../compiler/kernels/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const FILES = [...new Set(SITES.map((s) => s.file)), 'schema/bundle.fbs', 'assembly/bundle/kernel-ids.ts'];

/** A temp copy of the checked files with one text replacement (which must apply) in one of them. */
function copyWith(file: string, from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-dispatch-'));
  for (const f of FILES) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f));
  }
  const text = readFileSync(join(dir, file), 'utf8');
  assert.ok(text.includes(from), `${file} contains ${JSON.stringify(from)}`);
  writeFileSync(join(dir, file), text.replace(from, to));
  return dir;
}

function problemsWith(file: string, from: string, to: string): string[] {
  const dir = copyWith(file, from, to);
  try {
    return dispatchProblems(dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test('the checkout: every registry kernel dispatched once at each of its sites', () => {
  assert.equal(dispatchProblems(root), []);
  for (const family of ['f32', 'any', 'control', 'qs8', 'train'] as const) {
    assert.ok(SITES.filter((s) => s.byId.includes(family)).length >= 2, `${family}: a run site and a check site`);
  }
  assert.ok(KERNELS.every((k) => SITES.some((s) => s.byId.includes(k.family))));
});

test('a forgotten case names the kernel, the file and the function', () => {
  const p = problemsWith('assembly/float-steps.ts', 'case K_PAD:', 'case 999:');
  assert.equal(p, [
    'assembly/float-steps.ts runnerOfAny(): no branch for K_PAD (Pad, any): add one that calls its reference twin refPad',
  ]);
  const q = problemsWith(
    'assembly/kernels/qs8-steps.ts',
    'else if (k == K_REQUANTIZE_QS8) checkElementwise',
    'else if (k == 999) checkElementwise',
  );
  assert.equal(q, [
    'assembly/kernels/qs8-steps.ts checkQs8Step(): no branch for K_REQUANTIZE_QS8 (Requantize_QS8, qs8): ' +
      'add one that calls its check checkElementwise',
  ]);
});

test('a kernel dispatched twice, an id in the wrong family file, an id the registry lacks', () => {
  const twice = problemsWith(
    'assembly/bundle/step-checks.ts',
    '    case K_COPY:',
    '    case K_PAD:\n      return (m: Model, s: StepInfo): void => checkPad(m, s);\n    case K_COPY:',
  );
  assert.is(twice.length, 1);
  assert.match(
    twice[0]!,
    /^assembly\/bundle\/step-checks\.ts checkOfAny\(\): K_PAD \(Pad\) is dispatched 2 times \(lines \d+, \d+\)$/,
  );
  const wrong = problemsWith(
    'assembly/kernels/train-steps.ts',
    '} else if (k == K_SGD_UPDATE) {',
    '} else if (k == K_SGD_UPDATE || k == K_DENSE) {',
  );
  assert.equal(wrong, [
    'assembly/kernels/train-steps.ts runTrainStep() names K_DENSE (Dense_F32), a f32 kernel: it is dispatched in ' +
      'assembly/float-steps.ts runnerOf, assembly/bundle/step-checks.ts checkOf, not here',
  ]);
  const unknown = problemsWith(
    'assembly/kernels/qs8-steps.ts',
    '} else if (k == K_REQUANTIZE_QS8) {',
    '} else if (k == K_REQUANTIZE_QS8 || k == K_FOO_QS8) {',
  );
  assert.equal(unknown, [
    'assembly/kernels/qs8-steps.ts runQs8Step() names K_FOO_QS8, which compiler/kernels/registry.ts lacks',
  ]);
});

test('a branch that does not call the registry twin; a lost family hand-off', () => {
  const twin = problemsWith('assembly/float-steps.ts', 'if (ref) refDense(', 'if (ref) refPool(');
  assert.is(twin.length, 1);
  assert.match(
    twin[0]!,
    /^assembly\/float-steps\.ts:\d+ runnerOf\(\): the branch for K_DENSE \(Dense_F32\) does not call refDense/,
  );
  const handOff = problemsWith('assembly/bundle/validate.ts', 'else if (isTrainKernel(k))', 'else if (k < 0)');
  assert.equal(handOff, [
    'assembly/bundle/validate.ts validateSteps(): calls isTrainKernel() 0 times in a condition; ' +
      'the train kernels need exactly one hand-off',
  ]);
});

test('gen-kernels --check --root exits 1 on a copy missing a case and prints the message', () => {
  const dir = copyWith('assembly/kernels/train-checks.ts', 'if (k == K_GLOBAL_NORM_SCALE) {', 'if (k == 999) {');
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts/gen-kernels.ts'), '--check', '--root', dir],
      { cwd: root, encoding: 'utf8' },
    );
    assert.is(r.status, 1);
    assert.match(
      r.stderr,
      'assembly/kernels/train-checks.ts checkTrainStep(): no branch for K_GLOBAL_NORM_SCALE ' +
        '(GlobalNormScale_F32, train)',
    );
    assert.not.match(r.stderr, 'stale');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();

test('a branch handing its step to a same-file helper: the twin is searched there, and missed there', () => {
  // qs8-steps.ts runs Softmax_QS8 and Lut_QS8 through tableStepQs8 (out of line for wasm3's stack height)
  assert.equal(dispatchProblems(root), []);
  const p = problemsWith(
    'assembly/kernels/qs8-steps.ts',
    'if (ref) refLutQs8(xp, table, yp, <i32>y.elems);',
    'if (ref) lutQs8(xp, table, yp, <i32>y.elems);',
  );
  assert.equal(p.length, 1);
  assert.match(p[0]!, /qs8-steps\.ts:\d+ runQs8Step\(\): the branch for K_LUT_QS8 \(Lut_QS8\) does not call refLutQs8/);
});
