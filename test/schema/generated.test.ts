// The generated FlatBuffers readers must be exactly what `npm run schema` makes from schema/bundle.fbs,
// so nobody edits them by hand and a schema change never ships without its readers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipSuite } from '../skip-suite.ts';

const root = join(import.meta.dirname, '..', '..');
const hasFlatc = spawnSync('flatc', ['--version']).status === 0;

if (!hasFlatc) skipSuite('schema/generated', 'flatc: apt-get install flatbuffers-compiler');
else test('schema/generated is reproduced by the npm "schema" script', () => {
  const script = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.schema as string;
  const dir = mkdtempSync(join(tmpdir(), 'edgec-schema-'));
  try {
    const args = script.split(/\s+/).slice(1).map((a) => (a === 'schema/generated' ? dir : a));
    execFileSync('flatc', args, { cwd: root });
    const fresh = readFileSync(join(dir, 'bundle_generated.ts'), 'utf8');
    const committed = readFileSync(join(root, 'schema', 'generated', 'bundle_generated.ts'), 'utf8');
    assert.ok(fresh === committed, 'schema/generated/bundle_generated.ts differs from flatc output: run npm run schema');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
