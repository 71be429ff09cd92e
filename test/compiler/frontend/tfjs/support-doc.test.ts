// docs/tfjs-support.md follows the code: every layer class and graph op the frontend maps appears in its
// tables (and each table row names only things the frontend maps), so the page cannot drift from the code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUPPORTED_GRAPH_OPS, SUPPORTED_LAYERS } from '../../../../compiler/frontend/tfjs/index.ts';

const doc = readFileSync(join(import.meta.dirname, '../../../../docs/tfjs-support.md'), 'utf8');

/** First-column names of the table under `heading`. */
function tableNames(heading: string): string[] {
  const section = doc.split(`## ${heading}`)[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| layer') && !l.startsWith('| op') && !l.startsWith('|---'))
    .flatMap((l) =>
      l
        .split('|')[1]!
        .split(',')
        .map((s) => s.replace(/ \(.*$/, '').trim()),
    );
}

test('every mapped layer class is in the layers table, and the table names no other', () => {
  const names = tableNames('Layers-models');
  assert.equal(
    SUPPORTED_LAYERS.filter((l) => !names.includes(l)),
    [],
  );
  assert.equal(
    names.filter((n) => n !== 'InputLayer' && !SUPPORTED_LAYERS.includes(n)),
    [],
  );
});

test('every mapped graph op is in the graph-model table, and the table names no other', () => {
  const names = tableNames('Graph-models');
  assert.equal(
    SUPPORTED_GRAPH_OPS.filter((o) => !names.includes(o)),
    [],
  );
  const extra = ['Placeholder', 'Const', 'NoOp'];
  assert.equal(
    names.filter((n) => !extra.includes(n) && !SUPPORTED_GRAPH_OPS.includes(n)),
    [],
  );
});

test.run();
