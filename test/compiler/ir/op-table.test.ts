// The op table is the list of op files: every file of compiler/ir/ops/ (besides the table, the shared
// helpers and the OpDef type) exports op definitions that are in OPS, and every OPS entry comes from one;
// and compiler/ir/** never imports compiler/quantize/** (ir is below quantize: no cycle back up).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OPS } from '../../../compiler/ir/ops/index.ts';
import type { OpDef } from '../../../compiler/ir/ops/op-def.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const OPS_DIR = join(ROOT, 'compiler/ir/ops');
const NOT_OP_FILES = new Set(['index.ts', 'helpers.ts', 'op-def.ts']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative module specifiers of a file's static imports and re-exports, resolved to repo paths. */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs = [...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  specs.push(...[...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!));
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

const isOpDef = (v: unknown): v is OpDef =>
  typeof v === 'object' &&
  v !== null &&
  'schema' in v &&
  typeof (v as OpDef).infer === 'function' &&
  typeof (v as OpDef).evaluate === 'function';

test('every op file exports op definitions listed in OPS, and every OPS entry comes from an op file', async () => {
  const fromFiles = new Set<OpDef>();
  for (const f of readdirSync(OPS_DIR).filter((f) => f.endsWith('.ts') && !NOT_OP_FILES.has(f))) {
    const mod = (await import(pathToFileURL(join(OPS_DIR, f)).href)) as Record<string, unknown>;
    const defs = Object.values(mod).filter(isOpDef);
    assert.ok(defs.length > 0, `${f} exports no op definition`);
    for (const d of defs) {
      assert.ok(Object.values(OPS).includes(d), `${f} exports an op definition missing from OPS`);
      fromFiles.add(d);
    }
  }
  for (const [op, def] of Object.entries(OPS)) assert.ok(fromFiles.has(def), `OPS.${op} is not exported by an op file`);
});

test('the import scan sees imports (sanity: ir/reference.ts imports the op table)', () => {
  assert.ok(importsOf(join(ROOT, 'compiler/ir/reference.ts')).includes('compiler/ir/ops/index.ts'));
});

test('compiler/ir/** imports nothing from compiler/quantize/**', () => {
  const bad = tsFiles(join(ROOT, 'compiler/ir')).flatMap((f) =>
    importsOf(f)
      .filter((p) => p.startsWith('compiler/quantize/'))
      .map((p) => `${relative(ROOT, f)} → ${p}`),
  );
  assert.equal(bad, []);
});

test.run();
