// `edgec compress`: structured compression of a float model (issue 14): drop whole layers, prune channels
// by dependency group (compiler/compress/), factorise, recover by distillation from the original (--distill,
// compress-distill.ts), write an ordinary model (model.json, ONNX or a bundle, int8 with --quantize int8) and
// report per layer and for the whole model what changed, measured on edgec's runtime.
import {
  FACTORIZE_METHODS,
  factorizeGraph,
  type FactorizeMethod,
  type FactorizeRecord,
} from '../compress/factorize.ts';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeModelJson } from '../frontend/model-json/index.ts';
import { exportOnnx } from '../export/onnx.ts';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.ts';
import { loadNpy } from '../io/npy.ts';
import type { Graph } from '../ir/graph.ts';
import { bundleOf, loadCalibration, parseQuantizeFlags, QUANTIZE_FLAGS } from '../quantize/cli.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import { ratiosForBudget } from '../compress/budget.ts';
import { dataScores, THINET_SAMPLES } from '../compress/data-importance.ts';
import { refitKept, type RefitRecord } from '../compress/refit.ts';
import { consumerActivations } from '../compress/thinet.ts';
import { DATA_IMPORTANCE, IMPORTANCE, type Importance } from '../compress/importance.ts';
import { chooseLayers, dropLayers, type LayerChoice } from '../compress/layers.ts';
import { agreement, latencyMs, runSamples, top1, type Agreement } from '../compress/measure.ts';
import {
  applyPruning,
  graphMacs,
  graphParams,
  keptUnits,
  nodeMacs,
  prunableGroups,
  type KeepRule,
} from '../compress/prune.ts';
import { parseCommand } from './args.ts';
import { DISTILL_FLAGS, DISTILL_HELP, parseDistillFlags, recover } from './compress-distill.ts';
import { loadModel, parseDims } from './compile.ts';
import { CliError, UsageError } from './errors.ts';
import { fmtInt } from './inspect.ts';

export const COMPRESS_HELP = `usage: edgec compress <model.json|model.onnx> -o <small.json|small.onnx|small.edgec> [options]

Structured compression: removes whole channels (dependency groups found from the graph: residual Add,
Concat, depthwise and grouped convs, BatchNorm, Flatten → Dense) and whole layers, writing an ordinary,
smaller model, optionally factorised and recovered by distillation from the original (--distill).
Prints per layer kept channels, parameters and MACs, and for the whole model before → after:
parameters, MACs, bundle bytes, simd latency and (with --val-data) accuracy.

options:
  -o, --output FILE         model.json, model.onnx or .edgec bundle to write (atomically)
  --prune-channels R|auto   remove the share R in [0, 1) of every prunable group's channels, or pick
                            per-group shares by measured sensitivity to meet --target-macs (auto)
  --target-macs F           MAC budget as a share of the original in (0, 1] (implies auto; default 0.5
                            with auto); needs --calibration
  --importance KIND         l1 (default) | l2 | fpgm (weights) | taylor (first-order loss change, gradients
                            on --calibration) | thinet (greedy next-layer reconstruction on --calibration)
  --refit ls|none           after choosing channels, scale each next layer's kept weight columns by
                            least squares on --calibration (ThiNet's refit; default ls with thinet)
  --calibration-labels FILE int labels of --calibration for taylor (default: the model's own argmax)
  --round-to N              kept channel counts are multiples of N (default 8, the simd lanes/tiles)
  --max-ratio F             at most this share of one group's channels goes (default 0.75)
  --keep N1,N2,…            these nodes keep their shape (repeatable)
  --prune-layers N|auto     drop the N residual blocks / identity-shaped layers whose removal costs
                            least on --calibration, or (auto) those that keep top-1 agreement ≥ 99 %
  --calibration FILE        .npy samples [N, ...input shape] for sensitivity (and --quantize int8)
  --val-data FILE           .npy samples to score before → after; --val-labels FILE: their classes
  --quantize int8           write the bundle int8 (post-training, on --calibration); --calibrate as compile
  --report FILE             also write the report as JSON
  --shape NAME=DIMS         fix a dynamic ONNX input shape (repeatable)
  --factorize LIST          low-rank factorisation after pruning: svd (Dense, 1×1 conv), separable
                            (k×k → k×1 + 1×k, Tai et al.), tucker2 (1×1 → k×k core → 1×1), comma-separated;
                            a layer is replaced only when its MACs and its measured kernel time both drop
  --rank R | --energy F     rank of every factorised layer, or the share of squared singular values kept
                            in (0, 1] (default energy 0.9)
  -h, --help                show this help

${DISTILL_HELP}`;

const share = (flag: string, text: string, lo: number, hiOpen: boolean): number => {
  const v = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(v) &&
    v >= lo &&
    (hiOpen ? v < 1 : v <= 1) &&
    !(lo === 0 && flag !== '--prune-channels' && v === 0);
  if (!ok)
    throw new UsageError(
      `${flag}: expected a share in ${lo === 0 && flag === '--prune-channels' ? '[0, 1)' : hiOpen ? '(0, 1)' : '(0, 1]'}, got '${text}'`,
      'compress',
    );
  return v;
};

interface Whole {
  params: number;
  macs: number;
  bundleBytes: number;
  latencyMs: number;
  top1?: number;
}

export async function compressCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('compress', argv, {
    output: { type: 'string', short: 'o' },
    'prune-channels': { type: 'string' },
    'target-macs': { type: 'string' },
    importance: { type: 'string' },
    'round-to': { type: 'string' },
    'max-ratio': { type: 'string' },
    keep: { type: 'string', multiple: true },
    'prune-layers': { type: 'string' },
    'val-data': { type: 'string' },
    'val-labels': { type: 'string' },
    'calibration-labels': { type: 'string' },
    refit: { type: 'string' },
    report: { type: 'string' },
    shape: { type: 'string', multiple: true },
    factorize: { type: 'string' },
    rank: { type: 'string' },
    energy: { type: 'string' },
    distill: { type: 'boolean' },
    ...DISTILL_FLAGS,
    ...QUANTIZE_FLAGS,
  });
  if (values.help) {
    console.log(COMPRESS_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one model file, got ${positionals.length}`, 'compress');
  const path = positionals[0]!;
  const out = values.output;
  if (!out) throw new UsageError('missing -o <small.json|small.onnx|small.edgec>', 'compress');
  const outExt = extname(out).toLowerCase();
  if (!['.json', '.onnx', '.edgec'].includes(outExt))
    throw new UsageError(`${out}: the output must be a .json, .onnx or .edgec file`, 'compress');
  const factorize = values.factorize
    ?.split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (factorize?.some((m) => !(FACTORIZE_METHODS as readonly string[]).includes(m)))
    throw new UsageError(
      `--factorize: expected ${FACTORIZE_METHODS.join(', ')} (comma-separated), got '${values.factorize}'`,
      'compress',
    );
  if ((values.rank !== undefined || values.energy !== undefined) && !factorize)
    throw new UsageError('--rank / --energy set the factorisation: give --factorize too', 'compress');
  if (values.rank !== undefined && values.energy !== undefined)
    throw new UsageError('give --rank or --energy, not both', 'compress');
  const rank = values.rank === undefined ? undefined : Number(values.rank);
  if (rank !== undefined && !(Number.isInteger(rank) && rank >= 1))
    throw new UsageError(`--rank: expected a positive integer, got '${values.rank}'`, 'compress');
  const energy =
    values.energy === undefined ? (rank === undefined ? 0.9 : undefined) : share('--energy', values.energy, 0, false);
  const recovery = parseDistillFlags(values);
  const importance = (values.importance ?? 'l1') as Importance;
  if (!IMPORTANCE.includes(importance))
    throw new UsageError(`--importance: expected ${IMPORTANCE.join(', ')}, got '${values.importance}'`, 'compress');
  if (DATA_IMPORTANCE.includes(importance) && values.calibration === undefined)
    throw new UsageError(`--importance ${importance} is measured on data: give --calibration x.npy`, 'compress');
  if (values['calibration-labels'] !== undefined && importance !== 'taylor')
    throw new UsageError('--calibration-labels are the labels of --importance taylor', 'compress');
  const refitText = values.refit ?? (importance === 'thinet' ? 'ls' : 'none');
  if (refitText !== 'ls' && refitText !== 'none')
    throw new UsageError(`--refit: expected ls or none, got '${values.refit}'`, 'compress');
  const refit = refitText === 'ls';
  if (refit && values.calibration === undefined)
    throw new UsageError('--refit ls fits on data: give --calibration x.npy', 'compress');
  const roundText = values['round-to'] ?? '8';
  const roundTo = Number(roundText);
  if (!Number.isInteger(roundTo) || roundTo < 1 || roundTo > 256)
    throw new UsageError(`--round-to: expected an integer in 1..256, got '${roundText}'`, 'compress');
  const rule: KeepRule = { roundTo, maxRatio: share('--max-ratio', values['max-ratio'] ?? '0.75', 0, false) };
  const pc = values['prune-channels'];
  const auto = pc === 'auto' || (pc === undefined && values['target-macs'] !== undefined);
  const ratio = pc === undefined || pc === 'auto' ? undefined : share('--prune-channels', pc, 0, true);
  if (ratio !== undefined && values['target-macs'] !== undefined)
    throw new UsageError(
      '--target-macs picks the ratios itself: give --prune-channels auto (or nothing), not a ratio',
      'compress',
    );
  const target = auto ? share('--target-macs', values['target-macs'] ?? '0.5', 0, false) : undefined;
  const pl = values['prune-layers'];
  const layers = pl === undefined ? undefined : pl === 'auto' ? ('auto' as const) : Number(pl);
  if (typeof layers === 'number' && !(Number.isInteger(layers) && layers >= 1))
    throw new UsageError(`--prune-layers: expected a count ≥ 1 or auto, got '${pl}'`, 'compress');
  if (ratio === undefined && !auto && layers === undefined && !factorize)
    throw new UsageError('nothing to do: give --prune-channels, --prune-layers and/or --factorize', 'compress');
  const calibration = values.calibration;
  if ((auto || layers !== undefined) && calibration === undefined)
    throw new UsageError(
      `${auto ? '--target-macs' : '--prune-layers'} measures sensitivity: give --calibration x.npy`,
      'compress',
    );
  if (values['val-labels'] !== undefined && values['val-data'] === undefined)
    throw new UsageError('--val-labels needs --val-data', 'compress');
  // --calibration also feeds sensitivity, so it is not a quantisation flag on its own here
  const quantize = parseQuantizeFlags({
    ...values,
    calibration: values.quantize === undefined ? undefined : values.calibration,
  });
  if (quantize && outExt !== '.edgec')
    throw new UsageError('--quantize int8 writes a bundle: give -o <small.edgec>', 'compress');
  if (!existsSync(dirname(resolve(out)))) throw new CliError(out, 'the output directory does not exist');
  let shapes: Record<string, number[]> | undefined;
  for (const s of values.shape ?? []) {
    const eq = s.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--shape expects NAME=DIMS, got '${s}'`, 'compress');
    (shapes ??= {})[s.slice(0, eq)] = parseDims(s.slice(eq + 1));
  }
  const keep = (values.keep ?? [])
    .flatMap((k) => k.split(','))
    .map((k) => k.trim())
    .filter((k) => k !== '');

  const original = loadModel(path, shapes);
  inferShapes.run(original);
  if (original.inputs.length !== 1)
    throw new CliError(path, `compress measures models with one input; this one has ${original.inputs.length}`);
  const input = original.inputs[0]!;
  const calib = calibration === undefined ? undefined : loadCalibration(calibration, original).data.slice(0, 32);
  const val = values['val-data'] === undefined ? undefined : loadCalibration(values['val-data'], original).data;
  const labels = values['val-labels'] === undefined ? undefined : loadNpy(values['val-labels']);
  const calibLabels =
    values['calibration-labels'] === undefined ? undefined : loadNpy(values['calibration-labels']).data.slice(0, 32);
  if (calibLabels && calibLabels.length !== calib!.length)
    throw new CliError(
      values['calibration-labels']!,
      `${calibLabels.length} labels for ${calib!.length} --calibration samples (the first 32 are used)`,
    );
  if (labels && val && labels.data.length !== val.length)
    throw new CliError(values['val-labels']!, `${labels.data.length} labels for ${val.length} --val-data samples`);
  const sample =
    (calib ?? val)?.[0] ?? new Float32Array(original.tensors.get(input)!.shape.reduce((a, b) => a * b, 1)).fill(0.5);

  // measured against the original on calibration data (float bundles on the simd runtime)
  const reference = calib && (await runSamples(await bundleOf(original, undefined), input, calib));
  const measure = async (h: Graph): Promise<Agreement> =>
    agreement(reference!, await runSamples(await bundleOf(h, undefined), input, calib!));

  let g = original;
  let layerChoice: LayerChoice | undefined;
  if (layers !== undefined) {
    layerChoice = await chooseLayers(g, layers, measure);
    if (layerChoice.costs.length === 0) console.log('layers: no residual block or identity-shaped layer to drop');
    g = dropLayers(g, layerChoice.dropped);
  }
  let sensitivityNote: string | undefined;
  let refits: RefitRecord[] = [];
  let afterLayers = g;
  if (ratio !== undefined || auto) {
    const { dep, prunable } = prunableGroups(g, keep);
    const scores = DATA_IMPORTANCE.includes(importance)
      ? await dataScores(g, dep, prunable, importance, calib!, calibLabels && Array.from(calibLabels, Number))
      : undefined;
    let ratios = new Map(prunable.map((grp) => [grp.name, ratio ?? 0]));
    if (auto) {
      const r = await ratiosForBudget(
        g,
        dep,
        prunable,
        target!,
        importance,
        rule,
        async (h) => (await measure(h)).relError,
        undefined,
        scores,
      );
      ratios = r.ratios;
      sensitivityNote = `target MACs ${(100 * target!).toFixed(0)} %: ${r.reached ? 'met' : 'NOT met (every group at --max-ratio)'}, ${r.sensitivity.length} sensitivity runs on ${calib!.length} calibration samples`;
    }
    afterLayers = g;
    const kept = keptUnits(g, { dep, ratios, importance, rule, scores });
    if (refit) {
      const acts = consumerActivations(g, dep, [...kept.keys()], calib!.slice(0, THINET_SAMPLES));
      const r = refitKept(g, dep, kept, acts);
      refits = r.records;
      g = applyPruning(r.graph, dep, kept);
    } else g = applyPruning(g, dep, kept);
    for (const b of dep.boundaries) console.log(`boundary: node '${b.node}' (${b.op}) ${b.why}: its channels stay`);
  }

  // per-layer channel rows compare the pruning stage only; factorisation reports its own lines
  const pruned = g;
  let factorized: FactorizeRecord[] = [];
  if (factorize) {
    const r = await factorizeGraph(g, {
      factorize: factorize as FactorizeMethod[],
      rank,
      energy,
      dtype: quantize ? 'int8' : 'float32',
    });
    g = r.graph;
    factorized = r.layers;
  }

  // per layer rows, then the whole model before → after
  const rows: {
    node: string;
    op: string;
    channels: [number, number];
    params: [number, number];
    macs: [number, number];
  }[] = [];
  for (const n of afterLayers.nodes) {
    if (n.op !== 'Conv2D' && n.op !== 'Dense') continue;
    const m = pruned.nodes.find((x) => x.name === n.name);
    if (!m) continue;
    const ch = (h: Graph, x: typeof n) => h.tensors.get(x.outputs[0]!)!.shape.at(-1)!;
    const params = (h: Graph, x: typeof n) =>
      x.inputs.slice(1).reduce((s, i) => s + (h.tensors.get(i)?.data?.length ?? 0), 0);
    rows.push({
      node: n.name,
      op: n.op,
      channels: [ch(afterLayers, n), ch(pruned, m)],
      params: [params(afterLayers, n), params(pruned, m)],
      macs: [nodeMacs(afterLayers, n), nodeMacs(pruned, m)],
    });
  }
  const whole = async (h: Graph): Promise<{ w: Whole; outs?: Float64Array[] }> => {
    const bundle = await bundleOf(h, quantize);
    const outs = val && (await runSamples(bundle, input, val));
    return {
      w: {
        params: graphParams(h),
        macs: graphMacs(h),
        bundleBytes: bundle.length,
        latencyMs: await latencyMs(bundle, input, sample),
        ...(outs && labels ? { top1: top1(outs, labels.data) } : {}),
      },
      outs,
    };
  };
  let distilled: Awaited<ReturnType<typeof recover>> | undefined;
  let beforeRecovery: Whole | undefined;
  if (recovery) {
    beforeRecovery = (await whole(g)).w;
    const v = values['val-data'];
    distilled = await recover(
      original,
      g,
      recovery,
      v && values['val-labels'] ? { data: v, labels: values['val-labels'] } : undefined,
    );
    g = distilled.model;
  }
  const before = await whole(original),
    after = await whole(g);
  const agree = before.outs && after.outs ? agreement(before.outs, after.outs) : undefined;

  const pct = (a: number, b: number) => `${a === 0 ? 0 : ((100 * (b - a)) / a).toFixed(1)} %`;
  const lines: string[] = [];
  for (const c of layerChoice?.costs ?? [])
    lines.push(
      `layer candidate '${c.node}' (${c.kind}): dropped alone, top-1 agreement ${(100 * c.agreement.top1).toFixed(1)} %, relative error ${c.agreement.relError.toExponential(2)}`,
    );
  for (const c of layerChoice?.dropped ?? [])
    lines.push(
      `dropped ${c.kind === 'residual' ? 'residual block' : 'identity-shaped layer'} '${c.node}'${c.nodes.length ? ` (${c.nodes.length} nodes)` : ''}`,
    );
  for (const r of rows) {
    if (r.channels[0] === r.channels[1] && r.params[0] === r.params[1]) continue;
    lines.push(
      `${r.node.padEnd(32)} ${r.op.padEnd(7)} channels ${r.channels[0]} → ${r.channels[1]}, params ${fmtInt(r.params[0])} → ${fmtInt(r.params[1])}, MACs ${fmtInt(r.macs[0])} → ${fmtInt(r.macs[1])}`,
    );
  }
  for (const f of factorized)
    lines.push(
      `${f.layer.padEnd(32)} ${f.op.padEnd(7)} ${f.factorised ? `${f.method} rank ${String(f.rank)} of ${String(f.fullRank)}` : 'kept'}: MACs ${fmtInt(f.macsBefore)} → ${fmtInt(f.factorised ? f.macsAfter : f.macsBefore)} (${f.reason})`,
    );
  for (const r of refits)
    lines.push(
      `refit '${r.consumer}' over group '${r.group}': relative error on ${r.positions} sampled outputs ${r.errorBefore.toExponential(2)} → ${r.errorAfter.toExponential(2)}`,
    );
  if (sensitivityNote) lines.push(sensitivityNote);
  const b = before.w,
    a = after.w;
  lines.push(
    `params ${fmtInt(b.params)} → ${fmtInt(a.params)} (${pct(b.params, a.params)}), MACs ${fmtInt(b.macs)} → ${fmtInt(a.macs)} (${pct(b.macs, a.macs)})`,
  );
  lines.push(
    `${quantize ? 'int8' : 'float'} bundle ${fmtInt(b.bundleBytes)} → ${fmtInt(a.bundleBytes)} bytes (${pct(b.bundleBytes, a.bundleBytes)}); simd latency ${b.latencyMs.toFixed(3)} → ${a.latencyMs.toFixed(3)} ms (${pct(b.latencyMs, a.latencyMs)})`,
  );
  lines.push(...(distilled?.lines ?? []));
  if (b.top1 !== undefined && a.top1 !== undefined)
    lines.push(
      beforeRecovery
        ? `top-1 on ${val!.length} --val-data samples: ${(100 * b.top1).toFixed(2)} % → ${(100 * beforeRecovery.top1!).toFixed(2)} % compressed → ${(100 * a.top1).toFixed(2)} % after --distill`
        : `top-1 on ${val!.length} --val-data samples: ${(100 * b.top1).toFixed(2)} % → ${(100 * a.top1).toFixed(2)} % (before recovery)`,
    );
  if (agree)
    lines.push(
      `output agreement with the original on --val-data: top-1 ${(100 * agree.top1).toFixed(2)} %, relative squared error ${agree.relError.toExponential(3)}`,
    );

  // write the model, then the report: nothing is written before every measurement succeeded
  if (outExt === '.json') writeFilesAtomic(dirname(resolve(out)), (tmp) => writeModelJson(g, join(tmp, basename(out))));
  else if (outExt === '.onnx') writeFileAtomic(out, exportOnnx(g));
  else
    writeFileAtomic(
      out,
      await bundleOf(g, quantize, { modelName: g.name || basename(path, extname(path)), options: { compress: true } }),
    );
  lines.push(`wrote ${out}`);
  if (values.report) {
    writeFileAtomic(
      values.report,
      `${JSON.stringify(
        {
          model: path,
          output: out,
          layers: rows,
          droppedLayers: layerChoice?.dropped ?? [],
          layerCosts: layerChoice?.costs ?? [],
          factorized,
          refits: refits.map(({ scales: _s, kept: _k, ...r }) => r),
          before: b,
          after: a,
          ...(beforeRecovery ? { beforeRecovery, distill: distilled!.report } : {}),
          ...(agree ? { agreement: agree } : {}),
          options: {
            ratio,
            target,
            importance,
            refit: refitText,
            ...rule,
            keep,
            factorize: factorize ?? null,
            rank,
            energy,
            quantize: quantize?.method ?? null,
          },
        },
        null,
        2,
      )}\n`,
    );
  }
  for (const l of lines) console.log(l);
  return 0;
}
