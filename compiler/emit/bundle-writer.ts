// Serialises a plain BundleSpec into .edgec bytes with the generated FlatBuffers builders.
// The only place that knows FlatBuffers details on the writing side: lowering produces a
// BundleSpec, tests build small specs by hand. Constants are placed 16-byte aligned. Every file
// ends in a CRC-32 trailer (sealBundle) that the executor checks before it reads anything else.
import { crc32 } from 'node:zlib';
import * as flatbuffers from 'flatbuffers';
import * as fb from '../../schema/generated/bundle_generated.ts';

/** 2: version 1 plus the CRC-32 trailer (docs/bundle-format.md, "Checksum"). */
export const BUNDLE_VERSION = 2;
export const BUNDLE_IDENTIFIER = 'EDGC';

export { fb };

export interface TensorSpec {
  name: string;
  dtype: fb.DType;
  shape: number[];
  constant: boolean;
  /** Bytes into the arena or into `constants`; 16-byte aligned. */
  offset: number;
  size: number;
  scale?: number;
  zeroPoint?: number;
  /** Training state kept across runs, set at load from constant tensor `init` (or zeros). */
  variable?: boolean;
  init?: number;
}

export type ParamsSpec =
  | ({ type: 'conv' } & Partial<Omit<fb.ConvParamsT, 'pack'>>)
  | ({ type: 'pool' } & Partial<Omit<fb.PoolParamsT, 'pack'>>)
  | ({ type: 'dense' } & Partial<Omit<fb.DenseParamsT, 'pack'>>)
  | ({ type: 'binary' } & Partial<Omit<fb.BinaryParamsT, 'pack'>>)
  | ({ type: 'unary' } & Partial<Omit<fb.UnaryParamsT, 'pack'>>)
  | ({ type: 'softmax' } & Partial<Omit<fb.SoftmaxParamsT, 'pack'>>)
  | ({ type: 'transpose' } & Partial<Omit<fb.TransposeParamsT, 'pack'>>)
  | ({ type: 'concat' } & Partial<Omit<fb.ConcatParamsT, 'pack'>>)
  | ({ type: 'pad' } & Partial<Omit<fb.PadParamsT, 'pack'>>)
  | ({ type: 'control' } & Partial<Omit<fb.ControlParamsT, 'pack'>>)
  | ({ type: 'train' } & Partial<Omit<fb.TrainParamsT, 'pack'>>);

export interface StepSpec {
  kernel: fb.KernelId;
  inputs: number[];
  outputs: number[];
  params?: ParamsSpec;
  macs?: number | bigint;
  node?: string;
}

export interface MetadataSpec {
  edgecVersion: string;
  sourceHash: string;
  compileOptions: string;
  target: string;
  modelName: string;
}

export interface BundleSpec {
  tensors: TensorSpec[];
  steps: StepSpec[];
  inputs: number[];
  outputs: number[];
  arenaSize: number;
  constants: Uint8Array;
  metadata: MetadataSpec;
}

const PARAM_TYPES = {
  conv: [fb.Params.ConvParams, fb.ConvParamsT],
  pool: [fb.Params.PoolParams, fb.PoolParamsT],
  dense: [fb.Params.DenseParams, fb.DenseParamsT],
  binary: [fb.Params.BinaryParams, fb.BinaryParamsT],
  unary: [fb.Params.UnaryParams, fb.UnaryParamsT],
  softmax: [fb.Params.SoftmaxParams, fb.SoftmaxParamsT],
  transpose: [fb.Params.TransposeParams, fb.TransposeParamsT],
  concat: [fb.Params.ConcatParams, fb.ConcatParamsT],
  pad: [fb.Params.PadParams, fb.PadParamsT],
  control: [fb.Params.ControlParams, fb.ControlParamsT],
  train: [fb.Params.TrainParams, fb.TrainParamsT],
} as const;

function writeParams(b: flatbuffers.Builder, p: ParamsSpec): [fb.Params, number] {
  const [tag, Ctor] = PARAM_TYPES[p.type];
  const obj = new (Ctor as new () => { pack(b: flatbuffers.Builder): number })();
  for (const [k, v] of Object.entries(p)) if (k !== 'type' && v !== undefined) (obj as any)[k] = v;
  return [tag, obj.pack(b)];
}

/** A variant's tables as written: offsets of the tensors, steps, inputs and outputs vectors. */
export interface TableOffsets {
  tensors: number;
  steps: number;
  inputs: number;
  outputs: number;
}

/**
 * Lean tables: every distinct string, int vector and params table is written once and shared by
 * offset (FlatBuffers allows any number of references to one object), empty strings and default
 * values are left out (the builder omits defaults; vtables it shares itself), and fields go widest
 * first (as flatc's generated builders add them), so no alignment padding sits between them.
 * One writer per Builder: the sharing spans every variant written through it.
 */
export class TableWriter {
  private readonly vectors = new Map<string, number>();
  private readonly params = new Map<string, [fb.Params, number]>();
  constructor(private readonly b: flatbuffers.Builder) {}

  str(s: string | null | undefined): number {
    return s ? this.b.createSharedString(s) : 0;
  }

  ints(v: readonly number[]): number {
    const key = v.join(',');
    let off = this.vectors.get(key);
    if (off === undefined) this.vectors.set(key, (off = fb.Tensor.createShapeVector(this.b, v as number[])));
    return off;
  }

  private paramsOf(p: ParamsSpec): [fb.Params, number] {
    const key = JSON.stringify(p);
    let r = this.params.get(key);
    if (r === undefined) this.params.set(key, (r = writeParams(this.b, p)));
    return r;
  }

  metadata(m: MetadataSpec): number {
    const b = this.b;
    const edgecVersion = this.str(m.edgecVersion),
      sourceHash = this.str(m.sourceHash);
    const compileOptions = this.str(m.compileOptions),
      target = this.str(m.target),
      modelName = this.str(m.modelName);
    fb.Metadata.startMetadata(b);
    if (edgecVersion) fb.Metadata.addEdgecVersion(b, edgecVersion);
    if (sourceHash) fb.Metadata.addSourceHash(b, sourceHash);
    if (compileOptions) fb.Metadata.addCompileOptions(b, compileOptions);
    if (target) fb.Metadata.addTarget(b, target);
    if (modelName) fb.Metadata.addModelName(b, modelName);
    return fb.Metadata.endMetadata(b);
  }

  tables(spec: Pick<BundleSpec, 'tensors' | 'steps' | 'inputs' | 'outputs'>): TableOffsets {
    const b = this.b;
    const tensors = spec.tensors.map((t) => {
      const name = this.str(t.name);
      const shape = this.ints(t.shape);
      fb.Tensor.startTensor(b);
      if (name) fb.Tensor.addName(b, name);
      fb.Tensor.addShape(b, shape);
      fb.Tensor.addOffset(b, t.offset);
      fb.Tensor.addSize(b, t.size);
      fb.Tensor.addScale(b, t.scale ?? 0);
      fb.Tensor.addZeroPoint(b, t.zeroPoint ?? 0);
      fb.Tensor.addDtype(b, t.dtype);
      fb.Tensor.addConstant(b, t.constant);
      if (t.variable) {
        fb.Tensor.addVariable(b, true);
        fb.Tensor.addInit(b, t.init ?? -1);
      }
      return fb.Tensor.endTensor(b);
    });
    const steps = spec.steps.map((s) => {
      const node = this.str(s.node);
      const inputs = this.ints(s.inputs);
      const outputs = this.ints(s.outputs);
      const [ptype, poff] = s.params ? this.paramsOf(s.params) : [fb.Params.NONE, 0];
      fb.Step.startStep(b);
      fb.Step.addMacs(b, BigInt(s.macs ?? 0));
      fb.Step.addInputs(b, inputs);
      fb.Step.addOutputs(b, outputs);
      if (s.params) fb.Step.addParams(b, poff);
      if (node) fb.Step.addNode(b, node);
      fb.Step.addKernel(b, s.kernel);
      if (s.params) fb.Step.addParamsType(b, ptype);
      return fb.Step.endStep(b);
    });
    return {
      tensors: fb.Bundle.createTensorsVector(b, tensors),
      steps: fb.Bundle.createStepsVector(b, steps),
      inputs: this.ints(spec.inputs),
      outputs: this.ints(spec.outputs),
    };
  }
}

/** The constants vector, 16-byte aligned in the file. */
export function writeConstants(b: flatbuffers.Builder, constants: Uint8Array): number {
  // force_align is not honoured by the TS generator: align the constants vector by hand.
  // Bytes are copied in one block (as Builder.createByteVector does), not one addInt8 per byte.
  b.startVector(1, constants.length, 16);
  const bi = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
  bi.bb.setPosition((bi.space -= constants.length));
  bi.bb.bytes().set(constants, bi.space);
  return b.endVector();
}

/** Tensor and step specs of a bundle read back (variants merge re-writes parts through TableWriter). */
export function specTables(u: fb.BundleT | fb.VariantT): Pick<BundleSpec, 'tensors' | 'steps' | 'inputs' | 'outputs'> {
  const tags = Object.fromEntries(Object.entries(PARAM_TYPES).map(([k, [tag]]) => [tag, k])) as Record<
    number,
    ParamsSpec['type']
  >;
  return {
    tensors: u.tensors.map((t) => ({
      name: String(t.name ?? ''),
      dtype: t.dtype,
      shape: t.shape,
      constant: t.constant,
      offset: t.offset,
      size: t.size,
      scale: t.scale,
      zeroPoint: t.zeroPoint,
      ...(t.variable ? { variable: true, init: t.init } : {}),
    })),
    steps: u.steps.map((s) => ({
      kernel: s.kernel,
      inputs: s.inputs,
      outputs: s.outputs,
      macs: s.macs,
      node: String(s.node ?? ''),
      ...(s.params ? { params: { type: tags[s.paramsType]!, ...s.params } as ParamsSpec } : {}),
    })),
    inputs: u.inputs,
    outputs: u.outputs,
  };
}

/**
 * The finished FlatBuffers bytes + a 4-byte trailer: zlib's CRC-32 of those bytes, little-endian.
 * Every writer of a bundle (writeBundle, mergeVariants) ends with this; FlatBuffers readers ignore
 * the trailing bytes, the executor refuses a file whose trailer does not match.
 */
export function sealBundle(flat: Uint8Array): Uint8Array {
  const out = new Uint8Array(flat.length + 4);
  out.set(flat);
  new DataView(out.buffer).setUint32(flat.length, crc32(flat), true);
  return out;
}

export function writeBundle(spec: BundleSpec): Uint8Array {
  const b = new flatbuffers.Builder(1024 + spec.constants.length);
  const w = new TableWriter(b);
  const meta = w.metadata(spec.metadata);
  const constants = writeConstants(b, spec.constants);
  const t = w.tables(spec);
  fb.Bundle.startBundle(b);
  fb.Bundle.addVersion(b, BUNDLE_VERSION);
  fb.Bundle.addTensors(b, t.tensors);
  fb.Bundle.addSteps(b, t.steps);
  fb.Bundle.addInputs(b, t.inputs);
  fb.Bundle.addOutputs(b, t.outputs);
  fb.Bundle.addArenaSize(b, spec.arenaSize);
  fb.Bundle.addConstants(b, constants);
  fb.Bundle.addMetadata(b, meta);
  b.finish(fb.Bundle.endBundle(b), BUNDLE_IDENTIFIER);
  return sealBundle(b.asUint8Array());
}

/** Reads a bundle back with the generated readers (inspect, tests). Throws on a bad identifier. */
export function readBundle(bytes: Uint8Array): fb.Bundle {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bytes.length < 8 || !fb.Bundle.bufferHasIdentifier(bb)) {
    throw new Error(`not an edgec bundle: file identifier is not '${BUNDLE_IDENTIFIER}'`);
  }
  return fb.Bundle.getRootAsBundle(bb);
}
