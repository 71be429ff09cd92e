// Issue 13's "Real data and targets" through `edgec distill` itself (compiler/cli/distill.ts, in process), for
// docs/distillation.md — a script, not a timed test. Fashion-MNIST .npy (x float32 [N,1,28,28] / 255, y int32;
// scripts/fashion-mnist-npy.ts makes them) with the fashion_cnn teacher, MNIST-style digits with mnist-8:
//   kd        KD (α 0.7, T 4) vs labels only (α 0) — same student init, seed, batches and epochs
//   unlab     5,000 unlabelled images, α 1
//   qad       --quantize int8 fine-tuning of the KD student vs its float self vs post-training calibration of the
//             KD student (qadctl: also of the KD student trained on in float as long)
//   continual classes 0–4, then --resume with 5–9 (learning without forgetting, a replay buffer of --replay N old
//             images): old / new accuracy before and after (old also among 0–4 alone); with --continual-joint
//             the upper bound: the same stage 2 on all 60,000 labelled images (labels only, nothing to forget)
//   mnist     a student with ≤ 1/4 of mnist-8's MACs vs mnist-8 (mnistce: the same student on labels alone)
// Usage: nice node --import tsx scripts/distill-targets.ts --fashion DIR --teacher fashion_cnn.onnx
//        [--mnist DIR --mnist-teacher mnist-8.onnx] [--epochs 3] [--student half|half-flat|flat|half-teacher|teacher:C1,C2,H]
//        [--seed 1] [--student-seed 42] [--schedule cosine] [--threads 2]
//        [--mnist-epochs N] [--mnist-augment crop=2] [--mnist-hidden 0] [--kd-alpha 0.7] [--kd-temperature 4]
//        [--unlab-epochs N] [--kd-from kd.json] [--qad-epochs 2] [--qad-lr 0.0005]
//        [--continual-alpha 0.5] [--continual-lr 0.001] [--continual-epochs E] [--continual-schedule cosine]
//        [--continual-joint] [--replay 500] [--replay-share 0.5] [--replay-select first|border|herding] [--replay-pool all]
//        [--replay-labels] [--continual-align] [--continual-from DIR] [--tag T]
//        [--runs kd,unlab,qad,qadctl,continual,mnist] [--out results.json]
//   --replay-select / --replay-pool all: the buffer is --replay N of all class-0–4 training images, chosen by
//   `edgec distill --replay-size N --replay-select` (--replay-labels: stored with their labels); --continual-from
//   DIR reuses an earlier run's stage 1 (its temporary directory, printed at the end); --tag names stage 2's files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../compiler/cli.ts';
import { loadModel } from '../compiler/cli/compile.ts';
import { graphMacs } from '../compiler/compress/prune.ts';
import { compileGraph } from '../compiler/compile.ts';
import type { DistillReport } from '../compiler/distill/index.ts';
import { writeModelJson } from '../compiler/frontend/model-json/index.ts';
import { loadNpy, saveNpy } from '../compiler/io/npy.ts';
import { runPasses } from '../compiler/passes/index.ts';
import { quantize } from '../compiler/quantize/index.ts';
import { load } from '../runtime/node.ts';
import { fashionStudent, fashionStudentFlat, fashionTeacher, mnistStudent } from './distill-students.ts';

const args = process.argv.slice(2);
const opt = (name: string, def?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const FASHION = opt('fashion'),
  TEACHER = opt('teacher'),
  MNIST = opt('mnist'),
  MNIST_TEACHER = opt('mnist-teacher');
const EPOCHS = opt('epochs', '3')!;
const RUNS = new Set(opt('runs', 'kd,unlab,qad,continual,mnist')!.split(','));
const OUT = opt('out');
if (!FASHION || !TEACHER) {
  console.error(
    'usage: node --import tsx scripts/distill-targets.ts --fashion DIR --teacher fashion_cnn.onnx [--mnist DIR --mnist-teacher mnist-8.onnx] [--epochs 3] [--runs …] [--out results.json]',
  );
  process.exit(2);
}
const tmp = opt('continual-from') ?? mkdtempSync(join(tmpdir(), 'edgec-distill-targets-'));
const results: Record<string, unknown> = {};
// --schedule (default constant) applies to every run; --student picks the Fashion student (distill-students.ts)
const common = [
  '--optimizer',
  'adam',
  '--lr',
  '0.002',
  '--batch',
  '32',
  '--seed',
  opt('seed', '1')!,
  '--threads',
  opt('threads', '2')!,
];
common.push('--schedule', opt('schedule', 'constant')!);

/** Rows of a .npy (x or y) where `keep` holds, written to tmp/name.npy. */
function subset(file: string, name: string, keep: (i: number) => boolean): string {
  const a = loadNpy(file);
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const rows = Array.from({ length: a.shape[0]! }, (_, i) => i).filter(keep);
  const data = new (a.data.constructor as Float32ArrayConstructor)(rows.length * per);
  rows.forEach((r, i) => data.set((a.data as Float32Array).subarray(r * per, (r + 1) * per), i * per));
  const path = join(tmp, `${name}.npy`);
  saveNpy(path, { shape: [rows.length, ...a.shape.slice(1)], data });
  return path;
}

async function edgec(label: string, argv: string[]): Promise<DistillReport> {
  const report = join(tmp, `${label}.report.json`);
  const t0 = performance.now();
  console.log(`\n## ${label}: edgec distill ${argv.join(' ')}`);
  const code = await main(['distill', ...argv, '--report', report]);
  if (code !== 0) throw new Error(`${label}: edgec distill exited ${code}`);
  const r = JSON.parse(readFileSync(report, 'utf8')) as DistillReport;
  results[label] = { ...r, wallSeconds: (performance.now() - t0) / 1000 };
  return r;
}

const pct = (x?: number) => (x === undefined ? '-' : `${(100 * x).toFixed(2)} %`);
const f = (n: string) => join(FASHION, n);
const student = join(tmp, 'student.json');
// half-teacher: scripts/fashion-teacher.ts's default teacher (conv 32 → conv 64 → dense 128) at half width;
// teacher:C1,C2,H: that architecture at any widths (e.g. teacher:16,32,16 — half width with a 16-wide dense)
const which = opt('student', 'half')!,
  studentSeed = Number(opt('student-seed', '42'));
const widths = /^teacher:(\d+),(\d+),(\d+)$/.exec(which)?.slice(1).map(Number);
if (which.startsWith('teacher:') && (!widths || widths.some((w) => w < 1))) {
  console.error(`--student ${which}: expected teacher:C1,C2,H with three positive integers (e.g. teacher:16,32,16)`);
  process.exit(2);
}
writeModelJson(
  which === 'flat'
    ? fashionStudentFlat(studentSeed)
    : which === 'half-teacher'
      ? fashionTeacher(studentSeed, 16, 32, 64)
      : widths
        ? fashionTeacher(studentSeed, widths[0]!, widths[1]!, widths[2]!)
        : fashionStudent(studentSeed, which === 'half-flat'),
  student,
);
const data = ['--data', f('train_x.npy'), '--labels', f('train_y.npy')];
const val = ['--val-data', f('test_x.npy'), '--val-labels', f('test_y.npy')];
const ep = ['--epochs', EPOCHS];

if (RUNS.has('kd') || RUNS.has('qad')) {
  const ce = RUNS.has('kd')
    ? await edgec('labels-only', [
        '--teacher',
        TEACHER,
        student,
        ...data,
        ...val,
        ...ep,
        ...common,
        '--alpha',
        '0',
        '-o',
        join(tmp, 'ce.json'),
      ])
    : undefined;
  const kdFrom = opt('kd-from');
  const kd = kdFrom
    ? (JSON.parse(readFileSync(kdFrom.replace(/\.json$/, '.report.json'), 'utf8')) as DistillReport)
    : await edgec('kd', [
        '--teacher',
        TEACHER,
        student,
        ...data,
        ...val,
        ...ep,
        ...common,
        '--alpha',
        opt('kd-alpha', '0.7')!,
        '--temperature',
        opt('kd-temperature', '4')!,
        '-o',
        join(tmp, 'kd.json'),
      ]);
  const pt = (a?: number, b?: number) => (a === undefined || b === undefined ? '-' : (100 * (a - b)).toFixed(2));
  console.log(
    `KD ${pct(kd.student.accuracy)} vs labels only ${pct(ce?.student.accuracy)} (${pt(kd.student.accuracy, ce?.student.accuracy)} pt); ` +
      `teacher ${pct(kd.teacher.accuracy)} (KD − teacher ${pt(kd.student.accuracy, kd.teacher.accuracy)} pt); ` +
      `MACs teacher ${kd.teacher.macs} / student ${kd.student.macs}`,
  );
  if (RUNS.has('qad')) {
    // QAD fine-tunes the float KD student (ranges start at its PTQ calibration): --qad-epochs (1 tracked + the
    // rest frozen) at --qad-lr; the control is the same student trained on for the same epochs and lr in float,
    // then PTQ — so QAD is compared with PTQ of the student it started from and of one trained as long
    const kdModel = kdFrom ?? join(tmp, 'kd.json');
    const qEpochs = opt('qad-epochs', '2')!,
      qLr = opt('qad-lr', '0.0005')!;
    const fine = ['--epochs', qEpochs, ...common.map((a, i) => (common[i - 1] === '--lr' ? qLr : a))];
    const q = await edgec('qad', [
      '--teacher',
      TEACHER,
      kdModel,
      ...data,
      ...val,
      ...fine,
      '--alpha',
      '0.7',
      '--temperature',
      '4',
      '--quantize',
      'int8',
      '--freeze-ranges',
      String(Number(qEpochs) - 1),
      '-o',
      join(tmp, 'qad.edgec'),
    ]);
    const ctl = RUNS.has('qadctl')
      ? (await edgec('qad-control', [
          '--teacher',
          TEACHER,
          kdModel,
          ...data,
          ...val,
          ...fine,
          '--alpha',
          '0.7',
          '--temperature',
          '4',
          '-o',
          join(tmp, 'kd-more.json'),
        ]),
        join(tmp, 'kd-more.json'))
      : undefined;
    const xs = loadNpy(f('train_x.npy')).data as Float32Array;
    const tx = loadNpy(f('test_x.npy')).data as Float32Array,
      ty = loadNpy(f('test_y.npy')).data as Int32Array;
    /** Post-training calibration (1,000 training images, min/max) of a float model; int8 test top-1. */
    const ptqAccuracy = async (file: string) => {
      const g = loadModel(file, undefined);
      const samples = {
        input: g.inputs[0]!,
        data: Array.from({ length: 1000 }, (_, i) => xs.slice(i * 784, (i + 1) * 784)),
      };
      const ptq = (await quantize(g, { samples })).graph;
      const m = await load(compileGraph(ptq, { skipPasses: true }).bundle, { build: 'simd' });
      const y = m.run({ [m.info.inputs[0]!.name]: tx })[m.info.outputs[0]!.name] as Float32Array;
      let ok = 0;
      for (let i = 0; i < ty.length; i++) {
        let b = 0;
        for (let k = 1; k < 10; k++) if (y[i * 10 + k]! > y[i * 10 + b]!) b = k;
        if (b === ty[i]) ok++;
      }
      return ok / ty.length;
    };
    const ptq = await ptqAccuracy(kdModel);
    const ptqCtl = ctl === undefined ? undefined : await ptqAccuracy(ctl);
    results.ptq = { accuracy: ptq, calibration: 1000, ...(ptqCtl !== undefined && { control: ptqCtl }) };
    console.log(
      `QAD int8 ${pct(q.int8?.accuracy)} vs its float self ${pct(q.student.accuracy)}; PTQ of the KD student it started from ${pct(ptq)} (KD float ${pct(kd.student.accuracy)})` +
        (ptqCtl === undefined ? '' : `; PTQ of the KD student trained on in float as long ${pct(ptqCtl)}`),
    );
  }
}

if (RUNS.has('unlab')) {
  const x5k = subset(f('train_x.npy'), 'x5k', (i) => i < 5000);
  const r = await edgec('unlabelled-5k', [
    '--teacher',
    TEACHER,
    student,
    '--data',
    x5k,
    ...val,
    '--epochs',
    opt('unlab-epochs', String(4 * Number(EPOCHS)))!,
    ...common,
    '--alpha',
    '1',
    '--temperature',
    '4',
    '-o',
    join(tmp, 'unlab.json'),
  ]);
  console.log(`5,000 unlabelled images, α 1: ${pct(r.student.accuracy)}`);
}

if (RUNS.has('continual')) {
  const ty = loadNpy(f('train_y.npy')).data as Int32Array,
    vy = loadNpy(f('test_y.npy')).data as Int32Array;
  const old = (y: Int32Array) => (i: number) => y[i]! < 5,
    neu = (y: Int32Array) => (i: number) => y[i]! >= 5;
  const p = (name: string, file: string, y: Int32Array, keep: (y: Int32Array) => (i: number) => boolean) =>
    subset(f(file), name, keep(y));
  const ck = join(tmp, 'continual.ck');
  const oldVal = [p('vx-old', 'test_x.npy', vy, old), p('vy-old', 'test_y.npy', vy, old)];
  const newVal = [p('vx-new', 'test_x.npy', vy, neu), p('vy-new', 'test_y.npy', vy, neu)];
  if (!opt('continual-from'))
    await edgec('continual-0-4', [
      '--teacher',
      TEACHER,
      student,
      '--data',
      p('x-old', 'train_x.npy', ty, old),
      '--labels',
      p('y-old', 'train_y.npy', ty, old),
      '--val-data',
      oldVal[0]!,
      '--val-labels',
      oldVal[1]!,
      ...ep,
      ...common,
      '--checkpoint',
      ck,
      '-o',
      join(tmp, 'old.json'),
    ]);
  // the replay buffer: the first --replay N (default 500; 0 = none) images of classes 0–4, no labels; or N of
  // them all chosen by edgec distill (--replay-pool all, --replay-select)
  const nReplay = Number(opt('replay', '500'));
  const pool = opt('replay-pool') === 'all' || opt('replay-select') !== undefined;
  let kept = 0;
  const buffer =
    nReplay > 0
      ? [
          '--replay',
          pool
            ? join(tmp, 'x-old.npy') + (args.includes('--replay-labels') ? `,${join(tmp, 'y-old.npy')}` : '')
            : p('x-replay', 'train_x.npy', ty, (y) => (i) => y[i]! < 5 && kept++ < nReplay),
          '--replay-share',
          opt('replay-share', '0.5')!,
          ...(pool ? ['--replay-size', String(nReplay), '--replay-select', opt('replay-select', 'first')!] : []),
        ]
      : [];
  if (args.includes('--continual-align')) buffer.push('--continual-align');
  // stage 2: --continual-lr (default 0.001), --continual-epochs (default --epochs), --continual-schedule
  const stage2 = [
    '--epochs',
    opt('continual-epochs', EPOCHS)!,
    ...common.map((a, k) => (common[k - 1] === '--lr' ? opt('continual-lr', '0.001')! : a)),
    ...(opt('continual-schedule') ? ['--schedule', opt('continual-schedule')!] : []),
  ];
  const tag = opt('tag', '')!; // names this stage 2's files (several can share one --continual-from)
  const r = await edgec(`continual-5-9${tag}`, [
    student,
    '--resume',
    ck,
    '--data',
    p('x-new', 'train_x.npy', ty, neu),
    '--labels',
    p('y-new', 'train_y.npy', ty, neu),
    ...buffer,
    '--val-data',
    newVal[0]!,
    '--val-labels',
    newVal[1]!,
    '--val-old',
    oldVal.join(','),
    ...stage2,
    '--alpha',
    opt('continual-alpha', '0.5')!,
    '--checkpoint',
    join(tmp, `continual2${tag}.ck`),
    '-o',
    join(tmp, `new${tag}.json`),
  ]);
  for (const s of r.sets)
    console.log(
      `${s.name}: before ${pct(s.before)}, after ${pct(s.after)}` +
        (s.amongOld ? ` (among 0–4 alone: before ${pct(s.amongOld.before)}, after ${pct(s.amongOld.after)})` : ''),
    );
  if (args.includes('--continual-joint')) {
    // the upper bound of stage 2: the same flags on every old and new image with its label (α 0: nothing to forget)
    const j = await edgec('continual-joint', [
      student,
      '--resume',
      ck,
      ...data,
      '--val-data',
      newVal[0]!,
      '--val-labels',
      newVal[1]!,
      '--val-old',
      oldVal.join(','),
      ...stage2,
      '--alpha',
      '0',
      '-o',
      join(tmp, 'joint.json'),
    ]);
    for (const s of j.sets) console.log(`joint ${s.name}: before ${pct(s.before)}, after ${pct(s.after)}`);
  }
}

if ((RUNS.has('mnist') || RUNS.has('mnistce')) && MNIST && MNIST_TEACHER) {
  const ms = join(tmp, 'mnist-student.json');
  const hidden = Number(opt('mnist-hidden', '0'));
  writeModelJson(mnistStudent(7, hidden), ms);
  const macs = [
    graphMacs(runPasses(loadModel(MNIST_TEACHER, undefined))),
    graphMacs(runPasses(mnistStudent(7, hidden))),
  ];
  results.mnistMacs = macs;
  const m = (n: string) => join(MNIST, n);
  const aug = opt('mnist-augment');
  const run = (label: string, loss: string[]) =>
    edgec(label, [
      '--teacher',
      MNIST_TEACHER,
      ms,
      '--data',
      m('train_x.npy'),
      '--labels',
      m('train_y.npy'),
      '--val-data',
      m('test_x.npy'),
      '--val-labels',
      m('test_y.npy'),
      '--epochs',
      opt('mnist-epochs', String(3 * Number(EPOCHS)))!,
      ...common,
      ...(aug === undefined ? [] : ['--augment', aug]),
      ...loss,
      '-o',
      join(tmp, `${label}.json`),
    ]);
  const ce = RUNS.has('mnistce') ? await run('mnist-labels-only', ['--alpha', '0']) : undefined;
  const r = RUNS.has('mnist') ? await run('mnist', ['--alpha', '0.7', '--temperature', '4']) : undefined;
  console.log(
    `mnist: student ${pct(r?.student.accuracy)} (labels only ${pct(ce?.student.accuracy)}) at ${macs[1]} MACs vs mnist-8 ${pct((r ?? ce)!.teacher.accuracy)} at ${macs[0]} MACs (${(macs[0]! / macs[1]!).toFixed(2)}× fewer)`,
  );
}
if (OUT) writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nfiles in ${tmp}`);
