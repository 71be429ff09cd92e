// The CLI on the shipped branch examples (examples/branches on the examples/mnist digits): compile,
// run, inspect, profile and --prune-branches-below, checked against the runtime called in-process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy } from '../../compiler/io/npy.ts';
import { ROOT, edgecIn } from './run-edgec.ts';
import { load } from '../../runtime/node.ts';

const EX = join(ROOT, 'examples/branches');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-branches-'));
const at = (name: string) => join(tmp, name);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);

// 100 real test digits keep the suite quick
const N = 100;
const images = loadNpy(join(ROOT, 'examples/mnist/images.npy'));
const labels = loadNpy(join(ROOT, 'examples/mnist/labels_u8.npy'));
const x = (images.data as Float32Array).slice(0, N * 784);
saveNpy(at('x.npy'), { shape: [N, 1, 28, 28], data: x });
saveNpy(at('y.npy'), { shape: [N], data: (labels.data as Uint8Array).slice(0, N) });

test('early exit: compile, run = the runtime in-process, inspect and profile report the exit', async () => {
  const c = edgec('compile', join(EX, 'early-exit.json'), '-o', at('ee.edgec'));
  assert.is(c.code, 0, c.err);
  assert.match(c.out, /ee\.edgec: \d+ steps, 1 control/);
  const r = edgec('run', at('ee.edgec'), '--input', at('x.npy'), '--output', at('out.npy'));
  assert.is(r.code, 0, r.err);
  const m = await load(new Uint8Array(readFileSync(at('ee.edgec'))), { build: 'simd' });
  const d = m.runDetailed({ Input3: x });
  assert.equal(Array.from(loadNpy(at('out.npy')).data as Float32Array), Array.from(d.outputs.Plus214_Output_0!));

  const i = edgec('inspect', at('ee.edgec'));
  assert.is(i.code, 0, i.err);
  assert.match(i.out, /branches and exits:\n {2}exit 'exit1' \(step \d+\): head [\d,]+ MACs, [\d,]+ MACs to exit here/);

  const p = edgec('profile', at('ee.edgec'), '--input', at('x.npy'), '--labels', at('y.npy'));
  assert.is(p.code, 0, p.err);
  const taken = d.samples.filter((s) => s.exitedAt === 'exit1').length;
  assert.ok(taken > 0 && taken < N, `exit taken by ${taken}`);
  assert.ok(p.out.includes(`taken by ${taken} of ${N} reaching it`), p.out);
  const avg = d.samples.reduce((a, s) => a + s.macs, 0) / N;
  assert.ok(p.out.includes(`executed MACs per sample: ${Math.round(avg).toLocaleString('en-US')} average`), p.out);
  assert.match(p.out, /accuracy: \d+\.\d\d% on 100 labelled samples/);
});

test('gated: profile counts per branch; --prune-branches-below drops the rare branch and reports MACs and accuracy', async () => {
  assert.is(edgec('compile', join(EX, 'gated.json'), '-o', at('g.edgec')).code, 0);
  const m = await load(new Uint8Array(readFileSync(at('g.edgec'))), { build: 'scalar' });
  const d = m.runDetailed({ Input3: x });
  const counts = [0, 1].map((k) => d.samples.filter((s) => s.branches.route === k).length);
  assert.ok(counts[0]! > counts[1]! && counts[1]! > 0, `counts ${counts}`);
  const p = edgec('profile', at('g.edgec'), '--input', at('x.npy'), '--build', 'scalar');
  assert.is(p.code, 0, p.err);
  assert.ok(p.out.includes(`branch 0 ${counts[0]} (`) && p.out.includes(`branch 1 ${counts[1]} (`), p.out);
  assert.match(
    edgec('inspect', at('g.edgec')).out,
    /branch 'route' \(step \d+\): gate [\d,]+ MACs; branch 0 [\d,]+ MACs .*branch 1 [\d,]+ MACs .*arena saved by sharing [\d,]+ bytes/,
  );

  const share = counts[1]! / N;
  const c = edgec(
    'compile',
    join(EX, 'gated.json'),
    '-o',
    at('gp.edgec'),
    '--prune-branches-below',
    String(share + 0.01),
    '--calibration',
    at('x.npy'),
    '--labels',
    at('y.npy'),
  );
  assert.is(c.code, 0, c.err);
  assert.ok(c.out.includes(`prune 'route': taken ${counts[0]}/${counts[1]} of ${N}; dropped branch 1`), c.out);
  assert.match(
    c.out,
    /prune: executed MACs per sample [\d,]+ -> [\d,]+ \(-\d+\.\d%\), accuracy \d+\.\d\d% -> \d+\.\d\d% on 100 labelled samples/,
  );
  // the pruned model is the cheap branch for everyone: no control steps, and fewer MACs per sample than before
  const pm = await load(new Uint8Array(readFileSync(at('gp.edgec'))), { build: 'simd' });
  const pd = pm.runDetailed({ Input3: x });
  assert.equal(pd.samples[0]!.branches, {});
  assert.ok(pd.samples[0]!.macs < Math.min(...d.samples.map((s) => s.macs)));
  // a threshold below every branch's share keeps the model as it was
  const k = edgec(
    'compile',
    join(EX, 'gated.json'),
    '-o',
    at('gk.edgec'),
    '--prune-branches-below',
    '0',
    '--calibration',
    at('x.npy'),
  );
  assert.is(k.code, 0, k.err);
  assert.ok(k.out.includes('no branch below'), k.out);
});

test('gated --quantize int8 with the shipped calibration digits: runs, fewer bytes, same routes on both builds', async () => {
  const c = edgec(
    'compile',
    join(EX, 'gated.json'),
    '-o',
    at('gq.edgec'),
    '--quantize',
    'int8',
    '--calibration',
    join(EX, 'calib.npy'),
  );
  assert.is(c.code, 0, c.err);
  const bytes = new Uint8Array(readFileSync(at('gq.edgec')));
  assert.ok(bytes.length < readFileSync(at('g.edgec')).length / 2, `int8 bundle ${bytes.length} bytes`);
  const [a, b] = await Promise.all([load(bytes, { build: 'simd' }), load(bytes, { build: 'scalar' })]);
  const da = a.runDetailed({ Input3: x }),
    db = b.runDetailed({ Input3: x });
  assert.equal(da.samples, db.samples);
  assert.equal(Array.from(da.outputs.Plus214_Output_0!), Array.from(db.outputs.Plus214_Output_0!));
});

test('usage errors: pruning needs calibration, a share in [0,1] and a model with branches', () => {
  const e1 = edgec('compile', join(EX, 'gated.json'), '-o', at('e.edgec'), '--prune-branches-below', '0.1');
  assert.is(e1.code, 2);
  assert.ok(e1.err.includes('needs --calibration'), e1.err);
  const e2 = edgec(
    'compile',
    join(EX, 'gated.json'),
    '-o',
    at('e.edgec'),
    '--prune-branches-below',
    '7',
    '--calibration',
    at('x.npy'),
  );
  assert.is(e2.code, 2);
  assert.ok(e2.err.includes('[0, 1]'), e2.err);
  const e3 = edgec(
    'compile',
    join(ROOT, 'examples/mnist/model.json'),
    '-o',
    at('e.edgec'),
    '--prune-branches-below',
    '0.1',
  );
  assert.is(e3.code, 2);
  assert.ok(e3.err.includes('applies to models with Branch blocks'), e3.err);
  const e4 = edgec('profile', at('nothing.edgec'), '--input', at('x.npy'));
  assert.is(e4.code, 1);
  assert.ok(e4.err.startsWith('edgec: error: ') && e4.err.includes('nothing.edgec'), e4.err);
});

test.run();
