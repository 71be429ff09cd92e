// scripts/check-line-length.ts: lines over the limit are reported as file:line (characters, not bytes), the CLI
// exits 1 naming them and 0 when none is over; a missing path is a usage error, not a stack trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { longLines } from '../../scripts/check-line-length.ts';

const root = join(import.meta.dirname, '..', '..');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/check-line-length.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });

test('a line of 121 characters is over 120; 120 characters of multi-byte text is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-lines-'));
  try {
    const f = join(dir, 'k.ts');
    writeFileSync(f, ['// ' + '≤'.repeat(117), 'x'.repeat(121), 'y'.repeat(120), ''].join('\n'));
    const over = longLines([f], 120);
    assert.is(over.length, 1);
    assert.match(over[0]!, /k\.ts:2: 121 characters \(max 120\)$/);
    assert.equal(longLines([f], 121), []);
    const r = run('--max', '120', dir);
    assert.is(r.status, 1);
    assert.match(r.stderr, 'k.ts:2: 121 characters (max 120)');
    assert.match(r.stderr, '1 line(s) over 120 characters');
    assert.is(run('--max', '121', dir).status, 0);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a missing path or a bad --max is a one-line usage error', () => {
  const r = run('no/such/dir');
  assert.is(r.status, 2);
  assert.is(r.stderr.trim(), 'check-line-length: no such file or directory: no/such/dir');
  assert.is(run('--max', 'x').status, 2);
});

test.run();
