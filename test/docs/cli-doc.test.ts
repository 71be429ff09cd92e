// docs/cli.md is the CLI's own --help output; this fails when a flag changes without the doc.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

test('docs/cli.md matches `edgec <command> --help`', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/cli-doc.js'), '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test.run();
