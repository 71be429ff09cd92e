// Quantize (float32 → int8), Dequantize (int8 → float32), Requantize (int8 → int8): same shape; the scales
// and zero points are the tensors' quant params (docs/quantization.md), so only the integer reference
// (which reads the graph) evaluates them: the exact formulas of ir/requant.ts.
import { ModelError, type DType, type Graph, type Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';
import {
  dequantizeF32,
  quantizeF32,
  quantizeF32Rne,
  quantizeMultiplier,
  requantize,
  type FixedPoint,
} from '../requant.ts';
import { fail, need, noAttrs } from './helpers.ts';
import type { OpDef, TypeInfo, Value } from './op-def.ts';

/** Quantize: edgec's rounding (half away from zero), or `rne` onnxruntime's (ONNX QuantizeLinear: half to even). */
export function quantizeRef(x: ArrayLike<number>, scale: number, zp: number, rne = false): Int8Array {
  return Int8Array.from(x, (v) => (rne ? quantizeF32Rne : quantizeF32)(v, scale, zp));
}
export function dequantizeRef(q: ArrayLike<number>, scale: number, zp: number): Float32Array {
  return Float32Array.from(q, (v) => dequantizeF32(v, scale, zp));
}
export function requantizeRef(q: ArrayLike<number>, zpIn: number, zpOut: number, fp: FixedPoint): Int8Array {
  return Int8Array.from(q, (v) => requantize(v - zpIn, fp.mult, fp.shift, zpOut));
}

type Int8Evaluate = (g: Graph, n: Node, ins: (Value | undefined)[], outs: TypeInfo[]) => Float64Array[];

function quantOp(from: DType | undefined, to: DType, evaluateInt8: Int8Evaluate): OpDef {
  return {
    schema: noAttrs([1, 1]),
    channelFlow: () => ({ kind: 'boundary', why: 'int8 tensors: prune the float model, then quantise it' }),
    infer(n, ins, file) {
      const x = need(n, ins, 0, file, 'x');
      if (from && x.dtype !== from) fail(file, n, `input '${x.name}' must be ${from}, found ${x.dtype}`);
      return [{ shape: [...x.shape], dtype: to }];
    },
    evaluate(n) {
      // the scales live on the graph's tensors: evaluate() runs these through int8.evaluate
      throw new ModelError(
        '',
        `node '${n.name}' (${n.op})`,
        `needs the graph's quant params; evaluate it with evaluate() on the graph`,
      );
    },
    int8: { converts: true, evaluate: evaluateInt8 },
  };
}

export const quantize = quantOp('float32', 'int8', (g, n, ins) => {
  const q = tensorQuant(g, n.outputs[0]!, n);
  return [Float64Array.from(quantizeRef(ins[0]!.data, q.scale, q.zp, g.int8Arithmetic === 'onnxruntime'))];
});
export const dequantize = quantOp('int8', 'float32', (g, n, ins) => {
  const q = tensorQuant(g, n.inputs[0]!, n);
  return [Float64Array.from(dequantizeRef(ins[0]!.data, q.scale, q.zp))];
});
export const requantizeOp = quantOp('int8', 'int8', (g, n, ins) => {
  const qi = tensorQuant(g, n.inputs[0]!, n),
    qo = tensorQuant(g, n.outputs[0]!, n);
  return [
    Float64Array.from(
      requantizeRef(ins[0]!.data, qi.zp, qo.zp, quantizeMultiplier(Math.fround(qi.scale) / Math.fround(qo.scale))),
    ),
  ];
});
