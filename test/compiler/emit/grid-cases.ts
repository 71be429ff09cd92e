// The end-to-end grid: one-node and small multi-node IR graphs covering every op with sizes
// around the SIMD width (1, 3, 4, 5, 8, 17), odd channels, strides, paddings, dilations, groups.
// Shared by the TS bundle-interpreter test (lower/) and the wasm runtime test (emit/).
import type { Attrs, Graph, OpType } from '../../../compiler/ir/graph.ts';
import { GraphBuilder } from '../ir/build-graph.ts';

export interface GridCase {
  name: string;
  build(): Graph;
}

const cases: GridCase[] = [];
const add = (name: string, build: () => Graph) => cases.push({ name, build });

function conv(n: number, h: number, w: number, ci: number, co: number, k: [number, number], attrs: Attrs, bias = true) {
  const groups = (attrs.groups as number | undefined) ?? 1;
  const pad = JSON.stringify(attrs.padding ?? 'valid');
  add(
    `conv ${n}x${h}x${w}x${ci} → ${co} k${k.join('x')} s${JSON.stringify(attrs.strides ?? [1, 1])} d${JSON.stringify(attrs.dilations ?? [1, 1])} g${groups} pad ${pad} act ${attrs.activation ?? 'none'}${bias ? '' : ' nobias'}`,
    () => {
      const b = new GraphBuilder('conv');
      const x = b.input('x', [n, h, w, ci]);
      const wt = b.constant('w', [co, k[0], k[1], ci / groups]);
      const ins = bias ? [x, wt, b.constant('b', [co])] : [x, wt];
      return b.output(b.node('Conv2D', ins, attrs, 'y'));
    },
  );
}

for (const [h, w] of [
  [1, 1],
  [3, 3],
  [5, 4],
  [8, 9],
] as const) {
  for (const [ci, co] of [
    [1, 1],
    [3, 4],
    [4, 8],
    [5, 17],
    [8, 3],
  ] as const) {
    conv(1, h, w, ci, co, [1, 1], {});
    if (h >= 3) conv(1, h, w, ci, co, [3, 3], { padding: 'same' });
  }
}
conv(2, 7, 7, 3, 5, [3, 3], { strides: [2, 2], padding: 'same', activation: 'relu' });
conv(1, 8, 8, 4, 16, [3, 3], { strides: [2, 2], padding: 'valid' });
conv(1, 9, 8, 3, 8, [3, 2], { strides: [2, 1], padding: [1, 0, 2, 1], activation: 'clip', clip: [0, 6] });
conv(1, 9, 9, 5, 4, [3, 3], { dilations: [2, 2], padding: 'same' });
conv(1, 10, 7, 2, 3, [2, 3], { dilations: [3, 2], strides: [2, 2], padding: 'valid' });
conv(1, 6, 6, 8, 6, [3, 3], { groups: 2, padding: 'same' });
conv(1, 5, 5, 6, 9, [1, 1], { groups: 3 }, false);
conv(1, 5, 6, 12, 8, [3, 3], { groups: 4, strides: [2, 2], padding: 'same', activation: 'relu' });
conv(1, 3, 17, 9, 33, [1, 3], { padding: 'same', activation: 'relu' });
conv(1, 4, 16, 16, 32, [3, 3], { padding: 'same', strides: [1, 2] });
conv(1, 5, 5, 7, 31, [2, 2], { padding: 'valid' });
// depthwise (groups = Ci), multipliers 1 and 2
for (const c of [1, 3, 4, 5, 8, 17, 32, 33]) conv(1, 6, 5, c, c, [3, 3], { groups: c, padding: 'same' });
conv(1, 7, 7, 4, 8, [3, 3], { groups: 4, strides: [2, 2], padding: 'same', activation: 'clip', clip: [0, 6] });
conv(1, 8, 8, 5, 10, [5, 5], { groups: 5, dilations: [2, 1], padding: 'same' }, false);
conv(2, 6, 6, 3, 3, [3, 3], { groups: 3, strides: [2, 2], padding: [0, 1, 1, 0] });

for (const [m, k, n] of [
  [1, 1, 1],
  [1, 3, 4],
  [2, 5, 17],
  [1, 16, 8],
  [3, 17, 33],
  [1, 64, 10],
] as const) {
  for (const activation of ['none', 'relu'] as const) {
    add(`dense ${m}x${k} → ${n} act ${activation}`, () => {
      const b = new GraphBuilder('dense');
      return b.output(
        b.node('Dense', [b.input('x', [m, k]), b.constant('w', [n, k]), b.constant('b', [n])], { activation }, 'y'),
      );
    });
  }
}
add('dense 2x7 → 5 no bias, clip [-0.5, 0.5]', () => {
  const b = new GraphBuilder('dense');
  return b.output(
    b.node('Dense', [b.input('x', [2, 7]), b.constant('w', [5, 7])], { activation: 'clip', clip: [-0.5, 0.5] }, 'y'),
  );
});

function pool(op: 'MaxPool' | 'AvgPool', shape: number[], attrs: Attrs) {
  add(`${op} ${shape.join('x')} ${JSON.stringify(attrs)}`, () => {
    const b = new GraphBuilder('pool');
    return b.output(b.node(op, [b.input('x', shape)], attrs, 'y'));
  });
}
for (const op of ['MaxPool', 'AvgPool'] as const) {
  pool(op, [1, 8, 8, 3], { kernel: [2, 2] });
  pool(op, [1, 7, 7, 5], { kernel: [3, 3], strides: [1, 1], padding: 'same' });
  pool(op, [2, 9, 8, 17], { kernel: [3, 3], strides: [2, 2], padding: 'same' });
  pool(op, [1, 5, 6, 4], { kernel: [3, 2], strides: [2, 1], padding: [1, 1, 1, 0] });
  pool(op, [1, 4, 17, 33], { kernel: [2, 3], strides: [1, 2], padding: 'same' });
}
pool('AvgPool', [1, 5, 5, 4], { kernel: [3, 3], strides: [2, 2], padding: [1, 1, 1, 1], countIncludePad: true });
pool('AvgPool', [1, 6, 6, 3], { kernel: [3, 3], strides: [2, 2], padding: 'same', countIncludePad: true });
for (const c of [1, 4, 5, 17]) {
  add(`GlobalAvgPool 1x5x3x${c}`, () => {
    const b = new GraphBuilder('gap');
    return b.output(b.node('GlobalAvgPool', [b.input('x', [1, 5, 3, c])], {}, 'y'));
  });
}

const BIN: OpType[] = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'PRelu'];
for (const op of BIN) {
  const shapes: [number[], number[]][] =
    op === 'PRelu'
      ? [
          [[1, 4, 4, 5], [5]],
          [
            [2, 3, 17],
            [1, 1, 17],
          ],
          [
            [1, 2, 2, 4],
            [1, 2, 2, 4],
          ],
        ]
      : [
          [[1, 4, 4, 5], [5]],
          [
            [2, 3, 1],
            [1, 1, 17],
          ],
          [
            [1, 1, 1, 8],
            [1, 3, 3, 8],
          ],
          [[33], [33]],
          [
            [2, 1, 3, 1, 2, 1],
            [1, 2, 1, 4, 1, 3],
          ],
        ];
  for (const [sa, sb] of shapes) {
    for (const constB of op === 'Div' ? [true] : [false, true]) {
      add(`${op} ${sa.join('x')} ⊕ ${sb.join('x')}${constB ? ' (const b)' : ''}`, () => {
        const b = new GraphBuilder('bin');
        const x = b.input('a', sa);
        const y = constB
          ? b.constant('b', sb, undefined, op === 'Div' ? 0.5 : -1, op === 'Div' ? 2 : 1)
          : b.input('b', sb);
        return b.output(b.node(op, [x, y], {}, 'y'));
      });
    }
  }
}
add('Mul rank 7 (merges to ≤ 6 dims) 2x1x3x2x2x1x3 ⊕ 1x1x3x1x1x1x3', () => {
  const b = new GraphBuilder('rank7');
  return b.output(b.node('Mul', [b.input('a', [2, 1, 3, 2, 2, 1, 3]), b.input('b', [1, 1, 3, 1, 1, 1, 3])], {}, 'y'));
});
add('Add with fused relu 1x3x3x5', () => {
  const b = new GraphBuilder('add');
  return b.output(b.node('Add', [b.input('a', [1, 3, 3, 5]), b.input('b', [1, 3, 3, 5])], { activation: 'relu' }, 'y'));
});

const UN: [OpType, Attrs][] = [
  ['Relu', {}],
  ['Relu6', {}],
  ['Clip', { min: -0.5, max: 0.25 }],
  ['LeakyRelu', { alpha: 0.1 }],
  ['Sigmoid', {}],
  ['Tanh', {}],
  ['Exp', {}],
];
for (const [op, attrs] of UN) {
  for (const n of [1, 3, 4, 5, 8, 17, 33]) {
    add(`${op} 1x${n}`, () => {
      const b = new GraphBuilder('unary');
      return b.output(b.node(op, [b.input('x', [1, n])], attrs, 'y'));
    });
  }
}

for (const [shape, axis] of [
  [[1, 10], -1],
  [[2, 3, 17], 1],
  [[1, 2, 2, 5], 3],
  [[3, 4], 0],
] as const) {
  add(`Softmax ${shape.join('x')} axis ${axis}`, () => {
    const b = new GraphBuilder('softmax');
    return b.output(b.node('Softmax', [b.input('x', [...shape])], { axis }, 'y'));
  });
}
for (const [shape, perm] of [
  [
    [1, 4, 5, 3],
    [0, 3, 1, 2],
  ],
  [
    [1, 3, 4, 5],
    [0, 2, 3, 1],
  ],
  [
    [2, 3, 4],
    [2, 0, 1],
  ],
  [
    [2, 1, 3, 2, 2, 3],
    [5, 4, 3, 2, 1, 0],
  ],
] as const) {
  add(`Transpose ${shape.join('x')} perm ${perm.join(',')}`, () => {
    const b = new GraphBuilder('transpose');
    return b.output(b.node('Transpose', [b.input('x', [...shape])], { perm: [...perm] }, 'y'));
  });
}
for (const attrs of [
  { starts: [1, 0], ends: [3, 100], axes: [1, 3] },
  { starts: [-1, 4], ends: [-100, 0], axes: [1, 2], steps: [-2, -3] },
  { starts: [0, 1, 1], ends: [1, 5, 4], steps: [1, 2, 1] },
] as Attrs[]) {
  add(`Slice 1x5x6x4 ${JSON.stringify(attrs)}`, () => {
    const b = new GraphBuilder('slice');
    return b.output(b.node('Slice', [b.input('x', [1, 5, 6, 4])], attrs, 'y'));
  });
}
for (const axis of [3, 1, -1, 0]) {
  add(`Concat three 1x3x2xC axis ${axis}`, () => {
    const b = new GraphBuilder('concat');
    const same = axis === 3 || axis === -1;
    const ins = [
      b.input('a', [1, 3, 2, same ? 3 : 4]),
      b.input('b', [1, 3, 2, same ? 5 : 4]),
      b.constant('c', [1, 3, 2, same ? 1 : 4]),
    ];
    if (axis === 1) {
      b.g.tensors.get('a')!.shape = [1, 2, 2, 4];
    }
    return b.output(b.node('Concat', ins, { axis }, 'y'));
  });
}
add('Pad 1x3x4x5 pads [0,1,2,0,0,2,0,3] value 0.5', () => {
  const b = new GraphBuilder('pad');
  return b.output(b.node('Pad', [b.input('x', [1, 3, 4, 5])], { pads: [0, 1, 2, 0, 0, 2, 0, 3], value: 0.5 }, 'y'));
});
add('Reshape graph input → graph output (copy)', () => {
  const b = new GraphBuilder('reshape');
  return b.output(b.node('Reshape', [b.input('x', [1, 2, 3, 4])], { shape: [0, -1] }, 'y'));
});
add('constant graph outputs: a Reshape of a constant and a bare constant (copied to the arena)', () => {
  const b = new GraphBuilder('const-out');
  const r = b.node('Relu', [b.input('x', [2, 3])], {}, 'y');
  const k = b.node('Reshape', [b.constant('k', [2, 3])], { shape: [3, 2] }, 'kr');
  return b.output(r, k, b.constant('bare', [5]));
});
add('Flatten after Relu, then Relu (view)', () => {
  const b = new GraphBuilder('flatten');
  const r = b.node('Relu', [b.input('x', [2, 3, 3, 2])]);
  return b.output(b.node('Sigmoid', [b.node('Flatten', [r])], {}, 'y'));
});

// multi-node graphs (they also exercise the passes)
add('conv-bn-relu-maxpool-flatten-dense-softmax', () => {
  const b = new GraphBuilder('small-cnn');
  let t = b.node('Conv2D', [b.input('x', [1, 9, 9, 3]), b.constant('w1', [8, 3, 3, 3]), b.constant('b1', [8])], {
    padding: 'same',
  });
  t = b.node(
    'BatchNorm',
    [
      t,
      b.constant('s', [8], undefined, 0.5, 1.5),
      b.constant('bb', [8]),
      b.constant('m', [8]),
      b.constant('v', [8], undefined, 0.5, 2),
    ],
    { epsilon: 1e-3 },
  );
  t = b.node('Relu', [t]);
  t = b.node('MaxPool', [t], { kernel: [2, 2] });
  t = b.node('Flatten', [t]);
  t = b.node('Dense', [t, b.constant('w2', [10, 128], undefined, -0.15, 0.15)]);
  t = b.node('Add', [t, b.constant('b2', [10])]);
  return b.output(b.node('Softmax', [t], {}, 'y'));
});
add('residual block: conv-relu6-conv + skip add relu, GAP', () => {
  const b = new GraphBuilder('residual');
  const x = b.input('x', [1, 6, 6, 5]);
  let t = b.node('Conv2D', [x, b.constant('w1', [5, 3, 3, 5])], { padding: 'same' });
  t = b.node('Relu6', [t]);
  t = b.node('Conv2D', [t, b.constant('w2', [5, 1, 1, 5]), b.constant('b2', [5])], {});
  t = b.node('Add', [t, x]);
  t = b.node('Relu', [t]);
  return b.output(b.node('GlobalAvgPool', [t], {}, 'y'));
});
add('depthwise-separable: dw k3 s2 + pw, two outputs', () => {
  const b = new GraphBuilder('dwsep');
  const x = b.input('x', [1, 8, 8, 4]);
  const d = b.node(
    'Conv2D',
    [x, b.constant('wd', [4, 3, 3, 1]), b.constant('bd', [4])],
    { groups: 4, strides: [2, 2], padding: 'same' },
    'mid',
  );
  const r = b.node('Clip', [d], { min: 0, max: 6 });
  const p = b.node('Conv2D', [r, b.constant('wp', [6, 1, 1, 4])], {});
  return b.output(b.node('Tanh', [p], {}, 'y'), 'mid');
});
add('NCHW boundary: transpose pair around relu + conv', () => {
  const b = new GraphBuilder('nchw');
  let t = b.node('Transpose', [b.input('x', [1, 3, 5, 5])], { perm: [0, 2, 3, 1] });
  t = b.node('Conv2D', [t, b.constant('w', [4, 3, 3, 3]), b.constant('b', [4])], { padding: 'same' });
  t = b.node('Transpose', [t], { perm: [0, 3, 1, 2] });
  t = b.node('Relu', [t]);
  t = b.node('Transpose', [t], { perm: [0, 2, 3, 1] });
  t = b.node('MaxPool', [t], { kernel: [2, 2] });
  return b.output(b.node('Transpose', [t], { perm: [0, 3, 1, 2] }, 'y'));
});
add('NCHW flatten → Dense (transpose absorbed into weights)', () => {
  const b = new GraphBuilder('nchw-dense');
  let t = b.node('Conv2D', [b.input('x', [2, 4, 3, 5]), b.constant('w', [6, 3, 3, 5])], { padding: 'same' });
  t = b.node('Transpose', [t], { perm: [0, 3, 1, 2] });
  t = b.node('Reshape', [t], { shape: [2, -1] });
  return b.output(
    b.node(
      'Dense',
      [t, b.constant('wd', [7, 72], undefined, -0.3, 0.3), b.constant('bd', [7])],
      { activation: 'relu' },
      'y',
    ),
  );
});
add('explicit Pad → strided conv (pad fused into conv padding) → depthwise', () => {
  const b = new GraphBuilder('pad-conv');
  let t = b.node('Pad', [b.input('x', [1, 7, 6, 3])], { pads: [0, 1, 0, 0, 0, 1, 1, 0] });
  t = b.node('Conv2D', [t, b.constant('w', [8, 3, 3, 3]), b.constant('b', [8])], {
    strides: [2, 2],
    activation: 'relu',
  });
  t = b.node('Pad', [t], { pads: [0, 1, 1, 0, 0, 1, 1, 0] });
  return b.output(b.node('Conv2D', [t, b.constant('wd', [8, 3, 3, 1])], { groups: 8 }, 'y'));
});
add('two branches concat + constant folding + leftover BN', () => {
  const b = new GraphBuilder('branches');
  const x = b.input('x', [1, 4, 4, 3]);
  const c1 = b.node('Mul', [b.constant('k1', [3]), b.constant('k2', [3])]);
  const a = b.node('Add', [x, c1]);
  const s = b.node('Sigmoid', [x]);
  const bn = b.node('BatchNorm', [
    s,
    b.constant('s', [3]),
    b.constant('bb', [3]),
    b.constant('m', [3]),
    b.constant('v', [3], undefined, 0.5, 1),
  ]);
  const cat = b.node('Concat', [a, bn], { axis: 3 });
  const pr = b.node('PRelu', [cat, b.constant('slope', [6], undefined, 0, 0.3)]);
  const pd = b.node('Pad', [pr], { pads: [0, 1, 1, 0, 0, 1, 1, 0] });
  const sl = b.node('Slice', [pd], { starts: [1, 0], ends: [5, 6], axes: [1, 3], steps: [2, 1] });
  return b.output(b.node('LeakyRelu', [sl], { alpha: 0.2 }, 'y'));
});

export const GRID: readonly GridCase[] = cases;
