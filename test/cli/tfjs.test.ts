// The CLI on TF.js models (`node bin/edgec.js`, the dist bundle: build first): compile by content (a TF.js
// model.json is not edgec's), `inspect` shows the source format, `import` writes an edgec model.json that
// compiles to the same steps, `run` matches tfjs within 1e-4; failures are one stderr line and write nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy } from '../../compiler/io/npy.ts';
import { summarizeBundle } from '../../compiler/cli/inspect.ts';
import { ROOT, edgecIn } from './run-edgec.ts';
import { tfjsRun } from '../compiler/frontend/tfjs/tfjs-oracle.ts';
import { maxScaledDiff } from '../compiler/frontend/onnx/oracle-data.ts';

const FIX = join(ROOT, 'test/fixtures/tfjs');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-tfjs-cli-'));
const at = (name: string) => join(tmp, name);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);

function failsOneLine(r: ReturnType<typeof edgec>, ...parts: string[]): void {
  assert.is.not(r.code, 0);
  const lines = r.err.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `one stderr line, got:\n${r.err}`);
  for (const p of parts) assert.ok(lines[0]!.includes(p), `'${lines[0]}' lacks ${p}`);
}

test('compile + inspect + run a TF.js graph-model (the real human-gender model)', async () => {
  const model = join(FIX, 'human-gender/gender.json');
  const r = edgec('compile', model, '-o', at('gender.edgec'));
  assert.is(r.code, 0, r.err);
  const i = edgec('inspect', at('gender.edgec'));
  assert.is(i.code, 0, i.err);
  assert.match(i.out.split('\n')[0]!, "model 'gender', target simd, edgec");
  assert.match(i.out.split('\n')[0]!, 'from tfjs graph-model');
  const x = Float32Array.from({ length: 64 * 64 }, (_, k) => ((k * 29) % 97) / 97);
  saveNpy(at('x.npy'), { shape: [1, 64, 64, 1], data: x });
  const run = edgec('run', at('gender.edgec'), '--input', at('x.npy'), '-o', at('y.npy'));
  assert.is(run.code, 0, run.err);
  const [want] = await tfjsRun(model, [{ data: x, shape: [1, 64, 64, 1] }]);
  const diff = maxScaledDiff(loadNpy(at('y.npy')).data as Float32Array, want!);
  assert.ok(diff <= 1e-4, `diff ${diff}`);
});

test('import a layers-model → edgec model.json that compiles to the same steps', () => {
  const model = join(FIX, 'layers-functional-uint8/model.json');
  assert.is(edgec('compile', model, '-o', at('f1.edgec')).code, 0);
  const r = edgec('import', model, '-o', at('functional.json'));
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'wrote functional.bin, functional.json');
  const json = JSON.parse(readFileSync(at('functional.json'), 'utf8')) as { format: string };
  assert.is(json.format, 'edgec-model');
  assert.is(edgec('compile', at('functional.json'), '-o', at('f2.edgec')).code, 0);
  const a = summarizeBundle(new Uint8Array(readFileSync(at('f1.edgec'))));
  const b = summarizeBundle(new Uint8Array(readFileSync(at('f2.edgec'))));
  assert.equal(b.rows, a.rows);
  assert.is(a.metadata.sourceFormat, 'tfjs layers-model');
  assert.is(b.metadata.sourceFormat, undefined);
});

test('bad TF.js files: one line naming file and weight, nothing written; import never overwrites the model', () => {
  const dir = at('broken');
  cpSync(join(FIX, 'graph-model'), dir, { recursive: true });
  rmSync(join(dir, 'group1-shard1of1.bin'));
  const before = readdirSync(tmp).length;
  failsOneLine(
    edgec('compile', join(dir, 'model.json'), '-o', at('broken.edgec')),
    'model.json',
    "weight 'pre/scale'",
    'no such file',
  );
  failsOneLine(edgec('import', join(dir, 'model.json'), '-o', at('broken.json')), "weight 'pre/scale'");
  assert.is(readdirSync(tmp).length, before, 'no output file');
  const own = at('own');
  cpSync(join(FIX, 'layers-cnn'), own, { recursive: true });
  const json = readFileSync(join(own, 'model.json'));
  failsOneLine(edgec('import', join(own, 'model.json'), '-o', join(own, 'model.json')), 'would overwrite');
  failsOneLine(edgec('import', join(own, 'model.json'), '-o', join(own, 'group1-shard1of2.json')), 'would overwrite');
  assert.equal(readFileSync(join(own, 'model.json')), json);
  assert.not.ok(existsSync(join(own, 'model.bin')));
});

test.run();
