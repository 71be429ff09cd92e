// Post-training quantisation driver: optimise the float graph, get activation params (calibration
// on the float wasm runtime, or a pre-quantised model's own), pick float layers (--keep-float,
// --auto-mixed) and rewrite to the int8 IR (rewrite.ts). compileQuantized lowers it into a bundle.
import { ModelError, type Graph, type QuantParams } from '../ir/graph.ts';
import { verify } from '../ir/verify.ts';
import { runPasses } from '../passes/index.ts';
import { cloneGraph, compileGraph, type CompileOptions, type CompileResult } from '../compile.ts';
import { load } from '../../runtime/node.ts';
import { calibrate, calibrationWarnings, type Calibration, type Progress, type Samples } from './calibrate.ts';
import type { CalibrationMethod, Range } from './observers.ts';
import { activationQuant } from './params.ts';
import { hasQdqAnnotations, propagateQdqAnnotations, qdqActivationQuant } from './qdq.ts';
import { quantizeGraph, type RewriteResult } from './rewrite.ts';

export { CALIBRATION_METHODS, type CalibrationMethod } from './observers.ts';
export { splitSamples, type Samples } from './calibrate.ts';

export interface QuantizeOptions {
  /** Calibration samples; without them the model must be pre-quantised (QDQ / QLinear). */
  samples?: Samples;
  /** Activation ranges by tensor name of the optimised float graph (quantisation-aware training's learned
   *  ones, compiler/train/fake-quant.ts): used instead of calibration. */
  ranges?: Map<string, Range>;
  method?: CalibrationMethod;
  keepFloat?: string[];
  /** Largest allowed drop of top-1 agreement with float on the calibration set, in percentage points. */
  autoMixed?: number;
  progress?: Progress;
  /** --dump-after: the float pass pipeline the quantiser runs dumps as compileGraph's does. */
  dumpAfter?: string;
  onDump?: (pass: string, text: string) => void;
  /** Pre-quantised ONNX graphs: 'onnxruntime' (default) requantises Conv / Dense / depthwise in float32 as
   *  onnxruntime does (its output bytes); 'edgec' keeps edgec's fixed point (no float op: MCUs without an FPU). */
  arithmetic?: 'onnxruntime' | 'edgec';
}

export interface QuantizeReport {
  mode: 'calibrated' | 'pre-quantised' | 'learned';
  method?: CalibrationMethod;
  samples: number;
  int8Nodes: string[];
  floatNodes: string[];
  /** Layers --auto-mixed kept float, most sensitive first. */
  autoFloat: string[];
  /** Calibration data and range problems worth a look (calibrationWarnings); empty when none. */
  warnings: string[];
  /** Top-1 agreement of the int8 bundle with float on the calibration set (when measured), 0..1. */
  agreement?: number;
}

export interface QuantizedGraph {
  graph: Graph;
  /** The optimised float graph the int8 one was made from (tensor names shared). */
  floatGraph: Graph;
  report: QuantizeReport;
}

/** Index of the largest value (first on ties). */
export function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
}

/** Runs int8 graph g (via a compiled bundle) on the samples; top-1 agreement and mean squared error vs float. */
async function agreementWith(
  g: Graph,
  samples: Samples,
  ref: Calibration['floatOutputs'],
  count: number,
): Promise<{ agree: number; mse: number }> {
  const { bundle } = compileGraph(g, { skipPasses: true });
  const model = await load(bundle);
  const out = g.outputs[0]!;
  let agree = 0,
    se = 0,
    n = 0;
  for (let s = 0; s < count; s++) {
    const y = model.run({ [samples.input]: samples.data[s]! })[out] as Float32Array;
    const r = ref[s]!.get(out)!;
    if (argmax(y) === argmax(r)) agree++;
    for (let i = 0; i < y.length; i++) {
      se += (y[i]! - r[i]!) ** 2;
      n++;
    }
  }
  return { agree: agree / count, mse: se / Math.max(n, 1) };
}

export interface LayerSensitivity {
  name: string;
  agree: number;
  mse: number;
}

/**
 * --auto-mixed's choice: layers ranked most sensitive first (lowest agreement when quantised alone, then
 * highest output MSE); a binary search over k finds the fewest top-k kept float with agreement ≥ target
 * (assumes keeping more layers float never hurts). All of them when even that misses the target.
 */
export async function fewestFloatLayers(
  sens: LayerSensitivity[],
  agreeWithFloat: (layers: string[]) => Promise<number>,
  target: number,
): Promise<{ layers: string[]; agree: number }> {
  const ranked = [...sens].sort((a, b) => a.agree - b.agree || b.mse - a.mse).map((s) => s.name);
  let lo = 1,
    hi = ranked.length,
    best = ranked.length,
    bestAgree: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const a = await agreeWithFloat(ranked.slice(0, mid));
    if (a >= target) {
      best = mid;
      bestAgree = a;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  const layers = ranked.slice(0, best);
  return { layers, agree: bestAgree ?? (await agreeWithFloat(layers)) };
}

export async function quantize(graph: Graph, opts: QuantizeOptions = {}): Promise<QuantizedGraph> {
  const g0 = cloneGraph(graph);
  if (!opts.samples) propagateQdqAnnotations(g0);
  const floatGraph = runPasses(g0, { dumpAfter: opts.dumpAfter, onDump: opts.onDump });
  const keep = new Set(opts.keepFloat ?? []);
  for (const k of keep) {
    if (!floatGraph.nodes.some((n) => n.name === k)) {
      const all = floatGraph.nodes.map((n) => n.name);
      throw new ModelError(
        graph.source,
        '--keep-float',
        `no node named '${k}' after optimisation (nodes: ${all.slice(0, 12).join(', ')}${all.length > 12 ? ', …' : ''})`,
      );
    }
  }
  let quant: Map<string, QuantParams>;
  let cal: Calibration | undefined;
  let mode: QuantizeReport['mode'];
  if (opts.ranges) {
    quant = new Map([...opts.ranges].map(([k, r]) => [k, activationQuant(r)]));
    mode = 'learned';
  } else if (opts.samples) {
    cal = await calibrate(floatGraph, opts.samples, opts.method ?? 'minmax', opts.progress);
    quant = new Map([...cal.ranges].map(([k, r]) => [k, activationQuant(r)]));
    mode = 'calibrated';
  } else if (hasQdqAnnotations(floatGraph)) {
    quant = qdqActivationQuant(floatGraph);
    mode = 'pre-quantised';
    // the model's own params: its runtime's requantisation too, so the int8 output is onnxruntime's byte for byte
    // (TFLite graphs keep their importer's 'tflite')
    if (opts.arithmetic !== 'edgec') floatGraph.int8Arithmetic ??= 'onnxruntime';
  } else {
    throw new ModelError(
      graph.source,
      '--quantize int8',
      'needs --calibration <x.npy> (the model carries no quantisation params of its own)',
    );
  }
  const useWeightQuant = mode === 'pre-quantised';
  const rewrite = (k: ReadonlySet<string>): RewriteResult => {
    const r = quantizeGraph(floatGraph, { quant, keepFloat: k, useWeightQuant, int8Activations: useWeightQuant });
    verify(r.graph, 'after quantize');
    return r;
  };
  let result = rewrite(keep);
  const autoFloat: string[] = [];
  let agreement: number | undefined;
  if (opts.autoMixed !== undefined) {
    if (!cal || !opts.samples)
      throw new ModelError(graph.source, '--auto-mixed', 'needs --calibration samples to measure layer sensitivity');
    const count = Math.min(opts.samples.data.length, 200);
    const target = 1 - opts.autoMixed / 100;
    const measure = (k: ReadonlySet<string>) =>
      agreementWith(rewrite(k).graph, opts.samples!, cal!.floatOutputs, count);
    const full = await measure(keep);
    agreement = full.agree;
    if (full.agree < target) {
      // sensitivity: the int8 model with only this layer quantised (everything else float)
      const layers = result.int8Nodes.filter((n) => !keep.has(n));
      const all = floatGraph.nodes.map((n) => n.name);
      const sens: LayerSensitivity[] = [];
      let done = 0;
      for (const name of layers) {
        const only = new Set(all.filter((n) => n !== name));
        sens.push({ name, ...(await measure(only)) });
        opts.progress?.('layer sensitivity', ++done, layers.length);
      }
      const chosen = await fewestFloatLayers(
        sens,
        async (layers) => (await measure(new Set([...keep, ...layers]))).agree,
        target,
      );
      autoFloat.push(...chosen.layers);
      agreement = chosen.agree;
      result = rewrite(new Set([...keep, ...autoFloat]));
    }
  }
  return {
    graph: result.graph,
    floatGraph,
    report: {
      mode,
      method: cal ? (opts.method ?? 'minmax') : undefined,
      samples: opts.samples?.data.length ?? 0,
      int8Nodes: result.int8Nodes,
      floatNodes: result.floatNodes,
      autoFloat,
      agreement,
      warnings: cal && opts.samples ? calibrationWarnings(opts.samples, cal.observed) : [],
    },
  };
}

/** Quantises and compiles: the int8 IR goes straight to lowering (the float passes already ran). */
export async function compileQuantized(
  graph: Graph,
  q: QuantizeOptions,
  opts: CompileOptions = {},
): Promise<CompileResult & { report: QuantizeReport }> {
  const { graph: g, report } = await quantize(graph, { dumpAfter: opts.dumpAfter, onDump: opts.onDump, ...q });
  return { ...compileGraph(g, { ...opts, skipPasses: true }), report };
}
