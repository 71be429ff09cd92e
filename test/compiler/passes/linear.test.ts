// The pass pipeline's cost grows linearly with the graph: GraphEdit's work counter (nodes indexed plus
// reader entries walked, not a timer) over chains of 100, 200 and 400 blocks, each block rewritten by
// fuse-bias, fold-batchnorm, fuse-activation and cancel-transposes, doubles with the graph.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { runPasses } from '../../../compiler/passes/index.ts';
import { editWork } from '../../../compiler/passes/util.ts';
import { GraphBuilder } from '../ir/build-graph.ts';

const BLOCK = 7;

/** n blocks of Dense 8→8 → Add(bias) → Relu → Transpose → Transpose → BatchNorm → Sigmoid on [1,8]. */
function chain(blocks: number): Graph {
  const b = new GraphBuilder(`chain${blocks}`);
  let x = b.input('x', [1, 8]);
  for (let i = 0; i < blocks; i++) {
    x = b.node('Dense', [x, b.constant(`w${i}`, [8, 8]), ''], { activation: 'none' });
    x = b.node('Add', [x, b.constant(`b${i}`, [8])], { activation: 'none' });
    x = b.node('Relu', [x]);
    x = b.node('Transpose', [x], { perm: [1, 0] });
    x = b.node('Transpose', [x], { perm: [1, 0] });
    const bn = ['scale', 'bias', 'mean', 'var'].map((k) => b.constant(`bn${i}_${k}`, [8], undefined, 0.5, 1.5));
    x = b.node('BatchNorm', [x, ...bn], { epsilon: 1e-5 });
    x = b.node('Sigmoid', [x]);
  }
  return b.output(x);
}

test('pipeline work per node is bounded: doubling the graph doubles GraphEdit work (100 / 200 / 400 blocks)', () => {
  const work: number[] = [];
  for (const blocks of [100, 200, 400]) {
    const g = chain(blocks);
    assert.is(g.nodes.length, blocks * BLOCK);
    const before = editWork.count;
    const out = runPasses(g);
    work.push(editWork.count - before);
    // each block ends as Dense (bias + relu fused) → Mul → Add (the BatchNorm) → Sigmoid; the transposes cancel
    assert.is(out.nodes.map((n) => n.op).join(' '), Array(blocks).fill('Dense Mul Add Sigmoid').join(' '));
    assert.ok(work.at(-1)! <= 100 * blocks * BLOCK, `${work.at(-1)} work units for ${blocks * BLOCK} nodes`);
  }
  for (let i = 1; i < work.length; i++) {
    const ratio = work[i]! / work[i - 1]!;
    assert.ok(ratio > 1.8 && ratio < 2.2, `work ${work.join(' → ')}: ratio ${ratio.toFixed(3)} per doubling`);
  }
});

test.run();
