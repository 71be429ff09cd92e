// `edgec distill --alpha 0` (labels only) never runs the teacher: with a teacher bundle that cannot even be
// loaded (garbage bytes) the run succeeds, says "teacher not run" on stdout and in the report (no teacher
// accuracy), and writes the same student bytes as with a real teacher; the same garbage teacher with α 0.7
// fails naming the file — so the teacher really would have been run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DistillReport } from '../../compiler/distill/index.ts';
import { edgecIn } from './run-edgec.ts';
import { writeTrainFixtures } from './train-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-distill-a0-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
writeTrainFixtures(tmp);
// not a bundle: loading it (let alone running it) fails
writeFileSync(at('broken.edgec'), new Uint8Array(256).fill(7));
const edgec = edgecIn(tmp);
const RUN = ['mlp.json', '--data', 'x.npy', '--labels', 'y.npy', '--val-data', 'vx.npy', '--val-labels', 'vy.npy'];
const FLAGS = ['--optimizer', 'adam', '--lr', '0.005', '--batch', '32', '--epochs', '1', '--threads', '1'];

test('--alpha 0: the teacher is never loaded or run; same student as with a real teacher', () => {
  const r = edgec(
    'distill',
    '--teacher',
    'broken.edgec',
    ...RUN,
    ...FLAGS,
    '--alpha',
    '0',
    '--report',
    'r.json',
    '-o',
    'a0.json',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /terms ce;/);
  assert.match(r.out, /teacher not run \(alpha 0: labels only\)/);
  const rep = JSON.parse(readFileSync(at('r.json'), 'utf8')) as DistillReport;
  assert.is(rep.teacherSkipped, 'alpha 0: labels only');
  assert.is(rep.teacher.accuracy, undefined);
  assert.is(rep.teacher.latencyMs, undefined);
  assert.is(rep.teacher.bundleBytes, 256);
  assert.ok(rep.student.accuracy! > 0.5, `student ${rep.student.accuracy}`);

  const real = edgec('distill', '--teacher', 'mlp.json', ...RUN, ...FLAGS, '--alpha', '0', '-o', 'a0-real.json');
  assert.is(real.code, 0, real.err);
  assert.match(real.out, /teacher not run/);
  assert.ok(readFileSync(at('a0.bin')).equals(readFileSync(at('a0-real.bin'))), 'the teacher changes nothing at α 0');
});

test('the same broken teacher with α 0.7 is loaded, and refused naming the file; nothing written', () => {
  const r = edgec('distill', '--teacher', 'broken.edgec', ...RUN, ...FLAGS, '--alpha', '0.7', '-o', 'a7.json');
  assert.is(r.code, 1, r.out + r.err);
  assert.match(r.err, /broken\.edgec/);
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  assert.not.ok(existsSync(at('a7.json')));
});

test.run();
