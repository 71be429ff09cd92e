// Serialises a plain BundleSpec into .edgec bytes with the generated FlatBuffers builders.
// The only place that knows FlatBuffers details on the writing side: lowering produces a
// BundleSpec, tests build small specs by hand. Constants are placed 16-byte aligned.
import * as flatbuffers from 'flatbuffers';
import * as fb from '../../schema/generated/bundle_generated.ts';

export const BUNDLE_VERSION = 1;
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
  | ({ type: 'control' } & Partial<Omit<fb.ControlParamsT, 'pack'>>);

export interface StepSpec {
  kernel: fb.KernelId;
  inputs: number[];
  outputs: number[];
  params?: ParamsSpec;
  macs?: number;
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
} as const;

function writeParams(b: flatbuffers.Builder, p: ParamsSpec): [fb.Params, number] {
  const [tag, Ctor] = PARAM_TYPES[p.type];
  const obj = new (Ctor as new () => { pack(b: flatbuffers.Builder): number })();
  for (const [k, v] of Object.entries(p)) if (k !== 'type' && v !== undefined) (obj as any)[k] = v;
  return [tag, obj.pack(b)];
}

export function writeBundle(spec: BundleSpec): Uint8Array {
  const b = new flatbuffers.Builder(1024 + spec.constants.length);
  const meta = fb.Metadata.createMetadata(
    b,
    b.createString(spec.metadata.edgecVersion),
    b.createString(spec.metadata.sourceHash),
    b.createString(spec.metadata.compileOptions),
    b.createString(spec.metadata.target),
    b.createString(spec.metadata.modelName),
  );
  // force_align is not honoured by the TS generator: align the constants vector by hand.
  // Bytes are copied in one block (as Builder.createByteVector does), not one addInt8 per byte.
  b.startVector(1, spec.constants.length, 16);
  const bi = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
  bi.bb.setPosition((bi.space -= spec.constants.length));
  bi.bb.bytes().set(spec.constants, bi.space);
  const constants = b.endVector();

  const tensors = spec.tensors.map((t) => {
    const name = b.createString(t.name);
    const shape = fb.Tensor.createShapeVector(b, t.shape);
    fb.Tensor.startTensor(b);
    fb.Tensor.addName(b, name);
    fb.Tensor.addDtype(b, t.dtype);
    fb.Tensor.addShape(b, shape);
    fb.Tensor.addConstant(b, t.constant);
    fb.Tensor.addOffset(b, t.offset);
    fb.Tensor.addSize(b, t.size);
    fb.Tensor.addScale(b, t.scale ?? 0);
    fb.Tensor.addZeroPoint(b, t.zeroPoint ?? 0);
    return fb.Tensor.endTensor(b);
  });
  const steps = spec.steps.map((s) => {
    const node = b.createString(s.node ?? '');
    const inputs = fb.Step.createInputsVector(b, s.inputs);
    const outputs = fb.Step.createOutputsVector(b, s.outputs);
    const [ptype, poff] = s.params ? writeParams(b, s.params) : [fb.Params.NONE, 0];
    fb.Step.startStep(b);
    fb.Step.addKernel(b, s.kernel);
    fb.Step.addInputs(b, inputs);
    fb.Step.addOutputs(b, outputs);
    if (s.params) {
      fb.Step.addParamsType(b, ptype);
      fb.Step.addParams(b, poff);
    }
    fb.Step.addMacs(b, BigInt(s.macs ?? 0));
    fb.Step.addNode(b, node);
    return fb.Step.endStep(b);
  });
  const tensorsVec = fb.Bundle.createTensorsVector(b, tensors);
  const stepsVec = fb.Bundle.createStepsVector(b, steps);
  const inputs = fb.Bundle.createInputsVector(b, spec.inputs);
  const outputs = fb.Bundle.createOutputsVector(b, spec.outputs);
  fb.Bundle.startBundle(b);
  fb.Bundle.addVersion(b, BUNDLE_VERSION);
  fb.Bundle.addTensors(b, tensorsVec);
  fb.Bundle.addSteps(b, stepsVec);
  fb.Bundle.addInputs(b, inputs);
  fb.Bundle.addOutputs(b, outputs);
  fb.Bundle.addArenaSize(b, spec.arenaSize);
  fb.Bundle.addConstants(b, constants);
  fb.Bundle.addMetadata(b, meta);
  b.finish(fb.Bundle.endBundle(b), BUNDLE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** Reads a bundle back with the generated readers (inspect, tests). Throws on a bad identifier. */
export function readBundle(bytes: Uint8Array): fb.Bundle {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bytes.length < 8 || !fb.Bundle.bufferHasIdentifier(bb)) {
    throw new Error(`not an edgec bundle: file identifier is not '${BUNDLE_IDENTIFIER}'`);
  }
  return fb.Bundle.getRootAsBundle(bb);
}
