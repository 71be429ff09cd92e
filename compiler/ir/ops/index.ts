// The IR op table: one entry per op file of compiler/ir/ops/ (attrs, shape rule, float64 reference, int8
// rule, gradient and channel-flow slots; see op-def.ts). OpType is the key set of this table; model.json v1
// uses the same op set (docs/model-format.md lists attrs and semantics).
import { ModelError, type Graph, type Node } from '../graph.ts';
import { batchNorm, batchNormGrad, batchNormMerge, batchNormTrain } from './batch-norm.ts';
import { add, div, max, min, mul, prelu, sub } from './binary.ts';
import { concat } from './concat.ts';
import { conv2d } from './conv2d.ts';
import { dense } from './dense.ts';
import { flatten } from './flatten.ts';
import { globalAvgPool } from './global-avg-pool.ts';
import type { OpDef, TypeInfo } from './op-def.ts';
import { pad } from './pad.ts';
import { avgPool, maxPool } from './pool.ts';
import { dequantize, quantize, requantizeOp } from './quantize.ts';
import { reshape } from './reshape.ts';
import { slice } from './slice.ts';
import { softmax } from './softmax.ts';
import { transpose } from './transpose.ts';
import { matMul } from './matmul.ts';
import { reduceSum } from './reduce-sum.ts';
import { softmaxCrossEntropy } from './softmax-cross-entropy.ts';
import { activationGrad } from './activation-grad.ts';
import { sgdUpdate } from './sgd-update.ts';
import { conv2dGradFilter, conv2dGradInput } from './conv2d-grad.ts';
import { avgPoolGrad, maxPoolGrad } from './pool-grad.ts';
import { adamUpdate } from './adam-update.ts';
import { globalNormScale } from './global-norm-scale.ts';
import { mseLoss } from './mse-loss.ts';
import { klDivergence } from './kl-divergence.ts';
import { rkdAngle, rkdDistance } from './relational-kd.ts';
import { fakeQuant, fakeQuantBias, fakeQuantGrad, fakeQuantWeight } from './fake-quant.ts';
import { clip, exp, hardSwish, leakyRelu, relu, relu6, sigmoid, tanh } from './unary.ts';

export const OPS = {
  Conv2D: conv2d,
  Dense: dense,
  BatchNorm: batchNorm,
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Max: max,
  Min: min,
  PRelu: prelu,
  Relu: relu,
  Relu6: relu6,
  Clip: clip,
  LeakyRelu: leakyRelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Exp: exp,
  HardSwish: hardSwish,
  MaxPool: maxPool,
  AvgPool: avgPool,
  GlobalAvgPool: globalAvgPool,
  Quantize: quantize,
  Dequantize: dequantize,
  Requantize: requantizeOp,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Concat: concat,
  Softmax: softmax,
  Pad: pad,
  Slice: slice,
  // training graphs only (trainingOnly: model files may not name them)
  MatMul: matMul,
  ReduceSum: reduceSum,
  SoftmaxCrossEntropy: softmaxCrossEntropy,
  ActivationGrad: activationGrad,
  SgdUpdate: sgdUpdate,
  Conv2DGradInput: conv2dGradInput,
  Conv2DGradFilter: conv2dGradFilter,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  AdamUpdate: adamUpdate,
  GlobalNormScale: globalNormScale,
  MseLoss: mseLoss,
  KlDivergence: klDivergence,
  RkdDistance: rkdDistance,
  RkdAngle: rkdAngle,
  FakeQuant: fakeQuant,
  FakeQuantGrad: fakeQuantGrad,
  FakeQuantWeight: fakeQuantWeight,
  FakeQuantBias: fakeQuantBias,
  BatchNormTrain: batchNormTrain,
  BatchNormGrad: batchNormGrad,
  BatchNormMerge: batchNormMerge,
} satisfies Record<string, OpDef>;

/** Infers one node's outputs from the graph's current tensors. */
export function inferNode(g: Graph, n: Node): TypeInfo[] {
  const def: OpDef | undefined = OPS[n.op];
  if (!def) throw new ModelError(g.source, `node '${n.name}'`, `unknown op '${n.op}'`);
  const ins = n.inputs.map((name, i) => {
    if (name === '') return undefined;
    const t = g.tensors.get(name);
    if (!t) throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `input ${i} '${name}' is not defined`);
    return t;
  });
  const outs = def.infer(n, ins, g.source);
  if (n.outputs.length !== outs.length) {
    throw new ModelError(
      g.source,
      `node '${n.name}' (${n.op})`,
      `expected ${outs.length} output(s), found ${n.outputs.length}`,
    );
  }
  return outs;
}

/**
 * Is this node computed on int8 (docs/quantization.md): an op with an integer reference whose first input and
 * output are int8, or a conversion (Quantize, Dequantize, Requantize).
 */
export function isInt8Node(g: Graph, n: Node): boolean {
  const rule = OPS[n.op]?.int8;
  if (rule?.converts) return true;
  return (
    rule?.evaluate !== undefined &&
    g.tensors.get(n.inputs[0]!)?.dtype === 'int8' &&
    g.tensors.get(n.outputs[0]!)?.dtype === 'int8'
  );
}
