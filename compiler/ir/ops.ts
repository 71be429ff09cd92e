// The IR op table: per OpType, shape + dtype inference (ModelError naming node and field) and a
// float64 reference evaluation (row-major values in each tensor's shape, NHWC activations,
// Conv2D weights OHWI, Dense [out,in]). Slow and obvious on purpose: it is the oracle for float plans.
import { ModelError, numElements, type DType, type Graph, type Node, type OpType, type Tensor } from './graph.ts';

export interface Value {
  shape: number[];
  data: Float64Array;
}

export interface TypeInfo {
  shape: number[];
  dtype: DType;
}

export interface OpDef {
  /** Output shapes/dtypes from the input tensors (undefined = optional input absent). */
  infer(node: Node, ins: (Tensor | undefined)[], file: string): TypeInfo[];
  /** Float64 reference values of the outputs. */
  evaluate(node: Node, ins: (Value | undefined)[], outs: TypeInfo[]): Float64Array[];
}

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

function fail(file: string, n: Node, detail: string): never {
  throw new ModelError(file, `node '${n.name}' (${n.op})`, detail);
}
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

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
  n: Node, file: string, h: number, w: number, kh: number, kw: number,
  sh: number, sw: number, dh: number, dw: number,
): PadSpec {
  const p = n.attrs.padding ?? 'valid';
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    const oh = Math.ceil(h / sh), ow = Math.ceil(w / sw);
    const th = Math.max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0);
    const tw = Math.max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0);
    return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  if (Array.isArray(p) && p.length === 4 && p.every((x) => Number.isInteger(x) && (x as number) >= 0)) {
    return p as PadSpec;
  }
  fail(file, n, `padding must be 'valid', 'same' or [top,left,bottom,right] ≥ 0, found ${JSON.stringify(p)}`);
}

function outDim(i: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((i + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

// ---------- fused activation ----------

export function activationOf(n: Node): { kind: 'none' | 'relu' | 'clip'; min: number; max: number } {
  const a = attrStr(n, 'activation', 'none');
  if (a === 'relu') return { kind: 'relu', min: 0, max: Infinity };
  if (a === 'clip') {
    const c = attrNums(n, 'clip', [-Infinity, Infinity]);
    return { kind: 'clip', min: c[0]!, max: c[1]! };
  }
  return { kind: 'none', min: -Infinity, max: Infinity };
}

function applyActivation(n: Node, out: Float64Array): Float64Array {
  const act = activationOf(n);
  if (act.kind === 'relu') for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]!, 0);
  if (act.kind === 'clip') for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(out[i]!, act.min), act.max);
  return out;
}

function checkActivation(n: Node, file: string): void {
  const a = attrStr(n, 'activation', 'none');
  if (a !== 'none' && a !== 'relu' && a !== 'clip') fail(file, n, `activation must be 'none', 'relu' or 'clip', found '${a}'`);
  if (a === 'clip') {
    const c = attrNums(n, 'clip', []);
    if (c.length !== 2 || !(c[0]! <= c[1]!)) fail(file, n, `clip must be [min,max] with min ≤ max, found ${JSON.stringify(n.attrs.clip)}`);
  }
}

// ---------- helpers ----------

function need(n: Node, ins: (Tensor | undefined)[], i: number, file: string, what: string): Tensor {
  const t = ins[i];
  if (!t) fail(file, n, `input ${i} (${what}) is missing`);
  return t;
}
function rank(n: Node, t: Tensor, r: number, file: string, what: string): void {
  if (t.shape.length !== r) fail(file, n, `${what} '${t.name}' must have rank ${r}, found shape ${fmt(t.shape)}`);
}
function normAxis(n: Node, file: string, axis: number, r: number, field: string): number {
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) fail(file, n, `${field} ${axis} is out of range for rank ${r}`);
  return a;
}
const same = (ins: (Tensor | undefined)[]): TypeInfo[] => [{ shape: [...ins[0]!.shape], dtype: ins[0]!.dtype }];
const sameF = (n: Node, ins: (Tensor | undefined)[], file: string): TypeInfo[] => {
  need(n, ins, 0, file, 'x');
  return same(ins);
};

function unary(f: (v: number, n: Node) => number): OpDef {
  return {
    infer: sameF,
    evaluate: (n, ins) => [ins[0]!.data.map((v) => f(v, n))],
  };
}

function binary(f: (a: number, b: number) => number, fused: boolean, prelu = false): OpDef {
  return {
    infer(n, ins, file) {
      const a = need(n, ins, 0, file, 'a'), b = need(n, ins, 1, file, 'b');
      const out = broadcastShapes(a.shape, b.shape);
      if (!out) fail(file, n, `shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast`);
      if (prelu && out.join() !== a.shape.join()) fail(file, n, `slope ${fmt(b.shape)} must broadcast to x ${fmt(a.shape)}`);
      if (a.dtype !== b.dtype) fail(file, n, `input dtypes differ: ${a.dtype} and ${b.dtype}`);
      if (fused) checkActivation(n, file);
      else if (attrStr(n, 'activation', 'none') !== 'none') fail(file, n, `activation is only allowed on Add`);
      return [{ shape: out, dtype: a.dtype }];
    },
    evaluate(n, ins, outs) {
      const shape = outs[0]!.shape;
      const a = ins[0]!, b = ins[1]!;
      const sa = broadcastStrides(a.shape, shape), sb = broadcastStrides(b.shape, shape);
      const total = numElements(shape);
      const out = new Float64Array(total);
      const idx = new Array<number>(shape.length).fill(0);
      for (let i = 0; i < total; i++) {
        let ia = 0, ib = 0;
        for (let k = 0; k < shape.length; k++) { ia += idx[k]! * sa[k]!; ib += idx[k]! * sb[k]!; }
        out[i] = f(a.data[ia]!, b.data[ib]!);
        for (let k = shape.length - 1; k >= 0; k--) { if (++idx[k]! < shape[k]!) break; idx[k] = 0; }
      }
      return [fused ? applyActivation(n, out) : out];
    },
  };
}

/** Strided gather: out[idx] = in[offset + Σ idx_k·strides_k] (Transpose, Slice). */
export function gather(data: Float64Array, shape: readonly number[], strides: readonly number[], offset: number): Float64Array {
  const total = numElements(shape);
  const out = new Float64Array(total);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < total; i++) {
    let j = offset;
    for (let k = 0; k < shape.length; k++) j += idx[k]! * strides[k]!;
    out[i] = data[j]!;
    for (let k = shape.length - 1; k >= 0; k--) { if (++idx[k]! < shape[k]!) break; idx[k] = 0; }
  }
  return out;
}

// ---------- conv / dense ----------

export interface ConvGeometry {
  n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number; groups: number; pad: PadSpec; oh: number; ow: number;
}

export function convGeometry(n: Node, x: Tensor | Value, wt: Tensor | Value, file: string): ConvGeometry {
  const [N, H, W, Ci] = x.shape as [number, number, number, number];
  const [Co, KH, KW, Cig] = wt.shape as [number, number, number, number];
  const [sh, sw] = attrNums(n, 'strides', [1, 1]) as [number, number];
  const [dh, dw] = attrNums(n, 'dilations', [1, 1]) as [number, number];
  const groups = attrNum(n, 'groups', 1);
  if (!(sh >= 1 && sw >= 1 && Number.isInteger(sh) && Number.isInteger(sw))) fail(file, n, `strides must be positive integers, found ${JSON.stringify(n.attrs.strides)}`);
  if (!(dh >= 1 && dw >= 1 && Number.isInteger(dh) && Number.isInteger(dw))) fail(file, n, `dilations must be positive integers, found ${JSON.stringify(n.attrs.dilations)}`);
  if (!(Number.isInteger(groups) && groups >= 1)) fail(file, n, `groups must be a positive integer, found ${groups}`);
  if (Ci % groups !== 0) fail(file, n, `input channels ${Ci} are not divisible by groups ${groups}`);
  if (Co % groups !== 0) fail(file, n, `output channels ${Co} (weights ${fmt(wt.shape)}) are not divisible by groups ${groups}`);
  if (Cig * groups !== Ci) fail(file, n, `weights ${fmt(wt.shape)} do not match input channels ${Ci} (groups ${groups}: expected last dim ${Ci / groups})`);
  const pad = resolvePadding(n, file, H, W, KH, KW, sh, sw, dh, dw);
  const oh = outDim(H, KH, sh, dh, pad[0], pad[2]);
  const ow = outDim(W, KW, sw, dw, pad[1], pad[3]);
  if (oh < 1 || ow < 1) fail(file, n, `kernel ${KH}x${KW} (dilation ${dh}x${dw}) is larger than the padded input ${H}x${W}`);
  return { n: N, h: H, w: W, ci: Ci, co: Co, kh: KH, kw: KW, sh, sw, dh, dw, groups, pad, oh, ow };
}

const conv2d: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x'), w = need(n, ins, 1, file, 'weights');
    rank(n, x, 4, file, 'input');
    rank(n, w, 4, file, 'weights');
    const g = convGeometry(n, x, w, file);
    const b = ins[2];
    if (b && numElements(b.shape) !== g.co) fail(file, n, `bias ${fmt(b.shape)} does not match output channels ${g.co}`);
    checkActivation(n, file);
    return [{ shape: [g.n, g.oh, g.ow, g.co], dtype: x.dtype === 'int8' ? 'int8' : 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]!, w = ins[1]!, b = ins[2];
    const g = convGeometry(n, x, w, '');
    const cig = g.ci / g.groups, cog = g.co / g.groups;
    const out = new Float64Array(g.n * g.oh * g.ow * g.co);
    let o = 0;
    for (let nn = 0; nn < g.n; nn++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++)
          for (let co = 0; co < g.co; co++) {
            const grp = Math.floor(co / cog);
            let acc = b ? b.data[co]! : 0;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.pad[0] + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pad[1] + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                const xb = ((nn * g.h + iy) * g.w + ix) * g.ci + grp * cig;
                const wb = ((co * g.kh + ky) * g.kw + kx) * cig;
                for (let c = 0; c < cig; c++) acc += x.data[xb + c]! * w.data[wb + c]!;
              }
            }
            out[o++] = acc;
          }
    return [applyActivation(n, out)];
  },
};

const dense: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x'), w = need(n, ins, 1, file, 'weights');
    rank(n, x, 2, file, 'input');
    rank(n, w, 2, file, 'weights');
    if (w.shape[1] !== x.shape[1]) fail(file, n, `weights [out,in] ${fmt(w.shape)} do not match input features ${x.shape[1]}`);
    const b = ins[2];
    if (b && numElements(b.shape) !== w.shape[0]) fail(file, n, `bias ${fmt(b.shape)} does not match output features ${w.shape[0]}`);
    checkActivation(n, file);
    return [{ shape: [x.shape[0]!, w.shape[0]!], dtype: x.dtype === 'int8' ? 'int8' : 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]!, w = ins[1]!, b = ins[2];
    const [M, K] = x.shape as [number, number];
    const N = w.shape[0]!;
    const out = new Float64Array(M * N);
    for (let m = 0; m < M; m++)
      for (let j = 0; j < N; j++) {
        let acc = b ? b.data[j]! : 0;
        for (let k = 0; k < K; k++) acc += x.data[m * K + k]! * w.data[j * K + k]!;
        out[m * N + j] = acc;
      }
    return [applyActivation(n, out)];
  },
};

const batchNorm: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    if (x.shape.length < 1) fail(file, n, `input must have rank ≥ 1`);
    const c = x.shape[x.shape.length - 1]!;
    ['scale', 'bias', 'mean', 'var'].forEach((what, i) => {
      const t = need(n, ins, i + 1, file, what);
      if (numElements(t.shape) !== c) fail(file, n, `${what} ${fmt(t.shape)} does not match channels ${c} (last axis)`);
    });
    return same(ins);
  },
  evaluate(n, ins) {
    const x = ins[0]!;
    const [sc, bi, me, va] = [ins[1]!.data, ins[2]!.data, ins[3]!.data, ins[4]!.data];
    const eps = attrNum(n, 'epsilon', 1e-5);
    const c = x.shape[x.shape.length - 1]!;
    return [x.data.map((v, i) => {
      const k = i % c;
      return (v - me[k]!) / Math.sqrt(va[k]! + eps) * sc[k]! + bi[k]!;
    })];
  },
};

// ---------- pooling ----------

export interface PoolGeometry {
  n: number; h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number;
  pad: PadSpec; oh: number; ow: number;
}

export function poolGeometry(n: Node, shape: readonly number[], file: string): PoolGeometry {
  const [N, H, W, C] = shape as [number, number, number, number];
  const k = attrNums(n, 'kernel', []);
  if (k.length !== 2 || !k.every((v) => Number.isInteger(v) && v >= 1)) fail(file, n, `kernel must be [kh,kw] ≥ 1, found ${JSON.stringify(n.attrs.kernel)}`);
  const [kh, kw] = k as [number, number];
  const [sh, sw] = attrNums(n, 'strides', [kh, kw]) as [number, number];
  if (!(sh >= 1 && sw >= 1)) fail(file, n, `strides must be ≥ 1, found ${JSON.stringify(n.attrs.strides)}`);
  const pad = resolvePadding(n, file, H, W, kh, kw, sh, sw, 1, 1);
  if (pad[0] >= kh || pad[2] >= kh || pad[1] >= kw || pad[3] >= kw) fail(file, n, `padding ${fmt(pad)} must be smaller than the kernel ${kh}x${kw}`);
  const oh = outDim(H, kh, sh, 1, pad[0], pad[2]);
  const ow = outDim(W, kw, sw, 1, pad[1], pad[3]);
  if (oh < 1 || ow < 1) fail(file, n, `kernel ${kh}x${kw} is larger than the padded input ${H}x${W}`);
  return { n: N, h: H, w: W, c: C, kh, kw, sh, sw, pad, oh, ow };
}

function pool(kind: 'max' | 'avg'): OpDef {
  return {
    infer(n, ins, file) {
      const x = need(n, ins, 0, file, 'x');
      rank(n, x, 4, file, 'input');
      const g = poolGeometry(n, x.shape, file);
      return [{ shape: [g.n, g.oh, g.ow, g.c], dtype: x.dtype }];
    },
    evaluate(n, ins) {
      const x = ins[0]!;
      const g = poolGeometry(n, x.shape, '');
      const incl = attrNum(n, 'countIncludePad', 0) !== 0;
      const out = new Float64Array(g.n * g.oh * g.ow * g.c);
      let o = 0;
      for (let nn = 0; nn < g.n; nn++)
        for (let oy = 0; oy < g.oh; oy++)
          for (let ox = 0; ox < g.ow; ox++)
            for (let c = 0; c < g.c; c++) {
              let acc = kind === 'max' ? -Infinity : 0;
              let cnt = 0, padded = 0;
              for (let ky = 0; ky < g.kh; ky++) {
                const iy = oy * g.sh - g.pad[0] + ky;
                for (let kx = 0; kx < g.kw; kx++) {
                  const ix = ox * g.sw - g.pad[1] + kx;
                  if (iy >= -g.pad[0] && iy < g.h + g.pad[2] && ix >= -g.pad[1] && ix < g.w + g.pad[3]) padded++;
                  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                  const v = x.data[((nn * g.h + iy) * g.w + ix) * g.c + c]!;
                  acc = kind === 'max' ? Math.max(acc, v) : acc + v;
                  cnt++;
                }
              }
              out[o++] = kind === 'max' ? acc : acc / (incl ? padded : cnt);
            }
      return [out];
    },
  };
}

const globalAvgPool: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    rank(n, x, 4, file, 'input');
    return [{ shape: [x.shape[0]!, 1, 1, x.shape[3]!], dtype: x.dtype }];
  },
  evaluate(_n, ins) {
    const x = ins[0]!;
    const [N, H, W, C] = x.shape as [number, number, number, number];
    const out = new Float64Array(N * C);
    for (let nn = 0; nn < N; nn++)
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let i = 0; i < H * W; i++) acc += x.data[(nn * H * W + i) * C + c]!;
        out[nn * C + c] = acc / (H * W);
      }
    return [out];
  },
};

// ---------- data movement ----------

export function reshapeTarget(n: Node, inShape: readonly number[], file: string): number[] {
  const spec = attrNums(n, 'shape', []);
  if (!Array.isArray(n.attrs.shape)) fail(file, n, `shape attribute is missing`);
  const total = numElements(inShape);
  const out = spec.map((d, i) => {
    if (d === 0) {
      if (i >= inShape.length) fail(file, n, `shape ${fmt(spec)}: 0 at axis ${i} has no input dim to copy (input ${fmt(inShape)})`);
      return inShape[i]!;
    }
    return d;
  });
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1 || out.some((d) => d < -1 || !Number.isInteger(d))) fail(file, n, `shape ${fmt(spec)} may hold one -1 and otherwise positive dims`);
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (neg === 1) {
    if (known === 0 || total % known !== 0) fail(file, n, `shape ${fmt(spec)} does not fit ${total} elements of input ${fmt(inShape)}`);
    out[out.indexOf(-1)] = total / known;
  }
  if (numElements(out) !== total) fail(file, n, `shape ${fmt(spec)} has ${numElements(out)} elements, input ${fmt(inShape)} has ${total}`);
  return out;
}

const reshape: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    return [{ shape: reshapeTarget(n, x.shape, file), dtype: x.dtype }];
  },
  evaluate: (_n, ins) => [ins[0]!.data.slice()],
};

const flatten: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    const r = x.shape.length;
    let axis = attrNum(n, 'axis', 1);
    if (axis < 0) axis += r;
    if (!Number.isInteger(axis) || axis < 0 || axis > r) fail(file, n, `axis ${attrNum(n, 'axis', 1)} is out of range for rank ${r}`);
    return [{ shape: [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))], dtype: x.dtype }];
  },
  evaluate: (_n, ins) => [ins[0]!.data.slice()],
};

export function transposePerm(n: Node, r: number, file: string): number[] {
  const def = Array.from({ length: r }, (_, i) => r - 1 - i);
  const perm = attrNums(n, 'perm', def);
  const seen = new Set(perm);
  if (perm.length !== r || seen.size !== r || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= r)) {
    fail(file, n, `perm ${fmt(perm)} is not a permutation of ${r} axes`);
  }
  return perm;
}

const transpose: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    const perm = transposePerm(n, x.shape.length, file);
    return [{ shape: perm.map((p) => x.shape[p]!), dtype: x.dtype }];
  },
  evaluate(n, ins, outs) {
    const x = ins[0]!;
    const perm = transposePerm(n, x.shape.length, '');
    const st = rowStrides(x.shape);
    return [gather(x.data, outs[0]!.shape, perm.map((p) => st[p]!), 0)];
  },
};

const concat: OpDef = {
  infer(n, ins, file) {
    if (ins.length < 1) fail(file, n, `needs at least one input`);
    const first = need(n, ins, 0, file, 'x0');
    const r = first.shape.length;
    const axis = normAxis(n, file, attrNum(n, 'axis', 0), r, 'axis');
    const shape = [...first.shape];
    for (let i = 1; i < ins.length; i++) {
      const t = need(n, ins, i, file, `x${i}`);
      if (t.dtype !== first.dtype) fail(file, n, `input ${i} dtype ${t.dtype} differs from ${first.dtype}`);
      if (t.shape.length !== r || t.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
        fail(file, n, `input ${i} shape ${fmt(t.shape)} does not match ${fmt(first.shape)} outside axis ${axis}`);
      }
      shape[axis]! += t.shape[axis]!;
    }
    return [{ shape, dtype: first.dtype }];
  },
  evaluate(n, ins, outs) {
    const shape = outs[0]!.shape;
    const axis = normAxis(n, '', attrNum(n, 'axis', 0), shape.length, 'axis');
    const outer = numElements(shape.slice(0, axis));
    const out = new Float64Array(numElements(shape));
    let o = 0;
    for (let i = 0; i < outer; i++)
      for (const x of ins) {
        const sz = numElements(x!.shape.slice(axis));
        out.set(x!.data.subarray(i * sz, (i + 1) * sz), o);
        o += sz;
      }
    return [out];
  },
};

const softmax: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    normAxis(n, file, attrNum(n, 'axis', -1), x.shape.length, 'axis');
    return same(ins);
  },
  evaluate(n, ins) {
    const x = ins[0]!;
    const axis = normAxis(n, '', attrNum(n, 'axis', -1), x.shape.length, 'axis');
    const outer = numElements(x.shape.slice(0, axis)), len = x.shape[axis]!, inner = numElements(x.shape.slice(axis + 1));
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * len + k) * inner + i;
        let m = -Infinity;
        for (let k = 0; k < len; k++) m = Math.max(m, x.data[at(k)]!);
        let s = 0;
        for (let k = 0; k < len; k++) { const e = Math.exp(x.data[at(k)]! - m); out[at(k)] = e; s += e; }
        for (let k = 0; k < len; k++) out[at(k)]! /= s;
      }
    return [out];
  },
};

function padsOf(n: Node, r: number, file: string): number[] {
  const pads = attrNums(n, 'pads', []);
  if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    fail(file, n, `pads must hold ${2 * r} non-negative integers (begins then ends), found ${JSON.stringify(n.attrs.pads)}`);
  }
  return pads;
}

const pad: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    const r = x.shape.length;
    const pads = padsOf(n, r, file);
    return [{ shape: x.shape.map((d, i) => d + pads[i]! + pads[i + r]!), dtype: x.dtype }];
  },
  evaluate(n, ins, outs) {
    const x = ins[0]!;
    const r = x.shape.length;
    const pads = padsOf(n, r, '');
    const shape = outs[0]!.shape;
    const out = new Float64Array(numElements(shape)).fill(attrNum(n, 'value', 0));
    const ost = rowStrides(shape);
    const idx = new Array<number>(r).fill(0);
    for (let i = 0; i < x.data.length; i++) {
      let o = 0;
      for (let k = 0; k < r; k++) o += (idx[k]! + pads[k]!) * ost[k]!;
      out[o] = x.data[i]!;
      for (let k = r - 1; k >= 0; k--) { if (++idx[k]! < x.shape[k]!) break; idx[k] = 0; }
    }
    return [out];
  },
};

export interface SliceGeometry { shape: number[]; starts: number[]; steps: number[] }

/** ONNX Slice semantics: negative indices count from the end, starts/ends clamp, per-axis steps. */
export function sliceGeometry(n: Node, inShape: readonly number[], file: string): SliceGeometry {
  const r = inShape.length;
  const starts = attrNums(n, 'starts', []), ends = attrNums(n, 'ends', []);
  const axes = attrNums(n, 'axes', starts.map((_, i) => i));
  const stepsA = attrNums(n, 'steps', starts.map(() => 1));
  if (ends.length !== starts.length || axes.length !== starts.length || stepsA.length !== starts.length) {
    fail(file, n, `starts, ends, axes and steps must have the same length, found ${starts.length}, ${ends.length}, ${axes.length}, ${stepsA.length}`);
  }
  const shape = [...inShape], st = inShape.map(() => 0), steps = inShape.map(() => 1);
  const seen = new Set<number>();
  starts.forEach((s0, i) => {
    const a = normAxis(n, file, axes[i]!, r, 'axes entry');
    if (seen.has(a)) fail(file, n, `axis ${a} is sliced twice`);
    seen.add(a);
    const d = inShape[a]!, step = stepsA[i]!;
    if (!Number.isInteger(step) || step === 0) fail(file, n, `steps[${i}] must be a non-zero integer, found ${step}`);
    let s = s0 < 0 ? s0 + d : s0, e = ends[i]! < 0 ? ends[i]! + d : ends[i]!;
    if (step > 0) { s = Math.min(Math.max(s, 0), d); e = Math.min(Math.max(e, 0), d); }
    else { s = Math.min(Math.max(s, 0), d - 1); e = Math.min(Math.max(e, -1), d - 1); }
    const len = Math.max(0, Math.ceil((e - s) / step));
    if (len < 1) fail(file, n, `axis ${a}: slice [${s0}:${ends[i]}:${step}] of dim ${d} is empty`);
    shape[a] = len; st[a] = s; steps[a] = step;
  });
  return { shape, starts: st, steps };
}

const slice: OpDef = {
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    return [{ shape: sliceGeometry(n, x.shape, file).shape, dtype: x.dtype }];
  },
  evaluate(n, ins) {
    const x = ins[0]!;
    const g = sliceGeometry(n, x.shape, '');
    const rs = rowStrides(x.shape);
    const offset = g.starts.reduce((p, s, k) => p + s * rs[k]!, 0);
    return [gather(x.data, g.shape, rs.map((s, k) => s * g.steps[k]!), offset)];
  },
};

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Quantize (float32 → int8), Dequantize (int8 → float32), Requantize (int8 → int8): same shape. */
function quantOp(from: DType | undefined, to: DType): OpDef {
  return {
    infer(n, ins, file) {
      const x = need(n, ins, 0, file, 'x');
      if (from && x.dtype !== from) fail(file, n, `input '${x.name}' must be ${from}, found ${x.dtype}`);
      return [{ shape: [...x.shape], dtype: to }];
    },
    evaluate(n) {
      // the scales live on the graph's tensors: evaluate() runs these through compiler/quantize/int-reference.ts
      throw new ModelError('', `node '${n.name}' (${n.op})`, `needs the graph's quant params; evaluate it with evaluate() on the graph`);
    },
  };
}

export const OPS: Record<OpType, OpDef> = {
  Conv2D: conv2d,
  Dense: dense,
  BatchNorm: batchNorm,
  Add: binary((a, b) => a + b, true),
  Sub: binary((a, b) => a - b, false),
  Mul: binary((a, b) => a * b, false),
  Div: binary((a, b) => a / b, false),
  Max: binary((a, b) => Math.max(a, b), false),
  Min: binary((a, b) => Math.min(a, b), false),
  PRelu: binary((a, b) => (a < 0 ? a * b : a), false, true),
  Relu: unary((v) => Math.max(v, 0)),
  Relu6: unary((v) => Math.min(Math.max(v, 0), 6)),
  Clip: unary((v, n) => Math.min(Math.max(v, attrNum(n, 'min', -Infinity)), attrNum(n, 'max', Infinity))),
  LeakyRelu: unary((v, n) => (v < 0 ? v * attrNum(n, 'alpha', 0.01) : v)),
  Sigmoid: unary(sigmoid),
  Tanh: unary(Math.tanh),
  Exp: unary(Math.exp),
  MaxPool: pool('max'),
  AvgPool: pool('avg'),
  GlobalAvgPool: globalAvgPool,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Concat: concat,
  Softmax: softmax,
  Pad: pad,
  Slice: slice,
  Quantize: quantOp('float32', 'int8'),
  Dequantize: quantOp('int8', 'float32'),
  Requantize: quantOp('int8', 'int8'),
};

/** Infers one node's outputs from the graph's current tensors. */
export function inferNode(g: Graph, n: Node): TypeInfo[] {
  const def = OPS[n.op];
  if (!def) throw new ModelError(g.source, `node '${n.name}'`, `unknown op '${n.op}'`);
  const ins = n.inputs.map((name, i) => {
    if (name === '') return undefined;
    const t = g.tensors.get(name);
    if (!t) throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `input ${i} '${name}' is not defined`);
    return t;
  });
  const outs = def.infer(n, ins, g.source);
  if (n.outputs.length !== outs.length) {
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `expected ${outs.length} output(s), found ${n.outputs.length}`);
  }
  return outs;
}

/** Float64 copy of a tensor's constant data. */
export function toFloat64(data: ArrayLike<number | bigint>): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
