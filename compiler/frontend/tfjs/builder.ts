// The IR graph a TF.js model becomes, built node by node: each node's attrs are checked (validateNodeAttrs) and
// its output shape inferred at once (inferNode), so a handler always knows the shapes it works on. TF.js is
// channels-last like the IR: activations map 1:1; only weights are re-laid (HWIO → OHWI, [in,out] → [out,in]).
import { ModelError } from '../../ir/graph.ts';
import type { Attrs, Graph, OpType } from '../../ir/graph.ts';
import type { TfjsImportOptions } from './index.ts';
import { validateNodeAttrs } from '../../ir/op-schema.ts';
import { inferNode } from '../../ir/ops/index.ts';

/** Activations a TF.js layer, fused op or Activation layer may name, and what edgec computes for them. */
export const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'tanh',
  'softmax',
  'hard_sigmoid',
  'swish',
  'exponential',
];

export class Builder {
  readonly g: Graph;
  private readonly nodeNames = new Set<string>();
  /** The layer or node being converted, for error messages: e.g. `layer 'conv1' (Conv2D)`. */
  where = 'model';

  constructor(
    readonly file: string,
    name: string,
  ) {
    this.g = { name, tensors: new Map(), nodes: [], inputs: [], outputs: [], source: file };
  }

  fail(field: string, detail: string): never {
    throw new ModelError(this.file, this.where, `${field}: ${detail}`);
  }

  /** A tensor name not used yet, `base` itself when free. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.g.tensors.has(name); i++) name = `${base}_${i}`;
    return name;
  }

  shape(name: string): number[] {
    return this.g.tensors.get(name)!.shape;
  }

  input(name: string, shape: number[]): string {
    this.g.tensors.set(name, { name, dtype: 'float32', shape: [...shape] });
    this.g.inputs.push(name);
    return name;
  }

  constant(base: string, shape: number[], data: ArrayLike<number>): string {
    const name = this.fresh(base);
    this.g.tensors.set(name, { name, dtype: 'float32', shape: [...shape], data: Float32Array.from(data) });
    return name;
  }

  /** Adds a node of `op` writing a new tensor `out` (made fresh); returns the tensor's name. */
  add(op: OpType, inputs: string[], attrs: Attrs, out: string, nodeName = out): string {
    let name = nodeName;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${nodeName}_${i}`;
    this.nodeNames.add(name);
    const output = this.fresh(out);
    const node = { name, op, inputs, outputs: [output], attrs };
    validateNodeAttrs(node, this.file);
    let info;
    try {
      info = inferNode(this.g, node)[0]!;
    } catch (e) {
      // the op's own message, with the TF.js layer/node it came from in front
      if (e instanceof ModelError) this.fail(op, e.detail);
      throw e;
    }
    this.g.tensors.set(output, { name: output, dtype: info.dtype, shape: info.shape });
    this.g.nodes.push(node);
    return output;
  }

  /** `x` through activation `act` (one of ACTIVATIONS) as separate nodes; `linear` returns `x`. */
  activation(act: string, x: string, out: string): string {
    switch (act) {
      case 'linear':
        return x;
      case 'relu':
        return this.add('Relu', [x], {}, out);
      case 'relu6':
        return this.add('Relu6', [x], {}, out);
      case 'sigmoid':
        return this.add('Sigmoid', [x], {}, out);
      case 'tanh':
        return this.add('Tanh', [x], {}, out);
      case 'exponential':
        return this.add('Exp', [x], {}, out);
      case 'softmax':
        return this.add('Softmax', [x], { axis: -1 }, out);
      case 'hard_sigmoid': {
        // Keras and tfjs-layers: clip(0.2·x + 0.5, 0, 1)
        const ax = this.add('Mul', [x, this.constant(`${out}/slope`, [1], [0.2])], {}, `${out}/ax`);
        const axb = this.add('Add', [ax, this.constant(`${out}/offset`, [1], [0.5])], {}, `${out}/axb`);
        return this.add('Clip', [axb], { min: 0, max: 1 }, out);
      }
      case 'swish':
        return this.add('Mul', [x, this.add('Sigmoid', [x], {}, `${out}/sigmoid`)], {}, out);
    }
    return this.fail('activation', `expected one of ${ACTIVATIONS.join(', ')}, found '${act}'`);
  }

  /**
   * Fused-activation attrs for Conv2D / Dense / Add when `act` is relu or relu6 (`rest` undefined), else
   * no fused activation and `rest` names what activation() must apply after the op.
   */
  static fused(act: string): { attrs: Attrs; rest?: string } {
    if (act === 'relu') return { attrs: { activation: 'relu' } };
    if (act === 'relu6') return { attrs: { activation: 'clip', clip: [0, 6] } };
    return { attrs: {}, rest: act === 'linear' ? undefined : act };
  }

  /** Runs `op` with `act` fused where the IR can, else as nodes after it; returns the final tensor. */
  withActivation(op: OpType, inputs: string[], attrs: Attrs, act: string, out: string): string {
    const f = Builder.fused(act);
    if (!f.rest) return this.add(op, inputs, { ...attrs, ...f.attrs }, out);
    const y = this.add(op, inputs, attrs, `${out}/${op}`);
    return this.activation(f.rest, y, out);
  }
}

/** HWIO conv kernel [KH,KW,Ci,Co] → OHWI [Co,KH,KW,Ci]. */
export function hwioToOhwi(w: ArrayLike<number>, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(kh! * kw! * ci! * co!);
  for (let h = 0; h < kh!; h++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < ci!; i++)
        for (let o = 0; o < co!; o++)
          out[((o * kh! + h) * kw! + x) * ci! + i] = w[((h * kw! + x) * ci! + i) * co! + o]!;
  return out;
}

/** Depthwise kernel [KH,KW,Ci,M] → IR grouped conv weights [Ci·M,KH,KW,1]; TF output channel c·M + m. */
export function depthwiseToOhwi(w: ArrayLike<number>, [kh, kw, ci, m]: number[]): Float32Array {
  const out = new Float32Array(kh! * kw! * ci! * m!);
  for (let h = 0; h < kh!; h++)
    for (let x = 0; x < kw!; x++)
      for (let c = 0; c < ci!; c++)
        for (let k = 0; k < m!; k++) out[((c * m! + k) * kh! + h) * kw! + x] = w[((h * kw! + x) * ci! + c) * m! + k]!;
  return out;
}

/** Dense kernel [in,out] → IR [out,in]. */
export function transpose2d(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** Lists unsupported op types with their count and first node names, as the ONNX importer does. */
export function unsupportedMessage(bad: Map<string, string[]>, what: string): string {
  const parts = [...bad].map(
    ([op, names]) =>
      `${op} ×${names.length} (${names
        .slice(0, 3)
        .map((s) => `'${s}'`)
        .join(', ')}${names.length > 3 ? ', …' : ''})`,
  );
  return `expected ${what} edgec supports (docs/tfjs-support.md), found ${bad.size} unsupported: ${parts.join('; ')}`;
}

/** An input shape (InputLayer batch_input_shape, Placeholder dims): a null batch becomes 1; other null dims must come from opts.shapes. */
export function inputShape(b: Builder, name: string, dims: (number | null)[], opts: TfjsImportOptions): number[] {
  const given = opts.shapes?.[name];
  const where = b.where;
  b.where = `input '${name}'`;
  if (given) {
    if (given.length !== dims.length)
      b.fail('shape', `expected ${dims.length} dims [${dims}] to match --shape, found [${given}]`);
    dims.forEach((d, i) => {
      if (d !== null && d !== -1 && d !== given[i])
        b.fail('shape', `dim ${i} is ${d} in the model, found ${given[i]} in --shape`);
    });
    b.where = where;
    return [...given];
  }
  const shape = dims.map((d, i) => (d === null || d === -1 ? (i === 0 ? 1 : NaN) : d));
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) {
    const example = dims.map((d) => (d === null || d === -1 ? 1 : d)).join('x');
    b.fail('shape', `dims [${dims.map(String)}] are not static; pass one, e.g. --shape ${name}=${example}`);
  }
  b.where = where;
  return shape;
}
