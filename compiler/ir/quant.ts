// int8 facts of a graph's tensors (docs/quantization.md): the per-tensor scale and zero point of an int8
// activation, the output clamp of a fused activation, and the per-channel multipliers of a Conv2D/Dense.
// Used by the op files' integer references and by lowering, so both read one definition.
import { ModelError, type Graph, type Node, type QuantParams } from './graph.ts';
import { activationOf } from './ops/helpers.ts';
import {
  activationClamp,
  addFp32,
  addMultipliers,
  channelMultipliers,
  channelScalesF32,
  xnnpackAddMultipliers,
  type AddFp32,
  type ChannelRequant,
} from './requant.ts';

/** Per-tensor quant of an int8 activation (scale, zero point), with a clear error when absent. */
export function tensorQuant(g: Graph, name: string, n: Node): { scale: number; zp: number } {
  const q: QuantParams | undefined = g.tensors.get(name)?.quant;
  if (!q || q.scale.length < 1)
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 tensor '${name}' has no quant params`);
  const zp = q.zeroPoint[0] ?? 0;
  if (!Number.isInteger(zp) || zp < -128 || zp > 127)
    throw new ModelError(
      g.source,
      `node '${n.name}' (${n.op})`,
      `int8 tensor '${name}' has zero point ${zp}, expected an integer in [-128, 127]`,
    );
  if (!(q.scale[0]! > 0) || !Number.isFinite(q.scale[0]!))
    throw new ModelError(
      g.source,
      `node '${n.name}' (${n.op})`,
      `int8 tensor '${name}' has scale ${q.scale[0]}, expected a positive finite number`,
    );
  return { scale: q.scale[0]!, zp };
}

/**
 * Add_QS8's constants: edgec's (one shift for the larger ratio, mult in [2^30, 2^31)), or for a graph with XNNPACK's
 * arithmetic (int8Arithmetic 'tflite') the ones TFLite's interpreter uses (xnnpackAddMultipliers).
 */
export function addQs8Multipliers(g: Graph, sA: number, sB: number, sOut: number, what?: string) {
  const so = Math.fround(sOut);
  const ra = Math.fround(sA) / so,
    rb = Math.fround(sB) / so;
  const xnn = g.int8Arithmetic === 'tflite' ? xnnpackAddMultipliers(Math.fround(ra), Math.fround(rb)) : undefined;
  return xnn ?? addMultipliers(ra, rb, what);
}

/** Add on onnxruntime's arithmetic (its QLinearAdd, Add_QS8_FP32): a pre-quantised ONNX graph's Add (Sub keeps Add_QS8:
 *  onnxruntime runs DQ → Sub → Q unfused). */
export function ortAdd(g: Graph, n: Node): boolean {
  return g.int8Arithmetic === 'onnxruntime' && n.op === 'Add';
}

/** The Add_QS8 kernel's fast path takes these constants (its addSplitOk): shift in [17, 46] and both multipliers' high
 *  halves mh = (m − int16(m)) / 2^16 at most 2^15 − 1. */
export function addSplitOk(m: { multA: number; multB: number; shift: number }): boolean {
  const high = (v: number) => (v - ((v << 16) >> 16)) / 65536;
  return m.shift >= 17 && m.shift <= 46 && [m.multA, m.multB].every((v) => v >= 0 && v < 2 ** 31 && high(v) <= 32767);
}

type AddMults = { multA: number; multB: number; shift: number };

/** The shift of the Add_QS8 kernel's constant-shift row (addFoldOk). */
export const ADD_FOLD_SHIFT = 30;

/**
 * The Add_QS8 kernel's constant-shift row takes these constants (its addFoldOk; assembly/kernels/elementwise/
 * qs8-elementwise.ts has the proof): at shift 30 (a shift below it scaled up to it), multipliers ≥ 0 with high halves
 * ≤ 2^15 − 1 and not both low halves −2^15, K = 2^29 − zp_a·mult_a − zp_b·mult_b a multiple of 2^8 (the zero points
 * folded into one constant) and a'·mult_a + b'·mult_b + 2^29 + zp·2^30 in [−2^39, 2^39) over the code range. Float64
 * is exact: every term is an integer below 2^53.
 */
export function addFoldOk(m: AddMults, zpA: number, zpB: number, zp: number): boolean {
  if (!(m.shift >= 1 && m.shift <= ADD_FOLD_SHIFT) || !(m.multA >= 0 && m.multB >= 0)) return false;
  if (m.multA >= 2 ** 31 || m.multB >= 2 ** 31) return false;
  const fa = m.multA * 2 ** (ADD_FOLD_SHIFT - m.shift),
    fb = m.multB * 2 ** (ADD_FOLD_SHIFT - m.shift);
  if ((2 ** 29 - zpA * fa - zpB * fb) % 256 !== 0) return false;
  const low = (v: number) => (((v % 65536) + 98304) % 65536) - 32768;
  const high = (v: number) => (v - low(v)) / 65536;
  if (high(fa) > 32767 || high(fb) > 32767 || (low(fa) === -32768 && low(fb) === -32768)) return false;
  const lo = (-128 - zpA) * fa + (-128 - zpB) * fb + 2 ** 29 + zp * 2 ** 30,
    hi = (127 - zpA) * fa + (127 - zpB) * fb + 2 ** 29 + zp * 2 ** 30;
  return lo >= -(2 ** 39) && hi < 2 ** 39;
}

/**
 * An onnxruntime-arithmetic Add on Add_QS8's fixed point when that is proven to give Add_QS8_FP32's bytes: an int8 Add
 * is a function of its two input codes, so the 256 × 256 table of addFp32 (with the node's clamp) is compared entry by
 * entry with clamp(zp + (((a − zp_a)·mult_a + (b − zp_b)·mult_b + 2^(shift−1)) >> shift)): exact by exhaustion, not by
 * a bound. First constants the kernel's constant-shift row takes (addFoldOk: shift 30, the zero points folded into
 * one constant), those nearest addMultipliers' real multipliers at shift 30 that give every entry; else addMultipliers'
 * constants; where a pair differs, the nearest multipliers that give every entry (nearestFixedPoint: same shift and
 * rounding constant). Undefined when none does or the constants miss the kernel's fast path (addSplitOk): the caller
 * keeps Add_QS8_FP32. (No constants with mult < 2^15, a single `i32x4.dot_i16x8_s`, exist for MobileNetV2's Adds,
 * even with a free rounding constant: their smallest exact shift is 19–21, mult ≥ 2^18.)
 * Float64 is exact here: |sum| < 2^41 and the shift is a division by a power of two, floored.
 */
export function ortAddFixedPoint(
  a: { scale: number; zp: number },
  b: { scale: number; zp: number },
  out: { scale: number; zp: number },
  qMin: number,
  qMax: number,
): AddMults | undefined {
  const so = Math.fround(out.scale);
  let m: AddMults;
  try {
    m = addMultipliers(Math.fround(a.scale) / so, Math.fround(b.scale) / so);
  } catch {
    return undefined;
  }
  const k = addFp32Constants(a.scale, b.scale, out.scale, out.zp);
  // the table, row a' = a − zp_a (a = −128 … 127), column b' = b − zp_b
  const want = new Int8Array(65536);
  for (let qa = -128; qa < 128; qa++)
    for (let qb = -128; qb < 128; qb++)
      want[((qa + 128) << 8) | (qb + 128)] = addFp32(qa, qb, a.zp, b.zp, out.zp, k, qMin, qMax);
  const gives = (c: AddMults) => {
    if (!addSplitOk(c)) return false;
    const rnd = 2 ** (c.shift - 1),
      div = 2 ** c.shift;
    for (let i = 0; i < 65536; i++) {
      const v = Math.floor((((i >> 8) - 128 - a.zp) * c.multA + ((i & 255) - 128 - b.zp) * c.multB + rnd) / div);
      const y = v + out.zp < qMin ? qMin : v + out.zp > qMax ? qMax : v + out.zp;
      if (y !== want[i]) return false;
    }
    return true;
  };
  // first constants the kernel's constant-shift row takes (addFoldOk: one literal shift, the zero points folded),
  // nearest m's real multipliers at that shift; else m or the nearest to it
  const f = 2 ** (ADD_FOLD_SHIFT - m.shift);
  const m30 = { multA: Math.round(m.multA * f), multB: Math.round(m.multB * f), shift: ADD_FOLD_SHIFT };
  const foldOk = (c: AddMults) => addFoldOk(c, a.zp, b.zp, out.zp);
  if (foldOk(m30) && gives(m30)) return m30;
  // (K mod 2^8 first: most candidates fail it, and it needs no object)
  const fold = nearestFixedPoint(
    want,
    a.zp,
    b.zp,
    out.zp,
    qMin,
    qMax,
    m30,
    (multA, multB) =>
      (2 ** 29 - a.zp * multA - b.zp * multB) % 256 === 0 && foldOk({ multA, multB, shift: ADD_FOLD_SHIFT }),
  );
  if (fold && foldOk(fold) && gives(fold)) return fold;
  if (gives(m)) return m;
  const near = nearestFixedPoint(want, a.zp, b.zp, out.zp, qMin, qMax, m);
  return near && gives(near) ? near : undefined;
}

/**
 * The multipliers nearest m (least |Δmult_a| + |Δmult_b|) within a box of min(2^(shift−19), 4096) around it (2^−19 of
 * the real multiplier up to shift 31; the cap keeps the scan ≤ 8193 steps past it) whose fixed point gives `want` (a 256 × 256 table
 * as in ortAddFixedPoint), at m's shift and rounding constant; undefined when there are none. Each entry bounds
 * s = a'·mult_a + b'·mult_b + 2^(shift−1) to [lo, hi] (from the entry's value; one side open when it is a clamp
 * bound), a strip in the (mult_a, mult_b) plane. In that box a strip m lies 512·box or more inside holds anyway
 * (|a'|, |b'| ≤ 255), so only the others (~120 of 65 536 on MobileNetV2's Adds) are kept; then mult_a is tried
 * outward from m's, the strips giving mult_b's interval (its point nearest m's), until |Δmult_a| alone passes the best
 * found: exhaustive over the box. With `accept`, the nearest point it takes (for each mult_a the 513 mult_b nearest the
 * interval's point nearest m's: every residue mod 2^8 on each side). Float64 is exact: every term is an integer below
 * 2^53, and floor / ceil of a quotient by |b'| ≤ 255 are exact at that size. (onnxruntime's float rounding leans on
 * some scales: MobileNetV2's features.3 Add needs mult_b 186 above addMultipliers' at shift 31; features.9 and .16
 * have no such point.)
 */
function nearestFixedPoint(
  want: Int8Array,
  zpA: number,
  zpB: number,
  zp: number,
  qMin: number,
  qMax: number,
  m: AddMults,
  accept: (multA: number, multB: number) => boolean = () => true,
): AddMults | undefined {
  const one = 2 ** m.shift,
    rnd = 2 ** (m.shift - 1),
    box = Math.min(2 ** (m.shift - 19), 4096),
    near = 512 * box;
  // kept strips, as offsets (p, q) = mult − m's: lo ≤ a'·p + b'·q ≤ hi; the tightest first (a p outside them fails early)
  const kept: { x: number; y: number; lo: number; hi: number; slack: number }[] = [];
  for (let i = 0; i < 65536; i++) {
    const x = (i >> 8) - 128 - zpA,
      y = (i & 255) - 128 - zpB,
      t = want[i]! - zp;
    const s0 = x * m.multA + y * m.multB + rnd;
    const lo = want[i]! > qMin ? t * one - s0 : -Infinity,
      hi = want[i]! < qMax ? (t + 1) * one - 1 - s0 : Infinity;
    if (-lo < near || hi < near) kept.push({ x, y, lo, hi, slack: Math.min(-lo, hi) });
  }
  kept.sort((u, v) => u.slack - v.slack);
  // a strip m misses by 512·box or more stays missed in the box (and the scan would be long)
  if (kept.length && kept[0]!.slack <= -near) return undefined;
  const xs = Float64Array.from(kept, (k) => k.x),
    ys = Float64Array.from(kept, (k) => k.y),
    los = Float64Array.from(kept, (k) => k.lo),
    his = Float64Array.from(kept, (k) => k.hi);
  // p = 0, −1, 1, −2, 2, …, until |p| alone costs more than the best found
  let best: { p: number; q: number } | undefined;
  for (
    let p = 0;
    Math.abs(p) <= box && (!best || Math.abs(p) < Math.abs(best.p) + Math.abs(best.q));
    p = p > 0 ? -p : 1 - p
  ) {
    let qLo = -box,
      qHi = box;
    for (let j = 0; j < xs.length && qLo <= qHi; j++) {
      const y = ys[j]!,
        a = los[j]! - xs[j]! * p,
        b = his[j]! - xs[j]! * p;
      if (y === 0) {
        if (a > 0 || b < 0) qHi = qLo - 1;
      } else if (y > 0) ((qLo = Math.max(qLo, Math.ceil(a / y))), (qHi = Math.min(qHi, Math.floor(b / y))));
      else ((qLo = Math.max(qLo, Math.ceil(b / y))), (qHi = Math.min(qHi, Math.floor(a / y))));
    }
    if (qLo > qHi) continue;
    // the q in [qLo, qHi] nearest 0 that `accept` takes, among the 512 nearest (a residue mod 256 in each direction)
    const q0 = qLo > 0 ? qLo : qHi < 0 ? qHi : 0;
    let q: number | undefined;
    for (let d = 0; d <= 256 && q === undefined; d++)
      for (const c of d ? [q0 - d, q0 + d] : [q0])
        if (q === undefined && c >= qLo && c <= qHi && accept(m.multA + p, m.multB + c)) q = c;
    if (q === undefined) continue;
    if (!best || Math.abs(p) + Math.abs(q) < Math.abs(best.p) + Math.abs(best.q)) best = { p, q };
  }
  return best && { multA: m.multA + best.p, multB: m.multB + best.q, shift: m.shift };
}

/**
 * Add_QS8_FP32's constants: the three scales and the zero point onnxruntime rounds with, the uint8 one (int8 + 128) for
 * int8 and uint8 models alike: on x64 and in its wasm build onnxruntime turns every int8 QuantizeLinear →
 * DequantizeLinear pair into uint8 (its QDQS8ToU8Transformer) before it fuses DQ → Add → Q into QLinearAdd, whose
 * f32(v + zp) then has the uint8 zero point (measured: docs/quantization.md).
 */
export function addFp32Constants(sA: number, sB: number, sOut: number, zpOut: number): AddFp32 {
  const f = Math.fround;
  return { sA: f(sA), sB: f(sB), sOut: f(sOut), zr: zpOut + 128 };
}

/** Mul_QS8_FP32's scale, as XNNPACK's qs8 multiply (TFLite's int8 MUL) computes it: f32(f32(s_a·s_b) / s_out). */
export function mulQs8Scale(sA: number, sB: number, sOut: number, what = 'Mul'): number {
  const f = Math.fround;
  const scale = f(f(f(sA) * f(sB)) / f(sOut));
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`${what}: float32 scale ${scale} must be positive and finite`);
  return scale;
}

/** Output clamp of a node with a fused activation. */
export function nodeClamp(n: Node, sOut: number, zpOut: number): [number, number] {
  const a = activationOf(n);
  return activationClamp(a.kind, a.min, a.max, sOut, zpOut);
}

/** Whether Conv / Dense / depthwise requantise in float32 (the *_QS8_FP32 kernels): TFLite's and onnxruntime's
 *  arithmetic (Graph.int8Arithmetic), not edgec's own fixed point. */
export const floatRequant = (g: Graph): boolean => g.int8Arithmetic !== undefined;

export interface WeightedQs8 {
  zpIn: number;
  zpOut: number;
  qMin: number;
  qMax: number;
  /** Per output channel (weights' axis 0): fixed point, or float32 scales (floatRequant). */
  fp: ChannelRequant[];
}

/** Quant constants of an int8 Conv2D / Dense: zero points, clamp, and s_in·s_w[c] / s_out per channel. */
export function weightedQs8(g: Graph, n: Node, co: number): WeightedQs8 {
  const qi = tensorQuant(g, n.inputs[0]!, n),
    qo = tensorQuant(g, n.outputs[0]!, n);
  const wq = g.tensors.get(n.inputs[1]!)?.quant;
  if (!wq)
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 weights '${n.inputs[1]}' have no quant params`);
  const sW = wq.scale.length === 1 ? new Array<number>(co).fill(wq.scale[0]!) : wq.scale;
  const what = `node '${n.name}'`;
  const fp = floatRequant(g)
    ? channelScalesF32(qi.scale, sW, qo.scale, what)
    : channelMultipliers(qi.scale, sW, qo.scale, what);
  const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
  return { zpIn: qi.zp, zpOut: qo.zp, qMin, qMax, fp };
}

/**
 * The int32 accumulator bound of one Conv2D/Dense output channel, enforced by the lowering and met by the
 * quantize pass's dead-channel rule (quantize/params.ts): every partial sum |bias − zp_in·Σw| + 128·Σ|w|
 * (zero point folded) and |bias| + 255·Σ|w| (the reference twins' (x − zp)·w) stays below 2^31.
 * `sumW` / `sumAbsW` are over the channel's int8 weights.
 */
export function accumulatorFits(bias: number, zpIn: number, sumW: number, sumAbsW: number): boolean {
  return Math.abs(bias - zpIn * sumW) + 128 * sumAbsW < 2 ** 31 && Math.abs(bias) + 255 * sumAbsW < 2 ** 31;
}
