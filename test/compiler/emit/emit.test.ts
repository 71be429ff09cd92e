// Emitted bundles read back with readBundle: metadata, tensor table (sizes, 16-byte alignment,
// constants in range), steps, MACs, and the packed weight layouts element by element.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { compileGraph } from '../../../compiler/compile.ts';
import { fb, readBundle } from '../../../compiler/emit/bundle-writer.ts';
import { GraphBuilder } from '../ir/build-graph.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

function convGraph(groups: number, ci: number, co: number) {
  const b = new GraphBuilder('packing');
  const x = b.input('x', [1, 5, 5, ci]);
  const w = b.constant('w', [co, 3, 2, ci / groups]);
  return b.output(b.node('Conv2D', [x, w], { groups, padding: 'same', strides: [2, 1] }, 'y'));
}
function constF32(bytes: Uint8Array, t: fb.TensorT): Float32Array {
  const b = readBundle(bytes);
  const c = b.constantsArray()!;
  return new Float32Array(c.buffer.slice(c.byteOffset + t.offset, c.byteOffset + t.offset + t.size));
}

test('metadata, tensor table and steps of an emitted bundle', () => {
  const g = convGraph(1, 3, 4);
  const { bundle } = compileGraph(g, {
    target: 'scalar',
    sourceHash: 'abc123',
    modelName: 'm',
    options: { report: true },
  });
  const b = readBundle(bundle);
  assert.is(b.version(), 2);
  const m = b.metadata()!;
  assert.is(m.edgecVersion(), pkg.version);
  assert.is(m.target(), 'scalar');
  assert.is(m.sourceHash(), 'abc123');
  assert.is(m.modelName(), 'm');
  assert.equal(JSON.parse(m.compileOptions()!), { target: 'scalar', report: true });
  const u = b.unpack();
  const constLen = u.constants.length;
  for (const t of u.tensors) {
    assert.is(t.offset % 16, 0, `${t.name} aligned`);
    assert.is(
      t.size,
      t.shape.reduce((a, d) => a * d, 1) * (t.dtype === fb.DType.F32 || t.dtype === fb.DType.I32 ? 4 : 1),
    );
    if (t.constant) assert.ok(t.offset + t.size <= constLen);
    else assert.ok(t.offset + t.size <= u.arenaSize);
  }
  assert.is(u.steps.length, 1);
  const s = u.steps[0]!;
  assert.is(s.kernel, fb.KernelId.Conv2D_F32_P8);
  assert.is(s.node, 'conv2d0');
  // OH = ceil(5/2) = 3, OW = 5: 3·5 outputs × 4 channels × 3·2 taps × 3 input channels
  assert.is(s.macs, BigInt(3 * 5 * 4 * 3 * 2 * 3));
  const p = s.params as fb.ConvParamsT;
  assert.equal([p.padTop, p.padLeft, p.padBottom, p.padRight], [1, 0, 1, 1]);
  assert.equal(u.tensors[u.inputs[0]!]!.name, 'x');
  assert.equal(u.tensors[u.outputs[0]!]!.name, 'y');
  assert.equal([...u.tensors[s.inputs[2]!]!.shape], [4]);
  assert.equal([...constF32(bundle, u.tensors[s.inputs[2]!]!)], [0, 0, 0, 0], 'absent bias → zeros');
});

test('grouped conv weights packed OHWI → [G,KH,KW,Ci/G,Co/G] (Conv2D_F32)', () => {
  const [G, ci, co] = [2, 4, 6];
  const g = convGraph(G, ci, co);
  const w = g.tensors.get('w')!.data as Float32Array;
  const { bundle } = compileGraph(g, { disableKernels: ['Conv2D_F32_P8'] });
  const u = readBundle(bundle).unpack();
  const wt = u.tensors[u.steps[0]!.inputs[1]!]!;
  assert.equal([...wt.shape], [G, 3, 2, ci / G, co / G]);
  const packed = constF32(bundle, wt);
  for (let o = 0; o < co; o++)
    for (let kh = 0; kh < 3; kh++)
      for (let kw = 0; kw < 2; kw++)
        for (let c = 0; c < ci / G; c++) {
          const grp = Math.floor(o / (co / G)),
            oo = o % (co / G);
          const at = [grp, kh, kw, c, oo].reduce((acc, v, i) => acc * [G, 3, 2, ci / G, co / G][i]! + v, 0);
          assert.is(packed[at], w[((o * 3 + kh) * 2 + kw) * (ci / G) + c]);
        }
});

test('grouped conv weights packed OHWI → 8-channel panels [G,ceil(Co/G/8),KH,KW,Ci/G,8] (Conv2D_F32_P8)', () => {
  const [G, ci, co] = [2, 4, 22];
  const g = convGraph(G, ci, co);
  const w = g.tensors.get('w')!.data as Float32Array;
  const { bundle } = compileGraph(g);
  const u = readBundle(bundle).unpack();
  assert.is(u.steps[0]!.kernel, fb.KernelId.Conv2D_F32_P8);
  const wt = u.tensors[u.steps[0]!.inputs[1]!]!;
  const shape = [G, 2, 3, 2, ci / G, 8];
  assert.equal([...wt.shape], shape);
  const packed = constF32(bundle, wt);
  const cog = co / G;
  for (let grp = 0; grp < G; grp++)
    for (let oo = 0; oo < 16; oo++)
      for (let kh = 0; kh < 3; kh++)
        for (let kw = 0; kw < 2; kw++)
          for (let c = 0; c < ci / G; c++) {
            const at = [grp, oo >> 3, kh, kw, c, oo & 7].reduce((acc, v, i) => acc * shape[i]! + v, 0);
            const o = grp * cog + oo;
            assert.is(packed[at], oo < cog ? w[((o * 3 + kh) * 2 + kw) * (ci / G) + c] : 0, `lane ${oo}`);
          }
});

test('depthwise (groups = Ci, multiplier 2) packed [KH,KW,C·M] with DepthwiseConv2D_F32', () => {
  const g = convGraph(3, 3, 6);
  const w = g.tensors.get('w')!.data as Float32Array;
  const { bundle } = compileGraph(g);
  const u = readBundle(bundle).unpack();
  const s = u.steps[0]!;
  assert.is(s.kernel, fb.KernelId.DepthwiseConv2D_F32);
  assert.is((s.params as fb.ConvParamsT).depthMultiplier, 2);
  const wt = u.tensors[s.inputs[1]!]!;
  assert.equal([...wt.shape], [3, 2, 6]);
  const packed = constF32(bundle, wt);
  for (let o = 0; o < 6; o++) for (let k = 0; k < 6; k++) assert.is(packed[k * 6 + o], w[o * 6 + k]);
});

test('dense weights packed [out,in] → [K,N]; reshape is a view; binary broadcast strides', () => {
  const b = new GraphBuilder('dense');
  const r = b.node('Reshape', [b.node('Relu', [b.input('x', [1, 2, 3])])], { shape: [2, 3] });
  const d = b.node('Dense', [r, b.constant('w', [5, 3]), b.constant('bias', [5])], {}, 'd');
  const g = b.output(b.node('Mul', [d, b.constant('k', [1, 5])], {}, 'y'));
  const w = g.tensors.get('w')!.data as Float32Array;
  const { bundle } = compileGraph(g);
  const u = readBundle(bundle).unpack();
  assert.equal(
    u.steps.map((s) => s.kernel),
    [fb.KernelId.Unary_F32, fb.KernelId.Dense_F32, fb.KernelId.Binary_F32],
  );
  const dense = u.steps[1]!;
  assert.is(
    u.tensors[dense.inputs[0]!]!.offset,
    u.tensors[u.steps[0]!.outputs[0]!]!.offset,
    'reshape output aliases relu output',
  );
  const packed = constF32(bundle, u.tensors[dense.inputs[1]!]!);
  for (let n = 0; n < 5; n++) for (let k = 0; k < 3; k++) assert.is(packed[k * 5 + n], w[n * 3 + k]);
  const bp = u.steps[2]!.params as fb.BinaryParamsT;
  assert.equal(
    [bp.shape, bp.aStrides, bp.bStrides],
    [
      [2, 5],
      [5, 1],
      [0, 1],
    ],
  );
});

test('a shared weight tensor is stored once in the constants blob', () => {
  const b = new GraphBuilder('shared');
  const k = b.constant('k', [64]);
  const g = b.output(b.node('Add', [b.node('Mul', [b.input('x', [64]), k]), k], {}, 'y'));
  const u = readBundle(compileGraph(g).bundle).unpack();
  assert.is(u.constants.length, 256);
});

test.run();
