// `edgec compress` on the real examples/mnist model and its 500 real images: the written model.json /
// ONNX / int8 bundle are ordinary models that `edgec eval` scores exactly as the compress report says
// (same runtime, same samples), their convolutions are smaller, and bad input is one clear error with
// nothing written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { ROOT, edgecIn } from './run-edgec.ts';

const EX = join(ROOT, 'examples/mnist');
const MODEL = join(EX, 'model.json');
const IMAGES = join(EX, 'images.npy');
const LABELS = join(EX, 'labels_u8.npy');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-compress-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);

interface Report {
  before: { macs: number; params: number; top1: number };
  after: { macs: number; params: number; top1: number };
  layers: { node: string; channels: number[] }[];
}

/** `edgec eval`'s top-1 share of a model or bundle on the 500 images. */
function evalTop1(file: string): number {
  const r = edgec('eval', file, '-i', IMAGES, '--labels', LABELS);
  assert.is(r.code, 0, r.err);
  return Number(/\((\d+)\/500\)/.exec(r.out)![1]) / 500;
}

test('model.json out: channels cut to --round-to, report numbers = edgec eval of both models', () => {
  const r = edgec(
    'compress',
    MODEL,
    '-o',
    at('small.json'),
    '--prune-channels',
    '0.5',
    '--round-to',
    '4',
    '--val-data',
    IMAGES,
    '--val-labels',
    LABELS,
    '--report',
    at('r.json'),
  );
  assert.is(r.code, 0, r.err);
  // the NCHW flatten (Transpose → Reshape → Dense) is followed: Convolution110 is cut too, and the Dense's columns
  assert.not.match(r.out, /boundary: node 'Times212_reshape0/);
  assert.match(r.out, /Convolution28 +Conv2D +channels 8 → 4/);
  assert.match(r.out, /Convolution110 +Conv2D +channels 16 → 8/);
  const rep = JSON.parse(readFileSync(at('r.json'), 'utf8')) as Report;
  assert.ok(rep.after.macs < rep.before.macs && rep.after.params < rep.before.params, JSON.stringify(rep));
  assert.is(rep.before.top1, evalTop1(MODEL));
  assert.is(rep.after.top1, evalTop1(at('small.json')));
  const g = loadModelJson(at('small.json'));
  assert.equal(g.tensors.get(g.nodes.find((n) => n.name === 'Convolution28')!.inputs[1]!)!.shape, [4, 5, 5, 1]);
  assert.equal(g.tensors.get(g.nodes.find((n) => n.name === 'Convolution110')!.inputs[1]!)!.shape, [8, 5, 5, 4]);
  assert.equal(g.tensors.get(g.nodes.find((n) => n.name === 'Times212')!.inputs[1]!)!.shape, [10, 128]);
});

test('ONNX out and int8 bundle out: ordinary models edgec eval runs', () => {
  const onnx = edgec('compress', MODEL, '-o', at('small.onnx'), '--prune-channels', '0.5', '--round-to', '4');
  assert.is(onnx.code, 0, onnx.err);
  assert.is(evalTop1(at('small.onnx')), evalTop1(at('small.json')), 'the ONNX export scores as the model.json');
  const q = edgec(
    'compress',
    MODEL,
    '-o',
    at('small.edgec'),
    '--prune-channels',
    '0.5',
    '--round-to',
    '4',
    '--quantize',
    'int8',
    '--calibration',
    IMAGES,
  );
  assert.is(q.code, 0, q.err);
  assert.match(q.out, /int8 bundle/);
  assert.ok(evalTop1(at('small.edgec')) > 0.5);
});

test('layer pruning: a model without residual blocks or identity-shaped layers says so and drops nothing', () => {
  const r = edgec(
    'compress',
    MODEL,
    '-o',
    at('layers.json'),
    '--prune-layers',
    '1',
    '--calibration',
    IMAGES,
    '--report',
    at('l.json'),
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /layers: no residual block or identity-shaped layer to drop/);
  const rep = JSON.parse(readFileSync(at('l.json'), 'utf8')) as Report & { droppedLayers: unknown[] };
  assert.equal(rep.droppedLayers, []);
  assert.is(rep.after.macs, rep.before.macs);
});

test('--factorize svd: the Dense layers become two, MACs drop, the model still runs in edgec eval', () => {
  const r = edgec(
    'compress',
    MODEL,
    '-o',
    at('fact.json'),
    '--factorize',
    'svd',
    '--rank',
    '2',
    '--report',
    at('f.json'),
  );
  assert.is(r.code, 0, r.err);
  const rep = JSON.parse(readFileSync(at('f.json'), 'utf8')) as Report & {
    factorized: {
      layer: string;
      factorised: boolean;
      rank: number;
      macsBefore: number;
      macsAfter: number;
      reason: string;
    }[];
  };
  assert.ok(rep.factorized.length > 0, 'no layer considered');
  for (const f of rep.factorized) assert.match(r.out, new RegExp(`${f.layer}.*(svd rank 2|kept)`));
  // the decision is MACs and measured time: whichever layers won, the report and the written model agree
  const won = rep.factorized.filter((f) => f.factorised);
  const denseIn = loadModelJson(MODEL).nodes.filter((n) => n.op === 'Dense').length;
  const denseOut = loadModelJson(at('fact.json')).nodes.filter((n) => n.op === 'Dense').length;
  assert.is(denseOut, denseIn + won.length, `${denseIn} → ${denseOut}`); // example/mnist: only its Dense can take svd
  if (won.length > 0) assert.ok(rep.after.macs < rep.before.macs, JSON.stringify({ b: rep.before, a: rep.after }));
  else assert.is(rep.after.macs, rep.before.macs);
  evalTop1(at('fact.json'));
});

test('--importance taylor | thinet on --calibration: ordinary models, scored as the report says', () => {
  for (const imp of ['taylor', 'thinet']) {
    const out = at(`${imp}.json`);
    const labels = imp === 'taylor' ? ['--calibration-labels', LABELS] : [];
    const r = edgec(
      'compress',
      MODEL,
      '-o',
      out,
      '--prune-channels',
      '0.5',
      '--round-to',
      '4',
      '--importance',
      imp,
      '--calibration',
      IMAGES,
      ...labels,
      '--val-data',
      IMAGES,
      '--val-labels',
      LABELS,
      '--report',
      at(`${imp}.r.json`),
    );
    assert.is(r.code, 0, r.err);
    const rep = JSON.parse(readFileSync(at(`${imp}.r.json`), 'utf8')) as Report & { options: { importance: string } };
    assert.is(rep.options.importance, imp);
    assert.ok(rep.after.macs < rep.before.macs, JSON.stringify(rep.after));
    assert.is(rep.after.top1, evalTop1(out));
  }
});

test('bad input: one clear error, nothing written', () => {
  const cases: [string[], number, RegExp][] = [
    [['--prune-channels', '1.5'], 2, /--prune-channels: expected a share in \[0, 1\), got '1.5'/],
    [['--prune-channels=-0.1'], 2, /--prune-channels: expected a share in \[0, 1\), got '-0.1'/],
    [['--max-ratio', '0', '--prune-channels', '0.5'], 2, /--max-ratio: expected a share in \(0, 1\]/],
    [['--target-macs', '0.5'], 2, /--target-macs measures sensitivity: give --calibration/],
    [
      ['--prune-channels', '0.5', '--importance', 'taylor'],
      2,
      /--importance taylor is measured on data: give --calibration/,
    ],
    [
      ['--prune-channels', '0.5', '--importance', 'hessian'],
      2,
      /--importance: expected l1, l2, fpgm, taylor, thinet, got 'hessian'/,
    ],
    [['--factorize', 'qr'], 2, /--factorize: expected svd, separable, tucker2 \(comma-separated\), got 'qr'/],
    [['--prune-channels', '0.5', '--rank', '4'], 2, /--rank \/ --energy set the factorisation: give --factorize too/],
    [['--factorize', 'svd', '--rank', '0'], 2, /--rank: expected a positive integer, got '0'/],
    [['--factorize', 'svd', '--energy', '1.5'], 2, /--energy: expected a share in \(0, 1\], got '1.5'/],
    [['--factorize', 'svd', '--rank', '2', '--energy', '0.5'], 2, /give --rank or --energy, not both/],
    [['--factorize', 'svd', '--rank', '100000'], 1, /node '[^']+': rank 100000 is above the full rank/],
    [['--prune-channels', '0.5', '--distill'], 2, /--distill trains on data: give --data x.npy/],
    [
      ['--prune-channels', '0.5', '--round-to', '4', '--keep', 'Convolution28,Convolution110'],
      1,
      /no channel can be pruned.*--keep 'Convolution28'.*--keep 'Convolution110'/,
    ],
    [['--prune-channels', '0.5', '--keep', 'nope'], 1, /--keep 'nope': no node of that name/],
    [['--prune-channels', '0.5', '--refit', 'qr'], 2, /--refit: expected ls or none, got 'qr'/],
    [['--prune-channels', '0.5', '--refit', 'ls'], 2, /--refit ls fits on data: give --calibration x.npy/],
    [
      ['--prune-channels', '0.5', '--importance', 'taylor', '--calibration', IMAGES, '--calibration-labels', MODEL],
      1,
      /model.json/,
    ],
    [['--prune-channels', '0.5', '--quantize', 'int8'], 2, /--quantize int8 writes a bundle/],
  ];
  for (const [flags, code, message] of cases) {
    const r = edgec('compress', MODEL, '-o', at('bad.json'), ...flags);
    assert.is(r.code, code, `${flags.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.not.ok(existsSync(at('bad.json')), `${flags.join(' ')} wrote a file`);
  }
});

test.run();
