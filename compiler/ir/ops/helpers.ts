// Helpers every op file shares: attr access, the ModelError of a node, shape checks, broadcasting,
// strided gather, padding and conv geometry, fused activations, and the attr-schema pieces several ops
// use, and the shared pieces of gradient rules. Shapes are row-major element counts; activations NHWC, Conv2D weights OHWI [Co,KH,KW,Ci/G].
import { ModelError, numElements, type Attrs, type Node, type Tensor } from '../graph.ts';
import type { AttrSchema, GradBuilder, GradRule, OpSchema, TypeInfo, Value, ChannelFlow } from './op-def.ts';

// ---------- attribute access (frontends fill defaults; hand-built test graphs may not) ----------

export function attrNum(n: Node, k: string, d: number): number {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : d;
}
export function attrNums(n: Node, k: string, d: number[]): number[] {
  const v = n.attrs[k];
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : d;
}
export function attrStr(n: Node, k: string, d: string): string {
  const v = n.attrs[k];
  return typeof v === 'string' ? v : d;
}

export function fail(file: string, n: Node, detail: string): never {
  throw new ModelError(file, `node '${n.name}' (${n.op})`, detail);
}
export const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

// ---------- strides and broadcasting ----------

export function rowStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** numpy broadcasting of two shapes; undefined when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides reading `shape` broadcast to `outShape` (0 where broadcast), in outShape's axes. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const st = rowStrides(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    // a dim of 1 only ever reads index 0, so its stride is irrelevant: 0 marks broadcast
    return shape[j] === 1 ? 0 : st[j]!;
  });
}

// ---------- padding ----------

export type PadSpec = [top: number, left: number, bottom: number, right: number];

/** Resolves Conv2D/pool padding to explicit [top,left,bottom,right]; 'same' = SAME_UPPER (extra at the end). */
export function resolvePadding(
  n: Node,
  file: string,
  h: number,
  w: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
): PadSpec {
  const p = n.attrs.padding ?? 'valid';
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    const oh = Math.ceil(h / sh),
      ow = Math.ceil(w / sw);
    const th = Math.max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0);
    const tw = Math.max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0);
    return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  if (Array.isArray(p) && p.length === 4 && p.every((x) => Number.isInteger(x) && (x as number) >= 0)) {
    return p as PadSpec;
  }
  fail(file, n, `padding must be 'valid', 'same' or [top,left,bottom,right] ≥ 0, found ${JSON.stringify(p)}`);
}

export function outDim(i: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((i + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

// ---------- fused activation (Conv2D, Dense, Add) ----------

export function activationOf(n: Node): { kind: 'none' | 'relu' | 'clip'; min: number; max: number } {
  const a = attrStr(n, 'activation', 'none');
  if (a === 'relu') return { kind: 'relu', min: 0, max: Infinity };
  if (a === 'clip') {
    const c = attrNums(n, 'clip', [-Infinity, Infinity]);
    return { kind: 'clip', min: c[0]!, max: c[1]! };
  }
  return { kind: 'none', min: -Infinity, max: Infinity };
}

export function applyActivation(n: Node, out: Float64Array): Float64Array {
  const act = activationOf(n);
  if (act.kind === 'relu') for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]!, 0);
  if (act.kind === 'clip') for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(out[i]!, act.min), act.max);
  return out;
}

export function checkActivation(n: Node, file: string): void {
  const a = attrStr(n, 'activation', 'none');
  if (a !== 'none' && a !== 'relu' && a !== 'clip')
    fail(file, n, `activation must be 'none', 'relu' or 'clip', found '${a}'`);
  if (a === 'clip') {
    const c = attrNums(n, 'clip', []);
    if (c.length !== 2 || !(c[0]! <= c[1]!))
      fail(file, n, `clip must be [min,max] with min ≤ max, found ${JSON.stringify(n.attrs.clip)}`);
  }
}

// ---------- shape checks ----------

export function need(n: Node, ins: (Tensor | undefined)[], i: number, file: string, what: string): Tensor {
  const t = ins[i];
  if (!t) fail(file, n, `input ${i} (${what}) is missing`);
  return t;
}
export function rank(n: Node, t: Tensor, r: number, file: string, what: string): void {
  if (t.shape.length !== r) fail(file, n, `${what} '${t.name}' must have rank ${r}, found shape ${fmt(t.shape)}`);
}
export function normAxis(n: Node, file: string, axis: number, r: number, field: string): number {
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) fail(file, n, `${field} ${axis} is out of range for rank ${r}`);
  return a;
}
export const same = (ins: (Tensor | undefined)[]): TypeInfo[] => [{ shape: [...ins[0]!.shape], dtype: ins[0]!.dtype }];
export const sameF = (n: Node, ins: (Tensor | undefined)[], file: string): TypeInfo[] => {
  need(n, ins, 0, file, 'x');
  return same(ins);
};

/** Strided gather: out[idx] = in[offset + Σ idx_k·strides_k] (Transpose, Slice). */
export function gather(
  data: Float64Array,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Float64Array {
  const total = numElements(shape);
  const out = new Float64Array(total);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < total; i++) {
    let j = offset;
    for (let k = 0; k < shape.length; k++) j += idx[k]! * strides[k]!;
    out[i] = data[j]!;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

// ---------- conv geometry ----------

export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  groups: number;
  pad: PadSpec;
  oh: number;
  ow: number;
}

export function convGeometry(n: Node, x: Tensor | Value, wt: Tensor | Value, file: string): ConvGeometry {
  const [N, H, W, Ci] = x.shape as [number, number, number, number];
  const [Co, KH, KW, Cig] = wt.shape as [number, number, number, number];
  const [sh, sw] = attrNums(n, 'strides', [1, 1]) as [number, number];
  const [dh, dw] = attrNums(n, 'dilations', [1, 1]) as [number, number];
  const groups = attrNum(n, 'groups', 1);
  if (!(sh >= 1 && sw >= 1 && Number.isInteger(sh) && Number.isInteger(sw)))
    fail(file, n, `strides must be positive integers, found ${JSON.stringify(n.attrs.strides)}`);
  if (!(dh >= 1 && dw >= 1 && Number.isInteger(dh) && Number.isInteger(dw)))
    fail(file, n, `dilations must be positive integers, found ${JSON.stringify(n.attrs.dilations)}`);
  if (!(Number.isInteger(groups) && groups >= 1)) fail(file, n, `groups must be a positive integer, found ${groups}`);
  if (Ci % groups !== 0) fail(file, n, `input channels ${Ci} are not divisible by groups ${groups}`);
  if (Co % groups !== 0)
    fail(file, n, `output channels ${Co} (weights ${fmt(wt.shape)}) are not divisible by groups ${groups}`);
  if (Cig * groups !== Ci)
    fail(
      file,
      n,
      `weights ${fmt(wt.shape)} do not match input channels ${Ci} (groups ${groups}: expected last dim ${Ci / groups})`,
    );
  const pad = resolvePadding(n, file, H, W, KH, KW, sh, sw, dh, dw);
  const oh = outDim(H, KH, sh, dh, pad[0], pad[2]);
  const ow = outDim(W, KW, sw, dw, pad[1], pad[3]);
  if (oh < 1 || ow < 1)
    fail(file, n, `kernel ${KH}x${KW} (dilation ${dh}x${dw}) is larger than the padded input ${H}x${W}`);
  return { n: N, h: H, w: W, ci: Ci, co: Co, kh: KH, kw: KW, sh, sw, dh, dw, groups, pad, oh, ow };
}

// ---------- attr schemas several ops share ----------

/** Largest finite float32: Clip's open-ended default (JSON has no Infinity). */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** attrs.activation = 'none' | 'relu' | 'clip' with attrs.clip = [min, max] (Conv2D, Dense, Add). */
export const FUSED_ACTIVATION: Record<string, AttrSchema> = {
  activation: { kind: 'string', values: ['none', 'relu', 'clip'], default: 'none' },
  clip: { kind: 'floats', length: 2, default: [0, 6] },
};

export const checkClipRange = (attrs: Record<string, unknown>): string | undefined => {
  const [lo, hi] = attrs.clip as number[];
  return lo <= hi ? undefined : `attr 'clip': expected min ≤ max, found [${lo}, ${hi}]`;
};

/** Channel flow of an op that keeps channel c at channel c (activations, pools). */
export const passChannels = (): ChannelFlow => ({ kind: 'elementwise', data: [0], params: [] });

/** The last axis of a tensor: the channel axis of params sliced with the channels. */
export const lastAxis = (t: { shape: readonly number[] }): number => t.shape.length - 1;

/**
 * Channel flow of Flatten / Reshape of row-major data whose channels are on `axis` (the last unless a
 * Transpose moved them): with inner = the product of the dims after it, when the output's last dim is a
 * multiple of C·inner, input channel c becomes output features (m·C + c)·inner + k for every k < inner.
 */
export function reshapeFlow(
  inShape: readonly number[],
  outShape: readonly number[],
  update?: (n: Node, c: number, old: number) => void,
  axis = inShape.length - 1,
): ChannelFlow {
  const c = inShape[axis],
    l = outShape.at(-1);
  const inner = inShape.slice(axis + 1).reduce((a, b) => a * b, 1);
  if (c === undefined || l === undefined || l % (c * inner) !== 0)
    return { kind: 'boundary', why: 'splits the channel axis' };
  return update ? { kind: 'reshape', update, inner } : { kind: 'reshape', inner };
}

export const noAttrs = (inputs: [number, number]): OpSchema => ({ inputs, outputs: 1, attrs: {} });

/** Float64 copy of a tensor's constant data. */
export function toFloat64(data: ArrayLike<number | bigint>): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

// ---------- gradient rules (issue 12): shared pieces of the ops' `grad` slots ----------

/** dL/dz for z → fused activation (attrs.activation) → y; dy itself when there is none. */
export function gradThroughFused(b: GradBuilder, n: Node, dy: string): string {
  const a = activationOf(n);
  if (a.kind === 'none') return dy;
  const attrs: Attrs = a.kind === 'relu' ? { activation: 'relu' } : { activation: 'clip', clip: [a.min, a.max] };
  return b.add('ActivationGrad', [n.outputs[0]!, dy], attrs)[0]!;
}

/** The gradient rule of an activation: ActivationGrad from the node's output. */
export function activationGradRule(kind: string, attrsOf: (n: Node) => Attrs = () => ({})): GradRule {
  return (b, n, dy) => [b.add('ActivationGrad', [n.outputs[0]!, dy], { activation: kind, ...attrsOf(n) })[0]!];
}

/** Sums dy (broadcast output shape) back to an operand's shape: leading axes, then size-1 axes high to low. */
export function unbroadcastGrad(b: GradBuilder, dy: string, to: readonly number[]): string {
  let cur = dy,
    shape = b.shape(dy);
  while (shape.length > to.length) {
    cur = b.add('ReduceSum', [cur], { axis: 0 })[0]!;
    shape = shape.slice(1);
  }
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    if (to[ax] === 1 && shape[ax] !== 1) cur = b.add('ReduceSum', [cur], { axis: ax })[0]!;
  }
  return b.shape(cur).join() === to.join() ? cur : b.add('Reshape', [cur], { shape: [...to] })[0]!;
}
