// ONNX op handlers for float ops, one file per op family: each maps one ONNX node onto IR nodes through
// the Importer (which tracks ONNX shapes and the NCHW/NHWC layout of every value). Layout-sensitive ops
// (Conv, pools, BatchNorm) take NHWC; reshape-like ops read NCHW element order.
import type { Handler } from '../importer.ts';
import { clip, hardSigmoid, hardSwish } from './activation.ts';
import { batchNorm } from './batch-norm.ts';
import { concat } from './concat.ts';
import { conv } from './conv.ts';
import { binaryHandler, mean, neg, reciprocal, unary, variadic } from './elementwise.ts';
import { gemm, matmul } from './gemm.ts';
import { pad } from './pad.ts';
import { globalPool, pool, reduceMean } from './pool.ts';
import { cast, flatten, identity, reshape, squeeze, transpose, unsqueeze } from './shape.ts';
import { slice, split } from './slice.ts';
import { softmax } from './softmax.ts';
import { with1d } from './window.ts';

export const FLOAT_HANDLERS: Record<string, Handler> = {
  Split: split,
  Mean: mean,
  Reciprocal: reciprocal,
  Cast: cast,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Sum: variadic('Add'),
  ReduceMean: reduceMean,
  Conv: with1d(conv, true),
  Gemm: gemm,
  MatMul: matmul,
  Add: binaryHandler('Add'),
  Sub: binaryHandler('Sub'),
  Mul: binaryHandler('Mul'),
  Div: binaryHandler('Div'),
  Max: variadic('Max'),
  Min: variadic('Min'),
  PRelu: binaryHandler('PRelu'),
  Relu: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  LeakyRelu: unary('LeakyRelu', (c) => ({ alpha: c.float('alpha', 0.01) })),
  Clip: clip,
  Neg: neg,
  MaxPool: with1d(pool('MaxPool'), false),
  AveragePool: with1d(pool('AvgPool'), false),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Softmax: softmax,
  Pad: pad,
  Slice: slice,
  Identity: identity,
  Dropout: identity,
};
