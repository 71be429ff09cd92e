// `tsc --noEmit` over the compiler, runtime, scripts and tests (tsconfig.json: strict, noUnusedLocals) is part of
// npm test, so a type error or a dead local fails the suite like any other test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

test('tsc --noEmit -p tsconfig.json reports nothing', () => {
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'],
    { cwd: root, encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test.run();
