// cancel-transposes: Transpose∘Transpose merges into one (removed when the composition is the
// identity, as for the ONNX importer's NCHW↔NHWC pairs); an identity Transpose is removed; a
// Transpose feeding an elementwise op (unary; binary with a constant or a same-perm Transpose) whose
// result is transposed again moves after that op, so the pair meets and cancels; a Transpose →
// Reshape [N,K] → Dense permutes the weights instead.
import type { Node } from '../ir/graph.ts';
import { gather, rowStrides } from '../ir/ops/helpers.ts';
import { transposePerm } from '../ir/ops/transpose.ts';
import { GraphEdit, constF64, type Pass } from './util.ts';

const ELEMENTWISE = new Set(['Relu', 'Relu6', 'Clip', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Exp']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'PRelu']);
const inverse = (p: number[]) => {
  const q = new Array<number>(p.length);
  p.forEach((v, i) => {
    q[v] = i;
  });
  return q;
};
const isIdentity = (p: number[]) => p.every((v, i) => v === i);

export const cancelTransposes: Pass = {
  name: 'cancel-transposes',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const t2 of g.nodes) {
      if (t2.op !== 'Transpose' || !e.isLive(t2)) continue;
      const x = t2.inputs[0]!;
      const p2 = transposePerm(t2, g.tensors.get(x)!.shape.length, g.source);
      const t1 = e.producer(x);
      if (t1?.op === 'Transpose') {
        const p1 = transposePerm(t1, g.tensors.get(t1.inputs[0]!)!.shape.length, g.source);
        e.setInput(t2, 0, t1.inputs[0]!);
        t2.attrs = { ...t2.attrs, perm: p2.map((i) => p1[i]!) };
        if (!e.isRead(x)) {
          e.remove(t1);
          g.tensors.delete(x);
        }
        changed = true;
      }
      const perm = transposePerm(t2, g.tensors.get(t2.inputs[0]!)!.shape.length, g.source);
      if (isIdentity(perm) && e.bypass(t2, t2.inputs[0]!, t2.outputs[0]!)) {
        changed = true;
        continue;
      }
      if (absorbIntoDense(e, t2, perm)) {
        changed = true;
        continue;
      }
      // push t2 (as t1 of a later pair) through a following elementwise op that feeds another Transpose
      while (pushThrough(e, t2, perm)) changed = true;
    }
    e.commit();
    return changed;
  },
};

/**
 * Transpose (batch axis kept) → Reshape to [N, K] → Dense with constant weights: the transpose
 * only reorders each row's K features, so the Dense weight columns are permuted instead
 * (ONNX NCHW flatten before a Gemm, on NHWC data).
 */
function absorbIntoDense(e: GraphEdit, t: Node, perm: number[]): boolean {
  const g = e.g;
  const tOut = t.outputs[0]!;
  const r = e.consumers(tOut)[0];
  if (perm[0] !== 0 || !r || r.op !== 'Reshape' || !e.singleUse(tOut)) return false;
  const rOut = r.outputs[0]!;
  const d = e.consumers(rOut)[0];
  const x = g.tensors.get(t.inputs[0]!)!;
  const rs = g.tensors.get(rOut)!.shape;
  if (!d || d.op !== 'Dense' || d.inputs[0] !== rOut || !e.singleUse(rOut) || rs.length !== 2 || rs[0] !== x.shape[0])
    return false;
  const w = g.tensors.get(d.inputs[1]!);
  if (!w?.data || d.inputs[1] === rOut) return false;
  const [n, k] = w.shape as [number, number];
  const inner = x.shape.slice(1),
    tShape = perm.slice(1).map((p) => x.shape[p]!);
  const tStrides = rowStrides(tShape);
  // x's row-major feature j sits at transposed feature src[j]
  const src = new Int32Array(k),
    idx = new Array<number>(inner.length).fill(0);
  for (let j = 0; j < k; j++) {
    let f = 0;
    for (let a = 0; a < tShape.length; a++) f += idx[perm[a + 1]! - 1]! * tStrides[a]!;
    src[j] = f;
    for (let a = inner.length - 1; a >= 0; a--) {
      if (++idx[a]! < inner[a]!) break;
      idx[a] = 0;
    }
  }
  const wd = constF64(w),
    nw = new Float32Array(n * k);
  for (let o = 0; o < n; o++) for (let j = 0; j < k; j++) nw[o * k + j] = wd[o * k + src[j]!]!;
  e.setInput(d, 1, e.addConstant(`${w.name}_nhwc`, [n, k], nw));
  // only the input axis moved: per-output-channel quantisation params (pre-quantised weights) still hold
  if (w.quant) g.tensors.get(d.inputs[1]!)!.quant = w.quant;
  e.setInput(r, 0, t.inputs[0]!);
  e.remove(t);
  g.tensors.delete(tOut);
  return true;
}

/**
 * t → u → Transpose, u elementwise: u runs on t's input instead and t moves after it. For a binary
 * u the other operand must be a constant (transposed back here) or a Transpose with the same perm.
 */
function pushThrough(e: GraphEdit, t: Node, perm: number[]): boolean {
  const g = e.g;
  const out = t.outputs[0]!;
  const u = e.consumers(out)[0];
  if (!u || !e.singleUse(out)) return false;
  const uOut = u.outputs[0]!;
  if (!reachesTranspose(e, uOut)) return false;
  const src = t.inputs[0]!;
  const inv = inverse(perm);
  const outT = g.tensors.get(uOut)!;
  let newInputs: string[];
  if (ELEMENTWISE.has(u.op)) {
    newInputs = [src];
  } else if (BINARY.has(u.op)) {
    const k = u.inputs.indexOf(out);
    if (u.op === 'PRelu' && k !== 0) return false;
    const other = u.inputs[1 - k]!;
    const ot = g.tensors.get(other)!;
    let moved: string;
    if (ot.data) {
      if (ot.shape.length > perm.length) return false;
      const ext = [...new Array<number>(perm.length - ot.shape.length).fill(1), ...ot.shape];
      const st = rowStrides(ext);
      const shape = inv.map((a) => ext[a]!);
      const data = gather(
        constF64(ot),
        shape,
        inv.map((a) => st[a]!),
        0,
      );
      moved = e.addConstant(`${other}_t`, shape, Float32Array.from(data));
    } else {
      const t3 = e.producer(other);
      if (t3?.op !== 'Transpose' || !e.singleUse(other)) return false;
      const p3 = transposePerm(t3, g.tensors.get(t3.inputs[0]!)!.shape.length, g.source);
      if (p3.join() !== perm.join()) return false;
      moved = t3.inputs[0]!;
      e.remove(t3);
      g.tensors.delete(other);
    }
    newInputs = k === 0 ? [src, moved] : [moved, src];
  } else {
    return false;
  }
  const pre = e.addTensor(`${u.name}_pre`, { shape: inv.map((a) => outT.shape[a]!), dtype: outT.dtype });
  e.setInputs(u, newInputs);
  e.setOutputs(u, [pre]);
  e.setInputs(t, [pre]);
  e.setOutputs(t, [uOut]);
  g.tensors.delete(out);
  e.remove(t);
  e.insertAfter(u, t);
  return true;
}

/** Whether a chain of single-consumer elementwise ops from `name` ends in a Transpose (worth pushing). */
function reachesTranspose(e: GraphEdit, name: string): boolean {
  for (let hops = 0; hops < 64; hops++) {
    const next = e.consumers(name);
    if (next.length !== 1 || e.outputs.has(name)) return false;
    const n = next[0]!;
    if (n.op === 'Transpose') return true;
    if (!ELEMENTWISE.has(n.op) && !BINARY.has(n.op)) return false;
    name = n.outputs[0]!;
  }
  return false;
}
