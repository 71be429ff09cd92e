// int8 block models (every piece quantised on its own calibration activations): the plan's outputs,
// routes and executed MACs are byte-identical across the simd and scalar builds, fast and reference
// kernels; on the shipped examples and 100 real MNIST test digits (20 other digits calibrate).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBlockModel } from '../../../compiler/ir/blocks.ts';
import { compileBlockModelInt8 } from '../../../compiler/lower/branches-int8.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';
import { load } from '../../../runtime/node.ts';
import { readBundle, fb } from '../../../compiler/emit/bundle-writer.ts';

const ROOT = join(import.meta.dirname, '../../..');
const EX = join(ROOT, 'examples/branches');
const images = loadNpy(join(ROOT, 'examples/mnist/images.npy')).data as Float32Array;
const calib = Array.from({ length: 20 }, (_, i) => images.slice((400 + i) * 784, (401 + i) * 784));
const x = images.slice(0, 100 * 784);

for (const file of ['early-exit.json', 'gated.json']) {
  test(`${file} int8: outputs, routes and MACs identical on simd/scalar x fast/reference`, async () => {
    const bm = parseBlockModel(
      JSON.parse(readFileSync(join(EX, file), 'utf8')),
      new Uint8Array(readFileSync(join(EX, 'model.bin'))),
      file,
    );
    const { bundle } = await compileBlockModelInt8(bm, { samples: calib });
    // the plan really is int8: integer kernels in the trunk and in every block
    const b = readBundle(bundle);
    let i8 = 0;
    for (let k = 0; k < b.tensorsLength(); k++) if (b.tensors(k)!.dtype() === fb.DType.I8) i8++;
    assert.ok(i8 > 5, `${i8} int8 tensors`);
    let first: { y: string; routes: string } | undefined;
    for (const build of ['simd', 'scalar'] as const) {
      for (const reference of [false, true]) {
        const m = await load(bundle, { build, reference });
        const d = m.runDetailed({ Input3: x });
        const y = Buffer.from((d.outputs.Plus214_Output_0 as Float32Array).buffer).toString('hex');
        const routes = JSON.stringify(d.samples);
        if (!first) {
          first = { y, routes };
          // both paths are exercised
          const cheap = d.samples.filter((s) => s.exitedAt !== null || s.branches.route === 0).length;
          assert.ok(cheap > 0 && cheap < 100, `cheap path taken by ${cheap} of 100`);
        } else {
          assert.ok(y === first.y, `${build} reference=${reference}: outputs differ from simd fast`);
          assert.is(routes, first.routes, `${build} reference=${reference}: routes / MACs differ`);
        }
      }
    }
  });
}

test.run();
