// Keeps docs/model-format.md in step with OP_SCHEMAS: every op has a section, and every attr of
// the op is named in it, so a new op or attr cannot ship undocumented.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OpType } from '../../../../compiler/ir/graph.ts';
import { OP_SCHEMAS } from '../../../../compiler/ir/op-schema.ts';

const DOC = readFileSync(fileURLToPath(new URL('../../../../docs/model-format.md', import.meta.url)), 'utf8');

/** "### Add, Sub" sections: op name → section text. */
function opSections(): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of DOC.split(/^### /m).slice(1)) {
    const [heading, ...body] = part.split('\n');
    for (const op of heading.split(',').map((s) => s.trim())) sections.set(op, body.join('\n').split(/^## /m)[0]);
  }
  return sections;
}

test('every op in OP_SCHEMAS has a section in docs/model-format.md naming all its attrs', () => {
  const sections = opSections();
  for (const [op, schema] of Object.entries(OP_SCHEMAS) as [OpType, (typeof OP_SCHEMAS)[OpType]][]) {
    const text = sections.get(op);
    assert.ok(text !== undefined, `no "### ${op}" section`);
    for (const attr of Object.keys(schema.attrs)) {
      assert.ok(text!.includes(`\`${attr}\``), `${op}: attr \`${attr}\` not documented`);
    }
  }
});

test('the doc documents no op the schema lacks', () => {
  for (const op of opSections().keys()) assert.ok(op in OP_SCHEMAS, `doc section for unknown op ${op}`);
});

test("the doc's complete example is the tiny-cnn fixture", () => {
  const fixture = readFileSync(
    fileURLToPath(new URL('../../../fixtures/model-json/tiny-cnn.json', import.meta.url)),
    'utf8',
  );
  const example = /```json\n([\s\S]*?)```/.exec(DOC)![1];
  assert.equal(JSON.parse(example), JSON.parse(fixture));
});

test.run();
