// .tflite bytes → a checked plain description of subgraph 0 (tensors with their data, quantisation and
// operators with their builtin code), read with the flatbuffers package through TFLite's own schema
// (tflite-schema.generated.ts). The flatbuffers reader does not bound-check (a read past the end gives 0),
// so it reads through CheckedByteBuffer, which throws on any read or vector past the end, and every read
// happens under a guard that turns that into a ModelError naming the file and the tensor or operator.
import * as flatbuffers from 'flatbuffers';
import { ModelError } from '../../ir/graph.ts';
import { BuiltinOperator, Model, Operator, TensorType } from './tflite-schema.generated.ts';

export interface TfliteQuant {
  scale: number[];
  zeroPoint: number[];
  /** quantized_dimension (meaningful with more than one scale). */
  axis: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  type: TensorType;
  shape: number[];
  /** Raw little-endian bytes of a constant; undefined for activations. */
  data?: Uint8Array;
  quant?: TfliteQuant;
}

export interface TfliteOp {
  index: number;
  /** Builtin operator name (BuiltinOperator's key), or 'CUSTOM:<code>'. */
  opName: string;
  code: BuiltinOperator;
  /** Tensor indices; −1 marks an absent optional input. */
  inputs: number[];
  outputs: number[];
  /** The schema object, for its builtin options table. */
  raw: Operator;
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  ops: TfliteOp[];
}

/** Bytes per element of the tensor types the importer reads as constants. */
export const TYPE_SIZE: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.UINT8]: 1,
  [TensorType.INT64]: 8,
  [TensorType.INT16]: 2,
  [TensorType.INT8]: 1,
  [TensorType.BOOL]: 1,
};

export const typeName = (t: TensorType): string => TensorType[t] ?? `type ${t}`;

/** A ByteBuffer whose every scalar read and vector stays inside the file, or throws a RangeError. */
class CheckedByteBuffer extends flatbuffers.ByteBuffer {
  private check(offset: number, size: number): void {
    if (!(offset >= 0 && offset + size <= this.capacity()))
      throw new RangeError(`read of ${size} bytes at ${offset} past the end (${this.capacity()} bytes)`);
  }
  override readInt8(o: number): number {
    this.check(o, 1);
    return super.readInt8(o);
  }
  override readUint8(o: number): number {
    this.check(o, 1);
    return super.readUint8(o);
  }
  override readInt16(o: number): number {
    this.check(o, 2);
    return super.readInt16(o);
  }
  override readUint16(o: number): number {
    this.check(o, 2);
    return super.readUint16(o);
  }
  override readInt32(o: number): number {
    this.check(o, 4);
    return super.readInt32(o);
  }
  override readUint32(o: number): number {
    this.check(o, 4);
    return super.readUint32(o);
  }
  override readInt64(o: number): bigint {
    this.check(o, 8);
    return super.readInt64(o);
  }
  override readUint64(o: number): bigint {
    this.check(o, 8);
    return super.readUint64(o);
  }
  override readFloat32(o: number): number {
    this.check(o, 4);
    return super.readFloat32(o);
  }
  override readFloat64(o: number): number {
    this.check(o, 8);
    return super.readFloat64(o);
  }
  override __vector_len(o: number): number {
    const len = super.__vector_len(o);
    this.check(this.__vector(o), len);
    return len;
  }
}

function guarded<T>(file: string, where: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(file, where, `truncated or corrupt flatbuffer (${(e as Error).message})`);
  }
}

export function decodeTflite(bytes: Uint8Array, file: string): TfliteModel {
  if (bytes.length < 8)
    throw new ModelError(file, 'header', `expected a .tflite flatbuffer, found ${bytes.length} bytes`);
  const head = bytes.subarray(4, 8);
  const ident = String.fromCharCode(...head);
  if (ident !== 'TFL3') {
    const shown = /^[\x20-\x7e]{4}$/.test(ident)
      ? `'${ident}'`
      : `bytes ${[...head].map((v) => v.toString(16).padStart(2, '0')).join(' ')}`;
    throw new ModelError(file, 'header', `expected the TFLite file identifier 'TFL3' at byte 4, found ${shown}`);
  }
  // a private copy: typed-array views over it then fail past its end (a pooled Buffer has bytes beyond)
  const bb = new CheckedByteBuffer(bytes.slice());
  const model = guarded(file, 'model', () => {
    const m = Model.getRootAsModel(bb);
    if (bb.readInt32(0) >= bytes.length) throw new RangeError('root offset past the end');
    return m;
  });
  const { version, description, nSub, opNames, opCodes } = guarded(file, 'model', () => {
    const opNames: string[] = [];
    const opCodes: BuiltinOperator[] = [];
    for (let i = 0; i < model.operatorCodesLength(); i++) {
      const oc = model.operatorCodes(i)!;
      const code = Math.max(oc.deprecatedBuiltinCode(), oc.builtinCode()) as BuiltinOperator;
      opCodes.push(code);
      opNames.push(
        code === BuiltinOperator.CUSTOM
          ? `CUSTOM:${oc.customCode() ?? '?'}`
          : (BuiltinOperator[code] ?? `builtin ${code}`),
      );
    }
    return {
      version: model.version(),
      description: model.description() ?? '',
      nSub: model.subgraphsLength(),
      opNames,
      opCodes,
    };
  });
  if (version !== 3) throw new ModelError(file, 'model.version', `expected schema version 3, found ${version}`);
  if (nSub !== 1)
    throw new ModelError(
      file,
      'model.subgraphs',
      `expected one subgraph (control flow is not supported), found ${nSub}`,
    );
  const sg = guarded(file, 'subgraph 0', () => model.subgraphs(0)!);
  const nBuffers = guarded(file, 'model.buffers', () => model.buffersLength());
  const tensors: TfliteTensor[] = [];
  const nTensors = guarded(file, 'subgraph 0', () => sg.tensorsLength());
  for (let i = 0; i < nTensors; i++) {
    let where = `tensor ${i}`;
    tensors.push(
      guarded(file, where, () => {
        const t = sg.tensors(i)!;
        const name = t.name() ?? `t${i}`;
        where = `tensor ${i} '${name}'`;
        return guarded(file, where, () => readTensor(model, t, i, name, nBuffers, bytes, file, where));
      }),
    );
  }
  const checkIndex = (ix: number, where: string, optional: boolean): void => {
    if ((optional && ix === -1) || (Number.isInteger(ix) && ix >= 0 && ix < tensors.length)) return;
    throw new ModelError(file, where, `tensor index ${ix} is out of range (${tensors.length} tensors)`);
  };
  const io = guarded(file, 'subgraph 0', () => ({
    inputs: [...(sg.inputsArray() ?? [])],
    outputs: [...(sg.outputsArray() ?? [])],
  }));
  io.inputs.forEach((ix, k) => checkIndex(ix, `subgraph input ${k}`, false));
  io.outputs.forEach((ix, k) => checkIndex(ix, `subgraph output ${k}`, false));
  const ops: TfliteOp[] = [];
  const nOps = guarded(file, 'subgraph 0', () => sg.operatorsLength());
  for (let i = 0; i < nOps; i++) {
    const op = guarded(file, `operator ${i}`, () => {
      const raw = sg.operators(i)!;
      const oc = raw.opcodeIndex();
      if (oc >= opNames.length) throw new ModelError(file, `operator ${i}`, `opcode index ${oc} is out of range`);
      return {
        index: i,
        opName: opNames[oc]!,
        code: opCodes[oc]!,
        inputs: [...(raw.inputsArray() ?? [])],
        outputs: [...(raw.outputsArray() ?? [])],
        raw,
      };
    });
    op.inputs.forEach((ix, k) => checkIndex(ix, `operator ${i} (${op.opName}) input ${k}`, true));
    op.outputs.forEach((ix, k) => checkIndex(ix, `operator ${i} (${op.opName}) output ${k}`, false));
    ops.push(op);
  }
  return { version, description, tensors, ...io, ops };
}

function readTensor(
  model: Model,
  t: ReturnType<NonNullable<ReturnType<Model['subgraphs']>>['tensors']> & object,
  index: number,
  name: string,
  nBuffers: number,
  bytes: Uint8Array,
  file: string,
  where: string,
): TfliteTensor {
  const type = t.type();
  const shape = [...(t.shapeArray() ?? [])];
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new ModelError(file, where, `expected a static shape, found [${shape.join(',')}]`);
  if (t.sparsity()) throw new ModelError(file, where, 'sparse tensors are not supported');
  const tensor: TfliteTensor = { index, name, type, shape };
  const q = t.quantization();
  if (q && q.scaleLength() > 0) {
    if (q.detailsType() !== 0) throw new ModelError(file, where, 'custom quantisation details are not supported');
    const scale = [...q.scaleArray()!];
    const zeroPoint: number[] = [];
    for (let k = 0; k < q.zeroPointLength(); k++) zeroPoint.push(Number(q.zeroPoint(k)!));
    while (zeroPoint.length < scale.length) zeroPoint.push(zeroPoint[0] ?? 0);
    tensor.quant = { scale, zeroPoint, axis: q.quantizedDimension() };
  }
  const b = t.buffer();
  if (b >= nBuffers) throw new ModelError(file, where, `buffer index ${b} is out of range (${nBuffers} buffers)`);
  if (b === 0) return tensor;
  const buf = model.buffers(b)!;
  let data = buf.dataArray();
  const off = buf.offset();
  if ((!data || data.length === 0) && off > 1n) {
    // constants stored after the flatbuffer (files over 2 GB): offset and size from the file start
    const start = Number(off),
      size = Number(buf.size());
    if (start + size > bytes.length)
      throw new ModelError(
        file,
        where,
        `data [${start}, ${start + size}) runs past the end of the file (${bytes.length} bytes)`,
      );
    data = bytes.subarray(start, start + size);
  }
  if (!data || data.length === 0) return tensor;
  const elem = TYPE_SIZE[type];
  const count = shape.reduce((a, d) => a * d, 1);
  if (elem !== undefined && data.length !== count * elem)
    throw new ModelError(
      file,
      where,
      `buffer ${b} holds ${data.length} bytes, expected ${count * elem} (${typeName(type)} [${shape.join(',')}])`,
    );
  tensor.data = data;
  return tensor;
}
