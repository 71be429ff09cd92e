// Conv2DWino_QS8 at the edges of its exactness argument (kernels/conv/qs8-conv2d-wino-wasmsimd.ts): inputs and weights
// at −128 / 127 (|V| = 510, |U'| = 1152, the largest products), and the widest reduction the lowering accepts
// (512·Σ|w| just below 2^31: 4Y near ±2^31, every sum before it wrapping in i32), on every build and twin, byte for byte
// against the direct conv (Conv2D_QS8) and the TS integer reference; one step wider the lowering keeps the direct conv.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flatbuffers from 'flatbuffers';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { fb } from '../../compiler/emit/bundle-writer.ts';
import { CaseGraph, q } from '../kernels/grid/case.ts';
import { runAll } from './harness.ts';

const kernels = (bundle: Uint8Array) => {
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  return Array.from({ length: b.stepsLength() }, (_, i) => b.steps(i)!.kernel());
};

/** x [1, h, w, ci] and weights [co, 3, 3, ci] from value rules; int8 weights stored as they are (−128 included). */
function extremeConv(
  h: number,
  w: number,
  ci: number,
  co: number,
  xv: (i: number) => number,
  wv: (i: number) => number,
  sOut: number,
) {
  const c = new CaseGraph(1);
  const x = c.i8('x', [1, h, w, ci], q(0.5, 0));
  (c.inputs[x] as Int8Array).forEach((_, i, a) => (a[i] = xv(i)));
  const wt = c.constI8('w', [co, 3, 3, ci], Array(co).fill(2 ** -20));
  (c.g.tensors.get(wt)!.data as Int8Array).forEach((_, i, a) => (a[i] = wv(i)));
  const y = c.node('Conv2D', [x, wt], { padding: 'same' }, q(sOut, -3));
  return c.done(y);
}

async function compare(label: string, cs: ReturnType<typeof extremeConv>, wino: boolean) {
  const y = cs.graph.outputs[0]!;
  const fast = compileGraph(cs.graph, { skipPasses: true, forceKernels: ['Conv2DWino_QS8'] }).bundle;
  const direct = compileGraph(cs.graph, { skipPasses: true, disableKernels: ['Conv2DWino_QS8'] }).bundle;
  assert.is(kernels(fast).includes(fb.KernelId.Conv2DWino_QS8), wino, `${label}: Winograd picked`);
  assert.ok(kernels(direct).includes(fb.KernelId.Conv2D_QS8), `${label}: direct conv`);
  const got = (await runAll(fast, cs.inputs, label))[y]!;
  const want = (await runAll(direct, cs.inputs, label))[y]!;
  const ref = evaluate(cs.graph, cs.inputs as Record<string, ArrayLike<number>>)[y]!;
  for (let i = 0; i < ref.length; i++) {
    if (got[i] !== want[i] || got[i] !== ref[i])
      assert.unreachable(`${label}: [${i}] Winograd ${got[i]}, direct ${want[i]}, reference ${ref[i]}`);
  }
}

const sign = (i: number) => ((i * 2654435761) >>> 31 ? -128 : 127);

test('Conv2DWino_QS8 5x6x24->11, inputs and weights at -128 / 127', async () => {
  // accumulators up to ~2^22 (real ·2^-21): the out scales spread them over the int8 range
  const alt = (i: number) => sign(i + 7),
    m = () => -128;
  await compare('extreme 5x6x24x11', extremeConv(5, 6, 24, 11, sign, alt, 0.002), true);
  await compare('all -128', extremeConv(4, 4, 16, 8, m, m, 0.02), true);
});

test('Conv2DWino_QS8 at the widest reduction it takes (512·Σ|w| < 2^31), and one channel wider it is not taken', async () => {
  // Σ|w| = 9·ci·128: ci = 3640 → 512·Σ|w| = 2146959360 < 2^31; 3641 above it. All −128: at the centre
  // 4Y = 4·128·128·9·3640 = 2146959360 (the bound itself), and the sums over ci before it pass 2^31 (position (1, 1):
  // V = −512, U' = −1152, 3640 products of 589824), so they wrap in i32; outputs 53 / 80 / 120 at corner / edge / centre
  const m = () => -128;
  await compare('ci 3640', extremeConv(3, 3, 3640, 1, m, m, 2146959360 / 4 / 2 ** 21 / 120), true);
  await compare('ci 3641', extremeConv(3, 3, 3641, 1, m, m, 2146959360 / 4 / 2 ** 21 / 120), false);
});

test.run();
