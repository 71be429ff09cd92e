// Malformed and hostile bundles: truncation at every length, wrong identifier and version,
// out-of-range ids/offsets/sizes, contract violations per kernel, random corruption. Each must be
// refused with a BundleError naming the problem (never a trap, a crash or an out-of-bounds write).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeBundle, type BundleSpec, type TensorSpec } from '../../compiler/emit/bundle-writer.ts';
import { load, BundleError } from '../../runtime/node.ts';
import { makeBundle, rng, randF32, fb, type TDesc, type SDesc } from './harness.ts';

/** A valid two-step bundle (conv then relu) used as the base for corruption. */
function validBundle(): Uint8Array {
  const r = rng(9);
  return makeBundle(
    [
      { name: 'x', shape: [1, 4, 4, 3], role: 'in' },
      { name: 'w', shape: [1, 3, 3, 3, 4], role: 'const', data: randF32(r, 108) },
      { name: 'b', shape: [4], role: 'const', data: randF32(r, 4) },
      { name: 't', shape: [1, 4, 4, 4], role: 'tmp' },
      { name: 'y', shape: [1, 4, 4, 4], role: 'out' },
    ],
    [
      {
        kernel: fb.KernelId.Conv2D_F32,
        inputs: [0, 1, 2],
        outputs: [3],
        node: 'conv1',
        params: { type: 'conv', kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 },
      },
      {
        kernel: fb.KernelId.Unary_F32,
        inputs: [3],
        outputs: [4],
        node: 'relu1',
        params: { type: 'unary', op: fb.UnaryOp.Relu },
      },
    ],
  );
}

async function refused(
  bytes: Uint8Array,
  pattern: RegExp | null,
  label: string,
  build: 'simd' | 'scalar' = 'simd',
  verifyChecksum = true,
): Promise<string> {
  try {
    await load(bytes, { build, verifyChecksum });
  } catch (e) {
    assert.instance(e, BundleError, `${label}: ${String(e)}`);
    const msg = (e as Error).message;
    assert.not.match(msg, /wasm trap/, `${label}: trapped instead of refusing: ${msg}`);
    if (pattern) assert.match(msg, pattern, `${label}: message '${msg}'`);
    return msg;
  }
  assert.unreachable(`${label}: bundle was accepted`);
  return '';
}

test('the base bundle loads and runs', async () => {
  const m = await load(validBundle(), { build: 'simd' });
  const y = m.run({ x: new Float32Array(48).fill(1) }).y as Float32Array;
  assert.is(y.length, 64);
});

test('truncated at every length is refused, by the checksum and by the structure alone', async () => {
  const full = validBundle();
  for (let n = 0; n < full.length; n++) {
    await refused(full.slice(0, n), /bundle: /, `cut at ${n}/${full.length}`, n % 7 === 0 ? 'scalar' : 'simd');
  }
  // Without the checksum: the 4-byte trailer and the 3 bytes of alignment padding after the final
  // 0-terminated string are never read; every shorter cut breaks the structure.
  for (let n = 0; n < full.length - 7; n++) {
    await refused(
      full.slice(0, n),
      /bundle: (?!checksum)/,
      `cut at ${n}/${full.length}, no checksum`,
      n % 7 === 0 ? 'scalar' : 'simd',
      false,
    );
  }
});

test('wrong identifier and version', async () => {
  const bad = validBundle();
  bad.set([0x58, 0x58, 0x58, 0x58], 4);
  await refused(bad, /identifier is not 'EDGC'/, 'identifier');
  // Version is field 0 of the root table: patch it in place.
  const v = validBundle();
  const dv = new DataView(v.buffer);
  const root = dv.getUint32(0, true);
  const vt = root - dv.getInt32(root, true);
  const fo = dv.getUint16(vt + 4, true);
  dv.setUint32(root + fo, 3, true);
  await refused(v, /format version 3 is not supported/, 'version');
  dv.setUint32(root + fo, 1, true);
  await refused(v, /format version 1 has no checksum and is no longer read; compile the model again/, 'version 1');
});

const conv = (o: Partial<SDesc> = {}): SDesc => ({
  kernel: fb.KernelId.Conv2D_F32,
  inputs: [0, 1, 2],
  outputs: [3],
  node: 'c',
  params: { type: 'conv', kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 },
  ...o,
});
function convTensors(o: { wShape?: number[]; yShape?: number[]; bShape?: number[] } = {}): TDesc[] {
  const wShape = o.wShape ?? [1, 3, 3, 3, 4],
    bShape = o.bShape ?? [4];
  return [
    { name: 'x', shape: [1, 5, 5, 3], role: 'in' },
    { name: 'w', shape: wShape, role: 'const', data: new Float32Array(wShape.reduce((a, b) => a * b, 1)) },
    { name: 'b', shape: bShape, role: 'const', data: new Float32Array(bShape.reduce((a, b) => a * b, 1)) },
    { name: 'y', shape: o.yShape ?? [1, 5, 5, 4], role: 'out' },
  ];
}

test('step contract violations name the step and the tensor', async () => {
  await refused(
    makeBundle(convTensors({ yShape: [1, 4, 4, 4] }), [conv()]),
    /step 0 \(Conv2D_F32, node 'c'\): output 'y' has shape \[1,4,4,4\], expected \[1,5,5,4\]/,
    'conv out shape',
  );
  await refused(
    makeBundle(convTensors({ wShape: [1, 3, 3, 2, 4] }), [conv()]),
    /weights 'w' has shape/,
    'conv weights',
  );
  await refused(
    makeBundle(convTensors({ bShape: [5] }), [conv()]),
    /bias 'b' has shape \[5\], expected \[4\]/,
    'conv bias',
  );
  await refused(
    makeBundle(convTensors(), [conv({ inputs: [0, 1, 7] })]),
    /input 2 names tensor 7, out of range/,
    'tensor id',
  );
  await refused(makeBundle(convTensors(), [conv({ outputs: [-1] })]), /output 0 names tensor -1/, 'negative output id');
  await refused(makeBundle(convTensors(), [conv({ kernel: 99 as fb.KernelId })]), /unknown kernel id 99/, 'kernel id');
  await refused(makeBundle(convTensors(), [conv({ params: { type: 'dense' } })]), /expects ConvParams/, 'params type');
  await refused(
    makeBundle(convTensors(), [conv({ params: { type: 'conv', kernelH: 3, kernelW: 3, strideH: 0 } })]),
    /stride_h 0/,
    'stride 0',
  );
  await refused(makeBundle(convTensors(), [conv({ outputs: [1] })]), /output 'w' is a constant/, 'write to constant');
  await refused(
    makeBundle(convTensors(), [conv({ params: { type: 'conv', kernelH: 3, kernelW: 3, groups: 2 } })]),
    /groups 2/,
    'groups',
  );

  const dense = (w: number[], y: number[]) =>
    makeBundle(
      [
        { name: 'x', shape: [2, 8], role: 'in' },
        { name: 'w', shape: w, role: 'const', data: new Float32Array(w[0]! * w[1]!) },
        { name: 'y', shape: y, role: 'out' },
      ],
      [{ kernel: fb.KernelId.Dense_F32, inputs: [0, 1], outputs: [2], params: { type: 'dense' } }],
    );
  await refused(dense([7, 4], [2, 4]), /weights 'w' has shape \[7,4\], expected \[8,4\]/, 'dense weights');
  await refused(dense([8, 4], [2, 5]), /output 'y' has shape \[2,5\], expected \[2,4\]/, 'dense output');

  const bin = (shape: number[], as: number[], bs: number[]) =>
    makeBundle(
      [
        { name: 'a', shape: [4, 4], role: 'in' },
        { name: 'b', shape: [4], role: 'in' },
        { name: 'y', shape: [4, 4], role: 'out' },
      ],
      [
        {
          kernel: fb.KernelId.Binary_F32,
          inputs: [0, 1],
          outputs: [2],
          params: { type: 'binary', shape, aStrides: as, bStrides: bs },
        },
      ],
    );
  await refused(
    bin([4, 4], [4, 1], [1, 1]),
    /b strides reach elements \[0, 6\] of a 4-element tensor/,
    'binary strides',
  );
  await refused(bin([4, 4], [4, 1], [0]), /b strides have 1 entries for rank 2/, 'binary stride rank');
  await refused(bin([4, 5], [5, 1], [0, 1]), /shape \[4,5\] has 20 elements/, 'binary shape');

  const tr = (shape: number[], strides: number[], offset: number) =>
    makeBundle(
      [
        { name: 'x', shape: [3, 4], role: 'in' },
        { name: 'y', shape: [4, 3], role: 'out' },
      ],
      [
        {
          kernel: fb.KernelId.Transpose,
          inputs: [0],
          outputs: [1],
          params: { type: 'transpose', shape, strides, offset },
        },
      ],
    );
  await refused(tr([4, 3], [1, 4], 1), /input strides reach elements \[1, 12\]/, 'transpose offset');
  await refused(tr([4, 3], [-1, 4], 0), /input strides reach elements \[-3, 8\]/, 'transpose negative');

  const cat = (sizes: number[], outer: number) =>
    makeBundle(
      [
        { name: 'x0', shape: [2, 3], role: 'in' },
        { name: 'x1', shape: [2, 5], role: 'in' },
        { name: 'y', shape: [2, 8], role: 'out' },
      ],
      [{ kernel: fb.KernelId.Concat, inputs: [0, 1], outputs: [2], params: { type: 'concat', outer, sizes } }],
    );
  await refused(cat([3, 4], 2), /input 'x1' has 10 elements, expected outer 2 x 4/, 'concat sizes');
  await refused(cat([3], 2), /sizes has 1 entries for 2 inputs/, 'concat count');

  const pad = (before: number[]) =>
    makeBundle(
      [
        { name: 'x', shape: [2, 3], role: 'in' },
        { name: 'y', shape: [4, 4], role: 'out' },
      ],
      [
        {
          kernel: fb.KernelId.Pad,
          inputs: [0],
          outputs: [1],
          params: { type: 'pad', shape: [4, 4], inShape: [2, 3], before },
        },
      ],
    );
  await refused(pad([3, 0]), /axis 0: input 2 at 3 does not fit in 4/, 'pad dims');
  await refused(pad([0]), /differ in rank/, 'pad rank');

  await refused(
    makeBundle(
      [
        { name: 'x', shape: [2, 3], role: 'in' },
        { name: 'y', shape: [7], role: 'out' },
      ],
      [{ kernel: fb.KernelId.Copy, inputs: [0], outputs: [1] }],
    ),
    /is 24 bytes, output 'y' is 28/,
    'copy sizes',
  );
  await refused(
    makeBundle(
      [
        { name: 'x', shape: [2, 3], role: 'in' },
        { name: 'y', shape: [2, 3], role: 'out', dtype: fb.DType.I8 },
      ],
      [{ kernel: fb.KernelId.Unary_F32, inputs: [0], outputs: [1], params: { type: 'unary' } }],
    ),
    /output 'y' must be F32/,
    'dtype',
  );
  await refused(
    makeBundle(
      [
        { name: 'x', shape: [1, 4, 4, 2], role: 'in' },
        { name: 'y', shape: [1, 2, 2, 2], role: 'out' },
      ],
      [
        {
          kernel: fb.KernelId.MaxPool_F32,
          inputs: [0],
          outputs: [1],
          params: { type: 'pool', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padTop: 2 },
        },
      ],
    ),
    /padding must be >= 0 and smaller than the window/,
    'pool pad',
  );
});

function rawSpec(tensors: TensorSpec[], arenaSize: number, constants = new Uint8Array(64)): BundleSpec {
  return {
    tensors,
    steps: [{ kernel: fb.KernelId.Copy, inputs: [0], outputs: [1] }],
    inputs: [0],
    outputs: [1],
    arenaSize,
    constants,
    metadata: { edgecVersion: 't', sourceHash: '', compileOptions: '', target: 'simd', modelName: 'm' },
  };
}
const t = (
  name: string,
  shape: number[],
  constant: boolean,
  offset: number,
  size: number,
  dtype = fb.DType.F32,
): TensorSpec => ({ name, dtype, shape, constant, offset, size });

test('tensor offsets and sizes vs arena, constants and shape', async () => {
  await refused(
    writeBundle(rawSpec([t('x', [4], false, 0, 16), t('y', [4], false, 16, 16)], 24)),
    /tensor 1 'y': arena bytes \[16, 32\) lie outside the 24-byte arena/,
    'arena overflow',
  );
  await refused(
    writeBundle(rawSpec([t('x', [4], false, 0, 16), t('y', [4], false, 0xfffffff0, 16)], 32)),
    /lie outside the 32-byte arena/,
    'offset wrap',
  );
  await refused(
    writeBundle(rawSpec([t('x', [4], false, 0, 12), t('y', [4], false, 16, 16)], 32)),
    /tensor 0 'x': size 12 bytes, but shape \[4\] needs 16/,
    'size vs shape',
  );
  await refused(
    writeBundle(rawSpec([t('', [4], false, 0, 12), t('y', [4], false, 16, 16)], 32)),
    /tensor 0 '#0': size 12 bytes/,
    'a nameless tensor is quoted by its id',
  );
  await refused(
    writeBundle(rawSpec([t('c', [4], true, 56, 16), t('y', [4], false, 0, 16)], 32)),
    /constant bytes \[56, 72\) lie outside the 64 constant bytes/,
    'constant overflow',
  );
  await refused(
    writeBundle(rawSpec([t('x', [4, 0], false, 0, 0), t('y', [4], false, 0, 16)], 32)),
    /dimension < 1/,
    'zero dim',
  );
  await refused(
    writeBundle(rawSpec([t('x', [4], false, 0, 16, 9 as fb.DType), t('y', [4], false, 16, 16)], 32)),
    /unknown dtype 9/,
    'dtype',
  );
  await refused(
    writeBundle({ ...rawSpec([t('x', [4], false, 0, 16), t('y', [4], false, 16, 16)], 32), inputs: [5] }),
    /graph input 0 names tensor 5/,
    'io id',
  );
  await refused(
    writeBundle({ ...rawSpec([t('x', [4], false, 0, 16), t('y', [4], false, 16, 16)], 0xfffffff0) }),
    /exceeds the 1 GiB/,
    'huge arena',
  );
  await refused(
    writeBundle({ ...rawSpec([t('x', [4], false, 0, 16), t('y', [4], false, 16, 16)], 0x50000000) }),
    /exceeds the 1 GiB/,
    '1.25 GiB arena',
  );
});

// The structural checks are what a host that skips the checksum relies on: tested without it.
test('random corruption, checksum skipped: refused cleanly or loads and runs, never a trap', async () => {
  const base = validBundle();
  const r = rng(77);
  let accepted = 0,
    rejected = 0;
  for (let trial = 0; trial < 400; trial++) {
    const b = base.slice();
    const flips = 1 + Math.floor(r() * 4);
    for (let f = 0; f < flips; f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    let m;
    try {
      m = await load(b, { build: trial % 2 ? 'scalar' : 'simd', verifyChecksum: false });
    } catch (e) {
      assert.instance(e, BundleError, String(e));
      assert.not.match((e as Error).message, /wasm trap/, (e as Error).message);
      rejected++;
      continue;
    }
    accepted++;
    // Accepted means valid by every check; running it must then work (weights may be garbage).
    const inputs = Object.fromEntries(
      m.info.inputs.map((i) => [i.name, new Float32Array(i.shape.reduce((a, c) => a * c, 1))]),
    );
    try {
      m.run(inputs);
    } catch (e) {
      assert.instance(e, BundleError, String(e));
      assert.not.match((e as Error).message, /trap/);
    }
  }
  assert.ok(rejected > 100, `only ${rejected} of 400 corruptions refused`);
  assert.ok(accepted + rejected === 400);
});

test.run();
