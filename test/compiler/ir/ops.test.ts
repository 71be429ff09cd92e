// Op table: shape rules (and the ModelError each bad shape gives) and reference values checked
// against hand-computed numbers or an independent formulation (pad + valid conv = same conv, …).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError, type Attrs, type Graph, type OpType } from '../../../compiler/ir/graph.ts';
import { inferNode } from '../../../compiler/ir/ops/index.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { GraphBuilder, closeness, inputsFor } from './build-graph.ts';

/** Output shape of one node over inputs of the given shapes (constants where `consts` says). */
function shapeOf(op: OpType, shapes: number[][], attrs: Attrs = {}): number[] {
  const b = new GraphBuilder();
  const ins = shapes.map((s, i) => (i === 0 ? b.input(`x${i}`, s) : b.constant(`c${i}`, s)));
  b.node(op, ins, attrs, 'y');
  const g = b.output('y');
  return inferNode(g, g.nodes[0]!)[0]!.shape;
}
function throwsModel(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ModelError);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a ModelError matching ${re}`);
}

test('conv shapes: valid, same (stride 2, odd), dilation, explicit pads, groups', () => {
  assert.equal(
    shapeOf('Conv2D', [
      [1, 8, 8, 3],
      [16, 3, 3, 3],
    ]),
    [1, 6, 6, 16],
  );
  assert.equal(
    shapeOf(
      'Conv2D',
      [
        [1, 7, 8, 3],
        [16, 3, 3, 3],
      ],
      { padding: 'same', strides: [2, 2] },
    ),
    [1, 4, 4, 16],
  );
  assert.equal(
    shapeOf(
      'Conv2D',
      [
        [1, 8, 8, 3],
        [4, 3, 3, 3],
      ],
      { dilations: [2, 2] },
    ),
    [1, 4, 4, 4],
  );
  assert.equal(
    shapeOf(
      'Conv2D',
      [
        [1, 5, 5, 2],
        [4, 3, 3, 2],
      ],
      { padding: [1, 0, 2, 0] },
    ),
    [1, 6, 3, 4],
  );
  assert.equal(
    shapeOf(
      'Conv2D',
      [
        [2, 5, 5, 6],
        [9, 1, 1, 2],
      ],
      { groups: 3 },
    ),
    [2, 5, 5, 9],
  );
});

test('conv errors name the node and the mismatch', () => {
  throwsModel(
    () =>
      shapeOf('Conv2D', [
        [1, 8, 8, 12],
        [16, 3, 3, 8],
      ]),
    /node 'conv2d0'.*weights \[16,3,3,8\] do not match input channels 12/,
  );
  throwsModel(
    () =>
      shapeOf(
        'Conv2D',
        [
          [1, 8, 8, 6],
          [5, 3, 3, 2],
        ],
        { groups: 3 },
      ),
    /output channels 5 .*not divisible by groups 3/,
  );
  throwsModel(
    () =>
      shapeOf('Conv2D', [
        [1, 2, 2, 1],
        [1, 3, 3, 1],
      ]),
    /larger than the padded input 2x2/,
  );
  throwsModel(
    () => shapeOf('Conv2D', [[1, 4, 4, 1], [2, 1, 1, 1], [3]]),
    /bias \[3\] does not match output channels 2/,
  );
  throwsModel(
    () =>
      shapeOf('Conv2D', [
        [1, 4, 4],
        [2, 1, 1, 1],
      ]),
    /rank 4/,
  );
  throwsModel(
    () =>
      shapeOf(
        'Conv2D',
        [
          [1, 4, 4, 1],
          [2, 1, 1, 1],
        ],
        { padding: 'reflect' },
      ),
    /padding must be/,
  );
});

test('dense, pooling, global pool shapes and errors', () => {
  assert.equal(shapeOf('Dense', [[3, 5], [7, 5], [7]]), [3, 7]);
  throwsModel(
    () =>
      shapeOf('Dense', [
        [3, 5],
        [7, 4],
      ]),
    /weights \[out,in\] \[7,4\] do not match input features 5/,
  );
  assert.equal(shapeOf('MaxPool', [[1, 9, 8, 3]], { kernel: [2, 2] }), [1, 4, 4, 3]);
  assert.equal(shapeOf('AvgPool', [[1, 9, 8, 3]], { kernel: [3, 3], strides: [2, 2], padding: 'same' }), [1, 5, 4, 3]);
  throwsModel(
    () => shapeOf('MaxPool', [[1, 9, 8, 3]], { kernel: [2, 2], padding: [2, 0, 0, 0] }),
    /smaller than the kernel/,
  );
  assert.equal(shapeOf('GlobalAvgPool', [[2, 5, 3, 7]]), [2, 1, 1, 7]);
});

test('broadcasting and its errors', () => {
  assert.equal(shapeOf('Add', [[1, 4, 4, 5], [5]]), [1, 4, 4, 5]);
  assert.equal(
    shapeOf('Mul', [
      [2, 3, 1],
      [1, 1, 17],
    ]),
    [2, 3, 17],
  );
  throwsModel(() => shapeOf('Sub', [[2, 3], [4]]), /shapes \[2,3\] and \[4\] do not broadcast/);
  throwsModel(
    () =>
      shapeOf('PRelu', [
        [1, 3],
        [2, 1],
      ]),
    /slope \[2,1\] must broadcast to x \[1,3\]/,
  );
  throwsModel(() => shapeOf('Div', [[2, 3], [3]], { activation: 'relu' }), /only allowed on Add/);
});

test('reshape, flatten, transpose, concat, softmax, pad, slice shapes', () => {
  assert.equal(shapeOf('Reshape', [[2, 3, 4]], { shape: [0, -1] }), [2, 12]);
  assert.equal(shapeOf('Reshape', [[2, 3, 4]], { shape: [4, 3, 2] }), [4, 3, 2]);
  throwsModel(() => shapeOf('Reshape', [[2, 3, 4]], { shape: [5, -1] }), /does not fit 24 elements/);
  throwsModel(() => shapeOf('Reshape', [[2, 3, 4]], { shape: [-1, -1] }), /one -1/);
  assert.equal(shapeOf('Flatten', [[2, 3, 4, 5]], { axis: 2 }), [6, 20]);
  assert.equal(shapeOf('Flatten', [[2, 3, 4, 5]], { axis: 0 }), [1, 120]);
  assert.equal(shapeOf('Transpose', [[1, 4, 5, 3]], { perm: [0, 3, 1, 2] }), [1, 3, 4, 5]);
  throwsModel(() => shapeOf('Transpose', [[1, 4, 5, 3]], { perm: [0, 1, 1, 2] }), /not a permutation/);
  assert.equal(
    shapeOf(
      'Concat',
      [
        [1, 2, 3],
        [1, 5, 3],
      ],
      { axis: 1 },
    ),
    [1, 7, 3],
  );
  assert.equal(
    shapeOf(
      'Concat',
      [
        [1, 2, 3],
        [1, 2, 4],
      ],
      { axis: -1 },
    ),
    [1, 2, 7],
  );
  throwsModel(
    () =>
      shapeOf(
        'Concat',
        [
          [1, 2, 3],
          [1, 3, 4],
        ],
        { axis: 2 },
      ),
    /input 1 shape \[1,3,4\] does not match \[1,2,3\] outside axis 2/,
  );
  throwsModel(() => shapeOf('Softmax', [[2, 3]], { axis: 2 }), /axis 2 is out of range for rank 2/);
  assert.equal(shapeOf('Pad', [[1, 3, 4, 5]], { pads: [0, 1, 2, 0, 0, 2, 0, 3] }), [1, 6, 6, 8]);
  throwsModel(() => shapeOf('Pad', [[1, 3]], { pads: [0, 1] }), /pads must hold 4/);
  assert.equal(shapeOf('Slice', [[1, 5, 6, 4]], { starts: [1, 0], ends: [3, 100], axes: [1, 3] }), [1, 2, 6, 4]);
  assert.equal(shapeOf('Slice', [[1, 5, 6, 4]], { starts: [-1], ends: [-100], axes: [1], steps: [-2] }), [1, 3, 6, 4]);
  throwsModel(() => shapeOf('Slice', [[1, 5]], { starts: [3], ends: [2], axes: [1] }), /is empty/);
});

function run1(op: OpType, inputs: [number[], number[]][], attrs: Attrs = {}): Float64Array {
  const b = new GraphBuilder();
  const names = inputs.map(([s], i) => b.input(`x${i}`, s));
  const g = b.output(b.node(op, names, attrs, 'y'));
  return evaluate(g, Object.fromEntries(inputs.map(([, v], i) => [`x${i}`, v]))).y!;
}

test('reference values by hand: conv 2x2 ones, avg pool corner counts, transpose, slice reverse, softmax', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  assert.equal(
    [
      ...run1('Conv2D', [
        [[1, 3, 3, 1], x],
        [
          [1, 2, 2, 1],
          [1, 1, 1, 1],
        ],
      ]),
    ],
    [12, 16, 24, 28],
  );
  // same 3x3 avg, count excludes padding: corner = mean of 4 taps, centre = mean of 9
  const avg = run1('AvgPool', [[[1, 3, 3, 1], x]], { kernel: [3, 3], strides: [1, 1], padding: 'same' });
  assert.equal(avg[0], (1 + 2 + 4 + 5) / 4);
  assert.equal(avg[4], 5);
  const avgIncl = run1('AvgPool', [[[1, 3, 3, 1], x]], {
    kernel: [3, 3],
    strides: [1, 1],
    padding: 'same',
    countIncludePad: true,
  });
  assert.equal(avgIncl[0], (1 + 2 + 4 + 5) / 9);
  assert.equal([...run1('MaxPool', [[[1, 3, 3, 1], x]], { kernel: [2, 2], strides: [1, 1] })], [5, 6, 8, 9]);
  assert.equal(
    [
      ...run1(
        'Transpose',
        [
          [
            [2, 3],
            [1, 2, 3, 4, 5, 6],
          ],
        ],
        { perm: [1, 0] },
      ),
    ],
    [1, 4, 2, 5, 3, 6],
  );
  assert.equal(
    [
      ...run1(
        'Slice',
        [
          [
            [1, 6],
            [0, 1, 2, 3, 4, 5],
          ],
        ],
        { starts: [-1], ends: [-100], axes: [1], steps: [-2] },
      ),
    ],
    [5, 3, 1],
  );
  const sm = run1('Softmax', [
    [
      [1, 3],
      [0, Math.log(2), Math.log(5)],
    ],
  ]);
  assert.ok(closeness(sm, [1 / 8, 2 / 8, 5 / 8], 1e-12, 0) <= 1);
  assert.equal(
    [
      ...run1(
        'Pad',
        [
          [
            [1, 2],
            [7, 8],
          ],
        ],
        { pads: [0, 1, 0, 2], value: -1 },
      ),
    ],
    [-1, 7, 8, -1, -1],
  );
  assert.equal(
    [
      ...run1(
        'Concat',
        [
          [
            [1, 2],
            [1, 2],
          ],
          [[1, 1], [3]],
        ],
        { axis: 1 },
      ),
    ],
    [1, 2, 3],
  );
  assert.equal(
    [
      ...run1('PRelu', [
        [[4], [-2, -1, 0, 3]],
        [[1], [0.5]],
      ]),
    ],
    [-1, -0.5, 0, 3],
  );
  assert.equal(
    [
      ...run1(
        'Add',
        [
          [
            [2, 1],
            [1, 2],
          ],
          [[3], [10, 20, 30]],
        ],
        { activation: 'clip', clip: [0, 25] },
      ),
    ],
    [11, 21, 25, 12, 22, 25],
  );
});

test('reference: same conv equals explicit Pad + valid conv; groups equal split convs + concat', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 6, 7, 4]);
  const w = b.constant('w', [6, 3, 3, 2]);
  const bias = b.constant('b', [6]);
  b.node('Conv2D', [x, w, bias], { padding: 'same', groups: 2, strides: [2, 2] }, 'same');
  // SAME_UPPER for 6x7, k3 s2: total pad h = 1 (0 top, 1 bottom), w = 2 (1 left, 1 right)
  const padded = b.node('Pad', [x], { pads: [0, 0, 1, 0, 0, 1, 1, 0] });
  const halves = [0, 1].map((k) => {
    const xs = b.node('Slice', [padded], { starts: [2 * k], ends: [2 * k + 2], axes: [3] });
    const ws = b.node('Slice', [w], { starts: [3 * k], ends: [3 * k + 3], axes: [0] });
    const bs = b.node('Slice', [bias], { starts: [3 * k], ends: [3 * k + 3], axes: [0] });
    return b.node('Conv2D', [xs, ws, bs], { strides: [2, 2] });
  });
  b.node('Concat', halves, { axis: 3 }, 'split');
  const g = b.output('same', 'split');
  const r = evaluate(g, inputsFor(g));
  assert.equal(r.same!.length, 1 * 3 * 4 * 6);
  assert.ok(closeness(r.same!, r.split!, 1e-12, 1e-12) <= 1);
});

test('reference: dense equals 1x1 conv over a 1x1 image', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 5]);
  const w = b.constant('w', [3, 5]);
  b.node('Dense', [x, w], {}, 'd');
  const x4 = b.node('Reshape', [x], { shape: [1, 1, 1, 5] });
  const w4 = b.node('Reshape', [w], { shape: [3, 1, 1, 5] });
  b.node('Reshape', [b.node('Conv2D', [x4, w4])], { shape: [1, 3] }, 'c');
  const g: Graph = b.output('d', 'c');
  const r = evaluate(g, inputsFor(g));
  assert.ok(closeness(r.d!, r.c!, 1e-12, 1e-12) <= 1);
});

test('evaluate: missing input and wrong length are ModelErrors; all: true returns intermediates', () => {
  const b = new GraphBuilder();
  const g = b.output(b.node('Relu', [b.node('Exp', [b.input('x', [2])], {}, 'e')], {}, 'y'));
  throwsModel(() => evaluate(g, {}), /input 'x'.*no value/);
  throwsModel(() => evaluate(g, { x: [1] }), /expected 2 values/);
  const all = evaluate(g, { x: [0, 1] }, { all: true });
  assert.equal([...all.e!], [1, Math.E]);
  assert.equal([...all.x!], [0, 1]);
});

test.run();
