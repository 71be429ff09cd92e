// Distillation loss terms beside the soft-target loss (docs/distillation.md), as ExtraLoss terms of
// buildTrainingGraph: FitNets hints (a student feature, through a learned 1×1 regressor when the channel
// counts differ, against a teacher feature average-pooled to the student's spatial size; MSE) and
// relational KD (RkdDistance / RkdAngle over the batch's embeddings). Teacher features are graph inputs the
// host feeds from the teacher's run. The regressor is an ordinary Conv2D / Dense added to the student's
// forward graph, so it trains like any layer and is dropped again when the student is written out.
import { ModelError, type Graph, type Node } from '../ir/graph.ts';
import { cloneGraph } from '../compile.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import type { ExtraLoss } from './training-graph.ts';

export interface HintSpec {
  /** The student tensor (a node's first output) and what the teacher input is called (e.g. its node name). */
  student: string;
  teacher: string;
  /** The teacher feature's shape, batch first: NHWC [B,H,W,C] or [B,D], of the student's rank. */
  teacherShape: number[];
  weight: number;
}

export interface PreparedHints {
  /** The student's forward graph plus the regressors (nodes named `hint/<teacher>/regressor`). */
  graph: Graph;
  losses: ExtraLoss[];
  /** Names of the nodes added (strip them when the student is written out). */
  regressors: string[];
}

/** Seeded uniform(−a, a) (Xavier/Glorot: a = sqrt(6 / (fan_in + fan_out))), mulberry32. */
function xavier(n: number, fanIn: number, fanOut: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1) * a;
  });
}

/**
 * Adds a regressor per hint whose channel counts differ and returns the hint terms. Spatial sizes: equal, or
 * the teacher's an integer multiple of the student's per axis (the teacher feature is average-pooled down);
 * anything else is refused naming the hint — upsampling a student feature would invent detail it lacks.
 */
export function prepareHints(fwd: Graph, hints: HintSpec[], seed = 1): PreparedHints {
  const g = cloneGraph(fwd);
  const losses: ExtraLoss[] = [],
    regressors: string[] = [];
  hints.forEach((h, k) => {
    const where = `hint '${h.teacher}:${h.student}'`;
    const bad = (d: string): never => {
      throw new ModelError(fwd.source, where, d);
    };
    const st = g.tensors.get(h.student) ?? bad(`student tensor '${h.student}' is not in the student graph`);
    const s = st.shape,
      t = h.teacherShape;
    if (st.dtype !== 'float32') bad(`student feature must be float32, found ${st.dtype}`);
    if (s.length !== t.length || (s.length !== 2 && s.length !== 4))
      bad(`teacher feature [${t}] and student feature [${s}] must both be [B,D] or NHWC [B,H,W,C]`);
    if (s[0] !== t[0]) bad(`teacher feature [${t}] and student feature [${s}] differ in batch size`);
    if (!(h.weight > 0)) bad(`weight must be > 0, found ${h.weight}`);
    let pool: [number, number] | undefined;
    if (s.length === 4) {
      const [fh, fw] = [t[1]! / s[1]!, t[2]! / s[2]!];
      if (!Number.isInteger(fh) || !Number.isInteger(fw)) {
        bad(
          `teacher feature ${t[1]}x${t[2]} is not an integer multiple of the student's ${s[1]}x${s[2]}; pick features whose sizes divide`,
        );
      }
      if (fh > 1 || fw > 1) pool = [fh, fw];
    }
    const cs = s[s.length - 1]!,
      ct = t[t.length - 1]!;
    let read = h.student;
    if (cs !== ct) {
      const name = `hint/${h.teacher}/regressor`;
      if (g.nodes.some((n) => n.name === name)) bad('is given twice');
      const w = `${name}:w`,
        b = `${name}:b`;
      const wShape = s.length === 4 ? [ct, 1, 1, cs] : [ct, cs];
      g.tensors.set(w, { name: w, dtype: 'float32', shape: wShape, data: xavier(ct * cs, cs, ct, seed + 7919 * k) });
      g.tensors.set(b, { name: b, dtype: 'float32', shape: [ct], data: new Float32Array(ct) });
      const node: Node = {
        name,
        op: s.length === 4 ? 'Conv2D' : 'Dense',
        inputs: [h.student, w, b],
        outputs: [`${name}:y`],
        attrs: {},
      };
      g.nodes.push(node);
      regressors.push(name);
      read = node.outputs[0]!;
    }
    losses.push({
      name: `hint:${h.teacher}`,
      reads: [read],
      weight: h.weight,
      build(lb) {
        // the batch of the graph being built (a shard's may be smaller than the one prepared for)
        let target = lb.input(`teacher:${h.teacher}`, 'float32', [lb.shape(read)[0]!, ...t.slice(1)]);
        if (pool) target = lb.add('AvgPool', [target], { kernel: [...pool], strides: [...pool], padding: 'valid' })[0]!;
        const [loss, d] = lb.add('MseLoss', [read, target], {}, 2) as [string, string];
        return { loss, grads: [d] };
      },
    });
  });
  inferShapes.run(g);
  return { graph: g, losses, regressors };
}

export type RelationalKind = 'distance' | 'angle';

/**
 * Relational KD terms over the student embedding `student` ([B,D], e.g. the penultimate layer's output) and a
 * teacher embedding input [B,E] named `teacher:<teacher>` (shared by both terms).
 */
export function relationalLosses(
  student: string,
  teacher: string,
  teacherShape: number[],
  kinds: { kind: RelationalKind; weight: number }[],
): ExtraLoss[] {
  // one input per graph built (a sharded plan builds the same terms into two graphs)
  const inputs = new WeakMap<object, string>();
  return kinds.map(({ kind, weight }) => ({
    name: `rkd-${kind}`,
    reads: [student],
    weight,
    build(lb) {
      const key = lb.input;
      const input =
        inputs.get(key) ?? lb.input(`teacher:${teacher}`, 'float32', [lb.shape(student)[0]!, ...teacherShape.slice(1)]);
      inputs.set(key, input);
      const [loss, d] = lb.add(kind === 'distance' ? 'RkdDistance' : 'RkdAngle', [student, input], {}, 2) as [
        string,
        string,
      ];
      return { loss, grads: [d] };
    },
  }));
}

/** The teacher input of classRangeKd: the teacher's logits of the classes [from, to). */
export const OLD_CLASSES_INPUT = 'teacher:old-classes';

/**
 * Soft-target KD over the classes [from, to) only — continual distillation's old task (iCaRL-style): the previous
 * model's distribution renormalised over its own classes, T²·KL(softmax(t/T) ‖ softmax(s[:, from:to]/T)), with t the
 * input `teacher:old-classes` [B, to − from]. Images of new classes then teach the old classes' relations without
 * pulling probability away from their new label. Gradient: KlDivergence's on the slice, Pad-ded with zeros to
 * every class.
 */
export function classRangeKd(logits: string, from: number, to: number, temperature: number, weight: number): ExtraLoss {
  return {
    name: 'kd-old',
    reads: [logits],
    weight,
    build(lb) {
      const [b, classes] = lb.shape(logits) as [number, number];
      const s = lb.add('Slice', [logits], { starts: [from], ends: [to], axes: [1] })[0]!;
      const t = lb.input(OLD_CLASSES_INPUT, 'float32', [b, to - from]);
      const [loss, d] = lb.add('KlDivergence', [s, t], { temperature }, 2) as [string, string];
      const full = lb.add('Pad', [d], { pads: [0, from, 0, classes - to] })[0]!;
      return { loss, grads: [full] };
    },
  };
}
