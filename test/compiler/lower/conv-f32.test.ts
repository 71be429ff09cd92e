// compiler/lower/conv-f32.ts: which float conv kernel each geometry gets (first match wins), what disabling a
// kernel does, and that each rule's packed weight shape holds every weight once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { F32_CONV_RULES, f32ConvRule, type F32Conv } from '../../../compiler/lower/conv-f32.ts';

const conv = (c: Partial<F32Conv>): F32Conv => ({
  n: 1,
  h: 6,
  w: 5,
  ci: 4,
  co: 8,
  kh: 3,
  kw: 3,
  sh: 1,
  sw: 1,
  dh: 1,
  dw: 1,
  groups: 1,
  pad: [1, 1, 1, 1],
  oh: 6,
  ow: 5,
  constWeights: true,
  ...c,
});
const none = new Set<string>();
const pick = (c: Partial<F32Conv>, disabled = none) => f32ConvRule(conv(c), disabled).kernel;
const pointwise = { kh: 1, kw: 1, pad: [0, 0, 0, 0] as F32Conv['pad'] };

const P8 = new Set(['Conv2D_F32_P8']);

test('geometry → kernel', () => {
  assert.is(pick({}), 'Conv2D_F32_P8');
  assert.is(pick({ constWeights: false }), 'Conv2D_F32', 'trained weights');
  assert.is(pick({ groups: 4, co: 8 }), 'DepthwiseConv2D_F32', 'groups = ci, co = 2·ci');
  assert.is(pick({ groups: 2 }), 'Conv2D_F32_P8', 'grouped, not depthwise');
  assert.is(pick({ groups: 4, co: 6 }), 'Conv2D_F32_P8', 'co not a multiple of ci');
  assert.is(pick({ groups: 4, co: 6, constWeights: false }), 'Conv2D_F32');
  assert.is(pick(pointwise), 'Conv2D_F32_P8');
  assert.is(pick(pointwise, P8), 'Dense_F32');
  assert.is(pick({ ...pointwise, constWeights: false }), 'Conv2D_F32', 'trained weights');
  assert.is(pick({ ...pointwise, sh: 2 }, P8), 'Conv2D_F32', 'strided');
  assert.is(pick({ ...pointwise, pad: [0, 0, 0, 1] }, P8), 'Conv2D_F32', 'padded');
  assert.is(pick({ ...pointwise, groups: 4, co: 4 }), 'DepthwiseConv2D_F32', '1x1 depthwise');
});

test('a disabled kernel passes the node to the next matching rule; Conv2D_F32 always runs', () => {
  assert.is(pick(pointwise, new Set(['Conv2D_F32_P8', 'Dense_F32'])), 'Conv2D_F32');
  assert.is(pick({ groups: 4 }, new Set(['DepthwiseConv2D_F32'])), 'Conv2D_F32_P8');
  assert.is(pick({ groups: 4 }, new Set(['DepthwiseConv2D_F32', 'Conv2D_F32_P8'])), 'Conv2D_F32');
  assert.is(pick({}, new Set(['Conv2D_F32'])), 'Conv2D_F32_P8');
  assert.is(pick({}, new Set(['Conv2D_F32', 'Conv2D_F32_P8'])), 'Conv2D_F32');
});

test('each rule packs OHWI weights into its shape; trained weights are gathered unless it needs constants', () => {
  for (const [rule, c] of [
    [0, conv({ groups: 4 })],
    [1, conv({ groups: 2, co: 12 })],
    [2, conv(pointwise)],
    [3, conv({ groups: 2 })],
  ] as const) {
    const r = F32_CONV_RULES[rule]!;
    assert.ok(r.match(c), r.kernel);
    const w = Float32Array.from({ length: c.co * c.kh * c.kw * (c.ci / c.groups) }, (_, i) => i + 1);
    const packed = r.pack(w, c);
    assert.is(
      packed.length,
      r.wshape(c).reduce((a, b) => a * b, 1),
      r.kernel,
    );
    // every weight once; Conv2D_F32_P8 pads each group's last panel to 8 lanes with zeros (co 12 / 2 groups: 6 + 2)
    const pad = r.kernel === 'Conv2D_F32_P8' ? packed.length - w.length : 0;
    assert.is(pad, r.kernel === 'Conv2D_F32_P8' ? 2 * 2 * 9 * 2 : 0, `${r.kernel}: padding lanes`);
    assert.equal(
      [...packed].sort((a, b) => a - b),
      [...new Array<number>(pad).fill(0), ...w],
      `${r.kernel}: a permutation`,
    );
    assert.is(r.gather === null, r.kernel === 'Dense_F32' || r.kernel === 'Conv2D_F32_P8');
    if (r.gather) assert.is(r.gather(c).length, r.wshape(c).length, `${r.kernel}: one stride per packed axis`);
  }
});

test.run();
