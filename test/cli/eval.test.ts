// `edgec eval` on the real examples/mnist model and its 500 real images: the printed top-1 / top-5
// counts equal the counts computed here from `edgec run`'s outputs (float bundle, the model compiled
// on the fly, and the int8 bundle); MSE for float targets; bad labels are one clear error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy } from '../../compiler/io/npy.ts';
import { ROOT, edgecIn } from './run-edgec.ts';

const EX = join(ROOT, 'examples/mnist');
const MODEL = join(EX, 'model.json');
const IMAGES = join(EX, 'images.npy');
const LABELS = join(EX, 'labels_u8.npy');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-eval-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);
const labels = loadNpy(LABELS).data as Uint8Array;

/** top-1 and top-5 counts of logits [N,10] against the labels, ranking ties to the lower index. */
function counts(logits: Float32Array): { top1: number; top5: number } {
  let top1 = 0,
    top5 = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    const order = row
      .map((v, k) => [v, k] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .map((p) => p[1]);
    if (order[0] === labels[i]) top1++;
    if (order.slice(0, 5).includes(labels[i]!)) top5++;
  }
  return { top1, top5 };
}

const line = (c: { top1: number; top5: number }) =>
  `500 samples, 10 classes: top-1 ${(c.top1 / 5).toFixed(2)} % (${c.top1}/500), top-5 ${(c.top5 / 5).toFixed(2)} % (${c.top5}/500)`;

function ok(r: ReturnType<typeof edgec>, file: string, want: string) {
  assert.is(r.code, 0, r.err);
  assert.is(r.out, `${file}: ${want}\n`);
}

test("float: eval of the bundle and of model.json print the counts of edgec run's logits", () => {
  assert.is(edgec('compile', MODEL, '-o', at('m.edgec')).code, 0);
  const r = edgec('run', at('m.edgec'), '--input', IMAGES, '--output', at('logits.npy'));
  assert.is(r.code, 0, r.err);
  const c = counts(loadNpy(at('logits.npy')).data as Float32Array);
  assert.ok(c.top1 >= 490, `top-1 ${c.top1}`);
  ok(edgec('eval', at('m.edgec'), '--input', IMAGES, '--labels', LABELS), at('m.edgec'), line(c));
  ok(edgec('eval', MODEL, '--input', IMAGES, '--labels', LABELS, '--build', 'scalar'), MODEL, line(c));
});

test('int8: eval --quantize int8 --calibration equals edgec run of the int8 bundle', () => {
  const cal = at('cal.npy');
  saveNpy(cal, { shape: [50, 1, 28, 28], data: (loadNpy(IMAGES).data as Float32Array).slice(0, 50 * 784) });
  assert.is(edgec('compile', MODEL, '--quantize', 'int8', '--calibration', cal, '-o', at('q.edgec')).code, 0);
  assert.is(edgec('run', at('q.edgec'), '--input', IMAGES, '--output', at('qlogits.npy')).code, 0);
  const c = counts(loadNpy(at('qlogits.npy')).data as Float32Array);
  ok(
    edgec('eval', MODEL, '--quantize', 'int8', '--calibration', cal, '--input', IMAGES, '--labels', LABELS),
    MODEL,
    line(c),
  );
});

test('regression targets: MSE against float labels of the output shape', () => {
  const logits = loadNpy(at('logits.npy')).data as Float32Array;
  const targets = Float32Array.from(logits, (v, i) => v + ((i % 7) - 3) / 8);
  saveNpy(at('targets.npy'), { shape: [500, 10], data: targets });
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += (logits[i]! - targets[i]!) ** 2;
  ok(
    edgec('eval', at('m.edgec'), '-i', IMAGES, '--labels', at('targets.npy')),
    at('m.edgec'),
    `500 samples, MSE ${(sum / logits.length).toPrecision(6)}`,
  );
});

test('errors: labels out of range, wrong count, wrong shape, flags that need a model', () => {
  saveNpy(at('y11.npy'), { shape: [500], data: Int32Array.from(labels, (v, i) => (i === 9 ? 11 : v)) });
  saveNpy(at('y499.npy'), { shape: [499], data: labels.slice(0, 499) });
  saveNpy(at('yf.npy'), { shape: [500, 3], data: new Float32Array(1500) });
  const cases: [string[], number, RegExp][] = [
    [['--labels', at('y11.npy')], 1, /y11\.npy: label 9 is 11, outside the model's 10 classes \[0, 9\]/],
    [['--labels', at('y499.npy')], 1, /y499\.npy: holds 499 labels for 500 samples/],
    [
      ['--labels', at('yf.npy')],
      1,
      /yf\.npy: float targets \[500,3\] do not match 500 samples of the output's 10 values/,
    ],
    [['--labels', LABELS, '--quantize', 'int8'], 2, /--quantize applies to model files/],
    [['--labels', LABELS, '--output-name', 'nope'], 2, /--output-name: no output 'nope'/],
    [[], 2, /missing --labels/],
  ];
  for (const [args, code, re] of cases) {
    const r = edgec('eval', at('m.edgec'), '-i', IMAGES, ...args);
    assert.is(r.code, code, r.err);
    const lines = r.err.split('\n').filter((l) => l !== '');
    assert.is(lines.length, 1, r.err);
    assert.match(lines[0]!, re);
  }
});

test.run();
