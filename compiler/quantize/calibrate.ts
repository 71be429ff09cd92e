// Calibration: runs the FLOAT model on the wasm runtime over the calibration samples, with every
// activation tensor made a graph output, and feeds each tensor's float32 values to its observers.
// Min-max needs one pass; percentile and entropy add a histogram pass over the min-max ranges.
import { ModelError, numElements, type Graph } from '../ir/graph.ts';
import { cloneGraph, compileGraph } from '../compile.ts';
import { load } from '../../runtime/node.ts';
import { Histogram, MinMaxObserver, methodRange, type CalibrationMethod, type Range } from './observers.ts';

export interface Samples {
  /** Graph input name the samples feed. */
  input: string;
  /** One float32 array per sample, each of the input's element count. */
  data: Float32Array[];
}

export type Progress = (phase: string, done: number, total: number) => void;

/** What calibration needs of a model: its inputs and their shapes (a Graph, or a BlockModel's inputs and shapes). */
export interface CalibrationTarget {
  inputs: readonly string[];
  tensors: ReadonlyMap<string, { shape: readonly number[] }>;
}

/**
 * Splits an array with shape `arrShape` into samples of graph input `input`: the shape itself (one
 * sample), or N × the input shape (with or without its leading batch 1).
 */
export function splitSamples(
  g: CalibrationTarget,
  data: ArrayLike<number>,
  arrShape: readonly number[],
  file: string,
): Samples {
  if (g.inputs.length !== 1) {
    throw new ModelError(
      file,
      'calibration',
      `the model has ${g.inputs.length} inputs (${g.inputs.join(', ')}); calibration supports one`,
    );
  }
  const input = g.inputs[0]!;
  const shape = g.tensors.get(input)!.shape;
  const per = numElements(shape);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const fits =
    same(arrShape, shape) ||
    same(arrShape.slice(1), shape) ||
    (shape[0] === 1 && same(arrShape.slice(1), shape.slice(1)));
  if (!fits || numElements(arrShape) % per !== 0 || numElements(arrShape) === 0) {
    throw new ModelError(
      file,
      'calibration',
      `expected samples of input '${input}' shape [${shape}] (as [N,${shape.slice(shape[0] === 1 ? 1 : 0)}] or [N,${shape}]), found [${arrShape}]`,
    );
  }
  const n = numElements(arrShape) / per;
  const out: Float32Array[] = [];
  for (let s = 0; s < n; s++) {
    const a = new Float32Array(per);
    for (let i = 0; i < per; i++) {
      a[i] = Number(data[s * per + i]);
      // as `edgec run` input: a NaN or ±Inf would poison every range it reaches
      if (!Number.isFinite(a[i]!)) {
        throw new ModelError(
          file,
          'calibration',
          `sample ${s}, element ${i}: expected finite float32 values, found ${data[s * per + i]}`,
        );
      }
    }
    out.push(a);
  }
  return { input, data: out };
}

/**
 * Warnings about calibration data and the ranges it gave: whole numbers in [0, 255] reaching above 1 look
 * like raw pixels (a model trained on x / 255 then calibrates silently wrong: mnist-8 drops to 57 %), and a
 * degenerate observed range (min = max: the samples never moved that tensor) quantises it on a guess.
 */
export function calibrationWarnings(samples: Samples, observed: ReadonlyMap<string, Range>): string[] {
  const warnings: string[] = [];
  let max = -Infinity,
    whole = true;
  for (const x of samples.data)
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v > max) max = v;
      if (whole && (v < 0 || v > 255 || !Number.isInteger(v))) whole = false;
    }
  if (whole && max > 1) {
    warnings.push(
      `calibration data of '${samples.input}' are whole numbers in [0, 255] (max ${max}): raw pixels? If the model was trained on x / 255, scale the samples the same way`,
    );
  }
  const flat = [...observed].filter(([, r]) => !(r.max > r.min));
  if (flat.length > 0) {
    const shown = flat
      .slice(0, 3)
      .map(([t, r]) => `'${t}' [${r.min}, ${r.max}]`)
      .join(', ');
    warnings.push(
      `${flat.length} calibrated range(s) are degenerate (min = max; the samples never moved them): ${shown}${flat.length > 3 ? ', …' : ''}`,
    );
  }
  return warnings;
}

/** Activation tensors of g: the graph inputs and every node output. */
export function activationTensors(g: Graph): string[] {
  const seen = new Set<string>(g.inputs);
  for (const n of g.nodes) for (const o of n.outputs) seen.add(o);
  return [...seen];
}

/** A runner that evaluates g on the float wasm runtime, returning every tensor in `observe`. */
export async function floatRunner(
  g: Graph,
  observe: string[],
): Promise<(x: Float32Array) => Map<string, Float32Array>> {
  const cg = cloneGraph(g);
  const extra = observe.filter((t) => !g.inputs.includes(t));
  cg.outputs = [...new Set([...g.outputs, ...extra])];
  const { bundle } = compileGraph(cg);
  const model = await load(bundle);
  const input = g.inputs[0]!;
  return (x) => {
    const r = model.run({ [input]: x });
    const m = new Map<string, Float32Array>([[input, x]]);
    for (const t of extra) m.set(t, r[t] as Float32Array);
    for (const t of g.outputs) m.set(t, r[t] as Float32Array);
    return m;
  };
}

export interface Calibration {
  ranges: Map<string, Range>;
  /** Smallest and largest value each tensor took on the samples (before widening to hold 0). */
  observed: Map<string, Range>;
  /** Float outputs of the graph per sample (the reference for --auto-mixed). */
  floatOutputs: Map<string, Float32Array>[];
}

export async function calibrate(
  g: Graph,
  samples: Samples,
  method: CalibrationMethod,
  progress?: Progress,
): Promise<Calibration> {
  const tensors = activationTensors(g);
  const run = await floatRunner(g, tensors);
  const mm = new Map(tensors.map((t) => [t, new MinMaxObserver()]));
  const floatOutputs: Map<string, Float32Array>[] = [];
  const passes = method === 'minmax' ? 1 : 2;
  const total = samples.data.length * passes;
  let done = 0;
  for (const x of samples.data) {
    const vals = run(x);
    for (const t of tensors) mm.get(t)!.observe(vals.get(t)!);
    floatOutputs.push(new Map(g.outputs.map((o) => [o, vals.get(o)!])));
    progress?.(`calibrating (${method})`, ++done, total);
  }
  const ranges = new Map<string, Range>();
  const observed = new Map(tensors.map((t) => [t, { min: mm.get(t)!.min, max: mm.get(t)!.max }]));
  if (method === 'minmax') {
    for (const t of tensors) ranges.set(t, mm.get(t)!.range());
    return { ranges, observed, floatOutputs };
  }
  const hist = new Map(
    tensors.map((t) => {
      const r = mm.get(t)!;
      return [t, new Histogram(r.min > r.max ? 0 : r.min, r.min > r.max ? 0 : r.max)];
    }),
  );
  for (const x of samples.data) {
    const vals = run(x);
    for (const t of tensors) hist.get(t)!.observe(vals.get(t)!);
    progress?.(`calibrating (${method})`, ++done, total);
  }
  // the graph's results (logits, or Softmax/Sigmoid inputs) keep their full range: clipping the largest
  // logits makes top-1 ties (fashion_cnn lost 10 points of top-1 to entropy-clipped logits)
  const results = new Set(g.outputs);
  for (const n of g.nodes) if (n.op === 'Softmax' || n.op === 'Sigmoid') results.add(n.inputs[0]!);
  for (const t of tensors)
    ranges.set(t, results.has(t) ? mm.get(t)!.range() : methodRange(method, mm.get(t)!, hist.get(t)));
  return { ranges, observed, floatOutputs };
}
