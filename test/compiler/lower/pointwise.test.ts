// A 1×1, stride 1, unpadded, ungrouped float Conv2D with constant weights is lowered at compile time to
// Conv2D_F32_P8 (packed panels), with that disabled to Dense_F32 on [N·H·W, C] views, with both disabled to
// Conv2D_F32 (compiler/lower/conv-f32.ts's rules in order): the steps say so, and all three give bit for bit the
// outputs of the same conv as a hand-made Conv2D_F32 step, in every build and mode, also when the view feeds on.
// A float Dense on one row of ≥ 400 000 MACs (a classifier) lowers to Conv2D_F32_P8 on a 1×1 image (its weights in
// panels the threads build splits); smaller, batched, or with P8 disabled it stays Dense_F32: the same bits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flatbuffers from 'flatbuffers';
import { compileGraph } from '../../../compiler/compile.ts';
import { fb } from '../../../compiler/emit/bundle-writer.ts';
import { GraphBuilder, inputsFor } from '../ir/build-graph.ts';
import { makeBundle, runAll } from '../../assembly/harness.ts';

const kernels = (bundle: Uint8Array) => {
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  return Array.from({ length: b.stepsLength() }, (_, i) => b.steps(i)!.kernel());
};

for (const [n, h, w, ci, co, then] of [
  [1, 5, 7, 3, 9, false],
  [2, 4, 3, 17, 8, true],
  [1, 1, 1, 1, 1, false],
] as const) {
  test(`pointwise conv ${n}x${h}x${w}x${ci} -> ${co}${then ? ', output used again' : ''}: P8 = Dense_F32 = Conv2D_F32`, async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [n, h, w, ci]);
    const wt = b.constant('w', [co, 1, 1, ci]),
      bias = b.constant('b', [co]);
    const y = b.node('Conv2D', [x, wt, bias], { activation: 'relu' });
    const g = b.output(then ? b.node('Mul', [y, y], {}, 'y') : y);
    const asP8 = compileGraph(g).bundle;
    const tail = then ? [fb.KernelId.Binary_F32] : [];
    assert.equal(kernels(asP8), [fb.KernelId.Conv2D_F32_P8, ...tail]);
    const viaP8 = (await runAll(asP8, inputsFor(g), 'P8'))[g.outputs[0]!] as Float32Array;
    const bundle = compileGraph(g, { disableKernels: ['Conv2D_F32_P8'] }).bundle;
    assert.equal(kernels(bundle), [fb.KernelId.Dense_F32, ...tail]);
    const inputs = inputsFor(g);
    const got = (await runAll(bundle, inputs, 'dense'))[g.outputs[0]!] as Float32Array;
    // the same conv as one Conv2D_F32 step: weights [G,KH,KW,Ci,Co] = [1,1,1,Ci,Co]
    const W = g.tensors.get(wt)!.data as Float32Array,
      wp = new Float32Array(ci * co);
    for (let o = 0; o < co; o++) for (let c = 0; c < ci; c++) wp[c * co + o] = W[o * ci + c]!;
    const conv = makeBundle(
      [
        { name: 'x', shape: [n, h, w, ci], role: 'in' },
        { name: 'w', shape: [1, 1, 1, ci, co], role: 'const', data: wp },
        { name: 'b', shape: [co], role: 'const', data: g.tensors.get(bias)!.data as Float32Array },
        { name: 'y', shape: [n, h, w, co], role: 'out' },
      ],
      [
        {
          kernel: fb.KernelId.Conv2D_F32,
          inputs: [0, 1, 2],
          outputs: [3],
          params: { type: 'conv', kernelH: 1, kernelW: 1, activation: fb.Activation.Relu },
        },
      ],
    );
    const want = (await runAll(conv, { x: inputs.x! }, 'conv')).y as Float32Array;
    const sq = then ? want.map((v) => Math.fround(v * v)) : want;
    assert.equal(
      new Uint32Array(got.buffer, got.byteOffset, got.length),
      new Uint32Array(sq.buffer, sq.byteOffset, sq.length),
    );
    assert.equal(
      new Uint32Array(viaP8.buffer, viaP8.byteOffset, viaP8.length),
      new Uint32Array(got.buffer, got.byteOffset, got.length),
    );
    const asConv = compileGraph(g, { disableKernels: ['Conv2D_F32_P8', 'Dense_F32'] }).bundle;
    assert.equal(kernels(asConv), then ? [fb.KernelId.Conv2D_F32, fb.KernelId.Binary_F32] : [fb.KernelId.Conv2D_F32]);
    const viaConv = (await runAll(asConv, inputs, 'conv rule'))[g.outputs[0]!] as Float32Array;
    assert.equal(
      new Uint32Array(viaConv.buffer, viaConv.byteOffset, viaConv.length),
      new Uint32Array(got.buffer, got.byteOffset, got.length),
    );
  });
}

for (const [m, k, n, act] of [
  [1, 700, 603, 'relu'],
  [1, 640, 640, 'none'],
  [2, 700, 603, 'none'],
  [1, 100, 50, 'none'],
] as const) {
  test(`dense ${m}x${k} -> ${n} ${act}: Conv2D_F32_P8 from 400 000 MACs on one row, the same bits as Dense_F32`, async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [m, k]);
    const d = b.node('Dense', [x, b.constant('w', [n, k]), b.constant('b', [n])], { activation: act });
    const g = b.output(b.node('Mul', [d, d], {}, 'y'));
    const asP8 = compileGraph(g).bundle;
    const p8 = m === 1 && k * n >= 400_000;
    assert.equal(kernels(asP8), [p8 ? fb.KernelId.Conv2D_F32_P8 : fb.KernelId.Dense_F32, fb.KernelId.Binary_F32]);
    const asDense = compileGraph(g, { disableKernels: ['Conv2D_F32_P8'] }).bundle;
    assert.equal(kernels(asDense), [fb.KernelId.Dense_F32, fb.KernelId.Binary_F32]);
    const inputs = inputsFor(g);
    const got = (await runAll(asP8, inputs, 'P8'))[g.outputs[0]!] as Float32Array;
    const want = (await runAll(asDense, inputs, 'dense'))[g.outputs[0]!] as Float32Array;
    assert.equal(
      new Uint32Array(got.buffer, got.byteOffset, got.length),
      new Uint32Array(want.buffer, want.byteOffset, want.length),
    );
  });
}

test.run();
