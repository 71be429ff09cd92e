// The bit-exactness matrix under the real wasm3 interpreter, 0.9.0 and 0.5.0 built from ../shared/vendor
// (test/mcu/wasm3.ts): MNIST float, MNIST int8, gated MNIST, the KWS int8 .tflite (the *_QS8_FP32 kernels) and a QDQ
// ONNX Add on onnxruntime's arithmetic (Quantize_QS8_RNE, Add_QS8_FP32), each
// through the WASI build (`wasm3 edgec-wasi.wasm model.edgec in.bin out.bin`) and through its `--embed` one-file wasm;
// every output file must equal Node's scalar runtime byte for byte (and, for int8, Node's SIMD build too).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedBundle } from '../../compiler/embed/index.ts';
import { skipSuite } from '../skip-suite.ts';
import { matrixModels, nodeOutput, type MatrixModel } from './models.ts';
import { REPO_ROOT, WASM3_VERSIONS, wasm3Cli, wasm3Missing } from './wasm3.ts';

const missing = wasm3Missing();
if (missing) skipSuite('mcu/wasm3', missing);
else {
  let dir = '';
  let models: MatrixModel[] = [];
  const want = new Map<string, Uint8Array>();
  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgec-wasm3-'));
    models = await matrixModels(3, true, true);
    for (const m of models) want.set(m.name, await nodeOutput(m));
  });
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  const runCli = (cli: string, args: string[]) => {
    const r = spawnSync(cli, args, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, text: `${r.stdout}${r.stderr}${r.error ?? ''}` };
  };

  test('int8 reference: Node scalar and Node SIMD agree byte for byte', async () => {
    for (const m of models.filter((x) => x.name === 'mnist int8' || x.name === 'onnx qdq int8'))
      assert.equal(Array.from(await nodeOutput(m, 'simd')), Array.from(want.get(m.name)!), m.name);
  });

  for (const version of WASM3_VERSIONS) {
    test(`wasm3 ${version}: WASI build and --embed one-file wasm = Node, for float, int8 and gated`, async () => {
      const cli = wasm3Cli(version);
      for (const m of models) {
        const slug = m.name.replace(/ /g, '-');
        writeFileSync(join(dir, `${slug}.edgec`), m.bundle);
        writeFileSync(join(dir, `${slug}.in`), m.input);
        const wasi = runCli(cli, [
          join(REPO_ROOT, 'build', 'edgec-wasi.wasm'),
          `${slug}.edgec`,
          `${slug}.in`,
          `${slug}-${version}.out`,
        ]);
        assert.is(wasi.code, 0, `${m.name}: ${wasi.text}`);
        const expected = Array.from(want.get(m.name)!);
        assert.equal(Array.from(readFileSync(join(dir, `${slug}-${version}.out`))), expected, `${m.name}, WASI build`);

        writeFileSync(join(dir, `${slug}.wasm`), (await embedBundle(m.bundle)).wasm);
        const one = runCli(cli, [`${slug}.wasm`, `${slug}.in`, `${slug}-${version}-embed.out`]);
        assert.is(one.code, 0, `${m.name}: ${one.text}`);
        assert.equal(
          Array.from(readFileSync(join(dir, `${slug}-${version}-embed.out`))),
          expected,
          `${m.name}, --embed`,
        );
      }
    });
  }

  test('wasm3 0.9.0: a refused bundle is one stderr line and exit 1, as under node:wasi', () => {
    writeFileSync(join(dir, 'bad.edgec'), new Uint8Array(64).fill(7));
    writeFileSync(join(dir, 'x.in'), new Uint8Array(4));
    const r = runCli(wasm3Cli('0.9.0'), [join(REPO_ROOT, 'build', 'edgec-wasi.wasm'), 'bad.edgec', 'x.in', 'x.out']);
    assert.is.not(r.code, 0);
    assert.match(r.text, /edgec-wasi: bundle refused: /);
  });
}
test.run();
