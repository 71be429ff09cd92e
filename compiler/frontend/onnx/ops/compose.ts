// Handlers built from other handlers: run one on a synthetic ONNX node (the float op inside a QLinear*
// node, the pieces of HardSwish, Mean, …), and float32 constants with fresh names.
import { ONNX_DTYPE } from '../decode.ts';
import type { OnnxAttr, OnnxNode } from '../decode.ts';
import type { Handler, Importer } from '../importer.ts';

/**
 * Runs `handler` on a synthetic ONNX node (the float op inside a QLinear* node); inputs and
 * outputs are value names already known to the importer.
 */
export function runAs(
  c: Importer,
  handler: Handler,
  n: OnnxNode,
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Map<string, OnnxAttr> = new Map(),
): void {
  const saved = c.cur;
  const node: OnnxNode = { name: `${n.name}/${opType}`, opType, domain: '', inputs, outputs, attrs };
  c.cur = node;
  try {
    handler(c, node);
  } finally {
    c.cur = saved;
  }
}

/** A constant value with a fresh name (float32 data). */
export function constValue(c: Importer, base: string, values: number[], dims: number[]): string {
  const name = c.fresh(base);
  c.setConst(name, { name: '', dtype: ONNX_DTYPE.FLOAT, dims, values: Float64Array.from(values, Math.fround) });
  return name;
}
