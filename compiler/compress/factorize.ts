// Low-rank factorisation of a float graph's Dense and Conv2D layers (issue 14 item 4), kept only where it pays:
//   svd        Dense [N,K] → Dense K→r (no bias) → Dense r→N; a 1×1 conv likewise as two 1×1 convs
//   separable  k×k conv → (KH×1, r channels) → (1×KW), Tai et al. 2016's closed form (low-rank.ts)
//   tucker2    KH×KW conv → 1×1 (Ci→r_in) → KH×KW core (r_in→r_out) → 1×1 (r_out→Co), HOSVD
// A layer is rewritten only when its MACs AND its measured kernel time (one-layer bundles, layer-timing.ts) both go
// down; otherwise it stays and its record says why. Rank is given (`rank`) or chosen as the smallest keeping a share
// `energy` of Σ s² (Tucker: per channel mode). Bias and fused activation move to the last new layer.
import { ModelError, numElements, type Attrs, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import { convGeometry, type ConvGeometry } from '../ir/ops/helpers.ts';
import { cloneGraph } from '../compile.ts';
import { runPasses } from '../passes/index.ts';
import type { Svd } from './linalg.ts';
import { energyRank } from './linalg.ts';
import {
  keptEnergy,
  matrixSvd,
  svdFactors,
  taiFactors,
  taiSvd,
  tuckerFactors,
  tuckerModes,
  type ConvShape,
} from './low-rank.ts';
import { layerGraph, wasmLayerTimer, type LayerTimer } from './layer-timing.ts';

export const FACTORIZE_METHODS = ['svd', 'separable', 'tucker2'] as const;
export type FactorizeMethod = (typeof FACTORIZE_METHODS)[number];

/** A per-layer override (by node name): its own method ('none' keeps it), rank ([in, out] for Tucker-2) or energy. */
export interface LayerSetting {
  method?: FactorizeMethod | 'none';
  rank?: number | [number, number];
  energy?: number;
}

export interface FactorizeOptions {
  /** Methods to use; a layer takes the first that applies (separable and tucker2 both apply to k×k: fewer MACs wins). */
  factorize: FactorizeMethod | readonly FactorizeMethod[];
  rank?: number;
  /** Share of the squared singular values to keep, in (0, 1]. */
  energy?: number;
  layers?: Record<string, LayerSetting>;
  /** Measures a layer before/after; default: one-layer bundles on the simd build (float32, or `dtype`). */
  timer?: LayerTimer;
  dtype?: 'float32' | 'int8';
  progress?: (done: number, total: number) => void;
}

export interface FactorizeRecord {
  layer: string;
  op: 'Dense' | 'Conv2D';
  /** 'dense', or the conv kernel 'KHxKW' (with '/g' for grouped). */
  kind: string;
  method: FactorizeMethod | null;
  rank: number | [number, number] | null;
  fullRank: number | [number, number] | null;
  /** Share of the layer's ‖W‖² the factors keep (1 at full rank). */
  energyKept: number | null;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
  /** Median CPU ms per run of the one-layer bundles, and the median of the interleaved rounds' after/before ratios
   *  (the decision: < 1); null when the MACs test already kept the layer. */
  msBefore: number | null;
  msAfter: number | null;
  timeRatio: number | null;
  factorised: boolean;
  reason: string;
}

export interface FactorizeResult {
  graph: Graph;
  layers: FactorizeRecord[];
}

export interface Plan {
  method: FactorizeMethod;
  rank: number | [number, number];
  fullRank: number | [number, number];
  energyKept: number;
  nodes: Node[];
  tensors: Tensor[];
  macs: number;
  params: number;
}

const f32 = (a: Float64Array) => Float32Array.from(a);

export async function factorizeGraph(graph: Graph, opts: FactorizeOptions): Promise<FactorizeResult> {
  const methods = typeof opts.factorize === 'string' ? [opts.factorize] : [...opts.factorize];
  const file = graph.source;
  for (const m of methods)
    if (!FACTORIZE_METHODS.includes(m))
      throw new ModelError(file, 'factorize', `unknown method '${m}'; methods: ${FACTORIZE_METHODS.join(', ')}`);
  checkSetting(file, 'options', opts);
  const g = runPasses(cloneGraph(graph));
  const layers = opts.layers ?? {};
  const candidates = g.nodes.filter(
    (n) => (n.op === 'Dense' || n.op === 'Conv2D') && g.tensors.get(n.inputs[1]!)?.data !== undefined,
  );
  for (const [name, s] of Object.entries(layers)) {
    if (!candidates.some((n) => n.name === name))
      throw new ModelError(file, `layers.${name}`, `no Dense or Conv2D node with constant weights is named '${name}'`);
    checkSetting(file, `node '${name}'`, s);
  }
  const timer = opts.timer ?? wasmLayerTimer({ dtype: opts.dtype });
  const records: FactorizeRecord[] = [];
  let done = 0;
  for (const n of candidates) {
    const rec = await factorizeLayer(g, n, methods, layers[n.name] ?? {}, opts, timer);
    records.push(rec);
    opts.progress?.(++done, candidates.length);
  }
  return { graph: runPasses(g), layers: records };
}

function checkSetting(file: string, where: string, s: { rank?: number | [number, number]; energy?: number }): void {
  if (s.rank !== undefined && s.energy !== undefined)
    throw new ModelError(file, where, 'give rank or energy, not both');
  const ranks = Array.isArray(s.rank) ? s.rank : s.rank === undefined ? [] : [s.rank];
  for (const r of ranks)
    if (!(Number.isInteger(r) && r >= 1))
      throw new ModelError(file, where, `rank must be a positive integer, found ${r}`);
  if (s.energy !== undefined && !(s.energy > 0 && s.energy <= 1)) {
    throw new ModelError(
      file,
      where,
      `energy must be in (0, 1] (the share of squared singular values kept), found ${s.energy}`,
    );
  }
}

function paramsOf(g: Graph, n: Node): number {
  return n.inputs.slice(1).reduce((a, t) => a + (t === '' ? 0 : numElements(g.tensors.get(t)!.shape)), 0);
}

function macsOf(g: Graph, n: Node, extra?: ReadonlyMap<string, Tensor>): number {
  const t = (name: string) => extra?.get(name) ?? g.tensors.get(name)!;
  const x = t(n.inputs[0]!),
    w = t(n.inputs[1]!),
    y = t(n.outputs[0]!);
  if (n.op === 'Dense') return x.shape[0]! * w.shape[0]! * w.shape[1]!;
  const [, kh, kw, cig] = w.shape as [number, number, number, number];
  return numElements(y.shape) * kh * kw * cig;
}

async function factorizeLayer(
  g: Graph,
  n: Node,
  methods: FactorizeMethod[],
  setting: LayerSetting,
  opts: FactorizeOptions,
  timer: LayerTimer,
): Promise<FactorizeRecord> {
  const w = g.tensors.get(n.inputs[1]!)!;
  const geo = n.op === 'Conv2D' ? convGeometry(n, g.tensors.get(n.inputs[0]!)!, w, g.source) : undefined;
  const kind = geo ? `${geo.kh}x${geo.kw}${geo.groups > 1 ? `/g${geo.groups}` : ''}` : 'dense';
  const base: FactorizeRecord = {
    layer: n.name,
    op: n.op as 'Dense' | 'Conv2D',
    kind,
    method: null,
    rank: null,
    fullRank: null,
    energyKept: null,
    paramsBefore: paramsOf(g, n),
    paramsAfter: paramsOf(g, n),
    macsBefore: macsOf(g, n),
    macsAfter: macsOf(g, n),
    msBefore: null,
    msAfter: null,
    timeRatio: null,
    factorised: false,
    reason: '',
  };
  const keep = (reason: string) => ({ ...base, reason });
  if (setting.method === 'none') return keep('kept by its per-layer setting');
  if (w.dtype !== 'float32')
    return keep(`weights are ${w.dtype}: factorisation works on float models (factorise, then quantise)`);
  const wanted = setting.method ? [setting.method] : methods;
  const applicable = wanted.filter((m) => applies(m, n, geo));
  if (setting.method && applicable.length === 0) {
    throw new ModelError(
      g.source,
      `node '${n.name}'`,
      `method ${setting.method} does not apply to a ${kind} ${n.op} (${whereApplies(setting.method)})`,
    );
  }
  if (applicable.length === 0) return keep(`no method of ${wanted.join(', ')} applies to a ${kind} ${n.op}`);
  const rank = setting.rank ?? (setting.energy === undefined ? opts.rank : undefined);
  const energy = setting.energy ?? (setting.rank === undefined ? opts.energy : undefined);
  if (rank === undefined && energy === undefined)
    throw new ModelError(g.source, `node '${n.name}'`, 'no rank or energy given for it');
  const plans = applicable.map((m) => planFactorization(g, n, m, { rank, energy }));
  const best = plans.reduce((a, b) => (b.macs < a.macs ? b : a));
  const rec: FactorizeRecord = {
    ...base,
    method: best.method,
    rank: best.rank,
    fullRank: best.fullRank,
    energyKept: best.energyKept,
  };
  if (best.macs >= base.macsBefore)
    return { ...rec, reason: `MACs would not go down (${base.macsBefore} → ${best.macs} at rank ${best.rank})` };
  const extra = new Map(best.tensors.map((t) => [t.name, t]));
  const ms = await timer(layerGraph(g, [n], `${n.name}.before`), layerGraph(g, best.nodes, `${n.name}.after`, extra));
  const measured = { ...rec, msBefore: ms.before, msAfter: ms.after, timeRatio: ms.ratio };
  const times = `${ms.before.toFixed(4)} → ${ms.after.toFixed(4)} ms, median ratio ${ms.ratio.toFixed(2)}`;
  if (!(ms.ratio < 1))
    return {
      ...measured,
      reason: `measured time would not go down (${times}; MACs ${base.macsBefore} → ${best.macs})`,
    };
  spliceFactorization(g, n, best);
  return {
    ...measured,
    paramsAfter: best.params,
    macsAfter: best.macs,
    factorised: true,
    reason: `MACs and measured time both down (${times})`,
  };
}

function applies(m: FactorizeMethod, n: Node, geo: ConvGeometry | undefined): boolean {
  if (!geo) return m === 'svd';
  if (geo.groups !== 1) return false;
  if (m === 'svd') return geo.kh === 1 && geo.kw === 1;
  if (m === 'separable') return geo.kh > 1 && geo.kw > 1;
  return geo.kh * geo.kw > 1;
}

function whereApplies(m: FactorizeMethod): string {
  return {
    svd: 'svd: Dense and 1x1 convs',
    separable: 'separable: KHxKW convs with KH, KW > 1, groups 1',
    tucker2: 'tucker2: convs larger than 1x1, groups 1',
  }[m];
}

/** Rank from `rank` (checked against the full rank) or `energy`. */
function pickRank(
  g: Graph,
  n: Node,
  given: number | undefined,
  energy: number | undefined,
  s: Float64Array,
  full: number,
  what: string,
): number {
  if (given === undefined) return energyRank(s, energy!);
  if (given > full)
    throw new ModelError(g.source, `node '${n.name}'`, `rank ${given} is above the full rank ${full} of its ${what}`);
  return given;
}

/** Replaces node n of g by the plan's nodes (its new tensors added; the old weights go with eliminate-dead). */
export function spliceFactorization(g: Graph, n: Node, p: Plan): void {
  for (const t of p.tensors) g.tensors.set(t.name, t);
  g.nodes.splice(g.nodes.indexOf(n), 1, ...p.nodes);
}

/**
 * The rewrite of one shape-inferred Dense / Conv2D node n of g by method m at the given rank (or the energy's),
 * without deciding whether it pays: the new nodes (the last keeps n's name, output, bias and activation), their
 * tensors, MACs and parameters.
 */
export function planFactorization(
  g: Graph,
  n: Node,
  m: FactorizeMethod,
  k: { rank?: number | [number, number]; energy?: number },
): Plan {
  const { rank, energy } = k;
  const w = g.tensors.get(n.inputs[1]!)!;
  const geo = n.op === 'Conv2D' ? convGeometry(n, g.tensors.get(n.inputs[0]!)!, w, g.source) : undefined;
  if (!applies(m, n, geo))
    throw new ModelError(g.source, `node '${n.name}'`, `method ${m} does not apply to it (${whereApplies(m)})`);
  const wd = w.data as Float32Array;
  const x = n.inputs[0]!,
    y = n.outputs[0]!,
    bias = n.inputs[2] ?? '';
  const yt = g.tensors.get(y)!;
  const names = uniqueNames(g, n.name);
  const act = {
    activation: n.attrs.activation ?? 'none',
    ...(n.attrs.clip !== undefined ? { clip: n.attrs.clip } : {}),
  };
  const scalarRank = (r: typeof rank): number | undefined => {
    if (Array.isArray(r))
      throw new ModelError(g.source, `node '${n.name}'`, `a rank pair [in, out] is for tucker2; ${m} takes one rank`);
    return r;
  };
  const konst = (name: string, shape: number[], data: Float64Array): Tensor => ({
    name,
    dtype: 'float32',
    shape,
    data: f32(data),
  });
  const act0 = (name: string, shape: number[]): Tensor => ({ name, dtype: 'float32', shape });
  const bParams = bias === '' ? 0 : numElements(g.tensors.get(bias)!.shape);
  const macsOfNodes = (nodes: Node[], ts: Tensor[]) =>
    nodes.reduce((a, k) => a + macsOf(g, k, new Map(ts.map((t) => [t.name, t]))), 0);
  const finish = (p: Omit<Plan, 'macs' | 'params'>): Plan => ({
    ...p,
    macs: macsOfNodes(p.nodes, p.tensors),
    params: p.tensors.reduce((a, t) => a + (t.data ? numElements(t.shape) : 0), 0) + bParams,
  });

  if (m === 'svd') {
    const [N, K] = geo ? [geo.co, geo.ci] : (w.shape as [number, number]);
    const d: Svd = matrixSvd(wd, N, K);
    const full = Math.min(N, K);
    const r = pickRank(g, n, scalarRank(rank), energy, d.s, full, `${N}x${K} weight matrix`);
    const { first, second } = svdFactors(d, N, K, r);
    const mid = act0(names('mid'), geo ? [geo.n, geo.oh, geo.ow, r] : [yt.shape[0]!, r]);
    const wa = konst(names('w_a'), geo ? [r, 1, 1, K] : [r, K], first),
      wb = konst(names('w_b'), geo ? [N, 1, 1, r] : [N, r], second);
    const conv: Attrs = geo
      ? { strides: [geo.sh, geo.sw], dilations: [geo.dh, geo.dw], padding: [...geo.pad], groups: 1 }
      : {};
    const nodes: Node[] = [
      {
        name: `${n.name}_a`,
        op: n.op,
        inputs: [x, wa.name],
        outputs: [mid.name],
        attrs: { ...conv, activation: 'none' },
      },
      {
        name: n.name,
        op: n.op,
        inputs: [mid.name, wb.name, bias],
        outputs: [y],
        attrs: { ...(geo ? { groups: 1 } : {}), ...act },
      },
    ];
    return finish({
      method: m,
      rank: r,
      fullRank: full,
      energyKept: keptEnergy(d.s, r),
      nodes,
      tensors: [mid, wa, wb],
    });
  }
  const s: ConvShape = { co: geo!.co, kh: geo!.kh, kw: geo!.kw, ci: geo!.ci };
  const { pad } = geo!;
  if (m === 'separable') {
    const d = taiSvd(wd, s);
    const full = Math.min(s.ci * s.kh, s.co * s.kw);
    const r = pickRank(
      g,
      n,
      scalarRank(rank),
      energy,
      d.s,
      full,
      `(Ci·KH)x(Co·KW) = ${s.ci * s.kh}x${s.co * s.kw} matrix`,
    );
    const { vertical, horizontal } = taiFactors(d, s, r);
    const mid = act0(names('mid'), [geo!.n, geo!.oh, geo!.w, r]);
    const wv = konst(names('w_v'), [r, s.kh, 1, s.ci], vertical),
      wh = konst(names('w_h'), [s.co, 1, s.kw, r], horizontal);
    const nodes: Node[] = [
      {
        name: `${n.name}_v`,
        op: 'Conv2D',
        inputs: [x, wv.name],
        outputs: [mid.name],
        attrs: {
          strides: [geo!.sh, 1],
          dilations: [geo!.dh, 1],
          padding: [pad[0], 0, pad[2], 0],
          groups: 1,
          activation: 'none',
        },
      },
      {
        name: n.name,
        op: 'Conv2D',
        inputs: [mid.name, wh.name, bias],
        outputs: [y],
        attrs: { strides: [1, geo!.sw], dilations: [1, geo!.dw], padding: [0, pad[1], 0, pad[3]], groups: 1, ...act },
      },
    ];
    return finish({
      method: m,
      rank: r,
      fullRank: full,
      energyKept: keptEnergy(d.s, r),
      nodes,
      tensors: [mid, wv, wh],
    });
  }
  const modes = tuckerModes(wd, s);
  const taps = s.kh * s.kw;
  const full: [number, number] = [Math.min(s.ci, s.co * taps), Math.min(s.co, s.ci * taps)];
  const [gi, go] = Array.isArray(rank) ? rank : [rank, rank];
  const rIn = pickRank(g, n, gi, energy, modes.inS, full[0], `input-channel unfolding (${s.ci}x${s.co * taps})`);
  const rOut = pickRank(g, n, go, energy, modes.outS, full[1], `output-channel unfolding (${s.co}x${s.ci * taps})`);
  const { first, core, last } = tuckerFactors(wd, modes, s, rIn, rOut);
  let coreSq = 0,
    allSq = 0;
  for (const v of core) coreSq += v * v;
  for (const v of wd) allSq += v * v;
  const a = act0(names('in'), [geo!.n, geo!.h, geo!.w, rIn]),
    b = act0(names('core'), [geo!.n, geo!.oh, geo!.ow, rOut]);
  const wf = konst(names('w_in'), [rIn, 1, 1, s.ci], first),
    wc = konst(names('w_core'), [rOut, s.kh, s.kw, rIn], core);
  const wl = konst(names('w_out'), [s.co, 1, 1, rOut], last);
  const nodes: Node[] = [
    {
      name: `${n.name}_in`,
      op: 'Conv2D',
      inputs: [x, wf.name],
      outputs: [a.name],
      attrs: { groups: 1, activation: 'none' },
    },
    {
      name: `${n.name}_core`,
      op: 'Conv2D',
      inputs: [a.name, wc.name],
      outputs: [b.name],
      attrs: {
        strides: [geo!.sh, geo!.sw],
        dilations: [geo!.dh, geo!.dw],
        padding: [...pad],
        groups: 1,
        activation: 'none',
      },
    },
    { name: n.name, op: 'Conv2D', inputs: [b.name, wl.name, bias], outputs: [y], attrs: { groups: 1, ...act } },
  ];
  return finish({
    method: m,
    rank: [rIn, rOut],
    fullRank: full,
    energyKept: allSq === 0 ? 1 : coreSq / allSq,
    nodes,
    tensors: [a, b, wf, wc, wl],
  });
}

/** Tensor names `<node>/<part>` not yet in the graph. */
function uniqueNames(g: Graph, node: string): (part: string) => string {
  return (part) => {
    let name = `${node}/${part}`;
    for (let i = 1; g.tensors.has(name); i++) name = `${node}/${part}.${i}`;
    return name;
  };
}
