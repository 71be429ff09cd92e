// The CLI's messages for mistakes a user makes (issue 10, item 10): each one a single line naming what
// the user typed or gave (their output path, their input name, the model's field), never our temp
// file, a raw Node error text, a stack or a multi-KB list; plus the notes a silent fallback owes them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, edgecIn } from './run-edgec.ts';
import { saveNpy } from '../../compiler/io/npy.ts';
import { encodeModel, seeded } from '../compiler/frontend/onnx/build-model.ts';
import { listNames } from '../../compiler/cli/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgec-messages-'));
const at = (name: string) => join(tmp, name);
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const edgec = edgecIn(tmp);
const TINY = join(ROOT, 'test/fixtures/cli/tiny/model.json');

/** One stderr line `edgec: error: …` with exit `code`; returns the line. */
function oneError(r: ReturnType<typeof edgec>, code: number): string {
  assert.is(r.code, code, `exit code (stderr: ${r.err})`);
  const lines = r.err.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `one stderr line, got:\n${r.err}`);
  assert.ok(lines[0]!.startsWith('edgec: error: '), lines[0]);
  return lines[0]!;
}

test('an output path that is a directory is named, not our temp file; nothing is left behind', () => {
  mkdirSync(at('out.edgec'));
  mkdirSync(at('outdir'));
  for (const [args, path] of [
    [['compile', TINY, '-o', at('out.edgec')], at('out.edgec')],
    [['compile', TINY, '-o', `${at('outdir')}/`], `${at('outdir')}/`],
    [['import', join(ROOT, 'test/fixtures/onnx/mlp.onnx'), '-o', at('outdir')], undefined],
  ] as const) {
    const line = oneError(edgec(...args), args[0] === 'import' ? 2 : 1);
    if (path) assert.is(line, `edgec: error: ${path}: is a directory, expected a file`);
    assert.not.match(line, /\.tmp/);
  }
  mkdirSync(at('imp.json'));
  const line = oneError(edgec('import', join(ROOT, 'test/fixtures/onnx/mlp.onnx'), '-o', at('imp.json')), 1);
  assert.is(line, `edgec: error: ${at('imp.json')}: is a directory, expected a file`);
  assert.equal(
    readdirSync(tmp).filter((f) => f.startsWith('.')),
    [],
    'temp files left',
  );
});

test("run --input NAME=file with a name the model lacks lists the model's inputs", () => {
  assert.is(edgec('compile', TINY, '-o', at('tiny.edgec')).code, 0);
  const x = at('x.npy');
  saveNpy(x, { shape: [1, 6, 6, 2], data: new Float32Array(72) });
  const line = oneError(edgec('run', at('tiny.edgec'), '--input', `nope=${x}`, '--output', at('y.npy')), 2);
  assert.match(line, /--input nope=.*x\.npy: the model has no input 'nope' \(inputs: x\)/);
  const out = oneError(edgec('run', at('tiny.edgec'), '--input', x, '--output', `scores=${at('y.npy')}`), 2);
  assert.match(out, /the model has no output 'scores' \(outputs: logits, probs\)/);
  // a path with '=' still works when it says it is one
  writeFileSync(at('a=b.npy'), readFileSync(x));
  assert.is(edgec('run', at('tiny.edgec'), '--input', at('a=b.npy'), '--output', at('y.npy')).code, 0);
});

test('a null in model.json is "found null", not "found null null"', () => {
  const dir = at('nullmodel');
  mkdirSync(dir);
  const json = JSON.parse(readFileSync(TINY, 'utf8')) as Record<string, unknown>;
  copyFileSync(join(ROOT, 'test/fixtures/cli/tiny/model.bin'), join(dir, 'model.bin'));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...json, format: null }));
  const line = oneError(edgec('compile', join(dir, 'model.json'), '-o', at('n.edgec')), 1);
  assert.match(line, /format: expected "edgec-model", found null$/);
});

test('an unknown option is named with balanced quotes', () => {
  for (const cmd of ['compile', 'run', 'inspect']) {
    const line = oneError(edgec(cmd, '--frobnicate', 'x'), 2);
    assert.is(
      line,
      `edgec: error: unknown option '--frobnicate' (a file name starting with '-' goes after '--') (see 'edgec ${cmd} --help')`,
    );
    assert.is((line.match(/'/g) ?? []).length % 2, 0, 'unbalanced quotes');
  }
});

test('--keep-float over many nodes: the int8 report names the first few and "and N more"', () => {
  // A chain of 14 dense layers (ONNX Gemm, weights [8,8]) with a ReLU between each.
  const n = 14;
  const nodes = [],
    initializers = [];
  let x = 'x';
  for (let i = 0; i < n; i++) {
    initializers.push({ name: `W${i}`, dims: [8, 8], data: seeded(i + 1, 64) });
    nodes.push({ op: 'Gemm', inputs: [x, `W${i}`], outputs: [`g${i}`], name: `dense_layer_number_${i}` });
    nodes.push({ op: 'Relu', inputs: [`g${i}`], outputs: [`r${i}`], name: `relu${i}` });
    x = `r${i}`;
  }
  writeFileSync(
    at('chain.onnx'),
    encodeModel({ inputs: [{ name: 'x', dims: [1, 8] }], outputs: [x], nodes, initializers }),
  );
  saveNpy(at('chain-calib.npy'), { shape: [16, 1, 8], data: seeded(99, 128) });
  const keep = Array.from({ length: n }, (_, i) => `dense_layer_number_${i}`);
  const r = edgec(
    'compile',
    at('chain.onnx'),
    '-o',
    at('chain.edgec'),
    '--quantize',
    'int8',
    '--calibration',
    at('chain-calib.npy'),
    '--keep-float',
    keep.join(','),
  );
  assert.is(r.code, 0, r.err);
  const report = r.err.split('\n').find((l) => l.startsWith('int8:'))!;
  assert.ok(report, r.err);
  assert.match(report, /; float: dense_layer_number_0, .* and \d+ more/);
  assert.ok(report.length < 400, `${report.length} characters`);
  assert.is(listNames(['a', 'b', 'c'], 2), 'a, b and 1 more');
  assert.is(listNames(['a', 'b'], 2), 'a, b');
});

test('a negative dim in an ONNX input is refused as malformed, not called dynamic', () => {
  writeFileSync(
    at('neg.onnx'),
    encodeModel({
      inputs: [{ name: 'img', dims: [1, -4, 8, 8] }],
      outputs: ['y'],
      nodes: [{ op: 'Relu', inputs: ['img'], outputs: ['y'] }],
    }),
  );
  const line = oneError(edgec('compile', at('neg.onnx'), '-o', at('neg.edgec')), 1);
  assert.match(
    line,
    /neg\.onnx: input 'img': shape: dim 1 is -4 in \[1, -4, 8, 8\]; expected a size ≥ 1 or a symbolic name/,
  );
  assert.not.match(line, /dynamic|--shape/);
  const batch = oneError(edgec('compile', at('neg.onnx'), '-o', at('neg.edgec'), '--shape', 'img=1x4x8x8'), 1);
  assert.match(batch, /dim 1 is -4/);
});

test('a QDQ model compiled without --quantize says it became float and how to keep int8', () => {
  const qdq = join(ROOT, 'test/fixtures/quantize/mlp_qdq_s8s8.onnx');
  const float = edgec('compile', qdq, '-o', at('qdq-f.edgec'));
  assert.is(float.code, 0, float.err);
  assert.is(
    float.err,
    `note: ${qdq} is pre-quantised (QDQ / QLinear): without --quantize it compiles to a float bundle; add --quantize int8 to keep its int8 scales\n`,
  );
  const int8 = edgec('compile', qdq, '-o', at('qdq-q.edgec'), '--quantize', 'int8');
  assert.is(int8.code, 0, int8.err);
  assert.not.match(int8.err, /note:/);
  assert.not.match(edgec('compile', join(ROOT, 'test/fixtures/onnx/mlp.onnx'), '-o', at('f.edgec')).err, /note:/);
});

test('npm run demo on a busy port: one line naming the port, no stack', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/demo.js'), '--port', String(port)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.is(r.status, 1, r.stderr);
    assert.is(
      r.stderr,
      `edgec demo: port ${port} on 127.0.0.1 is in use; pick another: npm run demo -- --port ${port + 1} (0: any free port)\n`,
    );
  } finally {
    server.close();
  }
});

test('npm commands in the project print no warning: no unknown config, no unreviewed install script', () => {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith('npm_config_')) delete env[k];
  for (const args of [['run'], ['install-scripts', 'ls']]) {
    const r = spawnSync('npm', args, { cwd: ROOT, encoding: 'utf8', env });
    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stderr, /npm warn/i, `npm ${args.join(' ')}: ${r.stderr}`);
    if (args[0] === 'install-scripts') assert.match(r.stdout, /No packages with unreviewed install scripts/);
  }
});

test.run();
