// `edgec train`: trains a model.json / model.onnx on .npy data inside the wasm (runtime/train.ts runs
// the steps) and writes the trained model as model.json + .bin or ONNX, atomically, at the end only.
// Prints the training arena before the first step, a progress bar per epoch (stderr, TTY), one line
// per epoch and per validation. Checkpoints after every epoch; Ctrl-C writes one and exits 130;
// --resume continues to the same bytes. A non-finite loss stops the run naming the step and the first
// node that went non-finite; nothing is written and the last good checkpoint stays. BatchNorm trains, stays
// frozen or is folded as --batchnorm says (default: train from scratch, frozen when fine-tuning); trained
// running statistics are written back into the model.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { simdSupported } from '../../runtime/index.ts';
import {
  NonFiniteLossError,
  Trainer,
  wasmEvaluator,
  type Evaluator,
  type EpochReport,
  type TrainerState,
} from '../../runtime/train.ts';
import { parallelStepRunner, trainParallel, type ParallelTrainer } from '../../runtime/train-parallel.ts';
import { load } from '../../runtime/node.ts';
import { exportOnnx } from '../export/onnx.ts';
import { writeModelJson } from '../frontend/model-json/index.ts';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.ts';
import { numElements, type Graph } from '../ir/graph.ts';
import {
  CheckpointError,
  checkpointFile,
  loadCheckpoint,
  modelStructureHash,
  saveCheckpoint,
  type Checkpoint,
  type CkptTensor,
} from '../train/checkpoint.ts';
import { compileTraining, type CompiledTraining } from '../train/compile-training.ts';
import { buildShardedTraining, compileShardedTraining } from '../train/shard.ts';
import { openDataset, type Dataset } from '../train/data/dataset.ts';
import { BatchLoader, inputLayout } from '../train/data/loader.ts';
import { Pcg32 } from '../train/data/pcg32.ts';
import { describeSite, findNonFiniteSharded } from '../train/diagnose.ts';
import { initWeights } from '../train/init.ts';
import { describeSchedule, learningRate } from '../train/schedule.ts';
import { withTrainedState, type TrainingOptions } from '../train/training-graph.ts';
import { parseCommand } from './args.ts';
import { loadModel } from './compile.ts';
import { CliError, UsageError } from './errors.ts';
import { fmtInt } from './inspect.ts';
import { parseTrainFlags, TRAIN_FLAGS, TRAIN_FLAGS_HELP, type BatchNormMode, type TrainFlags } from './train-flags.ts';

export const TRAIN_HELP = `usage: edgec train <model.json|model.onnx> --data <x.npy> --labels <y.npy> -o <out.json|out.onnx> [options]

Trains the model's Dense / Conv2D weights with softmax cross-entropy on the labelled samples, every
step inside edgec's wasm runtime, and writes the trained model (model.json + .bin, or ONNX). Same
seed, data and flags give the same bytes on every build and rerun.

options:
  -o, --output FILE       trained model to write at the end: .json (+ .bin beside it) or .onnx
${TRAIN_FLAGS_HELP}
  --build auto|simd|scalar  runtime build that runs the steps (default auto; both give the same bytes)
  -h, --help              show this help

Ctrl-C writes a checkpoint (to --checkpoint DIR, else --resume DIR, else <output>.checkpoint/) and
exits with code 130; --resume DIR continues from it.`;

/** Settings a checkpoint records and a resumed run must repeat (flag → value). */
function settingsDiff(a: Record<string, unknown>, b: Record<string, unknown>): string | undefined {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[k] ?? null),
      y = JSON.stringify(b[k] ?? null);
    if (x !== y) return `${k}: the checkpoint's run used ${x}, this run has ${y}`;
  }
  return undefined;
}

function openData(file: string, labels: string, g: Graph, classes: number): Dataset {
  const x = g.inputs[0]!;
  return openDataset({ data: file, labels, input: { name: x, shape: g.tensors.get(x)!.shape }, classes });
}

function loader(ds: Dataset, file: string, opts: ConstructorParameters<typeof BatchLoader>[1]): BatchLoader {
  try {
    return new BatchLoader(ds, opts);
  } catch (e) {
    if (e instanceof RangeError) throw new CliError(file, e.message);
    throw e;
  }
}

/** The checkpoint of `state`: weights and moments by the spec, the run's settings in `extra`. */
function toCheckpoint(
  c: CompiledTraining,
  state: TrainerState,
  hash: string,
  flags: TrainFlags,
  settings: Record<string, unknown>,
): Checkpoint {
  const t = (name: string): CkptTensor => ({
    shape: [...c.training.graph.tensors.get(name)!.shape],
    data: state.variables.get(name)!,
  });
  const moments = Object.values(c.spec.moments).flat();
  return {
    modelHash: hash,
    step: state.step,
    epoch: state.epoch,
    batch: state.batch,
    rng: new Pcg32(flags.seed).getState(),
    optimizer: { ...flags.optimizer },
    // BatchNorm running statistics travel with the weights (they are constants of the model too)
    weights: new Map([...c.spec.params, ...c.training.runningStats].map((p) => [p, t(p)])),
    moments: new Map(moments.map((m) => [m, t(m)])),
    observers: new Map(),
    extra: { settings },
  };
}

function fromCheckpoint(ck: Checkpoint, c: CompiledTraining, file: string): TrainerState {
  const variables = new Map<string, Float32Array>();
  const want = [...c.spec.params, ...c.training.runningStats, ...Object.values(c.spec.moments).flat()];
  const have = new Map([...ck.weights, ...ck.moments]);
  for (const name of want) {
    const t = have.get(name);
    const shape = c.training.graph.tensors.get(name)!.shape;
    if (!t || !(t.data instanceof Float32Array) || t.data.length !== numElements(shape)) {
      throw new CheckpointError(
        file,
        `has no float32 ${name.includes(':') ? 'moment' : 'weight'} '${name}' of shape [${shape}] (frozen nodes or optimiser differ from the run that wrote it)`,
      );
    }
    variables.set(name, t.data);
  }
  return { step: ck.step, epoch: ck.epoch, batch: ck.batch, variables };
}

function writeOutput(out: string, g: Graph): string[] {
  if (extname(out).toLowerCase() === '.onnx') {
    writeFileAtomic(out, exportOnnx(g));
    return [out];
  }
  return writeFilesAtomic(dirname(resolve(out)), (tmp) => writeModelJson(g, join(tmp, basename(out))));
}

const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(2)} %`);

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('train', argv, {
    output: { type: 'string', short: 'o' },
    build: { type: 'string' },
    ...TRAIN_FLAGS,
  });
  if (values.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one model file, got ${positionals.length}`, 'train');
  const modelPath = positionals[0]!;
  const out = values.output;
  if (!out) throw new UsageError('missing -o <out.json|out.onnx>', 'train');
  const outExt = extname(out).toLowerCase();
  if (outExt !== '.json' && outExt !== '.onnx')
    throw new UsageError(`${out}: the output must be a .json or .onnx file`, 'train');
  if (!existsSync(dirname(resolve(out)))) throw new CliError(out, 'the output directory does not exist');
  const build = values.build ?? 'auto';
  if (build !== 'auto' && build !== 'simd' && build !== 'scalar')
    throw new UsageError(`--build must be auto, simd or scalar, got '${build}'`, 'train');
  const flags = parseTrainFlags(values);

  const graph = loadModel(modelPath, undefined);
  const hash = modelStructureHash(graph);
  // BatchNorm: train from scratch (what its running statistics are for), frozen when fine-tuning (the statistics
  // the model was trained with stay; small fine-tuning batches make poor ones); recorded only for models with one
  const hasBatchNorm = graph.nodes.some((n) => n.op === 'BatchNorm');
  const bnMode: BatchNormMode = flags.batchNorm ?? (flags.init ? 'train' : 'frozen');
  const settings = hasBatchNorm ? { ...flags.settings, batchNorm: bnMode } : flags.settings;
  const resumed = flags.resume === undefined ? undefined : loadCheckpoint(flags.resume, { graph, file: modelPath });
  const resumeFile = flags.resume === undefined ? '' : checkpointFile(flags.resume);
  if (resumed) {
    const diff = settingsDiff((resumed.extra?.settings ?? {}) as Record<string, unknown>, settings);
    if (diff)
      throw new CheckpointError(
        resumeFile,
        `was written by a run with other settings (${diff}); resume with the flags it started with`,
      );
  }
  if (flags.init) initWeights(graph, flags.init, flags.seed, flags.frozen);

  const outT = graph.tensors.get(graph.outputs[0] ?? '');
  const classes = outT ? outT.shape[outT.shape.length - 1]! : 0;
  const train = openData(flags.data, flags.labels, graph, classes);
  const val = flags.val ? openData(flags.val.data, flags.val.labels, graph, classes) : undefined;
  let parallel: ParallelTrainer | undefined;
  try {
    const batches = loader(train, flags.data, {
      batch: flags.batch,
      seed: flags.seed,
      augment: flags.augment,
      layout: inputLayout(graph, graph.inputs[0]!),
    });
    const valBatches =
      val && loader(val, flags.val!.data, { batch: flags.batch, seed: flags.seed, shuffle: false, dropLast: false });
    const totalSteps = flags.epochs * batches.batchesPerEpoch;
    const schedule = flags.schedule(totalSteps);

    const keepBatchNorm = hasBatchNorm && bnMode !== 'fold';
    const trainOpts: TrainingOptions = {
      loss: { kind: 'softmax-cross-entropy', labelSmoothing: flags.labelSmoothing },
      optimizer: flags.optimizer,
      clipNorm: flags.clipNorm,
      frozen: flags.frozen,
      ...(keepBatchNorm ? { batchNorm: bnMode as 'train' | 'frozen' } : {}),
    };
    const compiled = compileTraining(graph, flags.batch, trainOpts, { keepBatchNorm });
    const buildName = build === 'auto' ? (simdSupported() ? 'simd' : 'scalar') : build;
    const evalModel = valBatches ? await load(compiled.evalBundle, { build }) : undefined;
    // the steps run on the sharded plan at every thread count, so --threads never changes the bytes
    const shardPlan = buildShardedTraining(compiled.forward, flags.batch, trainOpts);
    const sharded = compileShardedTraining(shardPlan);
    parallel = await trainParallel(sharded, { threads: flags.threads, build });
    const evaluator: Evaluator | undefined = evalModel && wasmEvaluator(evalModel);
    const trainer = new Trainer(parallelStepRunner(parallel, compiled.spec), { evaluator });
    const params = compiled.spec.params.reduce(
      (s, p) => s + numElements(compiled.training.graph.tensors.get(p)!.shape),
      0,
    );
    // what runs: one shard-gradient instance per thread and the update bundle
    const { gradient: ga, update: ua } = parallel.arena;
    console.log(
      `${modelPath}: training arena ${fmtInt(parallel.threads * ga.arenaBytes + ua.arenaBytes)} bytes, ${fmtInt(parallel.shards * ga.steps + ua.steps)} steps per batch of ${flags.batch}; ${fmtInt(params)} trained weights in ${compiled.spec.params.length} tensors (${buildName} build; ${parallel.threads} × ${fmtInt(ga.arenaBytes)} shard gradient + ${fmtInt(ua.arenaBytes)} update)`,
    );
    if (hasBatchNorm) {
      const n = graph.nodes.filter((x) => x.op === 'BatchNorm').length;
      const how = {
        train: `train: batch statistics of each ${flags.batch / parallel.shards}-sample shard, running statistics of the whole batch`,
        frozen: 'frozen: the fixed affine of their running statistics',
        fold: 'folded into the layer before them',
      }[bnMode];
      console.log(`${n} BatchNorm node${n === 1 ? '' : 's'} ${how} (--batchnorm ${bnMode})`);
    }
    console.log(
      `${fmtInt(train.size)} samples, ${fmtInt(batches.batchesPerEpoch)} batches per epoch × ${flags.epochs} epoch${flags.epochs === 1 ? '' : 's'} = ${fmtInt(totalSteps)} steps; ${flags.optimizer.kind}, ${describeSchedule(schedule)}; ${parallel.shards} shards on ${parallel.threads} thread${parallel.threads > 1 ? 's' : ''}`,
    );
    if (resumed) {
      trainer.restore(fromCheckpoint(resumed, compiled, resumeFile));
      console.log(
        `resumed from ${resumeFile} at step ${fmtInt(resumed.step)} (epoch ${resumed.epoch + 1}, batch ${resumed.batch + 1})`,
      );
    }

    const ckptDir = flags.checkpoint ?? flags.resume ?? join(dirname(out), `${basename(out, extname(out))}.checkpoint`);
    let lastGood: string | undefined =
      flags.checkpoint === undefined && flags.resume !== undefined ? resumeFile : undefined;
    const save = (s: TrainerState) =>
      (lastGood = saveCheckpoint(ckptDir, toCheckpoint(compiled, s, hash, flags, settings)));

    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.on('SIGINT', onSigint);
    const tty = process.stderr.isTTY === true;
    let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
    let seen = 0,
      right = 0,
      lossSum = 0,
      steps = 0,
      t0 = 0;
    const startBar = (epoch: number, from: number) => {
      seen = right = lossSum = steps = 0;
      t0 = performance.now();
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `epoch ${epoch + 1}/${flags.epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {speed} samples/s | ETA {eta}s`,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches.batchesPerEpoch, from, { loss: '-', acc: '-', speed: '-' });
    };
    let result;
    try {
      startBar(trainer.position.epoch, trainer.position.batch);
      result = await trainer.fit(batches, {
        epochs: flags.epochs,
        lr: (t) => learningRate(schedule, t),
        validation: valBatches,
        signal: abort.signal,
        onStep(r) {
          seen += r.samples;
          right += r.correct ?? 0;
          lossSum += r.loss;
          steps++;
          const speed = seen / Math.max(1e-9, (performance.now() - t0) / 1000);
          bar?.update(r.batch + 1, {
            loss: (lossSum / steps).toFixed(4),
            acc: pct(right / seen),
            speed: fmtInt(Math.round(speed)),
          });
          if (r.batch + 1 === batches.batchesPerEpoch) {
            bar?.stop();
            bar = undefined;
          }
        },
        onEpoch(e: EpochReport) {
          console.log(
            `epoch ${e.epoch + 1}/${flags.epochs}: loss ${e.loss.toFixed(4)}, accuracy ${pct(e.accuracy)}, ${fmtInt(Math.round(e.samplesPerSecond))} samples/s, ${e.seconds.toFixed(2)} s`,
          );
          if (e.validation)
            console.log(
              `  validation: loss ${e.validation.loss!.toFixed(4)}, accuracy ${pct(e.validation.accuracy)} (${fmtInt(e.validation.samples)} samples)`,
            );
          if (flags.checkpoint !== undefined || flags.resume !== undefined) save(trainer.state());
          if (e.epoch + 1 < flags.epochs) startBar(e.epoch + 1, 0);
        },
      });
    } catch (e) {
      bar?.stop();
      if (!(e instanceof NonFiniteLossError)) throw e;
      // the step that failed is the sharded one (any thread count): rerun its shards, then its update
      const site = await findNonFiniteSharded(shardPlan, e.state, e.input, e.lr, buildName);
      const kept = lastGood ? `the last good checkpoint ${lastGood} is kept` : 'no checkpoint was written';
      if (site?.phase === 'input') {
        // the loader's batch knows its dataset rows: name the first sample holding a NaN / Inf
        const rows = (e.input as { rows?: Uint32Array }).rows ?? new Uint32Array(0);
        const per = train.sampleElements;
        const i = rows.findIndex((_, k) => e.input.x.subarray(k * per, (k + 1) * per).some((v) => !Number.isFinite(v)));
        throw new CliError(
          flags.data,
          `sample ${rows[i]} holds NaN or Inf (step ${e.position.step} would train on it); nothing written to ${out}, ${kept}`,
        );
      }
      throw new CliError(
        modelPath,
        `${e.message}; ${site ? describeSite(site) : 'no node output is non-finite in a rerun'}; lower --lr or clip with --clip-norm; nothing written to ${out}, ${kept}`,
      );
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (result.status === 'aborted') {
      bar?.stop();
      const p = result.position;
      const file = save(trainer.state());
      console.log(
        `interrupted at step ${fmtInt(p.step)} (epoch ${p.epoch + 1}, batch ${p.batch + 1}): checkpoint written to ${file}; continue with --resume ${ckptDir}`,
      );
      return 130;
    }

    const vars = trainer.state().variables;
    const written = writeOutput(
      out,
      withTrainedState(compiled.forward, compiled.training, (name) => vars.get(name)!),
    );
    console.log(
      `${out}: trained ${fmtInt(result.position.step)} steps; wrote ${written.map((f) => basename(f)).join(', ')}`,
    );
    return 0;
  } finally {
    train.close();
    val?.close();
    await parallel?.close();
  }
}
