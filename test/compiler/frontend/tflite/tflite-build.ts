// Writes small synthetic .tflite files with TFLite's own schema (the generated builder API), for ops the
// MLPerf Tiny fixtures do not contain and for malformed files. Float32, int32 and int8 tensors, optional per-tensor
// or per-channel quantisation.
import * as flatbuffers from 'flatbuffers';
import * as tfl from '../../../../compiler/frontend/tflite/tflite-schema.generated.ts';

export interface SynthTensor {
  name: string;
  shape: number[];
  type?: tfl.TensorType;
  data?: Float32Array | Int32Array | Int8Array;
  quant?: { scale: number[]; zeroPoint: number[]; axis?: number };
}
export interface SynthOp {
  code: tfl.BuiltinOperator;
  inputs: number[];
  outputs: number[];
  options?: (b: flatbuffers.Builder) => [tfl.BuiltinOptions, flatbuffers.Offset];
}

export function buildTflite(tensors: SynthTensor[], ops: SynthOp[], inputs: number[], outputs: number[]): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const codes = [...new Set(ops.map((o) => o.code))];
  const bufs = [tfl.Buffer.createBuffer(b, 0, 0n, 0n)];
  const tensorOffsets = tensors.map((t) => {
    let buffer = 0;
    if (t.data) {
      const data = tfl.Buffer.createDataVector(b, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      bufs.push(tfl.Buffer.createBuffer(b, data, 0n, 0n));
      buffer = bufs.length - 1;
    }
    const name = b.createString(t.name);
    const shape = tfl.Tensor.createShapeVector(b, t.shape);
    const quant = t.quant
      ? tfl.QuantizationParameters.createQuantizationParameters(
          b,
          0,
          0,
          tfl.QuantizationParameters.createScaleVector(b, t.quant.scale),
          tfl.QuantizationParameters.createZeroPointVector(b, t.quant.zeroPoint.map(BigInt)),
          tfl.QuantizationDetails.NONE,
          0,
          t.quant.axis ?? 0,
        )
      : 0;
    tfl.Tensor.startTensor(b);
    tfl.Tensor.addShape(b, shape);
    const type =
      t.data instanceof Int32Array
        ? tfl.TensorType.INT32
        : t.data instanceof Int8Array
          ? tfl.TensorType.INT8
          : tfl.TensorType.FLOAT32;
    tfl.Tensor.addType(b, t.type ?? type);
    tfl.Tensor.addBuffer(b, buffer);
    tfl.Tensor.addName(b, name);
    if (quant) tfl.Tensor.addQuantization(b, quant);
    return tfl.Tensor.endTensor(b);
  });
  const opOffsets = ops.map((o) => {
    const opts = o.options?.(b);
    const ins = tfl.Operator.createInputsVector(b, o.inputs);
    const outs = tfl.Operator.createOutputsVector(b, o.outputs);
    tfl.Operator.startOperator(b);
    tfl.Operator.addOpcodeIndex(b, codes.indexOf(o.code));
    tfl.Operator.addInputs(b, ins);
    tfl.Operator.addOutputs(b, outs);
    if (opts) {
      tfl.Operator.addBuiltinOptionsType(b, opts[0]);
      tfl.Operator.addBuiltinOptions(b, opts[1]);
    }
    return tfl.Operator.endOperator(b);
  });
  const sg = tfl.SubGraph.createSubGraph(
    b,
    tfl.SubGraph.createTensorsVector(b, tensorOffsets),
    tfl.SubGraph.createInputsVector(b, inputs),
    tfl.SubGraph.createOutputsVector(b, outputs),
    tfl.SubGraph.createOperatorsVector(b, opOffsets),
    b.createString('main'),
    0,
  );
  const codeOffsets = codes.map((c) => tfl.OperatorCode.createOperatorCode(b, Math.min(c, 127), 0, 1, c));
  const model = tfl.Model.createModel(
    b,
    3,
    tfl.Model.createOperatorCodesVector(b, codeOffsets),
    tfl.Model.createSubgraphsVector(b, [sg]),
    b.createString('edgec synthetic test model'),
    tfl.Model.createBuffersVector(b, bufs),
    0,
    0,
    0,
    0,
    0,
  );
  tfl.Model.finishModelBuffer(b, model);
  return b.asUint8Array().slice();
}
