// docs/architecture.md names files a new engineer opens: every path it quotes (in backticks, with a
// directory and an extension, placeholders like <op> aside) must exist, so the map follows the code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** Paths in the page are written from the repository root or from compiler/ or assembly/. */
const BASES = ['', 'compiler', 'assembly'];

test('every file path quoted in docs/architecture.md exists', () => {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const paths = [...doc.matchAll(/`([\w./-]+\/[\w.-]+\.(?:ts|fbs|md|js))`/g)].map((m) => m[1]!);
  assert.ok(paths.length > 20, `expected the page to quote its files, found ${paths.length}`);
  const missing = [...new Set(paths)].filter((p) => !BASES.some((b) => existsSync(join(ROOT, b, p))));
  assert.equal(missing, []);
});

test.run();
