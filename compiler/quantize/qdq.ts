// Pre-quantised (ONNX QDQ / QLinear) models: the importer leaves float IR whose activation tensors
// carry the model's own scale / zero point (`Tensor.quant`). This reads them back as int8 params:
// uint8 tensors (zero point in [0, 255]) shift to int8 with zp − 128, the same real values.
import type { Graph, QuantParams } from '../ir/graph.ts';
import { attrNum } from '../ir/ops/helpers.ts';

/** True when some activation (non-constant tensor) carries quantisation params. */
export function hasQdqAnnotations(g: Graph): boolean {
  for (const t of g.tensors.values()) if (!t.data && t.quant && t.quant.axis === undefined) return true;
  return false;
}

/**
 * Whether the model's activations were uint8: read off an unfused QuantizeLinear Clip (min = (qmin − zp)·s
 * gives qmin 0 or −128); failing that, any zero point above 127 means uint8, below 0 int8, and all in
 * [0, 127] means uint8 (int8 graphs give post-ReLU tensors zero point −128).
 */
export function activationsAreUint8(g: Graph): boolean {
  // an importer that sets the graph's arithmetic (TFLite) records int8-domain params already (docs/tflite-support.md)
  if (g.int8Arithmetic === 'tflite') return false;
  for (const n of g.nodes) {
    const q = g.tensors.get(n.outputs[0]!)?.quant;
    if (n.op !== 'Clip' || !q || q.axis !== undefined) continue;
    const qmin = Math.round(attrNum(n, 'min', -Infinity) / q.scale[0]! + q.zeroPoint[0]!);
    if (qmin === 0) return true;
    if (qmin === -128) return false;
  }
  let neg = false;
  for (const t of g.tensors.values()) {
    if (t.data || !t.quant || t.quant.axis !== undefined) continue;
    if (t.quant.zeroPoint[0]! > 127) return true;
    if (t.quant.zeroPoint[0]! < 0) neg = true;
  }
  return !neg;
}

/** int8 activation params of every annotated activation tensor. */
export function qdqActivationQuant(g: Graph): Map<string, QuantParams> {
  const shift = activationsAreUint8(g) ? 128 : 0;
  const m = new Map<string, QuantParams>();
  for (const [name, t] of g.tensors) {
    if (t.data || !t.quant || t.quant.axis !== undefined) continue;
    m.set(name, { scale: [Math.fround(t.quant.scale[0]!)], zeroPoint: [t.quant.zeroPoint[0]! - shift] });
  }
  // QuantizeLinear after an op that could not take it as a fused clamp (a pool, a graph input): the
  // op's output gets the params, so the Clip itself becomes a no-op on int8
  for (const n of g.nodes) {
    const q = m.get(n.outputs[0]!);
    if (n.op === 'Clip' && q && !m.has(n.inputs[0]!)) m.set(n.inputs[0]!, q);
  }
  return m;
}

const KEEPS_QUANT = new Set(['Reshape', 'Flatten', 'Transpose', 'Slice', 'MaxPool']);

/**
 * Copies params forward through ops that keep them (Reshape, Flatten, Transpose, Slice, MaxPool) onto
 * unannotated outputs, in place. Run before the float passes: when such an op is bypassed into a graph
 * output, the surviving tensor still carries the params.
 */
export function propagateQdqAnnotations(g: Graph): void {
  for (const n of g.nodes) {
    if (!KEEPS_QUANT.has(n.op)) continue;
    const x = g.tensors.get(n.inputs[0]!),
      y = g.tensors.get(n.outputs[0]!);
    if (x?.quant && x.quant.axis === undefined && !x.data && y && !y.quant) y.quant = { ...x.quant };
  }
}
