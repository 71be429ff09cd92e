// The scratch shapes schema/bundle.fbs states in its KernelId comments are the ones docs/bundle-format.md
// gives (and test/compiler/lower/int8.test.ts checks the lowering allocates): the schema once said
// [(OW-1)*SW+KW, Ci] for Conv1xK_QS8 while lowering allocates [R·L, Ci] (issue 11).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const schema = readFileSync(join(root, 'schema', 'bundle.fbs'), 'utf8');
const doc = readFileSync(join(root, 'docs', 'bundle-format.md'), 'utf8');
const scratchOf = (line: string | undefined) => line?.match(/scratch i8 (\[[^\]]*\])/)?.[1]?.replace(/\s+/g, '');

for (const kernel of ['Conv2D_QS8', 'Conv1xK_QS8', 'ConvKx1_QS8']) {
  test(`${kernel}: scratch shape in the schema comment = docs/bundle-format.md`, () => {
    const fbs = scratchOf(schema.split('\n').find((l) => new RegExp(`^\\s*${kernel} = \\d+`).test(l)));
    const md = scratchOf(doc.split('\n').find((l) => l.startsWith('| ') && l.split('|')[1]!.split(',').map((k) => k.trim()).includes(kernel)));
    assert.ok(fbs !== undefined && md !== undefined, `${kernel}: schema ${fbs}, docs ${md}`);
    assert.is(fbs, md);
  });
}

test.run();
