// Reverse-mode differentiation as an IR → IR transform: buildTrainingGraph(forward) returns a graph
// whose one run is one training step — the forward nodes, the loss, the backward nodes each op's
// gradient rule (the `grad` slot of compiler/ir/ops/<op>.ts) emits in reverse topological order (fan-out gradients
// summed in the order their consumers were visited), then one optimiser update per trained weight.
// Trained weights and optimiser moments become Graph.state: no constants any more, updated in place
// by the wasm, read and written by the host by name. Inputs: x, labels (int32 [B]), lr (float32 [1],
// so host-side schedules need no new bundle). Outputs: loss ([1], batch mean) and the logits.
import { ModelError, numElements, type Attrs, type Graph, type Node, type OpType, type Tensor } from '../ir/graph.ts';
import { inferNode, OPS } from '../ir/ops/index.ts';
import { toFloat64 } from '../ir/ops/helpers.ts';
import type { GradBuilder, OpDef } from '../ir/ops/op-def.ts';
import { cloneGraph } from '../compile.ts';
import { inferShapes } from '../passes/infer-shapes.ts';

export interface SgdOptions {
  kind: 'sgd';
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}
/** PyTorch's Adam (L2 weight decay into the gradient, default 0) and AdamW (decoupled, default 0.01). */
export interface AdamOptions {
  kind: 'adam' | 'adamw';
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}
export type OptimizerOptions = SgdOptions | AdamOptions;

/**
 * softmax-cross-entropy: int32 class labels [B]; mse: float32 targets shaped like the output; kl: float32
 * teacher logits [B,N], loss T²·KL(softmax(teacher/T) ‖ softmax(student/T)) (distillation).
 */
export type LossOptions =
  | { kind: 'softmax-cross-entropy'; labelSmoothing?: number; /** the term's weight (default 1) */ weight?: number }
  | { kind: 'mse' }
  | { kind: 'kl'; temperature?: number }
  | KdLoss;

/**
 * Soft-target distillation as Hinton et al. write it: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y).
 * Inputs: teacher logits [B,N] (TrainingGraph.labels) and, when α < 1, int32 labels (hardLabels); α = 1 is
 * data-only distillation (no labels input). α in (0, 1], default 1; T default 1.
 */
export interface KdLoss {
  kind: 'kd';
  temperature?: number;
  alpha?: number;
  labelSmoothing?: number;
  /** Both terms' weight (default 1): α·w and (1 − α)·w (branched students weight each exit, docs/distillation.md). */
  weight?: number;
}

/** Where an extra loss term writes its nodes: the gradient builder plus new graph inputs the host feeds. */
export interface LossBuilder extends GradBuilder {
  input(base: string, dtype: 'float32' | 'int32', shape: number[]): string;
}

/**
 * A loss term beside the main loss (distillation hints and relational losses, compiler/train/distill-loss.ts):
 * total loss += weight · term; the term's gradients seed the backward pass at the forward tensors it reads.
 */
export interface ExtraLoss {
  /** What the report calls the term (default `extra<k>`). */
  name?: string;
  /** Forward tensors the term differentiates, in the order `build` returns their gradients. */
  reads: string[];
  weight: number;
  /** Emits the term's nodes; returns its loss [1] and the unweighted dL/d(read) for every read. */
  build(b: LossBuilder): { loss: string; grads: string[] };
}

export interface TrainingOptions {
  loss?: LossOptions;
  optimizer?: OptimizerOptions;
  /** Clip the gradients to this global L2 norm (PyTorch's clip_grad_norm_) before the update. */
  clipNorm?: number;
  /** Node names whose weights stay fixed (gradients still flow through them); a BatchNorm named here is frozen. */
  frozen?: string[];
  /** Loss terms added to the main loss (distillation). */
  extraLosses?: ExtraLoss[];
  /**
   * With more than one term: every weighted term becomes an output after [loss, logits] (TrainingGraph.terms),
   * so a report can split the loss. Off by default: a plain training graph keeps its two outputs.
   */
  termOutputs?: boolean;
  /**
   * 'train' (default): every BatchNorm normalises with the batch's statistics, updates its running mean/var
   * (state) and trains gamma/beta. 'frozen': BatchNorm is the fixed affine of its running statistics (the fold
   * pass's x·s + shift), nothing of it trains or updates.
   */
  batchNorm?: 'train' | 'frozen';
  /** PyTorch's BatchNorm momentum: running = (1 − m)·running + m·batch statistic. Default 0.1. */
  batchNormMomentum?: number;
}

export interface TrainingGraph {
  graph: Graph;
  /** Trained weights (state names = the forward graph's tensor names, IR layout). */
  params: string[];
  /** BatchNorm running means and variances updated by each step (state; the forward graph's tensor names). */
  runningStats: string[];
  /** Optimiser moments by weight (state names). */
  moments: Map<string, string[]>;
  x: string;
  /** The loss target input: class labels, regression targets or teacher logits (see LossOptions). */
  labels: string;
  /** kd with α < 1: the int32 class labels of its cross-entropy term. */
  hardLabels?: string;
  /** Every input the host feeds besides x, lr and step, in graph order (labels first, then the extra terms'). */
  targets: string[];
  lr: string;
  /** Adam / AdamW: the 1-based step number input (float32 [1]) its bias corrections use. */
  step?: string;
  loss: string;
  logits: string;
  /** termOutputs: the weighted terms' names ('ce', 'mse', 'kl', 'kd', 'hint:<t>', …) and outputs; sum = loss. */
  terms: { name: string; output: string }[];
}

/** Weight inputs a node may train: Dense / Conv2D weights and bias, BatchNormTrain gamma and beta (FakeQuantWeight /
 * FakeQuantBias: the tensor they quantise). */
const WEIGHT_SLOTS: Partial<Record<OpType, number[]>> = {
  Dense: [1, 2],
  Conv2D: [1, 2],
  BatchNormTrain: [1, 2],
  FakeQuantWeight: [0],
  FakeQuantBias: [0],
};

/**
 * The forward graph with batch size `batch` in the first axis of its one input, shapes re-inferred. Exported
 * models often hard-code their batch in Reshape targets ([1,64] after a global pool, the NCHW → NHWC reshape of a
 * 1-channel input): a Reshape of a batch-carrying tensor whose target's first dim is the old batch gets the new
 * one. Every tensor computed from the input must then hold the batch in axis 0; a node whose output does not
 * (a Reshape or Flatten that folds the batch into another axis) is refused by name.
 */
export function withBatch(g: Graph, batch: number): Graph {
  const c = cloneGraph(g);
  if (c.inputs.length !== 1)
    throw new ModelError(g.source, 'graph', `training needs exactly one input, found ${c.inputs.length}`);
  if (!(Number.isInteger(batch) && batch >= 1))
    throw new ModelError(g.source, 'batch', `must be a positive integer, found ${batch}`);
  // model.json and some ONNX files carry no intermediate shapes: the batch-carrying Reshapes are found by them
  inferShapes.run(c);
  const x = c.tensors.get(c.inputs[0]!)!;
  const old = x.shape[0];
  if (old === undefined) throw new ModelError(g.source, `input '${x.name}'`, 'has rank 0: no batch axis');
  // tensors computed from the input (the batch-carrying ones), in node order
  const carries = new Set<string>([x.name]);
  for (const n of c.nodes) if (n.inputs.some((i) => carries.has(i))) n.outputs.forEach((o) => carries.add(o));
  for (const n of c.nodes) {
    if (n.op !== 'Reshape' || !carries.has(n.inputs[0]!) || !Array.isArray(n.attrs.shape)) continue;
    const spec = n.attrs.shape as number[];
    if (spec[0] === old && c.tensors.get(n.inputs[0]!)?.shape[0] === old) n.attrs.shape = [batch, ...spec.slice(1)];
  }
  x.shape = [batch, ...x.shape.slice(1)];
  // node by node, so the first node that loses the batch is the one named
  for (const n of c.nodes) {
    inferNode(c, n).forEach(({ shape, dtype }, i) => {
      const o = n.outputs[i]!;
      const t = c.tensors.get(o) ?? { name: o, shape, dtype };
      c.tensors.set(o, Object.assign(t, { shape, dtype }));
      if (carries.has(t.name) && shape[0] !== batch) {
        throw new ModelError(
          g.source,
          `node '${n.name}' (${n.op})`,
          `output ${fmtShape(shape)} does not keep the batch in axis 0, so the batch cannot become ${batch} (it was ${old})`,
        );
      }
    });
  }
  return c;
}

const fmtShape = (s: readonly number[]) => `[${s.join(',')}]`;

export function buildTrainingGraph(model: Graph, opts: TrainingOptions = {}): TrainingGraph {
  const err = (where: string, d: string): never => {
    throw new ModelError(model.source, where, d);
  };
  if (model.inputs.length !== 1) err('graph', `training needs exactly one input, found ${model.inputs.length}`);
  if (model.outputs.length !== 1)
    err('graph', `training needs exactly one output (the logits), found ${model.outputs.length}`);
  const opt = opts.optimizer ?? { kind: 'sgd' };
  const loss = opts.loss ?? { kind: 'softmax-cross-entropy' };
  const frozen = new Set(opts.frozen ?? []);
  for (const f of frozen) if (!model.nodes.some((n) => n.name === f)) err(`frozen node '${f}'`, 'is not in the graph');
  const { graph: fwd, runningStats } = rewriteBatchNorms(model, frozen, opts);

  // A trailing Softmax is the classifier's output; the classification losses take its input (the logits).
  let nodes = fwd.nodes;
  let logits = fwd.outputs[0]!;
  const last = nodes.find((n) => n.outputs.includes(logits));
  const alpha = loss.kind === 'kd' ? (loss.alpha ?? 1) : 1;
  if (!(alpha > 0 && alpha <= 1)) err('loss', `alpha must be in (0, 1], found ${alpha}`);
  if (last?.op === 'Softmax' && loss.kind !== 'mse') {
    const r = fwd.tensors.get(logits)!.shape.length;
    const axis = typeof last.attrs.axis === 'number' ? last.attrs.axis : -1;
    if (axis !== -1 && axis !== r - 1)
      err(
        `node '${last.name}' (Softmax)`,
        `a final softmax must run over the last axis to be read as class probabilities`,
      );
    logits = last.inputs[0]!;
    nodes = nodes.filter((n) => n !== last);
  }
  const lt = fwd.tensors.get(logits)!;
  if (lt.dtype !== 'float32' || (loss.kind !== 'mse' && lt.shape.length !== 2)) {
    err(`output '${logits}'`, `the logits must be float32 [batch, classes], found ${lt.dtype}[${lt.shape}]`);
  }

  // trained weights: float32 constants in weight slots of nodes that are not frozen
  const params: string[] = [];
  for (const n of nodes) {
    if (frozen.has(n.name)) continue;
    for (const k of WEIGHT_SLOTS[n.op] ?? []) {
      const name = n.inputs[k];
      const t = name ? fwd.tensors.get(name) : undefined;
      if (t?.data && t.dtype === 'float32' && !params.includes(name!)) params.push(name!);
    }
  }
  if (params.length === 0)
    err('graph', 'has no weights to train (every Dense / Conv2D / BatchNorm is frozen or has none)');
  const paramSet = new Set(params);
  const shared = nodes.flatMap((n) => n.inputs.filter((i) => paramSet.has(i) && frozen.has(n.name)));
  if (shared.length > 0) err(`tensor '${shared[0]}'`, 'is a weight of both a frozen and a trained node');

  // nodes on a path from a trained weight to the logits need a gradient rule
  const wants = new Set<string>(params);
  for (const n of nodes) if (n.inputs.some((i) => wants.has(i))) n.outputs.forEach((o) => wants.add(o));
  const extras = opts.extraLosses ?? [];
  for (const r of extras.flatMap((e) => e.reads))
    if (!fwd.tensors.has(r)) err(`tensor '${r}'`, 'is read by a loss term but is not in the graph');
  const reaches = new Set<string>([logits, ...extras.flatMap((e) => e.reads)]);
  for (const n of [...nodes].reverse())
    if (n.outputs.some((o) => reaches.has(o))) n.inputs.forEach((i) => reaches.add(i));
  const active = nodes.filter((n) => n.outputs.some((o) => wants.has(o) && reaches.has(o)));
  for (const n of active) {
    if (!(OPS[n.op] as OpDef).grad)
      err(
        `node '${n.name}' (${n.op})`,
        `has no gradient rule, so nothing before it can train; freeze the nodes before it (--freeze)`,
      );
  }

  const g: Graph = {
    name: `${fwd.name}:train`,
    tensors: new Map(
      [...fwd.tensors].map(([k, t]) => [
        k,
        paramSet.has(k) || runningStats.includes(k)
          ? { name: k, dtype: t.dtype, shape: [...t.shape] }
          : { ...t, shape: [...t.shape] },
      ]),
    ),
    nodes: nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: structuredClone(n.attrs),
    })),
    inputs: [...fwd.inputs],
    outputs: [],
    source: fwd.source,
    // the forward graph's own state (fake-quant ranges) first, then the trained weights and BatchNorm running statistics
    state: new Map([
      ...(fwd.state ?? []),
      ...[...params, ...runningStats].map((p): [string, Float32Array] => [p, f32(fwd.tensors.get(p)!)]),
    ]),
  };
  const x = g.inputs[0]!;
  const fresh = (base: string) => {
    let k = 0,
      name = base;
    while (g.tensors.has(name) || g.nodes.some((n) => n.name === name)) name = `${base}#${++k}`;
    return name;
  };
  const addInput = (name: string, t: Omit<Tensor, 'name'>) => {
    const n = fresh(name);
    g.tensors.set(n, { name: n, ...t });
    g.inputs.push(n);
    return n;
  };
  const labels =
    loss.kind === 'softmax-cross-entropy'
      ? addInput('labels', { dtype: 'int32', shape: [lt.shape[0]!] })
      : addInput(loss.kind === 'mse' ? 'targets' : 'teacher', { dtype: 'float32', shape: [...lt.shape] });
  const hardLabels =
    loss.kind === 'kd' && alpha < 1 ? addInput('labels', { dtype: 'int32', shape: [lt.shape[0]!] }) : undefined;
  const lr = addInput('lr', { dtype: 'float32', shape: [1] });
  const step = opt.kind === 'sgd' ? undefined : addInput('step', { dtype: 'float32', shape: [1] });

  let prefix = '';
  const add = (op: OpType, inputs: string[], attrs: Attrs = {}, outputs = 1): string[] => {
    const name = fresh(`${prefix}${op}`);
    const node: Node = {
      name,
      op,
      inputs,
      outputs: Array.from({ length: outputs }, (_, i) => fresh(`${name}:${i}`)),
      attrs,
    };
    const outs = inferNode(g, node);
    node.outputs.forEach((o, i) => g.tensors.set(o, { name: o, ...outs[i]! }));
    g.nodes.push(node);
    return node.outputs;
  };
  const builder: GradBuilder = {
    add,
    shape: (name) => g.tensors.get(name)!.shape,
    wants: (name) => wants.has(name),
    constant(base, shape, data) {
      const name = fresh(`${prefix}${base}`);
      g.tensors.set(name, { name, dtype: 'float32', shape, data });
      return name;
    },
  };

  // loss terms: total = Σ weight·loss in order (main loss first); each term's weighted gradients seed the backward
  prefix = 'loss/';
  const terms: { name: string; loss: string; weight: number; seeds: [string, string][] }[] = [];
  const term = (name: string, weight: number, lossGrad: string[], at: string[]) =>
    terms.push({ name, loss: lossGrad[0]!, weight, seeds: at.map((t, i) => [t, lossGrad[i + 1]!]) });
  if (loss.kind === 'softmax-cross-entropy')
    term(
      'ce',
      loss.weight ?? 1,
      add('SoftmaxCrossEntropy', [logits, labels], { labelSmoothing: loss.labelSmoothing ?? 0 }, 2),
      [logits],
    );
  else if (loss.kind === 'mse') term('mse', 1, add('MseLoss', [logits, labels], {}, 2), [logits]);
  else {
    const w = loss.kind === 'kd' ? (loss.weight ?? 1) : 1;
    term(loss.kind, alpha * w, add('KlDivergence', [logits, labels], { temperature: loss.temperature ?? 1 }, 2), [
      logits,
    ]);
    if (hardLabels)
      term(
        'ce',
        (1 - alpha) * w,
        add(
          'SoftmaxCrossEntropy',
          [logits, hardLabels],
          { labelSmoothing: (loss.kind === 'kd' && loss.labelSmoothing) || 0 },
          2,
        ),
        [logits],
      );
  }
  const lossBuilder: LossBuilder = { ...builder, input: (base, dtype, shape) => addInput(base, { dtype, shape }) };
  extras.forEach((e, k) => {
    prefix = `loss/extra${k}/`;
    const r = e.build(lossBuilder);
    terms.push({
      name: e.name ?? `extra${k}`,
      loss: r.loss,
      weight: e.weight,
      seeds: e.reads.map((t, i) => [t, r.grads[i]!]),
    });
  });
  prefix = 'loss/';
  const scaled = (t: string, w: number) =>
    w === 1 ? t : add('Mul', [t, builder.constant('weight', [1], Float32Array.of(w))])[0]!;
  let lossOut = '';
  const weighted: string[] = [];
  for (const t of terms) {
    weighted.push(scaled(t.loss, t.weight));
    lossOut = lossOut ? add('Add', [lossOut, weighted.at(-1)!])[0]! : weighted.at(-1)!;
  }
  const termOuts =
    opts.termOutputs && terms.length > 1 ? terms.map((t, k) => ({ name: t.name, output: weighted[k]! })) : [];

  // backward: reverse topological order; contributions to one tensor summed in visiting order
  const grads = new Map<string, string[]>();
  for (const t of terms)
    for (const [at, d] of t.seeds) if (wants.has(at)) grads.set(at, [...(grads.get(at) ?? []), scaled(d, t.weight)]);
  const gradOf = (t: string): string | undefined => {
    const parts = grads.get(t);
    if (!parts) return undefined;
    let acc = parts[0]!;
    for (const p of parts.slice(1)) acc = add('Add', [acc, p])[0]!;
    grads.set(t, [acc]);
    return acc;
  };
  for (const n of [...active].reverse()) {
    prefix = `${n.name}/grad/`;
    const dy = gradOf(n.outputs[0]!);
    if (!dy) continue;
    const dxs = (OPS[n.op] as OpDef).grad!(builder, n, dy);
    dxs.forEach((dx, i) => {
      const inp = n.inputs[i];
      if (!dx || !inp || !wants.has(inp)) return;
      grads.set(inp, [...(grads.get(inp) ?? []), dx]);
    });
  }

  // optimiser: one update per weight, after every backward read of the weights
  prefix = 'optimizer/';
  let gradsOf = params.map((p) => gradOf(p) ?? err(`tensor '${p}'`, 'gets no gradient from the loss'));
  if (opts.clipNorm !== undefined) {
    const scale = add('GlobalNormScale', gradsOf, { maxNorm: opts.clipNorm })[0]!;
    gradsOf = gradsOf.map((dw) => add('Mul', [dw, scale])[0]!);
  }
  const moments = new Map<string, string[]>();
  const zeros = (p: string, what: string) => {
    const v = fresh(`${p}:${what}`);
    g.tensors.set(v, { name: v, dtype: 'float32', shape: [...g.tensors.get(p)!.shape] });
    g.state!.set(v, undefined);
    return v;
  };
  params.forEach((p, k) => {
    prefix = `${p}/`;
    const dw = gradsOf[k]!;
    if (opt.kind === 'sgd') {
      const mu = opt.momentum ?? 0;
      const v = mu > 0 ? zeros(p, 'velocity') : '';
      if (v) moments.set(p, [v]);
      add(
        'SgdUpdate',
        [p, dw, v, lr],
        { momentum: mu, nesterov: opt.nesterov ?? false, weightDecay: opt.weightDecay ?? 0 },
        v ? 2 : 1,
      );
    } else {
      const m = zeros(p, 'm'),
        v = zeros(p, 'v');
      moments.set(p, [m, v]);
      add(
        'AdamUpdate',
        [p, dw, m, v, lr, step!],
        {
          beta1: opt.beta1 ?? 0.9,
          beta2: opt.beta2 ?? 0.999,
          epsilon: opt.epsilon ?? 1e-8,
          weightDecay: opt.weightDecay ?? (opt.kind === 'adamw' ? 0.01 : 0),
          decoupled: opt.kind === 'adamw',
        },
        3,
      );
    }
  });
  g.outputs = [lossOut, logits, ...termOuts.map((t) => t.output)];
  const targets = g.inputs.filter((i) => i !== x && i !== lr && i !== step);
  return {
    graph: g,
    params,
    runningStats,
    moments,
    x,
    labels,
    hardLabels,
    targets,
    lr,
    step,
    loss: lossOut,
    logits,
    terms: termOuts,
  };
}

/**
 * The forward graph with its BatchNorm nodes in training form: BatchNormTrain (batch statistics; running mean/var
 * become state, updated in place) or, when frozen, Mul + Add by the constants the fold pass would use.
 */
function rewriteBatchNorms(
  fwd: Graph,
  frozen: Set<string>,
  opts: TrainingOptions,
): { graph: Graph; runningStats: string[] } {
  if (!fwd.nodes.some((n) => n.op === 'BatchNorm')) return { graph: fwd, runningStats: [] };
  const g = cloneGraph(fwd);
  const momentum = opts.batchNormMomentum ?? 0.1;
  const runningStats: string[] = [];
  const fresh = (base: string) => {
    let k = 0,
      name = base;
    while (g.tensors.has(name) || g.nodes.some((n) => n.name === name)) name = `${base}#${++k}`;
    return name;
  };
  const constant = (base: string, data: Float32Array) => {
    const name = fresh(base);
    g.tensors.set(name, { name, dtype: 'float32', shape: [data.length], data });
    return name;
  };
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'BatchNorm') {
      nodes.push(n);
      continue;
    }
    const ps = n.inputs.slice(1, 5).map((i) => g.tensors.get(i));
    if (ps.some((t) => !t?.data || t.dtype !== 'float32')) {
      throw new ModelError(
        fwd.source,
        `node '${n.name}' (BatchNorm)`,
        'training needs float32 constant scale, bias, mean and var',
      );
    }
    const [scale, bias, mean, vr] = ps.map((t) => toFloat64(t!.data!)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const eps = typeof n.attrs.epsilon === 'number' ? n.attrs.epsilon : 1e-5;
    if (frozen.has(n.name) || opts.batchNorm === 'frozen') {
      const s = scale.map((v, c) => v / Math.sqrt(vr[c]! + eps));
      const shift = bias.map((v, c) => v - mean[c]! * s[c]!);
      const mid = fresh(`${n.name}:scaled`);
      g.tensors.set(mid, { name: mid, dtype: 'float32', shape: [...g.tensors.get(n.inputs[0]!)!.shape] });
      nodes.push({
        name: fresh(`${n.name}/mul`),
        op: 'Mul',
        inputs: [n.inputs[0]!, constant(`${n.name}:s`, Float32Array.from(s))],
        outputs: [mid],
        attrs: {},
      });
      nodes.push({
        name: n.name,
        op: 'Add',
        inputs: [mid, constant(`${n.name}:shift`, Float32Array.from(shift))],
        outputs: [...n.outputs],
        attrs: {},
      });
      continue;
    }
    for (const r of n.inputs.slice(3, 5)) {
      if (runningStats.includes(r) || fwd.nodes.some((o) => o.name !== n.name && o.inputs.includes(r))) {
        throw new ModelError(
          fwd.source,
          `node '${n.name}' (BatchNorm)`,
          `running statistic '${r}' is shared with another node, so its update is ambiguous`,
        );
      }
      runningStats.push(r);
    }
    const outs = [
      n.outputs[0]!,
      ...['batch_mean', 'inv_std', 'running_mean', 'running_var'].map((k) => fresh(`${n.name}:${k}`)),
    ];
    const t: Node = {
      name: n.name,
      op: 'BatchNormTrain',
      inputs: [...n.inputs],
      outputs: outs,
      attrs: { epsilon: eps, momentum },
    };
    inferNode(g, t).forEach((o, i) => g.tensors.set(outs[i]!, { name: outs[i]!, ...o }));
    nodes.push(t);
  }
  g.nodes = nodes;
  return { graph: g, runningStats };
}

/**
 * The forward model with the trained values written back (what model.json / ONNX export writes): every trained
 * weight and BatchNorm running statistic `read(name)` returns (e.g. the runtime's readVariable), IR layout.
 */
export function withTrainedState(fwd: Graph, tg: TrainingGraph, read: (name: string) => Float32Array): Graph {
  const g = cloneGraph(fwd);
  for (const name of [...tg.params, ...tg.runningStats]) {
    const t = g.tensors.get(name);
    if (!t?.data) throw new ModelError(fwd.source, `tensor '${name}'`, 'is trained but not a constant of this model');
    const v = read(name);
    if (v.length !== numElements(t.shape))
      throw new ModelError(
        fwd.source,
        `tensor '${name}'`,
        `expected ${numElements(t.shape)} values, found ${v.length}`,
      );
    g.tensors.set(name, { ...t, dtype: 'float32', data: Float32Array.from(v) });
  }
  return g;
}

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? Float32Array.from(t.data) : Float32Array.from(toFloat64(t.data!));
}

/** Elements of every state tensor (weights + moments), for reports. */
export function stateElements(tg: TrainingGraph): number {
  return [...tg.graph.state!.keys()].reduce((s, k) => s + numElements(tg.graph.tensors.get(k)!.shape), 0);
}
