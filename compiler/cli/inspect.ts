// `edgec inspect`: a per-step table of a bundle (kernel, node, shapes, params in short form,
// MACs, arena offsets of the outputs) and totals. Reads the file with the generated readers over a
// bounds-checked buffer: a truncated or corrupt file fails with the byte offset instead of showing garbage.
import * as flatbuffers from 'flatbuffers';
import { readBundle, fb } from '../emit/bundle-writer.ts';
import { stepVariant, type StemShape } from '../kernels/registry.ts';

/** The generated readers index bytes without checks (reading past the end yields undefined → 0). */
class CheckedByteBuffer extends flatbuffers.ByteBuffer {
  private check(offset: number, size: number): void {
    if (!(offset >= 0 && offset + size <= this.capacity())) {
      throw new RangeError(
        `read of ${size} byte(s) at offset ${offset} runs past the end of the ${this.capacity()}-byte file`,
      );
    }
  }
  override readUint8(offset: number): number {
    this.check(offset, 1);
    return super.readUint8(offset);
  }
  override readUint16(offset: number): number {
    this.check(offset, 2);
    return super.readUint16(offset);
  }
  override readInt32(offset: number): number {
    this.check(offset, 4);
    return super.readInt32(offset);
  }
  override __string(offset: number, enc?: flatbuffers.Encoding): string | Uint8Array {
    const start = offset + this.readInt32(offset);
    this.check(start + 4, this.readInt32(start));
    return super.__string(offset, enc);
  }
}

export interface StepRow {
  index: number;
  kernel: string;
  /** The kernel file this step runs on the bundle's target build (compiler/kernels/registry.ts stepVariant). */
  variant: string;
  node: string;
  shapes: string;
  params: string;
  macs: bigint;
  arena: string;
}

export interface BundlePort {
  name: string;
  shape: number[];
  dtype: string;
  scale?: number;
  zeroPoint?: number;
}

export interface BundleSummary {
  rows: StepRow[];
  steps: number;
  macs: bigint;
  arenaBytes: number;
  constantsBytes: number;
  fileBytes: number;
  /** int8 ones (--io int8) with their scale and zero point. */
  inputs: BundlePort[];
  outputs: BundlePort[];
  /** sourceFormat: the model's format when the compiler recorded one (compile options), e.g. 'tfjs graph-model'. */
  metadata: { edgecVersion: string; target: string; modelName: string; sourceHash: string; sourceFormat?: string };
}

/** The `sourceFormat` compile option a bundle records, if any. */
function sourceFormatOf(compileOptions: string | null | undefined): string | undefined {
  try {
    const f = (JSON.parse(compileOptions ?? '{}') as { sourceFormat?: unknown }).sourceFormat;
    return typeof f === 'string' ? f : undefined;
  } catch {
    return undefined;
  }
}

const DTYPE_NAMES: Record<number, string> = {
  [fb.DType.F32]: 'float32',
  [fb.DType.I8]: 'int8',
  [fb.DType.U8]: 'uint8',
  [fb.DType.I32]: 'int32',
};
export function dtypeName(d: fb.DType): string {
  return DTYPE_NAMES[d] ?? `dtype${d}`;
}

const dims = (s: ArrayLike<number>): string => (s.length === 0 ? 'scalar' : Array.from(s).join('x'));
const pair = (a: number, b: number): string => (a === b ? `${a}` : `${a}x${b}`);
const num = (v: number): string => `${Math.round(v * 1e6) / 1e6}`;

function activation(a: fb.Activation, min: number, max: number): string {
  if (a === fb.Activation.Relu) return 'relu';
  if (a === fb.Activation.Clip) return `clip[${num(min)},${num(max)}]`;
  return '';
}

/** A conv step's shape for stepVariant's stem rule: Ci and Co from its NHWC input / output, the rest its params. */
function stemShape(step: fb.StepT, tensor: (id: number) => fb.TensorT | undefined): StemShape | undefined {
  const p = step.params;
  if (!(p instanceof fb.ConvParamsT)) return undefined;
  const x = tensor(step.inputs[0] ?? -1),
    y = tensor(step.outputs[0] ?? -1);
  if (!x || !y || x.shape.length !== 4 || y.shape.length !== 4) return undefined;
  return {
    ci: Number(x.shape[3]),
    co: Number(y.shape[3]),
    kh: p.kernelH,
    kw: p.kernelW,
    sh: p.strideH,
    sw: p.strideW,
    dh: p.dilationH,
    dw: p.dilationW,
    groups: p.groups,
  };
}

/** Params in short form, e.g. `k3x3 s2 p1,1,1,1 d1 g1 relu`. */
export function formatParams(step: fb.StepT): string {
  const p = step.params;
  const parts: string[] = [];
  if (p instanceof fb.ConvParamsT) {
    parts.push(
      `k${p.kernelH}x${p.kernelW}`,
      `s${pair(p.strideH, p.strideW)}`,
      `p${p.padTop},${p.padLeft},${p.padBottom},${p.padRight}`,
      `d${pair(p.dilationH, p.dilationW)}`,
    );
    if (step.kernel === fb.KernelId.DepthwiseConv2D_F32) parts.push(`m${p.depthMultiplier}`);
    else parts.push(`g${p.groups}`);
    parts.push(activation(p.activation, p.actMin, p.actMax));
  } else if (p instanceof fb.PoolParamsT) {
    parts.push(
      `k${p.kernelH}x${p.kernelW}`,
      `s${pair(p.strideH, p.strideW)}`,
      `p${p.padTop},${p.padLeft},${p.padBottom},${p.padRight}`,
    );
    if (p.countIncludePad) parts.push('incpad');
  } else if (p instanceof fb.DenseParamsT) {
    parts.push(activation(p.activation, p.actMin, p.actMax));
  } else if (p instanceof fb.BinaryParamsT) {
    parts.push((fb.BinaryOp[p.op] ?? `op${p.op}`).toLowerCase(), activation(p.activation, p.actMin, p.actMax));
    if (p.bStrides.some((s) => s === 0) || p.aStrides.some((s) => s === 0)) parts.push('bcast');
  } else if (p instanceof fb.UnaryParamsT) {
    const op = (fb.UnaryOp[p.op] ?? `op${p.op}`).toLowerCase();
    if (p.op === fb.UnaryOp.Clip) parts.push(`clip[${num(p.alpha)},${num(p.beta)}]`);
    else if (p.op === fb.UnaryOp.LeakyRelu) parts.push(`leakyrelu a=${num(p.alpha)}`);
    else parts.push(op);
  } else if (p instanceof fb.SoftmaxParamsT) {
    parts.push(`[${p.outer},${p.axis},${p.inner}]`);
  } else if (p instanceof fb.TransposeParamsT) {
    parts.push(`strides ${p.strides.join(',')}`);
    if (p.offset !== 0) parts.push(`off ${p.offset}`);
  } else if (p instanceof fb.ConcatParamsT) {
    parts.push(`outer ${p.outer} sizes ${p.sizes.join(',')}`);
  } else if (p instanceof fb.PadParamsT) {
    parts.push(`before ${p.before.join(',')}`, `value ${num(p.value)}`);
  } else if (p instanceof fb.ControlParamsT) {
    if (step.kernel === fb.KernelId.Exit)
      parts.push(`${p.metric === 0 ? 'max_prob >' : 'entropy <'} ${num(p.threshold)}`);
    else parts.push(`-> ${p.targets.join(',')}`);
  }
  return parts.filter((s) => s !== '').join(' ');
}

export function summarizeBundle(bytes: Uint8Array): BundleSummary {
  readBundle(bytes); // identifier check with the shared message
  const b = fb.Bundle.getRootAsBundle(new CheckedByteBuffer(bytes));
  const tensors: fb.TensorT[] = [];
  for (let i = 0; i < b.tensorsLength(); i++) tensors.push(b.tensors(i)!.unpack());
  const tensor = (id: number): fb.TensorT | undefined => tensors[id];
  const io = (ids: number[]) =>
    ids.map((id) => {
      const t = tensor(id);
      const port: BundlePort = {
        name: String(t?.name ?? `#${id}`),
        shape: t ? [...t.shape] : [],
        dtype: t ? dtypeName(t.dtype) : '?',
      };
      if (t?.dtype === fb.DType.I8 && t.scale !== 0) Object.assign(port, { scale: t.scale, zeroPoint: t.zeroPoint });
      return port;
    });
  const rows: StepRow[] = [];
  let macs = 0n;
  const build = b.metadata()?.target() === 'scalar' ? 'scalar' : 'simd';
  for (let i = 0; i < b.stepsLength(); i++) {
    const s = b.steps(i)!.unpack();
    const ins = s.inputs
      .filter((id) => id >= 0 && !tensor(id)?.constant)
      .map((id) => {
        const t = tensor(id);
        return t ? dims(t.shape) : `#${id}?`;
      });
    const outs = s.outputs.map((id) => {
      const t = tensor(id);
      return t ? dims(t.shape) : `#${id}?`;
    });
    const arena = s.outputs.map((id) => {
      const t = tensor(id);
      return t ? `@${t.offset}` : '?';
    });
    rows.push({
      index: i,
      kernel: fb.KernelId[s.kernel] ?? `kernel${s.kernel}`,
      variant: stepVariant(s.kernel, build, s.inputs.length > 3 && s.inputs[3]! >= 0, stemShape(s, tensor)),
      node: String(s.node ?? ''),
      shapes: `${ins.join(' ') || '-'} -> ${outs.join(' ')}`,
      params: formatParams(s),
      macs: s.macs,
      arena: arena.join(' '),
    });
    macs += s.macs;
  }
  const inputs: number[] = [];
  for (let i = 0; i < b.inputsLength(); i++) inputs.push(b.inputs(i)!);
  const outputs: number[] = [];
  for (let i = 0; i < b.outputsLength(); i++) outputs.push(b.outputs(i)!);
  const m = b.metadata();
  return {
    rows,
    steps: rows.length,
    macs,
    arenaBytes: b.arenaSize(),
    constantsBytes: b.constantsLength(),
    fileBytes: bytes.length,
    inputs: io(inputs),
    outputs: io(outputs),
    metadata: {
      edgecVersion: m?.edgecVersion() ?? '',
      target: m?.target() ?? '',
      modelName: m?.modelName() ?? '',
      sourceHash: m?.sourceHash() ?? '',
      ...(sourceFormatOf(m?.compileOptions()) ? { sourceFormat: sourceFormatOf(m?.compileOptions()) } : {}),
    },
  };
}

/** Thousands separators make MAC counts readable at a glance. */
export const fmtInt = (v: number | bigint): string => v.toLocaleString('en-US');

/** Node names from converters can run to hundreds of characters; the table keeps their start. */
export const NODE_COLUMN = 40;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

export function formatInspect(sum: BundleSummary, file: string, opts: { wide?: boolean } = {}): string {
  const header = ['#', 'kernel', 'variant', 'node', 'shapes', 'params', 'MACs', 'arena'];
  const table = sum.rows.map((r) => [
    String(r.index),
    r.kernel,
    r.variant,
    opts.wide ? r.node : clip(r.node, NODE_COLUMN),
    r.shapes,
    r.params,
    fmtInt(r.macs),
    r.arena,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
  const right = new Set([0, 6]);
  const line = (cells: string[]) =>
    cells
      .map((x, c) => (right.has(c) ? x.padStart(widths[c]!) : x.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const io = (xs: BundlePort[]) =>
    xs
      .map(
        (t) =>
          `${t.name} ${dims(t.shape)} ${t.dtype}${t.scale === undefined ? '' : ` (scale ${t.scale}, zero point ${t.zeroPoint})`}`,
      )
      .join(', ');
  const md = sum.metadata;
  return [
    `${file}: model '${md.modelName}', target ${md.target || '?'}, edgec ${md.edgecVersion || '?'}${md.sourceFormat ? `, from ${md.sourceFormat}` : ''}`,
    `inputs: ${io(sum.inputs)}`,
    `outputs: ${io(sum.outputs)}`,
    '',
    line(header),
    ...table.map(line),
    '',
    `steps ${sum.steps}, MACs ${fmtInt(sum.macs)}, arena ${fmtInt(sum.arenaBytes)} bytes, constants ${fmtInt(sum.constantsBytes)} bytes, file ${fmtInt(sum.fileBytes)} bytes`,
  ].join('\n');
}
