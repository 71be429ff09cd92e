// The AssemblyScript reader's field slots (assembly/bundle/slots.ts) against the flatc-generated
// TypeScript builders: every `add<Field>(builder, …) { builder.addField…(slot, …) }` of every table
// must have a constant `<Table>_<field>` with the same slot, and no constant may be stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

test('slots.ts mirrors schema/bundle.fbs (via the generated builders)', () => {
  const gen = readFileSync('schema/generated/bundle_generated.ts', 'utf8');
  const want = new Map<string, number>();
  for (const part of gen.split(/^export class /m).slice(1)) {
    const cls = /^(\w+)/.exec(part)![1]!;
    if (cls.endsWith('T')) continue; // object-API classes repeat the fields
    for (const m of part.matchAll(
      /static add(\w+)\(builder:flatbuffers\.Builder, [^)]*\) \{\s*builder\.addField\w+\((\d+),/g,
    )) {
      const field = snake(m[1]![0]!.toLowerCase() + m[1]!.slice(1));
      want.set(`${cls}_${field}`, Number(m[2]));
    }
  }
  const src = readFileSync('assembly/bundle/slots.ts', 'utf8');
  const have = new Map<string, number>();
  for (const m of src.matchAll(/export const (\w+): i32 = (\d+);/g)) have.set(m[1]!, Number(m[2]));
  assert.ok(want.size > 50, `parsed only ${want.size} generated fields`);
  for (const [k, v] of want) assert.is(have.get(k), v, `slot of ${k}`);
  for (const k of have.keys()) assert.ok(want.has(k), `stale slot constant ${k}`);
});

test.run();
