// verify(): each structural defect a pass could introduce is reported as a ModelError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError, type Graph } from '../../../compiler/ir/graph.ts';
import { verify } from '../../../compiler/ir/verify.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { GraphBuilder } from './build-graph.ts';

function good(): Graph {
  const b = new GraphBuilder();
  const t = b.node('Relu', [b.input('x', [1, 4])], {}, 'r');
  const g = b.output(b.node('Add', [t, b.constant('c', [4])], {}, 'y'));
  inferShapes.run(g);
  return g;
}
function fails(mutate: (g: Graph) => void, re: RegExp): void {
  const g = good();
  mutate(g);
  try {
    verify(g, 'after pass test');
  } catch (e) {
    assert.instance(e, ModelError);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${re}`);
}

test('a well-formed graph verifies', () => {
  verify(good());
});
test('nodes out of topological order', () => fails((g) => g.nodes.reverse(), /'r' is used before it is defined/));
test('tensor defined twice', () =>
  fails((g) => {
    g.nodes[1]!.outputs = ['r'];
  }, /'r' is defined more than once/));
test('output never produced', () =>
  fails((g) => {
    g.outputs.push('r2');
    g.tensors.set('r2', { name: 'r2', dtype: 'float32', shape: [1] });
  }, /output 'r2'.*never produced/));
test('constant of the wrong length', () =>
  fails((g) => {
    g.tensors.get('c')!.data = new Float32Array(3);
  }, /constant 'c'.*3 values.*needs 4/));
test('unknown shape', () =>
  fails((g) => {
    g.tensors.get('r')!.shape = [1, 0];
  }, /after pass test: tensor 'r'.*not known and positive/));
test('stale shape after a rewrite', () =>
  fails((g) => {
    g.tensors.get('y')!.shape = [4, 1];
  }, /output 'y' is float32\[4,1\], the op gives float32\[1,4\]/));
test('input missing from the table', () =>
  fails((g) => {
    g.nodes[0]!.inputs = ['nope'];
  }, /'nope' is not in the tensor table/));

test.run();
