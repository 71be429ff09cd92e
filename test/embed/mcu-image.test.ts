// `edgec compile --mcu` images (compiler/embed/mcu-image.ts) under Node's V8, no wasm3 needed: the loaded image
// gives the same output bytes as the scalar runtime loading the bundle, carries no start function and none of
// the load exports, declares the memory a run needs, packs the loaded memory into few data segments, and keeps only
// the bundle's kernels; `inspect --mcu`'s probe (compiler/embed/mcu-budget.ts) runs every path of a Branch model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataRuns, LOAD_EXPORTS, mcuImage, SEGMENT_GAP } from '../../compiler/embed/mcu-image.ts';
import { executedFunctions } from '../../compiler/embed/mcu-budget.ts';
import { load } from '../../runtime/node.ts';
import { compileFile, matrixModels, nodeOutput } from '../mcu/models.ts';

test('dataRuns: non-zero runs, merged across zero gaps shorter than SEGMENT_GAP', () => {
  const mem = new Uint8Array(4 * SEGMENT_GAP);
  mem[10] = 1;
  mem[10 + SEGMENT_GAP - 1] = 2; // gap of SEGMENT_GAP - 2 zeros: same run
  mem[3 * SEGMENT_GAP] = 3; // gap longer than SEGMENT_GAP: a new run
  const runs = dataRuns(mem);
  assert.equal(
    runs.map((r) => [r.offset, r.data.length]),
    [
      [10, SEGMENT_GAP],
      [3 * SEGMENT_GAP, 1],
    ],
  );
  assert.is(runs[0]!.data[SEGMENT_GAP - 1], 2);
  assert.equal(dataRuns(new Uint8Array(64)), []);
});

test('image = runtime + bundle, byte for byte, for float, int8, gated and KWS (TFLite int8) models', async () => {
  for (const m of await matrixModels(2, true)) {
    const img = await mcuImage(m.bundle);
    const mod = new WebAssembly.Module(img.wasm as Uint8Array<ArrayBuffer>);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const e of LOAD_EXPORTS) assert.not.ok(names.includes(e), `${m.name}: ${e} still exported`);
    assert.ok(img.segments <= 4, `${m.name}: ${img.segments} data segments`);
    const ex = new WebAssembly.Instance(mod).exports as Record<string, unknown>;
    const call = (name: string, ...a: number[]) => (ex[name] as (...x: number[]) => number)(...a);
    assert.is((ex.edgec_memory_bytes as WebAssembly.Global).value, img.memoryBytes);
    const want = await nodeOutput(m);
    const got: number[] = [];
    const mem = () => (ex.memory as WebAssembly.Memory).buffer;
    for (let k = 0, at = 0; k < m.samples; k++) {
      for (let i = 0; i < call('edgec_input_count'); i++) {
        const n = call('edgec_input_size', i);
        new Uint8Array(mem(), call('edgec_input_ptr', i), n).set(m.input.subarray(at, at + n));
        at += n;
      }
      assert.is(call('edgec_run'), 0, m.name);
      for (let i = 0; i < call('edgec_output_count'); i++)
        got.push(...new Uint8Array(mem(), call('edgec_output_ptr', i), call('edgec_output_size', i)));
    }
    assert.equal(got, Array.from(want), m.name);
    // the image starts loaded: memory already holds what a run needs, no start function reset it
    assert.ok(mem().byteLength >= img.memoryBytes, m.name);
  }
});

test('stripped to the bundle: MNIST int8 keeps its int8 kernels, drops the float ones, the twins and the checks', async () => {
  const m = (await matrixModels(1))[1]!;
  const img = await mcuImage(m.bundle);
  const has = (prefix: string) => img.names.some((n) => n.startsWith(prefix));
  for (const kept of ['assembly/kernels/qs8-steps/runQs8Step', 'assembly/kernels/conv/qs8-conv2d-im2col/im2colQs8'])
    assert.ok(img.names.includes(kept), kept);
  assert.ok(img.stubbed.includes('assembly/kernels/conv/f32-conv2d/conv2dF32'), 'f32 conv stubbed');
  assert.ok(img.stubbed.includes('assembly/kernels/elementwise/qs8-elementwise/mulQs8'), 'unused int8 kernel stubbed');
  assert.ok(img.stubbed.includes('assembly/kernels/conv/qs8-conv2d-1xk/conv1xkQs8<i64>'), 'unused int8 conv stubbed');
  assert.ok(
    img.stubbed.some((n) => n.startsWith('assembly/bundle/step-checks/')),
    'step checks stubbed',
  );
  // what the stubs made dead is gone, not merely unreachable: the float kernels, the int8 twins, the checks
  for (const gone of ['assembly/kernels/conv/f32-', 'assembly/reference/qs8/', 'assembly/kernels/qs8-checks/'])
    assert.not.ok(has(gone), `${gone}… still in the image`);
  assert.ok(img.functions < 100, `${img.functions} functions`);
});

/** A Branch model whose gate picks branch 0 when x[0] >= 0 (ties: the lowest index), branch 1 (Dense + Sigmoid, the only
 * Unary step) when x[0] < 0: zeros never run the Sigmoid. */
const BRANCHED = {
  format: 'edgec-model',
  version: 1,
  name: 'two-paths',
  inputs: [{ name: 'x', shape: [1, 4], dtype: 'float32' }],
  outputs: [{ name: 'y', shape: [1, 3] }],
  tensors: {
    gw: { dtype: 'float32', shape: [2, 4], data: [1, 0, 0, 0, -1, 0, 0, 0] },
    gb: { dtype: 'float32', shape: [2], data: [0, 0] },
    w0: { dtype: 'float32', shape: [3, 4], data: [1, 2, 3, 4, -1, 0.5, 0, 1, 0.25, 0.25, -2, 0] },
    b0: { dtype: 'float32', shape: [3], data: [0.5, 0, -0.5] },
    w1: { dtype: 'float32', shape: [3, 4], data: [0.5, -1, 1, 0, 2, 0, 0.5, -0.5, 1, 1, 1, 1] },
    b1: { dtype: 'float32', shape: [3], data: [0, 0.25, -1] },
  },
  nodes: [
    {
      name: 'route',
      op: 'Branch',
      inputs: ['x'],
      outputs: ['y'],
      gate: { nodes: [{ name: 'g', op: 'Dense', inputs: ['x', 'gw', 'gb'], outputs: ['s'] }], outputs: ['s'] },
      branches: [
        { nodes: [{ name: 'd0', op: 'Dense', inputs: ['x', 'w0', 'b0'], outputs: ['y0'] }], outputs: ['y0'] },
        {
          nodes: [
            { name: 'd1', op: 'Dense', inputs: ['x', 'w1', 'b1'], outputs: ['h1'] },
            { name: 'sg', op: 'Sigmoid', inputs: ['h1'], outputs: ['y1'] },
          ],
          outputs: ['y1'],
        },
      ],
    },
  ],
};

test('the RAM probe runs every path of a Branch model: what either branch runs, the fall-through probe counts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-branch-'));
  try {
    writeFileSync(join(dir, 'm.json'), JSON.stringify(BRANCHED));
    const bundle = await compileFile(join(dir, 'm.json'));
    const img = await mcuImage(bundle);
    const model = await load(bundle, { build: 'scalar' });
    const probe = await executedFunctions(img.wasm, img.names);
    const runs: Set<number>[] = [];
    for (const [x, want] of [
      [[1, 0.5, -0.5, 2], 0],
      [[-1, 0.5, 0.25, 1], 1],
    ] as const) {
      const input = Float32Array.from(x);
      assert.is(model.runDetailed({ x: input }).samples[0]!.branches.route, want, `x = ${x}`);
      const run = await executedFunctions(img.wasm, [], new Uint8Array(input.buffer));
      for (const f of run) assert.ok(probe.has(f), `branch ${want}: ${img.names[f]} missed by the probe`);
      runs.push(run);
    }
    // zeros alone take branch 0: without the fall-through the Sigmoid branch's code would not be counted
    const zeros = await executedFunctions(img.wasm);
    assert.ok(
      [...runs[1]!].some((f) => !zeros.has(f)),
      'branch 1 runs nothing branch 0 does not: the model tests nothing',
    );
    assert.ok(probe.size > zeros.size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged bundle is refused by name, no image', async () => {
  const m = (await matrixModels(1))[1]!;
  const bad = m.bundle.slice();
  bad[bad.length - 5] = bad[bad.length - 5]! ^ 0x40;
  try {
    await mcuImage(bad);
    assert.unreachable('accepted a damaged bundle');
  } catch (e) {
    assert.match((e as Error).message, /the scalar runtime refused the bundle: bundle: /);
  }
});

test.run();
