// Continual distillation's replay buffer (docs/distillation.md "Continual"): a few stored samples of the old
// task mixed into the new data. Each stored sample is repeated so the buffer makes up `share` of every epoch's
// rows (rows data.size.. cycle through the buffer: row data.size + j is buffer sample j mod buffer size). Its
// label for the hard-label term is the stored label when there is one, else the previous model's argmax (over
// the old classes when they are known — the buffer is old-task data — else over every class): that term keeps
// the old classes' logits above the new ones on old inputs, which the soft targets (renormalised over the old
// classes only) cannot. `select` keeps `count` samples of a larger pool (compiler/distill/continual.ts); the
// previous model runs over the pool once, and for herding that one run (herdingTeacher: the same graph with its
// penultimate tensor as a second output) gives the logits and the features together.
import { ModelError } from '../ir/graph.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { teacherOutputs } from './batches.ts';
import { embeddingOf, graphTeacher, logitsOf, type Teacher } from './teacher.ts';
import { selectReplay, type ReplaySelect } from './continual.ts';

export interface Replay {
  data: Dataset;
  /** data.labels are real labels (else the previous model's argmax is used). */
  labelled: boolean;
  /** Fraction of every epoch's rows taken from the buffer, in (0, 1) (default 0.2). */
  share?: number;
  /** Keep `count` of data's samples (the pool), class-balanced, chosen `by` (default: every sample). */
  select?: { by: ReplaySelect; count: number };
}

/**
 * The labels of the buffer's samples: its own, or the teacher's top-1 (first on ties) among `old` (default
 * every class). `logits`: the teacher's on the buffer, when already computed.
 */
export function replayLabels(teacher: Teacher, r: Replay, old?: [number, number], logits?: Float32Array): Int32Array {
  if (r.labelled) return r.data.labels;
  const y = logits ?? teacherOutputs(teacher, (rows) => r.data.readSamples(rows), r.data.size).get('logits')!;
  const k = teacher.classes;
  const [from, to] = old ?? [0, k];
  return Int32Array.from({ length: r.data.size }, (_, i) => {
    let b = from;
    for (let c = from + 1; c < to; c++) if (y[i * k + c]! > y[i * k + b]!) b = c;
    return b;
  });
}

/**
 * Herding's pool teacher: `teacher`'s graph compiled with its logits and its penultimate features (the final
 * Dense's input) as outputs, and the output name of the features. Refused for a compiled bundle (no graph).
 */
export async function herdingTeacher(
  teacher: Teacher,
  sampleShape: readonly number[],
  build: 'simd' | 'scalar',
): Promise<{ teacher: Teacher; feature: string }> {
  if (!teacher.graph)
    throw new ModelError(
      teacher.source,
      'replay select herding',
      "needs the previous model's graph (its penultimate features), not a compiled bundle",
    );
  const g = teacher.graph;
  const emb = embeddingOf(g, logitsOf(g), 'herding');
  // by its node's name: a model.json graph declares no intermediate tensors
  const feature = g.nodes.find((n) => n.outputs[0] === emb)?.name ?? emb;
  return { teacher: await graphTeacher(g, [feature], sampleShape, build), feature };
}

/**
 * The buffer as trained on: `r.select` applied to the pool (needs the old classes), and its labels. `teacher`
 * runs over the pool once; herding reads its output `feature` [size, dim] (herdingTeacher) beside the logits.
 */
export function replayBuffer(
  teacher: Teacher,
  r: Replay,
  old: [number, number] | undefined,
  source: string,
  feature?: string,
): { data: Dataset; labels: Int32Array } {
  if (!r.select) return { data: r.data, labels: replayLabels(teacher, r, old) };
  const { by, count } = r.select;
  if (!(Number.isInteger(count) && count >= 1))
    throw new ModelError(source, 'replay select count', `must be a whole number ≥ 1, found ${count}`);
  if (!old)
    throw new ModelError(source, 'replay select', 'needs the old classes (new labels that never name one class range)');
  // 'first' of a labelled pool reads nothing of the previous model: no pass (a labels-only job has no teacher)
  const out =
    by === 'first' && r.labelled
      ? new Map([['logits', new Float32Array(0)]])
      : teacherOutputs(teacher, (rows) => r.data.readSamples(rows), r.data.size);
  const logits = out.get('logits')!;
  const f = feature === undefined ? undefined : out.get(feature);
  const labels = replayLabels(teacher, r, old, logits);
  const keep = selectReplay(
    by,
    count,
    labels,
    logits,
    teacher.classes,
    old,
    f && { data: f, dim: f.length / r.data.size },
  );
  return { data: subsetOf(r.data, keep), labels: Int32Array.from(keep, (i) => labels[i]!) };
}

/** The rows `keep` (ascending) of `d`, in that order. */
function subsetOf(d: Dataset, keep: Uint32Array): Dataset {
  return {
    size: keep.length,
    sampleShape: d.sampleShape,
    sampleElements: d.sampleElements,
    labels: Int32Array.from(keep, (i) => d.labels[i]!),
    streamed: d.streamed,
    readSamples: (rows) => d.readSamples(Uint32Array.from(rows, (i) => keep[i]!)),
    close() {},
  };
}

/** `data` followed by the buffer repeated to `share` of the rows, with `labels` for the buffer's rows. */
export function withReplay(data: Dataset, r: Replay, labels: Int32Array, source: string): Dataset {
  const share = r.share ?? 0.2;
  if (!(share > 0 && share < 1)) throw new ModelError(source, 'replay share', `must be in (0, 1), found ${share}`);
  const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
  if (fmt(r.data.sampleShape) !== fmt(data.sampleShape))
    throw new ModelError(
      source,
      'replay',
      `samples ${fmt(r.data.sampleShape)} do not match the data's ${fmt(data.sampleShape)}`,
    );
  const extra = Math.max(1, Math.round((share / (1 - share)) * data.size));
  const size = data.size + extra;
  const all = new Int32Array(size);
  all.set(data.labels);
  for (let j = 0; j < extra; j++) all[data.size + j] = labels[j % r.data.size]!;
  const per = data.sampleElements;
  return {
    size,
    sampleShape: data.sampleShape,
    sampleElements: per,
    labels: all,
    streamed: data.streamed,
    readSamples(rows) {
      const out = new Float32Array(rows.length * per);
      // runs of rows from one source are read together (a streamed data set reads them in one go)
      let i = 0;
      while (i < rows.length) {
        const old = rows[i]! >= data.size;
        let j = i;
        while (j < rows.length && rows[j]! >= data.size === old) j++;
        const part = Array.from({ length: j - i }, (_, k) =>
          old ? (rows[i + k]! - data.size) % r.data.size : rows[i + k]!,
        );
        out.set((old ? r.data : data).readSamples(part), i * per);
        i = j;
      }
      return out;
    },
    close() {},
  };
}
