// The executor over a multi-step bundle that uses every kernel: repeated runs give the same bits
// and allocate nothing (the stub runtime never frees, so a per-run allocation would grow memory).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wasmModule } from '../../runtime/node.ts';
import { makeBundle, rng, randF32, fb, runAll } from './harness.ts';

function everyKernel(): Uint8Array {
  const r = rng(21);
  return makeBundle(
    [
      /* 0 */ { name: 'x', shape: [1, 6, 6, 4], role: 'in' },
      /* 1 */ { name: 'w1', shape: [1, 3, 3, 4, 8], role: 'const', data: randF32(r, 288) },
      /* 2 */ { name: 'c1', shape: [1, 6, 6, 8], role: 'tmp' },
      /* 3 */ { name: 'wd', shape: [3, 3, 8], role: 'const', data: randF32(r, 72) },
      /* 4 */ { name: 'd1', shape: [1, 6, 6, 8], role: 'tmp' },
      /* 5 */ { name: 'm1', shape: [1, 3, 3, 8], role: 'tmp' },
      /* 6 */ { name: 'a1', shape: [1, 3, 3, 8], role: 'tmp' },
      /* 7 */ { name: 'p1', shape: [1, 5, 5, 8], role: 'tmp' },
      /* 8 */ { name: 'cat', shape: [1, 3, 3, 16], role: 'tmp' },
      /* 9 */ { name: 'u1', shape: [1, 3, 3, 16], role: 'tmp' },
      /* 10 */ { name: 'g1', shape: [1, 1, 1, 16], role: 'tmp' },
      /* 11 */ { name: 'flat', shape: [1, 16], role: 'tmp' },
      /* 12 */ { name: 'wf', shape: [16, 5], role: 'const', data: randF32(r, 80) },
      /* 13 */ { name: 'logits', shape: [1, 5], role: 'tmp' },
      /* 14 */ { name: 'prob', shape: [1, 5], role: 'out' },
      /* 15 */ { name: 'tr', shape: [1, 8, 5, 5], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Conv2D_F32,
        inputs: [0, 1],
        outputs: [2],
        params: {
          type: 'conv',
          kernelH: 3,
          kernelW: 3,
          padTop: 1,
          padLeft: 1,
          padBottom: 1,
          padRight: 1,
          activation: fb.Activation.Relu,
        },
      },
      {
        kernel: fb.KernelId.DepthwiseConv2D_F32,
        inputs: [2, 3],
        outputs: [4],
        params: { type: 'conv', kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 },
      },
      {
        kernel: fb.KernelId.MaxPool_F32,
        inputs: [4],
        outputs: [5],
        params: { type: 'pool', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 },
      },
      {
        kernel: fb.KernelId.AvgPool_F32,
        inputs: [4],
        outputs: [6],
        params: { type: 'pool', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 },
      },
      {
        kernel: fb.KernelId.Pad,
        inputs: [5],
        outputs: [7],
        params: { type: 'pad', shape: [1, 5, 5, 8], inShape: [1, 3, 3, 8], before: [0, 1, 1, 0], value: 0 },
      },
      { kernel: fb.KernelId.Concat, inputs: [5, 6], outputs: [8], params: { type: 'concat', outer: 9, sizes: [8, 8] } },
      { kernel: fb.KernelId.Unary_F32, inputs: [8], outputs: [9], params: { type: 'unary', op: fb.UnaryOp.Tanh } },
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [9, 8],
        outputs: [9],
        params: { type: 'binary', op: fb.BinaryOp.Mul, shape: [144], aStrides: [1], bStrides: [1] },
      },
      { kernel: fb.KernelId.GlobalAvgPool_F32, inputs: [9], outputs: [10] },
      { kernel: fb.KernelId.Copy, inputs: [10], outputs: [11] },
      { kernel: fb.KernelId.Dense_F32, inputs: [11, 12], outputs: [13], params: { type: 'dense' } },
      {
        kernel: fb.KernelId.Softmax_F32,
        inputs: [13],
        outputs: [14],
        params: { type: 'softmax', outer: 1, axis: 5, inner: 1 },
      },
      {
        kernel: fb.KernelId.Transpose,
        inputs: [7],
        outputs: [15],
        params: { type: 'transpose', shape: [1, 8, 5, 5], strides: [200, 1, 40, 8], offset: 0 },
      },
    ],
  );
}

test('every kernel in one bundle: builds and modes bit-identical; softmax sums to 1', async () => {
  const x = randF32(rng(22), 144);
  const out = await runAll(everyKernel(), { x }, 'every kernel');
  const p = out.prob as Float32Array;
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('repeated runs: same bits, no memory growth', async () => {
  const bundle = everyKernel();
  for (const build of ['simd', 'scalar'] as const) {
    const inst = await WebAssembly.instantiate(wasmModule(build), {});
    const ex = inst.exports as unknown as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    const ptr = ex.edgec_alloc!(bundle.length);
    new Uint8Array(ex.memory.buffer, ptr, bundle.length).set(bundle);
    assert.is(ex.edgec_load!(ptr, bundle.length), 0);
    new Float32Array(ex.memory.buffer, ex.edgec_input_ptr!(0), 144).set(randF32(rng(23), 144));
    assert.is(ex.edgec_run!(), 0);
    const first = new Uint32Array(ex.memory.buffer, ex.edgec_output_ptr!(0), 5).slice();
    const pages = ex.memory.buffer.byteLength;
    for (let i = 0; i < 3000; i++) {
      ex.edgec_set_reference!(i & 1);
      assert.is(ex.edgec_run!(), 0);
    }
    assert.is(ex.memory.buffer.byteLength, pages, `${build}: memory grew over 3000 runs`);
    assert.equal(Array.from(new Uint32Array(ex.memory.buffer, ex.edgec_output_ptr!(0), 5)), Array.from(first));
  }
});

test('edgec_run_step: each step alone re-runs on the arena the last run left, same bits; 1 out of range', async () => {
  const bundle = everyKernel();
  for (const build of ['simd', 'scalar'] as const) {
    const inst = await WebAssembly.instantiate(wasmModule(build), {});
    const ex = inst.exports as unknown as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    const ptr = ex.edgec_alloc!(bundle.length);
    new Uint8Array(ex.memory.buffer, ptr, bundle.length).set(bundle);
    assert.is(ex.edgec_load!(ptr, bundle.length), 0);
    new Float32Array(ex.memory.buffer, ex.edgec_input_ptr!(0), 144).set(randF32(rng(24), 144));
    assert.is(ex.edgec_run!(), 0);
    const out = () => new Uint8Array(ex.memory.buffer, ex.edgec_output_ptr!(0), ex.edgec_output_size!(0));
    const want = out().slice();
    out().fill(0);
    let steps = 0;
    while (ex.edgec_run_step!(steps) === 0) steps++;
    assert.ok(steps > 10, `${build}: ${steps} steps`);
    assert.equal(Array.from(out()), Array.from(want), `${build}: every step once more`);
    assert.is(ex.edgec_run_step!(-1), 1);
  }
});

test.run();
