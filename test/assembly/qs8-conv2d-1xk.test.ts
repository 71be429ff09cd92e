// Conv1xK_QS8 / ConvKx1_QS8 (assembly/kernels/conv/qs8-conv2d-1xk.ts) over a generated grid: k 2..9 both ways,
// strides 1–2 on both axes, valid / same / asymmetric / short-axis paddings, Ci / Co odd and around 8, sizes 1 and
// small, zero points at the extremes; simd = scalar = reference twin = TS integer reference byte for byte (this is
// also the check that gemmQs8 takes overlapping rows: lda = stride·Ci < K = k·Ci, odd lda with odd Ci). Plus a
// 1×7 → 7×1 graph through the compiler, whose arena must be smaller than with im2col and whose bytes must not move.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flatbuffers from 'flatbuffers';
import { ZPS, pick, numel, q, check, qs8Tools } from './qs8-harness.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { fb } from '../../compiler/emit/bundle-writer.ts';
import { runAll, makeBundle, type TDesc, type SDesc } from './harness.ts';
import { load } from '../../runtime/node.ts';
import { formatInspect, summarizeBundle } from '../../compiler/cli/inspect.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261130);
const ACTS: Attrs[] = [{ activation: 'none' }, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];

const kernelsOf = (bundle: Uint8Array): number[] => {
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  return Array.from({ length: b.stepsLength() }, (_, i) => b.steps(i)!.kernel());
};
const arenaOf = (bundle: Uint8Array): number =>
  fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle)).arenaSize();

/** Compiles and checks one int8 conv with a 1×k (rows) or k×1 kernel, asserting it took the dedicated kernel. */
async function lineCase(
  i: number,
  rows: boolean,
  k: number,
  long: number,
  short: number,
  ci: number,
  co: number,
  sh: number,
  sw: number,
  pad: Attrs['padding'],
  n = 1,
  zpIn = pick(ZPS, i),
  zpOut = pick(ZPS, i + 2),
) {
  const qg = new QGraph();
  const [h, w] = rows ? [short, long] : [long, short];
  const x = qg.input('x', [n, h, w, ci], q(0.03 * 2 ** (i % 3), zpIn));
  const wt = qg.weights(
    'w',
    [co, rows ? 1 : k, rows ? k : 1, ci],
    Array.from({ length: co }, (_, o) => (i % 4 === 3 ? 1e-5 * 16 ** (o % 5) : 0.002 * (1 + ((o * 7) % 9)))),
  );
  const b = i % 5 === 4 ? '' : qg.bias('b', co, 20000);
  const g = qg.node(
    'Conv2D',
    b ? [x, wt, b] : [x, wt],
    { strides: [sh, sw], padding: pad, ...pick(ACTS, i) },
    q(0.04 * 2 ** (((i * 5) % 9) - 4), zpOut),
  );
  const label = `${rows ? '1x' + k : k + 'x1'} ${n}x${h}x${w}x${ci}->${co} s${sh},${sw} pad ${JSON.stringify(pad)} zp ${zpIn}/${zpOut}`;
  const kernels = kernelsOf(compileGraph(g, { skipPasses: true }).bundle);
  assert.equal(kernels, [rows ? fb.KernelId.Conv1xK_QS8 : fb.KernelId.ConvKx1_QS8], label);
  await check(label, g, { x: randI8(numel(g.tensors.get('x')!.shape)) });
}

test('Conv1xK_QS8 / ConvKx1_QS8: k 2/3/5/7/9, strides 1-2 on both axes, valid / same / asymmetric paddings, odd channels, sizes 1..17', async () => {
  let i = 0;
  const CH: [number, number][] = [
    [1, 1],
    [7, 9],
    [8, 8],
    [9, 17],
    [3, 5],
    [16, 7],
  ];
  for (const rows of [true, false])
    for (const k of [2, 3, 5, 7, 9])
      for (const [sh, sw] of [
        [1, 1],
        [2, 1],
        [1, 2],
        [2, 2],
      ])
        for (const pad of ['valid', 'same', rows ? [0, 3, 1, 0] : [3, 0, 0, 1], [1, 0, 2, 1]] as Attrs['padding'][]) {
          const [ci, co] = pick(CH, i);
          // long axis: the window itself, just below / above it, 17; short axis 1, 2 or 5
          const pp = pad as number[],
            padLong = Array.isArray(pad) ? (rows ? pp[1]! + pp[3]! : pp[0]! + pp[2]!) : pad === 'same' ? k : 0;
          const longs = [1, k - 1, k, k + 2, 17].filter((l) => l + padLong >= k);
          await lineCase(i, rows, k, pick(longs, i >> 1), pick([1, 2, 5], i), ci, co, sh, sw, pad, i % 7 === 0 ? 2 : 1);
          i++;
        }
});

test('Conv1xK_QS8 / ConvKx1_QS8: zero points at the extremes, padding wider than the input, Ci 33 / Co 40 (8-column blocks + rest)', async () => {
  let i = 0;
  for (const rows of [true, false])
    for (const [zpIn, zpOut] of [
      [-128, 127],
      [127, -128],
      [-128, -128],
      [127, 127],
    ]) {
      await lineCase(i, rows, 7, 3, 2, 33, 40, 1, 1, [4, 4, 4, 4], 1, zpIn, zpOut);
      await lineCase(i + 1, rows, 3, 4, 3, 5, 9, 2, 2, [0, 5, 5, 0], 1, zpIn, zpOut);
      i += 2;
    }
});

test('int8 1x7 → 7x1 graph (Inception-style factorisation) through the compiler: dedicated kernels, smaller arena, same bytes as im2col, both builds', async () => {
  const qg = new QGraph();
  const H = 9,
    W = 11,
    C = 12,
    M = 10;
  const x = qg.input('x', [1, H, W, C], q(0.05, -128));
  const w1 = qg.weights('w1', [M, 1, 7, C], new Array(M).fill(0.004));
  const w2 = qg.weights('w2', [C, 7, 1, M], new Array(C).fill(0.003));
  const g = qg.g;
  g.tensors.set('t', { name: 't', dtype: 'int8', shape: [1, H, W, M], quant: q(0.08, -128) });
  g.nodes.push({
    name: 'c1x7',
    op: 'Conv2D',
    inputs: [x, w1, qg.bias('b1', M, 3000)],
    outputs: ['t'],
    attrs: { padding: 'same', activation: 'relu' },
  });
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, H, W, C], quant: q(0.06, 5) });
  g.nodes.push({
    name: 'c7x1',
    op: 'Conv2D',
    inputs: ['t', w2, qg.bias('b2', C, 3000)],
    outputs: ['y'],
    attrs: { padding: 'same' },
  });
  g.outputs.push('y');
  const xs = randI8(H * W * C);
  const dedicated = compileGraph(g, { skipPasses: true }).bundle;
  assert.equal(kernelsOf(dedicated), [fb.KernelId.Conv1xK_QS8, fb.KernelId.ConvKx1_QS8]);
  const im2col = compileGraph(g, { skipPasses: true, disableKernels: ['Conv1xK_QS8', 'ConvKx1_QS8'] }).bundle;
  assert.equal(kernelsOf(im2col), [fb.KernelId.Conv2D_QS8, fb.KernelId.Conv2D_QS8]);
  // im2col scratch: H·W rows of 7·C rounded up to 8 (88 B); the row / column scratch: (W + 6)·C, (H + 6)·M
  assert.ok(arenaOf(dedicated) < arenaOf(im2col), `arena ${arenaOf(dedicated)} vs im2col ${arenaOf(im2col)}`);
  const a = (await runAll(dedicated, { x: xs }, '1x7 → 7x1 dedicated')).y!,
    b = (await runAll(im2col, { x: xs }, '1x7 → 7x1 im2col')).y!;
  assert.equal(Array.from(a), Array.from(b));
  await check('1x7 → 7x1 graph', g, { x: xs });
  // edgec inspect names the kernels and the file each runs
  const table = formatInspect(summarizeBundle(dedicated), 'g.edgec');
  assert.match(table, /Conv1xK_QS8\s+qs8-conv2d-1xk\s+c1x7 /);
  assert.match(table, /ConvKx1_QS8\s+qs8-conv2d-1xk\s+c7x1 /);
  assert.match(formatInspect(summarizeBundle(im2col), 'g.edgec'), /Conv2D_QS8\s+qs8-conv2d-im2col\s+c1x7 /);
});

test('Conv1xK_QS8 / ConvKx1_QS8 bundles that break the contract are refused at load (wrong scratch, kernel shape, groups, missing scratch)', async () => {
  // x [1,4,9,3] → y [1,4,9,2], 1×7 'same': OW 9 → R 4 rows of L = 8 + 7 = 15 pixels
  const tensors = (scratch: number[], wShape = [1, 2, 22]): TDesc[] => [
    { name: 'x', shape: [1, 4, 9, 3], role: 'in', dtype: fb.DType.I8 },
    { name: 'w', shape: wShape, role: 'const', dtype: fb.DType.I8, data: new Int8Array(numel(wShape)).fill(1) },
    {
      name: 'qc',
      shape: [3, 2],
      role: 'const',
      dtype: fb.DType.I32,
      data: Int32Array.from([0, 0, 1 << 30, 1 << 30, 40, 40]),
    },
    { name: 'sc', shape: scratch, role: 'tmp', dtype: fb.DType.I8 },
    { name: 'y', shape: [1, 4, 9, 2], role: 'out', dtype: fb.DType.I8 },
  ];
  const step = (kernel: fb.KernelId, o: Record<string, number> = {}, inputs = [0, 1, 2, 3]): SDesc => ({
    kernel,
    inputs,
    outputs: [4],
    node: 'c',
    params: { type: 'conv', kernelH: 1, kernelW: 7, padLeft: 3, padRight: 3, qMin: -128, qMax: 127, ...o },
  });
  const refused = async (bytes: Uint8Array, pattern: RegExp) => {
    let msg = '';
    try {
      await load(bytes, { build: 'scalar' });
    } catch (e) {
      msg = (e as Error).message;
    }
    assert.match(msg, pattern, `message '${msg}'`);
  };
  const ok = await load(makeBundle(tensors([60, 3]), [step(fb.KernelId.Conv1xK_QS8)]), { build: 'scalar' });
  assert.is((ok.run({ x: new Int8Array(108) }).y as Int8Array).length, 72);
  await refused(
    makeBundle(tensors([15, 3]), [step(fb.KernelId.Conv1xK_QS8)]),
    /Conv1xK_QS8, node 'c'\): scratch 'sc' has shape \[15,3\], expected \[60,3\]/,
  );
  await refused(
    makeBundle(tensors([60, 3]), [step(fb.KernelId.Conv1xK_QS8, {}, [0, 1, 2])]),
    /needs a row scratch tensor \(input 3\) unless unpadded/,
  );
  await refused(
    makeBundle(tensors([60, 3]), [step(fb.KernelId.ConvKx1_QS8)]),
    /ConvKx1_QS8, node 'c'\): needs a kx1 kernel \(k >= 2\) with dilation 1 along it and groups 1, found 1x7/,
  );
  await refused(
    makeBundle(tensors([60, 3]), [step(fb.KernelId.Conv1xK_QS8, { dilationW: 2 })]),
    /found 1x7 dilation 1x2/,
  );
  await refused(
    makeBundle(tensors([60, 3], [1, 2, 20]), [step(fb.KernelId.Conv1xK_QS8)]),
    /weights 'w' has shape \[1,2,20\], expected \[1,2,22\]/,
  );
});

test.run();
