// `edgec distill` as a user runs it on the digits fixtures (test/cli/train-fixtures.ts): a teacher MLP trained
// by `edgec train`, a half-width student. KD with a hint writes the model and a report whose terms sum to the
// loss; --quantize int8 writes an int8 bundle; a compiled .edgec teacher works; --resume without --teacher
// continues on new data (continual) and reports old / new task accuracy before and after; every bad input is
// one error naming the file, node or flag, and no output file appears.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph, Node, Tensor } from '../../compiler/ir/graph.ts';
import { writeModelJson } from '../../compiler/frontend/model-json/index.ts';
import { saveNpy } from '../../compiler/io/npy.ts';
import { inferShapes } from '../../compiler/passes/infer-shapes.ts';
import type { DistillReport } from '../../compiler/distill/index.ts';
import { load } from '../../runtime/node.ts';
import { randF32, rng } from '../assembly/harness.ts';
import { edgecIn } from './run-edgec.ts';
import { digits, TRAIN_N, writeTrainFixtures } from './train-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-distill-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
writeTrainFixtures(tmp);
const edgec = edgecIn(tmp);

/** 64 → 16 relu → `classes`, seeded uniform weights. */
function student(classes = 10): Graph {
  const r = rng(9);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [1, 64]),
    t('w1', [16, 64], randF32(r, 1024, -0.3, 0.3)),
    t('b1', [16], new Float32Array(16)),
    t('w2', [classes, 16], randF32(r, classes * 16, -0.5, 0.5)),
    t('b2', [classes], new Float32Array(classes)),
  ]);
  const nodes: Node[] = [
    { name: 'fc1', op: 'Dense', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { activation: 'relu' } },
    { name: 'fc2', op: 'Dense', inputs: ['h', 'w2', 'b2'], outputs: ['logits'], attrs: {} },
  ];
  const g: Graph = { name: 'student', tensors, nodes, inputs: ['x'], outputs: ['logits'], source: 'student.json' };
  inferShapes.run(g);
  return g;
}
writeModelJson(student(), at('student.json'));
writeModelJson(student(5), at('five.json'));
// 100 labels for 1,440 samples (a bad input)
const d = digits();
saveNpy(at('short-y.npy'), { shape: [100], data: Int32Array.from(d.y.slice(0, 100)) });

const DATA = ['--data', 'x.npy', '--labels', 'y.npy', '--val-data', 'vx.npy', '--val-labels', 'vy.npy'];
const COMMON = ['--optimizer', 'adam', '--lr', '0.005', '--batch', '32', '--threads', '1'];
const report = (f: string) => JSON.parse(readFileSync(at(f), 'utf8')) as DistillReport;

test.before(() => {
  const r = edgec(
    'train',
    'mlp.json',
    '--data',
    'x.npy',
    '--labels',
    'y.npy',
    '--epochs',
    '3',
    '--lr',
    '0.05',
    '--momentum',
    '0.9',
    '-o',
    'teacher.json',
  );
  assert.is(r.code, 0, r.err);
});

test('KD + hint: epoch lines by term, the summary table, a report whose terms sum to the loss, the model', () => {
  const r = edgec(
    'distill',
    '--teacher',
    'teacher.json',
    'student.json',
    ...DATA,
    ...COMMON,
    '--epochs',
    '2',
    '--hint',
    'fc1:fc1',
    '--hint-weight',
    '0.5',
    '--checkpoint',
    'ck',
    '--report',
    'r.json',
    '-o',
    'kd.json',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /terms kd \+ ce \+ hint:fc1/);
  assert.match(r.out, /epoch 2\/2: loss [\d.]+ \(kd [\d.]+, ce [\d.]+, hint:fc1 [\d.]+\), train accuracy/);
  assert.match(r.out, /teacher outputs cached once/);
  assert.match(r.out, /^student +[\d.]+ %/m);
  const rep = report('r.json');
  assert.equal(rep.terms, ['kd', 'ce', 'hint:fc1']);
  for (const e of rep.epochs) {
    const s = Object.values(e.terms).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s - e.loss) <= 1e-6 * e.loss, `${s} vs ${e.loss}`);
  }
  assert.ok(rep.teacher.accuracy! > 0.85 && rep.student.accuracy! > 0.7, JSON.stringify([rep.teacher, rep.student]));
  assert.is(rep.student.params, 64 * 16 + 16 + 16 * 10 + 10);
  assert.ok(rep.student.latencyMs! > 0 && rep.student.bundleBytes < rep.teacher.bundleBytes);
  assert.ok(existsSync(at('kd.json')) && existsSync(at('kd.bin')) && existsSync(at('ck/checkpoint.edgeckpt')));
});

test('--quantize int8 writes an int8 bundle; a compiled .edgec teacher works', async () => {
  const c = edgec('compile', 'teacher.json', '-o', 'teacher.edgec');
  assert.is(c.code, 0, c.err);
  const r = edgec(
    'distill',
    '--teacher',
    'teacher.edgec',
    'student.json',
    ...DATA,
    ...COMMON,
    '--epochs',
    '2',
    '--quantize',
    'int8',
    '--report',
    'q.json',
    '-o',
    'q.edgec',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /ranges tracking[\s\S]*ranges frozen/);
  const rep = report('q.json');
  assert.ok(Math.abs(rep.int8!.accuracy! - rep.student.accuracy!) <= 0.03, JSON.stringify([rep.int8, rep.student]));
  const m = await load(new Uint8Array(readFileSync(at('q.edgec'))));
  assert.is(m.info.outputs[0]!.shape.at(-1), 10);
  assert.is(rep.int8!.bundleBytes, readFileSync(at('q.edgec')).length);
});

test('continual: --resume without --teacher, old and new task before / after', () => {
  const r = edgec(
    'distill',
    'student.json',
    '--resume',
    'ck',
    '--data',
    'vx.npy',
    '--labels',
    'vy.npy',
    '--val-data',
    'vx.npy',
    '--val-labels',
    'vy.npy',
    '--val-old',
    'x.npy,y.npy',
    ...COMMON,
    '--epochs',
    '1',
    '--report',
    'c.json',
    '-o',
    'continued.json',
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /distilling from the checkpoint's student/);
  const rep = report('c.json');
  assert.equal(
    rep.sets.map((s) => s.name),
    ['old task', 'new task'],
  );
  const kd = report('r.json');
  // before = the checkpoint's student = the teacher of this run
  assert.is(rep.sets[0]!.before, rep.sets[0]!.teacher);
  assert.ok(Math.abs(rep.sets[1]!.before! - kd.student.accuracy!) < 1e-9, 'the checkpoint is the KD student');
  assert.ok(rep.sets.every((s) => s.after! > 0.7));
  // with a replay buffer of stored old samples (no labels: the previous model's top-1)
  const rr = edgec(
    'distill',
    'student.json',
    '--resume',
    'ck',
    '--data',
    'vx.npy',
    '--labels',
    'vy.npy',
    '--replay',
    'x.npy',
    '--replay-share',
    '0.1',
    ...COMMON,
    '--epochs',
    '1',
    '-o',
    'replayed.json',
  );
  assert.is(rr.code, 0, rr.err);
  assert.match(rr.out, /\+ \d+ rows of the 1,440-sample replay buffer \(labels: the previous model's top-1\)/);
  // new data of classes 5–9 only: soft targets over 0–4, and the old task also scored among 0–4 alone
  const part = (x: Float32Array, y: Int32Array, keep: (k: number) => boolean, name: string) => {
    const rows = Array.from(y.keys()).filter((i) => keep(y[i]!));
    saveNpy(at(`${name}x.npy`), {
      shape: [rows.length, 64],
      data: Float32Array.from(rows.flatMap((i) => Array.from(x.subarray(i * 64, i * 64 + 64)))),
    });
    saveNpy(at(`${name}y.npy`), { shape: [rows.length], data: Int32Array.from(rows, (i) => y[i]!) });
  };
  const vx = d.x.slice(TRAIN_N * 64),
    vy = Int32Array.from(d.y.slice(TRAIN_N));
  part(vx, vy, (k) => k >= 5, 'new');
  part(vx, vy, (k) => k < 5, 'old');
  const rn = edgec(
    'distill',
    'student.json',
    '--resume',
    'ck',
    '--data',
    'newx.npy',
    '--labels',
    'newy.npy',
    '--val-old',
    'oldx.npy,oldy.npy',
    '--val-data',
    'newx.npy',
    '--val-labels',
    'newy.npy',
    ...COMMON,
    '--epochs',
    '1',
    '--report',
    'n.json',
    '-o',
    'new-classes.json',
  );
  assert.is(rn.code, 0, rn.err);
  assert.match(rn.out, /never name classes 0–4: soft targets over those/);
  const among = report('n.json').sets[0]!.amongOld!;
  assert.is(report('n.json').sets[1]!.amongOld, undefined, 'the new task has no old classes to score among');
  assert.match(rn.out, /new task \([\d,]+ samples\): [^\n]*after [\d.]+ %\n/);
  assert.match(
    rn.out,
    new RegExp(
      `among the old classes only: before ${(100 * among.before).toFixed(2)} %, after ${(100 * among.after).toFixed(2)} %`,
    ),
  );
  assert.ok(among.before >= report('n.json').sets[0]!.before!, 'fewer classes to lose to');
  // a buffer chosen at the border out of a pool of old samples, and weight aligning of the head
  const rs = edgec(
    'distill',
    'student.json',
    '--resume',
    'ck',
    '--data',
    'newx.npy',
    '--labels',
    'newy.npy',
    '--replay',
    'oldx.npy',
    '--replay-size',
    '50',
    '--replay-select',
    'border',
    '--alpha',
    '0.5',
    '--continual-align',
    '--val-old',
    'oldx.npy,oldy.npy',
    ...COMMON,
    '--epochs',
    '1',
    '--report',
    's.json',
    '-o',
    'selected.json',
  );
  assert.is(rs.code, 0, rs.err);
  assert.match(
    rs.out,
    /rows of the 50-sample replay buffer \(border of [\d,]+; labels: the previous model's top-1 among 0–4\)/,
  );
  const sel = report('s.json');
  assert.match(rs.out, new RegExp(`before weight aligning ${(100 * sel.sets[0]!.unaligned!).toFixed(2)} %`));
  assert.match(rs.out, new RegExp(`new classes' rows of the final Dense × ${sel.align!.gamma.toFixed(4)}`));
});

test('bad input: one error naming the file, node or flag; nothing written', () => {
  const before = readdirSync(tmp).sort();
  const bad = (code: number, re: RegExp, ...args: string[]) => {
    const r = edgec('distill', ...args, '-o', 'bad.json');
    assert.is(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
  };
  const base = ['student.json', ...DATA.slice(0, 4), '--epochs', '1'];
  bad(1, /nope\.onnx: the teacher does not exist/, '--teacher', 'nope.onnx', ...base);
  bad(1, /node 'fc9'.*not in the teacher/, '--teacher', 'teacher.json', ...base, '--hint', 'fc9:fc1');
  bad(1, /node 'fc7'.*not in the student/, '--teacher', 'teacher.json', ...base, '--hint', 'fc1:fc7');
  bad(
    1,
    /the student has 5 classes, the teacher .* 10/,
    '--teacher',
    'teacher.json',
    'five.json',
    ...DATA.slice(0, 2),
    '--epochs',
    '1',
  );
  bad(2, /--alpha expects a weight in \[0, 1\], got '1\.5'/, '--teacher', 'teacher.json', ...base, '--alpha', '1.5');
  bad(
    2,
    /--batchnorm train: edgec distill folds BatchNorm/,
    '--teacher',
    'teacher.json',
    ...base,
    '--batchnorm',
    'train',
  );
  bad(
    2,
    /--temperature expects a temperature > 0, got '0'/,
    '--teacher',
    'teacher.json',
    ...base,
    '--temperature',
    '0',
  );
  bad(
    1,
    /short-y\.npy: holds 100 labels, x\.npy holds 1440 samples/,
    '--teacher',
    'teacher.json',
    'student.json',
    '--data',
    'x.npy',
    '--labels',
    'short-y.npy',
  );
  bad(
    2,
    /--quantize int8 writes an int8 bundle/,
    '--teacher',
    'teacher.json',
    ...base,
    '--quantize',
    'int8',
    '--epochs',
    '2',
  );
  const resume = ['student.json', '--resume', 'ck', ...DATA.slice(0, 4), '--epochs', '1'];
  bad(1, /nope\.npy: the data file does not exist/, ...resume, '--replay', 'nope.npy');
  bad(2, /--replay needs --alpha < 1/, ...resume, '--replay', 'x.npy', '--alpha', '1');
  bad(2, /--replay-share needs --replay/, ...resume, '--replay-share', '0.3');
  bad(2, /--replay-size needs --replay/, ...resume, '--replay-size', '10');
  bad(2, /--replay-select needs --replay-size N/, ...resume, '--replay', 'x.npy', '--replay-select', 'border');
  bad(
    2,
    /--replay-select must be first, border or herding, got 'best'/,
    ...resume,
    '--replay',
    'x.npy',
    '--replay-select',
    'best',
  );
  bad(2, /--replay-size expects a count ≥ 1, got '0'/, ...resume, '--replay', 'x.npy', '--replay-size', '0');
  bad(2, /--continual-align is for continual distillation/, '--teacher', 'teacher.json', ...base, '--continual-align');
  bad(
    2,
    /--replay-share expects a fraction in \(0, 1\), got '1\.5'/,
    ...resume,
    '--replay',
    'x.npy',
    '--replay-share',
    '1.5',
  );
  assert.equal(readdirSync(tmp).sort(), before, 'no file written or left behind');
});

test.run();
