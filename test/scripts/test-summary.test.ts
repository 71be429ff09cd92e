// scripts/test.js's summary counts and names a suite skipped for a missing tool (here flatc, hidden by a
// PATH that holds only node), and under CI=true the same missing tool is a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../cli/run-edgec.ts';

const bin = mkdtempSync(join(tmpdir(), 'edgec-path-'));
symlinkSync(process.execPath, join(bin, 'node'));

function npmTest(pattern: string, ci: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, CI: ci };
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/test.js'), pattern], { cwd: ROOT, encoding: 'utf8', env });
  const lines = r.stdout.trimEnd().split('\n');
  return { code: r.status, last: lines.at(-1), before: lines.at(-2) };
}

test.after(() => rmSync(bin, { recursive: true, force: true }));

test('a suite skipped for a missing tool is counted and named', () => {
  const r = npmTest('schema/generated', '');
  assert.is(r.code, 0);
  assert.is(r.last, 'tests: 0 passed, 0 failed, 1 skipped');
  assert.is(r.before, 'skipped suites (1): schema/generated (flatc: apt-get install flatbuffers-compiler)');
});

test('under CI=true the missing tool fails the run', () => {
  const r = npmTest('schema/generated', 'true');
  assert.is.not(r.code, 0);
  assert.is(r.last, 'tests: 0 passed, 1 failed, 0 skipped');
});

if (spawnSync('flatc', ['--version']).status === 0)
  test('with the tool present nothing is skipped', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/test.js'), 'schema/generated'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.is(r.stdout.trimEnd().split('\n').at(-1), 'tests: 1 passed, 0 failed, 0 skipped');
  });

test.run();
