// Training batches of a distillation run: the data set's seeded batches (compiler/train/data/loader.ts) with
// the teacher's outputs as targets — logits as the KD target, features for hints and relational terms, the
// labels as KD's hard labels (α < 1) or the only target (α = 0). Without augmentation the teacher's outputs
// for the whole data set are computed once (in chunks, in row order) and batches gather their rows; with
// augmentation the teacher runs on each augmented batch. Either way a row's outputs are the same bytes.
import { BundleError } from '../../runtime/index.ts';
import type { Batch, BatchSource } from '../../runtime/train.ts';
import type { BatchLoader } from '../train/data/loader.ts';
import type { TrainingGraph } from '../train/training-graph.ts';
import type { Teacher } from './teacher.ts';
import { OLD_CLASSES_INPUT } from '../train/distill-loss.ts';

/** The cache holds at most this many bytes of teacher outputs; a larger data set runs the teacher per batch. */
export const TEACHER_CACHE_BYTES = 1 << 30;
/** Samples per teacher call while filling the cache. */
const CHUNK = 1024;

export class TeacherBatches implements BatchSource {
  readonly batchesPerEpoch: number;
  readonly cached: boolean;
  /** Seconds spent filling the cache (0 when not cached). */
  readonly seconds: number;
  private readonly cache?: Map<string, Float32Array>;

  constructor(
    readonly loader: BatchLoader,
    readonly teacher: Teacher,
    readonly training: TrainingGraph,
    readonly labelled: boolean,
    augmented: boolean,
    cache?: boolean,
    /** Continual: the teacher's classes [from, to) feed OLD_CLASSES_INPUT. */
    readonly oldClasses?: [number, number],
  ) {
    this.batchesPerEpoch = loader.batchesPerEpoch;
    const data = loader.data;
    const bytes = data.size * teacher.outputs.reduce((s, o) => s + o.elements, 0) * 4;
    this.cached = (cache ?? !augmented) && bytes <= TEACHER_CACHE_BYTES && teacher.outputs.length > 0;
    if (cache && augmented)
      throw new BundleError('teacher outputs cannot be cached for augmented data (each epoch sees other pixels)');
    const t0 = performance.now();
    if (this.cached) this.cache = teacherOutputs(teacher, (rows) => data.readSamples(rows), data.size);
    this.seconds = this.cached ? (performance.now() - t0) / 1000 : 0;
  }

  /** The teacher's outputs for `rows` of the data set (from the cache, or a run on `x`). */
  outputs(rows: Uint32Array, x: Float32Array): Map<string, Float32Array> {
    // a labels-only job's teacher has no outputs and is never run
    if (!this.teacher.outputs.length) return new Map();
    if (!this.cache) return this.teacher.run(x, rows.length);
    const res = new Map<string, Float32Array>();
    for (const o of this.teacher.outputs) {
      const all = this.cache.get(o.name)!,
        e = o.elements;
      const v = new Float32Array(rows.length * e);
      rows.forEach((r, i) => v.set(all.subarray(r * e, (r + 1) * e), i * e));
      res.set(o.name, v);
    }
    return res;
  }

  batch(epoch: number, index: number): Batch {
    const b = this.loader.batch(epoch, index);
    const out = this.outputs(b.rows, b.x);
    const tg = this.training;
    const targets: Record<string, Int32Array | Float32Array> = {};
    for (const name of tg.targets) {
      if (name === tg.labels) continue;
      if (name === tg.hardLabels) targets[name] = b.y;
      else if (name === OLD_CLASSES_INPUT && this.oldClasses)
        targets[name] = columns(out.get('logits')!, this.teacher.classes, this.oldClasses);
      else if (name.startsWith('teacher:')) targets[name] = out.get(name.slice('teacher:'.length)) ?? unknown(name);
      else unknown(name);
    }
    const softTargets = tg.graph.tensors.get(tg.labels)!.dtype === 'float32';
    return {
      x: b.x,
      y: softTargets ? out.get('logits')! : b.y,
      targets,
      ...(this.labelled && { labels: b.y }),
    };
  }
}

/** Columns [from, to) of row-major logits [n, classes]. */
function columns(logits: Float32Array, classes: number, [from, to]: [number, number]): Float32Array {
  const n = logits.length / classes,
    w = to - from;
  const out = new Float32Array(n * w);
  for (let i = 0; i < n; i++) out.set(logits.subarray(i * classes + from, i * classes + to), i * w);
  return out;
}

function unknown(name: string): never {
  throw new BundleError(`distillation: no teacher output feeds the training input '${name}'`);
}

/** The teacher's outputs for samples 0..n−1 (read by `read`), in chunks, row order. */
export function teacherOutputs(
  teacher: Teacher,
  read: (rows: Uint32Array) => Float32Array,
  n: number,
): Map<string, Float32Array> {
  const res = new Map(teacher.outputs.map((o) => [o.name, new Float32Array(n * o.elements)]));
  for (let i = 0; i < n; i += CHUNK) {
    const rows = Uint32Array.from({ length: Math.min(CHUNK, n - i) }, (_, k) => i + k);
    const out = teacher.run(read(rows), rows.length);
    for (const o of teacher.outputs) res.get(o.name)!.set(out.get(o.name)!, i * o.elements);
  }
  return res;
}
