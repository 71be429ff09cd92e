// End-to-end tests of the edgec CLI: spawns `node bin/edgec.js` (the esbuild bundle in dist/, so
// run `npm run build` or `npm test` first) on the tiny model.json fixture and the ONNX zoo MNIST
// model. Float outputs are compared to the IR's float64 reference evaluator (tolerance stated below).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy } from '../../compiler/io/npy.ts';
import { ROOT, edgecIn } from './run-edgec.ts';
import { readBundle } from '../../compiler/emit/bundle-writer.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { PASS_NAMES } from '../../compiler/compile.ts';
import { formatInspect, summarizeBundle, NODE_COLUMN } from '../../compiler/cli/inspect.ts';

const FIX = join(ROOT, 'test/fixtures/cli');
const TINY = join(FIX, 'tiny/model.json');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-cli-'));
const at = (name: string) => join(tmp, name);
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const edgec = edgecIn(tmp);

/** Every failure: exit code `code`, exactly one stderr line starting 'edgec: error:' that matches all `parts`. */
function fails(r: ReturnType<typeof edgec>, code: number, ...parts: (string | RegExp)[]) {
  assert.is(r.code, code, `exit code (stderr: ${r.err})`);
  const lines = r.err.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `one stderr line, got:\n${r.err}`);
  assert.ok(lines[0]!.startsWith('edgec: error: '), lines[0]);
  for (const p of parts)
    assert.ok(typeof p === 'string' ? lines[0]!.includes(p) : p.test(lines[0]!), `'${lines[0]}' lacks ${p}`);
}

// Input samples: a fixed formula, 3 samples of [6,6,2] NHWC.
const N = 3;
const SAMPLE = 6 * 6 * 2;
const xs = Float32Array.from({ length: N * SAMPLE }, (_, i) => (((i * 37) % 23) - 11) / 7);

test('--help, <cmd> --help, --version', () => {
  const h = edgec('--help');
  assert.is(h.code, 0);
  for (const c of ['compile', 'run', 'inspect', 'import']) assert.ok(h.out.includes(c));
  for (const c of ['compile', 'run', 'inspect', 'import']) {
    const r = edgec(c, '--help');
    assert.is(r.code, 0, c);
    assert.ok(r.out.startsWith(`usage: edgec ${c}`), r.out);
  }
  const v = edgec('--version');
  assert.is(v.code, 0);
  assert.is(v.out.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
});

test('compile prints a summary that matches the bundle; inspect lists every step', () => {
  const r = edgec('compile', TINY, '-o', at('tiny.edgec'));
  assert.is(r.code, 0, r.err);
  assert.is(r.err, '');
  const bytes = new Uint8Array(readFileSync(at('tiny.edgec')));
  const b = readBundle(bytes);
  assert.ok(r.out.includes(`${b.stepsLength()} steps`), r.out);
  assert.ok(r.out.includes(`bundle ${bytes.length.toLocaleString('en-US')} bytes`), r.out);
  assert.ok(r.out.includes(`arena ${b.arenaSize().toLocaleString('en-US')} bytes`), r.out);
  assert.equal(
    readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
    [],
  );

  const i = edgec('inspect', at('tiny.edgec'));
  assert.is(i.code, 0, i.err);
  let macs = 0n;
  for (let s = 0; s < b.stepsLength(); s++) macs += b.steps(s)!.macs();
  assert.ok(
    i.out.includes(
      `steps ${b.stepsLength()}, MACs ${macs.toLocaleString('en-US')}, arena ${b.arenaSize().toLocaleString('en-US')} bytes`,
    ),
    i.out,
  );
  assert.ok(i.out.includes(`file ${bytes.length.toLocaleString('en-US')} bytes`), i.out);
  const convRow = i.out.split('\n').find((l) => l.includes('Conv2D_F32'));
  assert.ok(convRow, i.out);
  assert.ok(convRow!.includes('conv1'), convRow);
  assert.ok(convRow!.includes('1x6x6x2 -> 1x3x3x4'), convRow);
  assert.ok(convRow!.includes('k3x3 s2 p1,1,1,1 d1 g1 relu'), convRow);
  const convMacs = b
    .steps(
      i.out
        .split('\n')
        .filter((l) => /^\s*\d+\s/.test(l))
        .indexOf(convRow!),
    )!
    .macs();
  assert.ok(convRow!.includes(` ${convMacs.toLocaleString('en-US')} `), `${convRow} lacks ${convMacs}`);
  assert.ok(i.out.includes('MaxPool_F32') && i.out.includes('k2x2 s1 p0,0,0,0'), i.out);
});

test('inspect cuts long node names at NODE_COLUMN unless --wide', () => {
  const sum = summarizeBundle(new Uint8Array(readFileSync(at('tiny.edgec'))));
  const long = `${'n'.repeat(NODE_COLUMN)}/tail`;
  sum.rows[0]!.node = long;
  assert.ok(formatInspect(sum, 'f').includes(`${'n'.repeat(NODE_COLUMN - 1)}…`));
  assert.not.ok(formatInspect(sum, 'f').includes('/tail'));
  assert.ok(formatInspect(sum, 'f', { wide: true }).includes(long));
  const r = edgec('inspect', '--wide', at('tiny.edgec'));
  assert.is(r.code, 0, r.err);
  assert.ok(r.out.includes('conv1'));
});

test('--dump-after prints the graph after the pass', () => {
  const pass = PASS_NAMES[0]!;
  const r = edgec('compile', TINY, '-o', at('dump.edgec'), '--dump-after', pass);
  assert.is(r.code, 0, r.err);
  assert.ok(r.out.includes(`// after ${pass}`), r.out);
  assert.ok(r.out.includes('conv1') && r.out.includes('fc'), r.out);
});

test('--dump-after prints with --quantize int8, --variants and for a block model too', () => {
  const pass = PASS_NAMES[0]!;
  const dumps = (r: ReturnType<typeof edgec>) => r.out.split(`// after ${pass}\n`).length - 1;
  const mnist = join(ROOT, 'examples/mnist/model.json'),
    cal = join(ROOT, 'examples/mnist/images.npy');
  const q = edgec(
    'compile',
    mnist,
    '-o',
    at('dq.edgec'),
    '--quantize',
    'int8',
    '--calibration',
    cal,
    '--dump-after',
    pass,
  );
  assert.is(q.code, 0, q.err);
  assert.is(dumps(q), 1, q.out);
  const v = edgec(
    'compile',
    mnist,
    '-o',
    at('dv.edgec'),
    '--variants',
    'fp32,int8',
    '--quantize',
    'int8',
    '--calibration',
    cal,
    '--dump-after',
    pass,
  );
  assert.is(v.code, 0, v.err);
  assert.is(dumps(v), 2, v.out);
  // a block model: every piece (trunk, gate, branches, head) runs the pipeline and dumps
  const b = edgec('compile', join(ROOT, 'examples/branches/gated.json'), '-o', at('db.edgec'), '--dump-after', pass);
  assert.is(b.code, 0, b.err);
  assert.ok(dumps(b) >= 3, b.out);
});

test('one compile path: plain, --variants and block models read --calibration alike and --embed alike', () => {
  const mnist = join(ROOT, 'examples/mnist/model.json'),
    gated = join(ROOT, 'examples/branches/gated.json');
  saveNpy(at('flat.npy'), { shape: [5, 784], data: new Float32Array(5 * 784) });
  const kinds: [string, string[]][] = [
    ['plain', [mnist]],
    ['variants', [mnist, '--variants', 'fp32,int8']],
    ['block', [gated]],
  ];
  for (const [file, detail] of [
    ['missing.npy', 'missing.npy: no such file'],
    ['flat.npy', "expected samples of input 'Input3' shape [1,1,28,28]"],
  ] as const) {
    for (const [kind, args] of kinds) {
      fails(
        edgec('compile', ...args, '-o', at(`c-${kind}.edgec`), '--quantize', 'int8', '--calibration', at(file)),
        1,
        detail,
      );
      assert.not.ok(existsSync(at(`c-${kind}.edgec`)), kind);
    }
  }
  for (const [kind, args] of kinds) {
    const r = edgec(
      'compile',
      ...args,
      '-o',
      at(`e-${kind}.wasm`),
      '--quantize',
      'int8',
      '--calibration',
      join(ROOT, 'examples/branches/calib.npy'),
      '--embed',
    );
    assert.is(r.code, 0, r.err);
    assert.match(
      r.out,
      new RegExp(
        `^${at(`e-${kind}.wasm`).replace(/[.]/g, '\\.')}: one-file wasm [\\d,]+ bytes \\(bundle [\\d,]+ bytes`,
      ),
      kind,
    );
    assert.equal([...readFileSync(at(`e-${kind}.wasm`)).subarray(0, 4)], [0, 0x61, 0x73, 0x6d], kind);
  }
});

test('run: N=3 batched input equals each sample alone, and the float64 reference within 1e-4', () => {
  saveNpy(at('x3.npy'), { shape: [N, 6, 6, 2], data: xs });
  const r = edgec(
    'run',
    at('tiny.edgec'),
    '--input',
    at('x3.npy'),
    '--output',
    'logits=' + at('logits3.npy'),
    '--output',
    'probs=' + at('probs3.npy'),
  );
  assert.is(r.code, 0, r.err);
  const logits = loadNpy(at('logits3.npy'));
  const probs = loadNpy(at('probs3.npy'));
  assert.equal(logits.shape, [N, 5]);
  assert.equal(probs.shape, [N, 5]);
  assert.is(logits.dtype, 'float32');

  const graph = loadModelJson(TINY);
  for (let s = 0; s < N; s++) {
    const one = xs.slice(s * SAMPLE, (s + 1) * SAMPLE);
    saveNpy(at(`x${s}.npy`), { shape: [1, 6, 6, 2], data: one });
    const r1 = edgec(
      'run',
      at('tiny.edgec'),
      '-i',
      `x=${at(`x${s}.npy`)}`,
      '-o',
      at(`l${s}.npy`),
      '-o',
      at(`p${s}.npy`),
    );
    assert.is(r1.code, 0, r1.err);
    const l1 = loadNpy(at(`l${s}.npy`));
    assert.equal(l1.shape, [1, 5]);
    // Same bundle, same build, same sample: bit-identical.
    assert.equal(
      Array.from(l1.data as Float32Array),
      Array.from((logits.data as Float32Array).slice(s * 5, s * 5 + 5)),
    );
    assert.equal(
      Array.from(loadNpy(at(`p${s}.npy`)).data as Float32Array),
      Array.from((probs.data as Float32Array).slice(s * 5, s * 5 + 5)),
    );

    const ref = evaluate(graph, { x: one });
    for (const [name, got] of [
      ['logits', logits],
      ['probs', probs],
    ] as const) {
      for (let k = 0; k < 5; k++) {
        const want = ref[name]![k]!;
        const have = (got.data as Float32Array)[s * 5 + k]!;
        assert.ok(
          Math.abs(have - want) <= 1e-4 * Math.max(1, Math.abs(want)),
          `${name}[${s},${k}] ${have} vs reference ${want}`,
        );
      }
    }
  }
});

test('run: scalar and simd builds agree (bit-identical per docs/bundle-format.md)', () => {
  const outs = ['simd', 'scalar'].map((build) => {
    const r = edgec(
      'run',
      at('tiny.edgec'),
      '--input',
      at('x3.npy'),
      '--output',
      at(`b-${build}.npy`),
      '--build',
      build,
    );
    assert.is(r.code, 0, r.err);
    return Array.from(loadNpy(at(`b-${build}.npy`)).data as Float32Array);
  });
  assert.equal(outs[0], outs[1]);
});

test('run accepts float64 input (numpy default) and a sample without the batch axis', () => {
  saveNpy(at('x64.npy'), { shape: [N, 6, 6, 2], data: Float64Array.from(xs) });
  assert.is(edgec('run', at('tiny.edgec'), '-i', at('x64.npy'), '-o', at('l64.npy')).code, 0);
  assert.equal(
    Array.from(loadNpy(at('l64.npy')).data as Float32Array),
    Array.from(loadNpy(at('logits3.npy')).data as Float32Array),
  );
  saveNpy(at('xnb.npy'), { shape: [6, 6, 2], data: xs.slice(0, SAMPLE) });
  assert.is(edgec('run', at('tiny.edgec'), '-i', at('xnb.npy'), '-o', at('lnb.npy')).code, 0);
  assert.equal(loadNpy(at('lnb.npy')).shape, [1, 5]);
  assert.equal(
    Array.from(loadNpy(at('lnb.npy')).data as Float32Array),
    Array.from(loadNpy(at('l0.npy')).data as Float32Array),
  );
});

test('run: two inputs by name (any order) or by position, two outputs, N=2 stacked', () => {
  const model = join(FIX, 'two-in/model.json');
  assert.is(edgec('compile', model, '-o', at('two.edgec')).code, 0);
  const a = Float32Array.from({ length: 2 * 8 }, (_, i) => i * 0.75 - 3);
  const b = Float32Array.from({ length: 2 * 4 }, (_, i) => (i % 3) - 1.5);
  saveNpy(at('a.npy'), { shape: [2, 2, 4], data: a });
  saveNpy(at('b.npy'), { shape: [2, 1, 4], data: b });
  const named = edgec(
    'run',
    at('two.edgec'),
    '-i',
    `b=${at('b.npy')}`,
    '-i',
    `a=${at('a.npy')}`,
    '-o',
    `scaled=${at('s.npy')}`,
    '-o',
    `diff=${at('d.npy')}`,
  );
  assert.is(named.code, 0, named.err);
  const positional = edgec('run', at('two.edgec'), '-i', at('a.npy'), '-i', at('b.npy'), '-o', at('d2.npy'));
  assert.is(positional.code, 0, positional.err);
  const graph = loadModelJson(model);
  const d = loadNpy(at('d.npy'));
  const sc = loadNpy(at('s.npy'));
  assert.equal(d.shape, [2, 2, 4]);
  assert.equal(Array.from(loadNpy(at('d2.npy')).data as Float32Array), Array.from(d.data as Float32Array));
  for (let s = 0; s < 2; s++) {
    const ref = evaluate(graph, { a: a.slice(s * 8, s * 8 + 8), b: b.slice(s * 4, s * 4 + 4) });
    // Inputs and k are small dyadic rationals, so Sub and Mul are exact in float32 and float64 alike.
    assert.equal(Array.from((d.data as Float32Array).slice(s * 8, s * 8 + 8)), Array.from(ref.diff!, Math.fround));
    assert.equal(Array.from((sc.data as Float32Array).slice(s * 8, s * 8 + 8)), Array.from(ref.scaled!, Math.fround));
  }
  saveNpy(at('b3.npy'), { shape: [3, 1, 4], data: new Float32Array(12) });
  fails(
    edgec('run', at('two.edgec'), '-i', at('a.npy'), '-i', at('b3.npy'), '-o', at('never.npy')),
    1,
    'b3.npy',
    '3 sample(s)',
    '2',
  );
  fails(edgec('run', at('two.edgec'), '-i', at('a.npy'), '-o', at('never.npy')), 2, "'b'");
  assert.not.ok(existsSync(at('never.npy')));
});

// ---- error paths: one line, file/node/field named, non-zero exit, no output left behind ----

function brokenModel(name: string, edit: (m: any) => void): string {
  const m = JSON.parse(readFileSync(TINY, 'utf8'));
  edit(m);
  const p = at(`${name}.json`);
  writeFileSync(p, JSON.stringify(m));
  copyFileSync(join(FIX, 'tiny/model.bin'), at('model.bin'));
  return p;
}

test('compile errors name file, node and field; the output is never created', () => {
  const bad = brokenModel('bad-attr', (m) => {
    m.nodes[0].attrs.strides = [2, 'x'];
  });
  let r = edgec('compile', bad, '-o', at('never.edgec'));
  fails(r, 1, 'bad-attr.json', 'conv1', 'strides');
  assert.not.ok(existsSync(at('never.edgec')));

  const badIn = brokenModel('bad-input', (m) => {
    m.nodes[3].inputs[0] = 'nope';
  });
  r = edgec('compile', badIn, '-o', at('never.edgec'));
  fails(r, 1, 'bad-input.json', 'fc', 'nope');
  assert.not.ok(existsSync(at('never.edgec')));

  r = edgec('compile', at('missing.json'), '-o', at('never.edgec'));
  fails(r, 1, 'missing.json', 'no such file');
  writeFileSync(at('garbage.json'), '{"format": "edgec-model",\n  "version": 1,, }');
  fails(edgec('compile', at('garbage.json'), '-o', at('never.edgec')), 1, 'garbage.json', 'line 2');
  assert.not.ok(existsSync(at('never.edgec')));
  assert.equal(
    readdirSync(tmp).filter((f) => f.endsWith('.tmp') || f.startsWith('.')),
    [],
  );
});

test('a failed compile leaves an existing output unchanged', () => {
  writeFileSync(at('keep.edgec'), 'previous bundle');
  const bad = brokenModel('bad-attr2', (m) => {
    m.nodes[1].attrs.kernel = [2];
  });
  fails(edgec('compile', bad, '-o', at('keep.edgec')), 1, 'bad-attr2.json', 'pool', 'kernel');
  assert.is(readFileSync(at('keep.edgec'), 'utf8'), 'previous bundle');
});

test('usage errors exit 2 with one line', () => {
  fails(edgec('compile', TINY), 2, '-o');
  fails(edgec('compile', TINY, '-o', at('u.edgec'), '--bogus'), 2, '--bogus');
  fails(edgec('compile', TINY, '-o', at('u.edgec'), '--target', 'gpu'), 2, 'gpu');
  fails(edgec('compile', TINY, '-o', at('u.edgec'), '--dump-after', 'no-such-pass'), 2, 'no-such-pass');
  fails(edgec('compile', join(FIX, 'README.md'), '-o', at('u.edgec')), 2, '.md');
  fails(edgec('frobnicate'), 2, 'frobnicate');
  fails(edgec('compile', TINY, '-o', at('u.edgec'), '--shape', 'x=1x6x6x2'), 2, '--shape', 'ONNX');
  fails(edgec('compile', join(FIX, 'mnist-8.onnx'), '-o', at('u.edgec'), '--shape', 'Input3=1xtwo'), 2, '1xtwo');
  assert.is(edgec().code, 2);
  fails(edgec('run', at('tiny.edgec'), '-i', at('x3.npy')), 2, '--output');
  fails(edgec('run', at('tiny.edgec'), '-o', at('u.npy')), 2, "'x'");
  fails(edgec('run', at('tiny.edgec'), '-i', at('x3.npy'), '-o', at('u.npy'), '--build', 'gpu'), 2, 'gpu');
  assert.not.ok(existsSync(at('u.edgec')) || existsSync(at('u.npy')));
});

test('run errors name the file and input; outputs are untouched', () => {
  writeFileSync(at('keep.npy'), 'previous output');
  saveNpy(at('wrong-shape.npy'), { shape: [2, 6, 6, 3], data: new Float32Array(2 * 6 * 6 * 3) });
  fails(
    edgec('run', at('tiny.edgec'), '-i', at('wrong-shape.npy'), '-o', at('keep.npy')),
    1,
    'wrong-shape.npy',
    "'x'",
    '[2,6,6,3]',
  );
  saveNpy(at('u8.npy'), { shape: [1, 6, 6, 2], data: new Uint8Array(SAMPLE) });
  fails(edgec('run', at('tiny.edgec'), '-i', at('u8.npy'), '-o', at('keep.npy')), 1, 'u8.npy', 'uint8', 'float32');
  copyFileSync(join(FIX, 'npy-float16.npy'), at('f16.npy'));
  fails(edgec('run', at('tiny.edgec'), '-i', at('f16.npy'), '-o', at('keep.npy')), 1, 'f16.npy', '<f2');
  fails(edgec('run', at('tiny.edgec'), '-i', at('absent.npy'), '-o', at('keep.npy')), 1, 'absent.npy', 'no such file');
  // the bundle is read inside load(path), straight into the wasm memory; the error reads as every command's
  fails(edgec('run', at('absent.edgec'), '-i', at('x3.npy'), '-o', at('keep.npy')), 1, 'absent.edgec', 'no such file');
  assert.is(readFileSync(at('keep.npy'), 'utf8'), 'previous output');
  assert.not.ok(existsSync(at('new.npy')));
});

test('--shape on ONNX: a matching shape compiles, a conflicting one names the file and input', () => {
  const onnx = join(FIX, 'mnist-8.onnx');
  assert.is(edgec('compile', onnx, '-o', at('shaped.edgec'), '--shape', 'Input3=1x1x28x28').code, 0);
  fails(edgec('compile', onnx, '-o', at('never2.edgec'), '--shape', 'Input3=1x1x28x29'), 1, 'mnist-8.onnx', 'Input3');
  assert.not.ok(existsSync(at('never2.edgec')));
});

test('EDGEC_DEBUG=1 adds the stack after the error line', () => {
  writeFileSync(at('text.edgec'), 'plain text, not a bundle');
  const r = edgecIn(tmp, { EDGEC_DEBUG: '1' })('inspect', at('text.edgec'));
  assert.is(r.code, 1);
  const lines = r.err.split('\n').filter((l) => l !== '');
  assert.ok(lines[0]!.startsWith('edgec: error: ') && lines.length > 2 && /^\s+at /.test(lines[2]!), r.err);
});

test('a corrupt bundle is refused by run and inspect with the file named', () => {
  const good = readFileSync(at('tiny.edgec'));
  writeFileSync(at('junk.edgec'), 'definitely not a bundle, just text');
  fails(edgec('inspect', at('junk.edgec')), 1, 'junk.edgec');
  fails(edgec('run', at('junk.edgec'), '-i', at('x3.npy'), '-o', at('new.npy')), 1, 'junk.edgec');
  writeFileSync(at('cut.edgec'), good.subarray(0, Math.floor(good.length / 2)));
  fails(edgec('run', at('cut.edgec'), '-i', at('x3.npy'), '-o', at('new.npy')), 1, 'cut.edgec');
  fails(edgec('inspect', at('cut.edgec')), 1, 'cut.edgec', 'checksum mismatch');
  assert.not.ok(existsSync(at('new.npy')));
});

test('import: ONNX → model.json compiles to the same outputs as the .onnx itself', () => {
  const onnx = join(FIX, 'mnist-8.onnx');
  const r = edgec('import', onnx, '-o', at('mnist.json'));
  assert.is(r.code, 0, r.err);
  assert.ok(existsSync(at('mnist.json')) && existsSync(at('mnist.bin')), readdirSync(tmp).join(' '));
  assert.equal(
    readdirSync(tmp).filter((f) => f.startsWith('.edgec-tmp')),
    [],
  );
  assert.is(edgec('compile', at('mnist.json'), '-o', at('mnist-json.edgec')).code, 0);
  assert.is(edgec('compile', onnx, '-o', at('mnist-onnx.edgec')).code, 0);
  // Five real MNIST test digits (x/255, NCHW) from the shipped example.
  const images = loadNpy(join(ROOT, 'examples/mnist/images.npy'));
  saveNpy(at('digits.npy'), { shape: [5, 1, 28, 28], data: (images.data as Float32Array).slice(0, 5 * 784) });
  const run = (b: string) => {
    const rr = edgec('run', at(b), '-i', at('digits.npy'), '-o', at(`${b}.npy`));
    assert.is(rr.code, 0, rr.err);
    return loadNpy(at(`${b}.npy`));
  };
  const a = run('mnist-json.edgec');
  const b = run('mnist-onnx.edgec');
  assert.equal(a.shape, [5, 10]);
  assert.equal(Array.from(a.data as Float32Array), Array.from(b.data as Float32Array));
  const labels = Array.from(loadNpy(join(ROOT, 'examples/mnist/labels_u8.npy')).data as Uint8Array).slice(0, 5);
  const argmax = (i: number) => {
    const row = Array.from((a.data as Float32Array).slice(i * 10, i * 10 + 10));
    return row.indexOf(Math.max(...row));
  };
  assert.equal([0, 1, 2, 3, 4].map(argmax), labels);
});

test('import errors', () => {
  fails(edgec('import', at('none.onnx'), '-o', at('none.json')), 1, 'none.onnx', 'no such file');
  writeFileSync(at('bad.onnx'), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
  fails(edgec('import', at('bad.onnx'), '-o', at('bad.json')), 1, 'bad.onnx');
  assert.not.ok(existsSync(at('bad.json')) || existsSync(at('bad.bin')));
  fails(edgec('import', TINY, '-o', at('x.json')), 2, '.onnx');
  fails(edgec('import', TINY, '-o', at('x.txt')), 2, 'x.txt', 'must be a .json or .onnx file');
  assert.not.ok(existsSync(at('x.json')) || existsSync(at('x.txt')));
});

test('import -o model.onnx: the exported mnist runs in onnxruntime as edgec run does (1e-5 × max(1, |logit|))', async () => {
  const { ort, ortSession } = await import('../ort-oracle.ts');
  const r = edgec('import', join(ROOT, 'examples/mnist/model.json'), '-o', at('mnist-export.onnx'));
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /mnist-export\.onnx: ONNX opset 13, 13 edgec nodes, 1 input\(s\), 1 output\(s\), [\d,]+ bytes/);
  assert.is(edgec('compile', join(ROOT, 'examples/mnist/model.json'), '-o', at('mx.edgec')).code, 0);
  assert.is(
    edgec('run', at('mx.edgec'), '--input', join(ROOT, 'examples/mnist/images.npy'), '--output', at('mx.npy')).code,
    0,
  );
  const want = loadNpy(at('mx.npy')).data as Float32Array;
  const images = loadNpy(join(ROOT, 'examples/mnist/images.npy')).data as Float32Array;
  const s = await ortSession(at('mnist-export.onnx'));
  let worst = 0;
  for (let i = 0; i < 100; i++) {
    const out = await s.run({
      Input3: new ort.Tensor('float32', images.slice(i * 784, (i + 1) * 784), [1, 1, 28, 28]),
    });
    const got = out.Plus214_Output_0!.data as Float32Array;
    // Logits reach |20|, where a float32 ulp is 2e-6: the bound is relative above 1.
    for (let k = 0; k < 10; k++)
      worst = Math.max(worst, Math.abs(got[k]! - want[i * 10 + k]!) / Math.max(1, Math.abs(want[i * 10 + k]!)));
  }
  assert.ok(worst <= 1e-5, `max |onnxruntime − edgec run| / max(1, |logit|) ${worst}`);
  // ONNX → ONNX re-export of the imported model is allowed too.
  assert.is(edgec('import', join(FIX, 'mnist-8.onnx'), '-o', at('again.onnx')).code, 0);
});

test.run();
