// Maps a decoded .tflite subgraph onto the IR. TFLite is NHWC like the IR, so tensors keep their shapes.
// Quantised tensors become float IR carrying the file's own scale / zero point (`Tensor.quant`), as the
// ONNX QDQ import does: constants dequantised exactly ((q − zp)·s in float32, per channel where the file
// has it), activations annotated, uint8 ones shifted to int8 (zp − 128, the same real values), so
// `--quantize int8` rebuilds the model's integers without calibration (docs/tflite-support.md).
import { ModelError, type Attrs, type Graph, type OpType, type QuantParams } from '../../ir/graph.ts';
import { validateNodeAttrs } from '../../ir/op-schema.ts';
import { typeName, type TfliteModel, type TfliteOp, type TfliteTensor } from './decode.ts';
import { ActivationFunctionType, TensorType } from './tflite-schema.generated.ts';
import { TFLITE_HANDLERS } from './ops.ts';

/** Builtin operators the importer maps (docs/tflite-support.md lists the same set). */
export const SUPPORTED_TFLITE_OPS = Object.keys(TFLITE_HANDLERS).sort();

export interface ConstValue {
  kind: 'const';
  /** Real values (dequantised when the file quantises the tensor). */
  values: Float64Array;
  shape: number[];
  /** The file's params, int8 domain, `axis` in the tensor's own layout. */
  quant?: QuantParams;
}
export interface ActValue {
  kind: 'act';
  ir: string;
  shape: number[];
}
export type Value = ConstValue | ActValue;

const f32 = Math.fround;
const QUANTISED = new Set([TensorType.INT8, TensorType.UINT8, TensorType.INT32, TensorType.INT16, TensorType.INT64]);

/** The file's quant params of tensor t in the int8 domain (uint8 zero points − 128), or undefined. */
export function int8Quant(t: TfliteTensor): QuantParams | undefined {
  const q = t.quant;
  if (!q) return undefined;
  const shift = t.type === TensorType.UINT8 ? 128 : 0;
  return {
    scale: q.scale.map(f32),
    zeroPoint: q.zeroPoint.map((z) => z - shift),
    ...(q.scale.length > 1 ? { axis: q.axis } : {}),
  };
}

function littleEndianValues(t: TfliteTensor): Float64Array {
  const d = t.data!;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.type) {
      case TensorType.FLOAT32:
        out[i] = dv.getFloat32(4 * i, true);
        break;
      case TensorType.FLOAT16:
        out[i] = halfToFloat(dv.getUint16(2 * i, true));
        break;
      case TensorType.INT32:
        out[i] = dv.getInt32(4 * i, true);
        break;
      case TensorType.INT64:
        out[i] = Number(dv.getBigInt64(8 * i, true));
        break;
      case TensorType.INT16:
        out[i] = dv.getInt16(2 * i, true);
        break;
      case TensorType.INT8:
        out[i] = dv.getInt8(i);
        break;
      case TensorType.UINT8:
      case TensorType.BOOL:
        out[i] = dv.getUint8(i);
        break;
      default:
        throw new Error(`unreadable type ${typeName(t.type)}`);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export class TfliteImporter {
  readonly g: Graph;
  readonly values = new Map<number, Value>();
  private readonly used = new Set<string>();
  private readonly nodeNames = new Set<string>();
  cur: TfliteOp | undefined;

  constructor(
    readonly model: TfliteModel,
    readonly file: string,
    name: string,
  ) {
    // TFLite's interpreter runs int8 convolutions, fully connected layers and adds through XNNPACK
    this.g = { name, tensors: new Map(), nodes: [], inputs: [], outputs: [], source: file, int8Arithmetic: 'tflite' };
  }

  fail(field: string, detail: string): never {
    const where = this.cur ? `operator ${this.cur.index} (${this.cur.opName})` : 'subgraph 0';
    throw new ModelError(this.file, where, `${field}: ${detail}`);
  }

  tensor(ix: number): TfliteTensor {
    return this.model.tensors[ix]!;
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  addNode(op: OpType, inputs: string[], outputs: string[], attrs: Attrs = {}): void {
    const base = `${this.cur ? this.tensor(this.cur.outputs[0]!).name : 'tflite'}/${op}`;
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    const node = { name, op, inputs, outputs, attrs };
    validateNodeAttrs(node, this.file);
    this.g.nodes.push(node);
  }

  /** A new float32 activation tensor of IR shape `shape`; returns its name. */
  newAct(base: string, shape: number[], quant?: QuantParams): string {
    const name = this.fresh(base);
    this.g.tensors.set(name, { name, dtype: 'float32', shape: [...shape], ...(quant ? { quant } : {}) });
    return name;
  }

  /** A float32 IR constant holding `values` (quant recorded as given). */
  constIR(values: ArrayLike<number>, shape: number[], base: string, quant?: QuantParams): string {
    const name = this.fresh(base);
    this.g.tensors.set(name, {
      name,
      dtype: 'float32',
      shape: shape.length === 0 ? [1] : [...shape],
      data: Float32Array.from(values),
      ...(quant ? { quant } : {}),
    });
    return name;
  }

  /** Value of operator input k (undefined when the optional input is absent). */
  input(k: number): Value | undefined {
    const ix = this.cur!.inputs[k];
    if (ix === undefined || ix < 0) return undefined;
    const v = this.values.get(ix);
    if (!v) this.fail(`input ${k}`, `tensor ${ix} '${this.tensor(ix).name}' is read before any operator writes it`);
    return v;
  }

  /** Activation input k as an IR tensor name (a constant there becomes an IR constant). */
  act(k: number): ActValue {
    const v = this.input(k);
    if (!v) this.fail(`input ${k}`, 'expected a tensor, found none');
    if (v.kind === 'act') return v;
    const ir = this.constIR(v.values, v.shape, this.tensor(this.cur!.inputs[k]!).name, v.quant);
    return { kind: 'act', ir, shape: v.shape.length === 0 ? [1] : v.shape };
  }

  constInput(k: number, what: string): ConstValue {
    const v = this.input(k);
    if (!v) this.fail(`input ${k}`, `expected ${what}, found none`);
    if (v.kind !== 'const')
      this.fail(
        `input ${k}`,
        `expected ${what} as a constant, found the computed tensor '${this.tensor(this.cur!.inputs[k]!).name}'`,
      );
    return v;
  }

  /** Integer values of a constant input (shapes, axes, paddings). */
  ints(k: number, what: string): number[] {
    return [...this.constInput(k, what).values];
  }

  /** Output k's TFLite tensor, its shape (a scalar as [1]) and its params. */
  outInfo(k = 0): { t: TfliteTensor; shape: number[]; quant?: QuantParams } {
    const t = this.tensor(this.cur!.outputs[k]!);
    if (t.type !== TensorType.FLOAT32 && t.type !== TensorType.INT8 && t.type !== TensorType.UINT8)
      this.fail(`output ${k}`, `tensor '${t.name}': expected float32, int8 or uint8, found ${typeName(t.type)}`);
    const quant = t.type === TensorType.FLOAT32 ? undefined : int8Quant(t);
    if (t.type !== TensorType.FLOAT32 && (!quant || quant.scale.length !== 1))
      this.fail(
        `output ${k}`,
        `tensor '${t.name}': expected one scale and zero point for an ${typeName(t.type)} activation`,
      );
    return { t, shape: t.shape.length === 0 ? [1] : t.shape, quant };
  }

  /** Declares output k as produced into a fresh IR tensor (shape and params from the file); returns its name. */
  produce(k = 0, shape?: number[]): string {
    const { t, shape: s, quant } = this.outInfo(k);
    const ir = this.newAct(t.name, shape ?? s, quant);
    this.values.set(this.cur!.outputs[k]!, { kind: 'act', ir, shape: shape ?? s });
    return ir;
  }

  /** Output k is the same IR tensor as `v` (ops that change nothing on the IR side). */
  alias(k: number, v: ActValue): void {
    this.values.set(this.cur!.outputs[k]!, v);
  }

  /** IR activation of a fused activation function: attrs for ops that fuse it, or a separate node. */
  fusedAttrs(a: ActivationFunctionType): Attrs {
    switch (a) {
      case ActivationFunctionType.NONE:
        return { activation: 'none' };
      case ActivationFunctionType.RELU:
        return { activation: 'relu' };
      case ActivationFunctionType.RELU6:
        return { activation: 'clip', clip: [0, 6] };
      case ActivationFunctionType.RELU_N1_TO_1:
        return { activation: 'clip', clip: [-1, 1] };
      default:
        this.fail(
          'fused_activation_function',
          `expected NONE, RELU, RELU6 or RELU_N1_TO_1, found ${ActivationFunctionType[a] ?? a}`,
        );
    }
  }

  /** Emits `op` into output 0 with a fused activation the op cannot carry as a separate Relu / Clip node. */
  withActivation(op: OpType, inputs: string[], attrs: Attrs, a: ActivationFunctionType): void {
    const act = this.fusedAttrs(a);
    if (act.activation === 'none') {
      this.addNode(op, inputs, [this.produce()], attrs);
      return;
    }
    const { shape } = this.outInfo();
    const mid = this.newAct(`${this.outInfo().t.name}__pre`, shape);
    this.addNode(op, inputs, [mid], attrs);
    const out = this.produce();
    if (act.activation === 'relu') this.addNode('Relu', [mid], [out]);
    else {
      const [min, max] = act.clip as number[];
      this.addNode('Clip', [mid], [out], { min: min!, max: max! });
    }
  }

  /** Reshape of `v` to `shape` into output 0 (or an alias when nothing changes). */
  reshapeOut(v: ActValue, shape: number[]): void {
    if (v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i])) {
      this.alias(0, v);
      return;
    }
    this.addNode('Reshape', [v.ir], [this.produce(0, shape)], { shape: [...shape] });
  }

  run(): Graph {
    this.checkOps();
    this.model.tensors.forEach((t) => {
      if (!t.data) return;
      let values: Float64Array;
      try {
        values = littleEndianValues(t);
      } catch {
        throw new ModelError(
          this.file,
          `tensor ${t.index} '${t.name}'`,
          `constant of type ${typeName(t.type)} is not supported`,
        );
      }
      const quant = QUANTISED.has(t.type) ? int8Quant(t) : undefined;
      if (quant) {
        const axis = quant.axis ?? 0,
          inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1),
          chans = quant.scale.length;
        if (chans > 1 && t.shape[axis] !== chans)
          throw new ModelError(
            this.file,
            `tensor ${t.index} '${t.name}'`,
            `${chans} scales for dim ${axis} of size ${t.shape[axis]}`,
          );
        const zp = t.quant!.zeroPoint; // the file's own (uint8 data dequantises with its uint8 zero point)
        for (let i = 0; i < values.length; i++) {
          const c = chans > 1 ? Math.floor(i / inner) % chans : 0;
          values[i] = f32((values[i]! - (zp[c] ?? 0)) * quant.scale[c]!);
        }
      }
      this.values.set(t.index, { kind: 'const', values, shape: t.shape, ...(quant ? { quant } : {}) });
    });
    for (const ix of this.model.inputs) {
      const t = this.tensor(ix);
      const where = `input tensor ${ix} '${t.name}'`;
      if (t.type !== TensorType.FLOAT32 && t.type !== TensorType.INT8 && t.type !== TensorType.UINT8)
        throw new ModelError(this.file, where, `expected float32, int8 or uint8 data, found ${typeName(t.type)}`);
      const quant = t.type === TensorType.FLOAT32 ? undefined : int8Quant(t);
      if (t.type !== TensorType.FLOAT32 && !quant)
        throw new ModelError(this.file, where, `an ${typeName(t.type)} input needs a scale and zero point`);
      const shape = t.shape.length === 0 ? [1] : t.shape;
      const ir = this.newAct(t.name, shape, quant);
      this.g.inputs.push(ir);
      this.values.set(ix, { kind: 'act', ir, shape });
    }
    for (const op of this.model.ops) {
      this.cur = op;
      TFLITE_HANDLERS[op.opName]!(this, op);
    }
    this.cur = undefined;
    for (const ix of this.model.outputs) this.finishOutput(ix);
    return this.g;
  }

  private finishOutput(ix: number): void {
    const t = this.tensor(ix);
    const v = this.values.get(ix);
    const where = `output tensor ${ix} '${t.name}'`;
    if (!v) throw new ModelError(this.file, where, 'no operator writes it');
    if (v.kind === 'const') throw new ModelError(this.file, where, 'expected a computed tensor, found a constant');
    if (!this.g.inputs.includes(v.ir) && !this.g.outputs.includes(v.ir)) {
      this.g.outputs.push(v.ir);
      return;
    }
    const out = this.newAct(`${t.name}__out`, v.shape, this.g.tensors.get(v.ir)!.quant);
    this.addNode('Reshape', [v.ir], [out], { shape: [...v.shape] });
    this.g.outputs.push(out);
  }

  private checkOps(): void {
    const bad = new Map<string, number>();
    for (const op of this.model.ops) if (!TFLITE_HANDLERS[op.opName]) bad.set(op.opName, (bad.get(op.opName) ?? 0) + 1);
    if (bad.size === 0) return;
    const list = [...bad].map(([name, count]) => `${name} ×${count}`).join(', ');
    throw new ModelError(
      this.file,
      'subgraph 0',
      `ops: expected operators edgec maps (docs/tflite-support.md), found ${bad.size} unsupported: ${list}`,
    );
  }
}
