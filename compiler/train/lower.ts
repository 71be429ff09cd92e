// Lowering of the training-only ops (compiler/ir/ops/: matmul, reduce-sum, softmax-cross-entropy,
// activation-grad, sgd-update, batch-norm's BatchNormTrain / BatchNormGrad, …) to the training kernels
// (docs/training.md). Hooked from compiler/lower/index.ts like the int8 lowering. MatMul runs on the
// Dense_F32 GEMM (b as its [K,N] weights, no bias); SgdUpdate's outputs are views of its inputs, so
// the update happens in place in the pinned variables.
import { numElements, type Graph, type Node } from '../ir/graph.ts';
import { fb } from '../emit/bundle-writer.ts';
import type { LoweredStep, LoweredTensor } from '../lower/index.ts';
import type { GradActivation } from '../ir/ops/activation-grad.ts';

export interface TrainLowerCtx {
  g: Graph;
  idOf(name: string, n?: Node): number;
  newTensor(t: LoweredTensor): number;
  defineOutput(name: string, n: Node, extra?: Partial<LoweredTensor>): number;
  steps: LoweredStep[];
  tensors: LoweredTensor[];
}

const UNARY: Record<GradActivation, fb.UnaryOp> = {
  relu: fb.UnaryOp.Relu,
  clip: fb.UnaryOp.Clip,
  leakyrelu: fb.UnaryOp.LeakyRelu,
  sigmoid: fb.UnaryOp.Sigmoid,
  tanh: fb.UnaryOp.Tanh,
  exp: fb.UnaryOp.Exp,
  hardswish: fb.UnaryOp.HardSwish,
};

const TRAIN_OPS: string[] = [
  'MatMul',
  'ReduceSum',
  'SoftmaxCrossEntropy',
  'ActivationGrad',
  'SgdUpdate',
  'Conv2DGradInput',
  'Conv2DGradFilter',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'AdamUpdate',
  'GlobalNormScale',
  'MseLoss',
  'KlDivergence',
  'RkdDistance',
  'RkdAngle',
  'FakeQuant',
  'FakeQuantGrad',
  'FakeQuantWeight',
  'FakeQuantBias',
  'BatchNormTrain',
  'BatchNormGrad',
  'BatchNormMerge',
  // an inference BatchNorm the passes did not fold (its parameters are variables: validation while it trains)
  'BatchNorm',
];

const num = (n: Node, k: string, d: number) => (typeof n.attrs[k] === 'number' ? (n.attrs[k] as number) : d);

export function lowerTrainNode(c: TrainLowerCtx, n: Node): boolean {
  const shape = (name: string) => c.g.tensors.get(name)!.shape;
  const step = (kernel: fb.KernelId, inputs: number[], outputs: number[], params?: LoweredStep['params'], macs = 0) =>
    c.steps.push({ kernel, inputs, outputs, params, macs, node: n.name });
  if (!TRAIN_OPS.includes(n.op)) return false;
  const ins = n.inputs.map((i) => (i === '' ? -1 : c.idOf(i, n)));
  switch (n.op) {
    case 'MatMul': {
      const [M, K] = shape(n.inputs[0]!) as [number, number],
        N = shape(n.inputs[1]!)[1]!;
      step(fb.KernelId.Dense_F32, ins, [c.defineOutput(n.outputs[0]!, n)], { type: 'dense' }, M * K * N);
      return true;
    }
    case 'ReduceSum': {
      const s = shape(n.inputs[0]!);
      let ax = num(n, 'axis', 0);
      if (ax < 0) ax += s.length;
      const params = {
        type: 'softmax' as const,
        outer: numElements(s.slice(0, ax)),
        axis: s[ax]!,
        inner: numElements(s.slice(ax + 1)),
      };
      step(fb.KernelId.ReduceSum_F32, ins, [c.defineOutput(n.outputs[0]!, n)], params, numElements(s));
      return true;
    }
    case 'SoftmaxCrossEntropy': {
      const outs = n.outputs.map((o) => c.defineOutput(o, n));
      step(
        fb.KernelId.SoftmaxCrossEntropy_F32,
        ins,
        outs,
        { type: 'train', labelSmoothing: num(n, 'labelSmoothing', 0) },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    }
    case 'ActivationGrad': {
      const a = n.attrs.activation as GradActivation;
      const [lo, hi] = (n.attrs.clip as number[] | undefined) ?? [-Infinity, Infinity];
      const params = {
        type: 'unary' as const,
        op: UNARY[a],
        alpha: a === 'clip' ? lo : num(n, 'alpha', 0.01),
        beta: a === 'clip' ? hi : 0,
      };
      step(
        fb.KernelId.UnaryGrad_F32,
        ins,
        [c.defineOutput(n.outputs[0]!, n)],
        params,
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    }
    case 'SgdUpdate': {
      // w' is w's bytes, v' is v's: the planner merges a view into its source and both are pinned state
      const outs = n.outputs.map((o, k) => c.defineOutput(o, n, { aliasOf: ins[k === 0 ? 0 : 2]! }));
      const params = {
        type: 'train' as const,
        momentum: num(n, 'momentum', 0),
        nesterov: num(n, 'nesterov', 0) !== 0 || n.attrs.nesterov === true,
        weightDecay: num(n, 'weightDecay', 0),
      };
      step(fb.KernelId.SgdUpdate_F32, ins, outs, params, numElements(shape(n.inputs[0]!)));
      return true;
    }
    case 'Conv2DGradInput':
    case 'Conv2DGradFilter': {
      const [sh, sw] = n.attrs.strides as number[],
        [dh, dw] = n.attrs.dilations as number[];
      const pad = n.attrs.padding as number[];
      const ws = n.op === 'Conv2DGradInput' ? shape(n.inputs[1]!) : (n.attrs.weightShape as number[]);
      const dy = shape(n.op === 'Conv2DGradInput' ? n.inputs[0]! : n.inputs[1]!);
      const params = {
        type: 'conv' as const,
        kernelH: ws[1]!,
        kernelW: ws[2]!,
        strideH: sh,
        strideW: sw,
        dilationH: dh,
        dilationW: dw,
        padTop: pad[0]!,
        padLeft: pad[1]!,
        padBottom: pad[2]!,
        padRight: pad[3]!,
        groups: num(n, 'groups', 1),
      };
      const kernel = n.op === 'Conv2DGradInput' ? fb.KernelId.Conv2DGradInput_F32 : fb.KernelId.Conv2DGradFilter_F32;
      step(kernel, ins, [c.defineOutput(n.outputs[0]!, n)], params, numElements(dy) * ws[1]! * ws[2]! * ws[3]!);
      return true;
    }
    case 'MaxPoolGrad':
    case 'AvgPoolGrad': {
      const [kh, kw] = n.attrs.kernel as number[],
        [sh, sw] = n.attrs.strides as number[];
      const pad = n.attrs.padding as number[];
      const params = {
        type: 'pool' as const,
        kernelH: kh,
        kernelW: kw,
        strideH: sh,
        strideW: sw,
        padTop: pad[0]!,
        padLeft: pad[1]!,
        padBottom: pad[2]!,
        padRight: pad[3]!,
        countIncludePad: n.attrs.countIncludePad === true,
      };
      const kernel = n.op === 'MaxPoolGrad' ? fb.KernelId.MaxPoolGrad_F32 : fb.KernelId.AvgPoolGrad_F32;
      step(kernel, ins, [c.defineOutput(n.outputs[0]!, n)], params, numElements(shape(n.outputs[0]!)) * kh! * kw!);
      return true;
    }
    case 'AdamUpdate': {
      // w', m', v' are the bytes of w, m, v (pinned state), as for SgdUpdate
      const outs = n.outputs.map((o, k) => c.defineOutput(o, n, { aliasOf: ins[k === 0 ? 0 : k + 1]! }));
      const params = {
        type: 'train' as const,
        beta1: num(n, 'beta1', 0.9),
        beta2: num(n, 'beta2', 0.999),
        epsilon: num(n, 'epsilon', 1e-8),
        weightDecay: num(n, 'weightDecay', 0),
        decoupled: n.attrs.decoupled === true,
      };
      step(fb.KernelId.AdamUpdate_F32, ins, outs, params, numElements(shape(n.inputs[0]!)));
      return true;
    }
    case 'GlobalNormScale':
      step(
        fb.KernelId.GlobalNormScale_F32,
        ins,
        [c.defineOutput(n.outputs[0]!, n)],
        { type: 'train', maxNorm: num(n, 'maxNorm', 1) },
        n.inputs.reduce((a, i) => a + numElements(shape(i)), 0),
      );
      return true;
    case 'MseLoss':
    case 'KlDivergence': {
      const outs = n.outputs.map((o) => c.defineOutput(o, n));
      const kernel = n.op === 'MseLoss' ? fb.KernelId.MseLoss_F32 : fb.KernelId.KlDivergence_F32;
      step(
        kernel,
        ins,
        outs,
        { type: 'train', temperature: num(n, 'temperature', 1) },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    }
    case 'RkdDistance':
    case 'RkdAngle': {
      const [B, D] = shape(n.inputs[0]!) as [number, number],
        E = shape(n.inputs[1]!)[1]!;
      const kernel = n.op === 'RkdDistance' ? fb.KernelId.RkdDistance_F32 : fb.KernelId.RkdAngle_F32;
      step(
        kernel,
        ins,
        n.outputs.map((o) => c.defineOutput(o, n)),
        { type: 'train' },
        (n.op === 'RkdDistance' ? B * B : B * B * B) * (D + E),
      );
      return true;
    }
    case 'FakeQuant': {
      // range' is range's bytes (pinned state), updated in place as SgdUpdate's w'
      const outs = [c.defineOutput(n.outputs[0]!, n), c.defineOutput(n.outputs[1]!, n, { aliasOf: ins[1]! })];
      step(
        fb.KernelId.FakeQuant_F32,
        ins,
        outs,
        { type: 'train', momentum: num(n, 'momentum', 0.01) },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    }
    case 'FakeQuantGrad':
    case 'FakeQuantWeight':
    case 'FakeQuantBias': {
      const kernel =
        n.op === 'FakeQuantGrad'
          ? fb.KernelId.FakeQuantGrad_F32
          : n.op === 'FakeQuantWeight'
            ? fb.KernelId.FakeQuantWeight_F32
            : fb.KernelId.FakeQuantBias_F32;
      step(kernel, ins, [c.defineOutput(n.outputs[0]!, n)], { type: 'train' }, numElements(shape(n.inputs[0]!)));
      return true;
    }
    case 'BatchNormTrain': {
      // the running mean/var outputs are the bytes of the running inputs (pinned state), as for SgdUpdate
      const outs = n.outputs.map((o, k) => c.defineOutput(o, n, k >= 3 ? { aliasOf: ins[k]! } : undefined));
      step(
        fb.KernelId.BatchNormTrain_F32,
        ins,
        outs,
        { type: 'train', epsilon: num(n, 'epsilon', 1e-5), momentum: num(n, 'momentum', 0.1) },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    }
    case 'BatchNormMerge': {
      // the running mean/var outputs are the bytes of the running inputs (pinned state), as for BatchNormTrain
      const outs = n.outputs.map((o, k) => c.defineOutput(o, n, { aliasOf: ins[k + 2]! }));
      step(
        fb.KernelId.BatchNormMerge_F32,
        ins,
        outs,
        { type: 'train', momentum: num(n, 'momentum', 0.1) },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    }
    case 'BatchNorm':
      if (c.g.tensors.get(n.inputs[0]!)!.dtype !== 'float32') return false;
      step(
        fb.KernelId.BatchNormEval_F32,
        ins,
        [c.defineOutput(n.outputs[0]!, n)],
        { type: 'train', epsilon: num(n, 'epsilon', 1e-5) },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    case 'BatchNormGrad':
      step(
        fb.KernelId.BatchNormGrad_F32,
        ins,
        n.outputs.map((o) => c.defineOutput(o, n)),
        { type: 'train' },
        numElements(shape(n.inputs[0]!)),
      );
      return true;
    default:
      return false;
  }
}
