// model.json Branch / EarlyExit blocks: what parses, and the precise ModelError of each mistake.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBlockModel, hasBlocks, argmaxLowest, exitConfident } from '../../../compiler/ir/blocks.ts';
import { ModelError } from '../../../compiler/ir/graph.ts';

const dense = (name: string, x: string, w: string, b: string, y: string) => ({
  name,
  op: 'Dense',
  inputs: [x, w, b],
  outputs: [y],
});
const T = (shape: number[]) => ({
  dtype: 'float32',
  shape,
  data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0.5),
});

function model(edit: (j: any) => void = () => {}) {
  const j: any = {
    format: 'edgec-model',
    version: 1,
    name: 'm',
    inputs: [{ name: 'x', shape: [1, 4], dtype: 'float32' }],
    outputs: [{ name: 'y' }],
    tensors: { w: T([4, 4]), b: T([4]), wg: T([2, 4]), bg: T([2]), w3: T([3, 4]), b3: T([3]) },
    nodes: [
      dense('d', 'x', 'w', 'b', 'h'),
      {
        name: 'blk',
        op: 'Branch',
        inputs: ['h'],
        outputs: ['m'],
        gate: { nodes: [dense('g', 'h', 'wg', 'bg', 'gs')], outputs: ['gs'] },
        branches: [
          { nodes: [dense('a', 'h', 'w', 'b', 'ya')], outputs: ['ya'] },
          { nodes: [dense('b', 'h', 'w', 'b', 'yb')], outputs: ['yb'] },
        ],
      },
      {
        name: 'ex',
        op: 'EarlyExit',
        inputs: ['m'],
        head: { nodes: [dense('hh', 'm', 'w', 'b', 'e')], outputs: ['e'] },
        metric: 'max_prob',
        threshold: 0.5,
      },
      dense('f', 'm', 'w', 'b', 'y'),
    ],
  };
  edit(j);
  return j;
}
const parse = (j: unknown) => parseBlockModel(j, undefined, 'm.json');
function fails(edit: (j: any) => void, ...parts: string[]) {
  try {
    parse(model(edit));
  } catch (e) {
    assert.instance(e, ModelError);
    for (const p of parts) assert.ok((e as Error).message.includes(p), `'${(e as Error).message}' lacks '${p}'`);
    return;
  }
  assert.unreachable(`no error for ${parts.join(' / ')}`);
}

test('a valid model: pieces in order, shapes inferred, subgraph nodes named by their block', () => {
  const j = model();
  assert.ok(hasBlocks(j));
  assert.not.ok(hasBlocks({ nodes: [{ op: 'Dense' }] }));
  const bm = parse(j);
  assert.equal(
    bm.pieces.map((p) => p.kind),
    ['graph', 'branch', 'exit', 'graph'],
  );
  assert.equal(bm.shapes.get('m')!.shape, [1, 4]);
  const br = bm.pieces[1]!;
  assert.ok(
    br.kind === 'branch' &&
      br.branches[1]!.nodes[0]!.name === 'blk/branch1/b' &&
      br.gate.nodes[0]!.name === 'blk/gate/g',
  );
  assert.equal(bm.inputs, ['x']);
});

test('errors: branch outputs differ in shape, gate width ≠ number of branches', () => {
  fails(
    (j) => {
      j.nodes[1].branches[1] = { nodes: [dense('b', 'h', 'w3', 'b3', 'yb')], outputs: ['yb'] };
    },
    "node 'blk' (Branch): branches[1]",
    'branch outputs differ in shape',
    '[1,3]',
    '[1,4]',
  );
  fails(
    (j) => {
      j.nodes[1].gate = { nodes: [dense('g', 'h', 'w3', 'b3', 'gs')], outputs: ['gs'] };
    },
    'gate width 3',
    '≠ number of branches 2',
  );
  fails((j) => {
    j.nodes[1].branches.pop();
    j.nodes[1].gate = { nodes: [dense('g', 'h', 'w', 'b', 'gs')], outputs: ['gs'] };
  }, 'branches: expected at least 2 subgraphs, found 1');
});

test('errors: subgraph shape, unknown keys, names, nesting, batch', () => {
  fails(
    (j) => {
      j.nodes[1].gate.outputs = ['gs', 'h'];
    },
    'gate',
    'outputs: expected exactly one tensor name',
  );
  fails((j) => {
    j.nodes[1].gate.extra = 1;
  }, "unknown key 'extra'");
  fails(
    (j) => {
      j.nodes[1].colour = 'red';
    },
    "node 'blk' (Branch)",
    "unknown key 'colour'",
  );
  fails((j) => {
    j.nodes[1].branches[0].nodes[0].inputs[0] = 'nowhere';
  }, "reads 'nowhere'");
  fails((j) => {
    j.nodes[1].branches[0].nodes.push({ ...j.nodes[2], name: 'inner' });
  }, 'cannot nest');
  fails((j) => {
    j.nodes[1].outputs = ['h'];
  }, "'h' is already defined");
  fails((j) => {
    j.inputs[0].shape = [2, 4];
  }, 'expected batch 1');
  fails((j) => {
    j.nodes[1].branches[0].nodes = [];
  }, 'nodes: expected a non-empty array');
});

test('errors: exit metric, threshold, head shape, outputs', () => {
  fails(
    (j) => {
      j.nodes[2].metric = 'margin';
    },
    "node 'ex' (EarlyExit)",
    'metric: expected "max_prob" or "entropy"',
  );
  fails((j) => {
    j.nodes[2].threshold = 1.5;
  }, 'threshold: expected a number in [0, 1]');
  fails((j) => {
    j.nodes[2].threshold = 'high';
  }, 'threshold');
  fails(
    (j) => {
      j.nodes[2].head = { nodes: [dense('hh', 'm', 'w3', 'b3', 'e')], outputs: ['e'] };
    },
    'head output',
    '[1,3]',
    "graph output 'y'",
    '[1,4]',
  );
  fails((j) => {
    j.nodes[2].outputs = ['z'];
  }, 'an EarlyExit produces no tensor');
  // entropy thresholds may exceed 1 (nats)
  parse(
    model((j) => {
      j.nodes[2].metric = 'entropy';
      j.nodes[2].threshold = 2;
    }),
  );
});

test('argmaxLowest: ties → lowest index, NaN never wins; exitConfident on both metrics', () => {
  assert.is(argmaxLowest([1, 3, 3, 2]), 1);
  assert.is(argmaxLowest([0, 0, 0]), 0);
  assert.is(argmaxLowest([Number.NaN, 1, 2]), 2);
  assert.is(argmaxLowest([1, Number.NaN, 0]), 0);
  // logits [0, 0]: p = 0.5 each, entropy ln 2
  assert.ok(exitConfident([0, 0], 2, 'max_prob', 0.49));
  assert.not.ok(exitConfident([0, 0], 2, 'max_prob', 0.5));
  assert.ok(exitConfident([0, 0], 2, 'entropy', Math.log(2) + 1e-9));
  assert.not.ok(exitConfident([0, 0], 2, 'entropy', Math.log(2)));
});

test.run();
