// Small float graphs the compress tests share (deterministic constants from GraphBuilder).
import type { Graph } from '../../../compiler/ir/graph.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { GraphBuilder } from '../ir/build-graph.ts';

/** x → c0 (relu) → c1 → Add(c1, c0) → relu ‖ c2 → BN → relu ; Concat → MaxPool → Flatten → Dense 5. */
export function residualConcat(): Graph {
  const b = new GraphBuilder('rc');
  const x = b.input('x', [1, 4, 4, 2]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [8, 3, 3, 2]), b.constant('b0', [8])], {
    padding: 'same',
    activation: 'relu',
  });
  const c1 = b.node('Conv2D', [c0, b.constant('w1', [8, 3, 3, 8]), b.constant('b1', [8])], { padding: 'same' });
  const a = b.node('Relu', [b.node('Add', [c1, c0])]);
  const c2 = b.node('Conv2D', [x, b.constant('w2', [4, 1, 1, 2])]);
  const bn = b.node('BatchNorm', [
    c2,
    b.constant('s', [4]),
    b.constant('bb', [4]),
    b.constant('m', [4]),
    b.constant('v', [4], undefined, 0.5, 2),
  ]);
  const cat = b.node('Concat', [a, b.node('Relu', [bn])], { axis: 3 });
  const p = b.node('MaxPool', [cat], { kernel: [2, 2] });
  const f = b.node('Flatten', [p], { axis: 1 });
  const g = b.output(b.node('Dense', [f, b.constant('wd', [5, 48], undefined, -0.5, 0.5), b.constant('bd', [5])]));
  inferShapes.run(g);
  return g;
}
