// Small float graphs the compress tests share (deterministic constants from GraphBuilder).
import { numElements, type Graph } from '../../../compiler/ir/graph.ts';
import type { DepGraph, DepGroup } from '../../../compiler/compress/groups.ts';
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

/** The original with every removed unit's columns zeroed in each consumer (its input weights). */
export function zeroRemoved(g: Graph, dep: DepGraph, kept: Map<DepGroup, number[]>): Graph {
  const z: Graph = {
    ...g,
    tensors: new Map([...g.tensors].map(([k, t]) => [k, { ...t, ...(t.data ? { data: t.data.slice() } : {}) }])),
  };
  for (const [grp, stay] of kept) {
    const keepSet = new Set(stay);
    grp.units.forEach((u, i) => {
      if (keepSet.has(i)) return;
      for (const n of z.nodes) {
        const flow = dep.flows.get(n.name)!;
        if (flow.kind !== 'transform') continue;
        const pos = u.at.get(n.inputs[flow.data]!);
        if (!pos) continue;
        const w = z.tensors.get(n.inputs[flow.consumes.input]!)!;
        const cols = w.shape.at(-1)!,
          rows = numElements(w.shape) / cols;
        const groupRows = w.shape[0]! / flow.groups;
        for (const p of pos) {
          for (let r = 0; r < rows; r++) {
            const rowGroup = Math.floor(Math.floor(r / (rows / w.shape[0]!)) / groupRows);
            if (Math.floor(p / cols) === rowGroup) w.data![r * cols + (p % cols)] = 0;
          }
        }
      }
    });
  }
  return z;
}
