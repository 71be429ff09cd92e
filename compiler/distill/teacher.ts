// The teacher of a distillation run on edgec's own inference runtime: a model graph (compiled float at a
// fixed batch, its final Softmax dropped so it gives logits, the hint / embedding tensors added as outputs)
// or a compiled .edgec bundle (float or int8; logits and nothing else, run at the bundle's own batch).
// Samples come in the student's input layout; an NCHW teacher of an NHWC student (or the other way round)
// gets them transposed. Every sample is computed alone in its row of a fixed-size batch (short batches are
// zero-padded), so a row's outputs do not depend on which other samples share its batch: the cache of a
// whole data set equals a fresh run of any batch, byte for byte (test/distill/distill.test.ts).
import { load } from '../../runtime/node.ts';
import { BundleError, type Model } from '../../runtime/index.ts';
import { cloneGraph, compileGraph } from '../compile.ts';
import { ModelError, numElements, type Graph } from '../ir/graph.ts';
import { withBatch } from '../train/training-graph.ts';

export interface TeacherOutput {
  /** What the student side calls it: 'logits', or the teacher node / tensor name of a hint or embedding. */
  name: string;
  /** One sample's shape (no batch axis) and element count. */
  shape: number[];
  elements: number;
}

export interface Teacher {
  /** Source named in messages (the file). */
  readonly source: string;
  readonly outputs: TeacherOutput[];
  readonly classes: number;
  /** One sample's shape in the teacher's own input layout. */
  readonly sampleShape: number[];
  /** Runs n samples (student layout); per output name, [n, ...shape] float32. */
  run(x: Float32Array, n: number): Map<string, Float32Array>;
  /** The compiled teacher (what runs), for the report. */
  readonly bundle: Uint8Array;
  readonly graph?: Graph;
  /** Why the teacher is never run in this job (labels only, α 0): no outputs, `run` refuses. */
  readonly skipped?: string;
}

/** Teacher batch when compiling a graph: big enough to amortise a run, small enough for any arena. */
export const TEACHER_BATCH = 32;

/** The tensor a hint names: a node's first output, or a tensor of that name. */
export function tensorOf(g: Graph, name: string): string | undefined {
  const n = g.nodes.find((k) => k.name === name);
  if (n) return n.outputs[0];
  return g.tensors.has(name) && !g.tensors.get(name)!.data ? name : undefined;
}

/** Drops a final Softmax (KD wants logits); returns the logits tensor. */
export function logitsOf(g: Graph): string {
  const out = g.outputs[0]!;
  const last = g.nodes.find((n) => n.outputs.includes(out));
  return last?.op === 'Softmax' ? last.inputs[0]! : out;
}

/** The embedding feeding the final Dense that produces `logits` ([B, D]), for relational KD (or `what`). */
export function embeddingOf(g: Graph, logits: string, what = 'relational KD'): string {
  const n = g.nodes.find((k) => k.outputs.includes(logits));
  if (n?.op !== 'Dense')
    throw new ModelError(
      g.source,
      `output '${logits}'`,
      `${what} needs logits from a Dense layer${what === 'relational KD' ? ' (or name the embedding)' : ''}`,
    );
  return n.inputs[0]!;
}

/** How to bring a student sample into the teacher's layout: 'same', or a 3-D permutation (CHW ↔ HWC). */
function layoutMap(
  student: readonly number[],
  teacher: readonly number[],
  source: string,
): 'same' | 'chw>hwc' | 'hwc>chw' {
  const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (eq(student, teacher)) return 'same';
  if (
    numElements([...student]) === numElements([...teacher]) &&
    student.filter((d) => d !== 1).join() === teacher.filter((d) => d !== 1).join()
  )
    return 'same';
  if (student.length === 3 && teacher.length === 3) {
    const [a, b, c] = student as [number, number, number];
    if (eq([c, a, b], teacher)) return 'hwc>chw';
    if (eq([b, c, a], teacher)) return 'chw>hwc';
  }
  throw new ModelError(
    source,
    'input',
    `the teacher's samples are [${teacher}] and the student's [${student}]: they must hold the same image (same shape, or NCHW vs NHWC)`,
  );
}

function permute(x: Float32Array, n: number, shape: readonly number[], how: 'chw>hwc' | 'hwc>chw'): Float32Array {
  const out = new Float32Array(x.length);
  const per = numElements([...shape]);
  const [d0, d1, d2] = shape as [number, number, number];
  for (let s = 0; s < n; s++) {
    const o = s * per;
    for (let i = 0; i < d0; i++)
      for (let j = 0; j < d1; j++)
        for (let k = 0; k < d2; k++) {
          const src = o + (i * d1 + j) * d2 + k;
          // chw>hwc: (c,h,w) → (h,w,c); hwc>chw: (h,w,c) → (c,h,w)
          const dst = how === 'chw>hwc' ? o + (j * d2 + k) * d0 + i : o + (k * d0 + i) * d1 + j;
          out[dst] = x[src]!;
        }
  }
  return out;
}

function runner(
  m: Model,
  source: string,
  outputs: TeacherOutput[],
  outNames: string[],
  studentSample: readonly number[],
  bundle: Uint8Array,
  graph?: Graph,
): Teacher {
  const xi = m.info.inputs[0]!;
  const batch = xi.shape[0]!,
    sampleShape = xi.shape.slice(1),
    per = numElements(sampleShape);
  const map = layoutMap(studentSample, sampleShape, source);
  const buf = new Float32Array(batch * per);
  return {
    source,
    outputs,
    classes: outputs[0]!.elements,
    sampleShape,
    bundle,
    graph,
    run(x, n) {
      const xs = map === 'same' ? x : permute(x, n, studentSample, map);
      const res = new Map(outputs.map((o) => [o.name, new Float32Array(n * o.elements)]));
      for (let i = 0; i < n; i += batch) {
        const k = Math.min(batch, n - i);
        buf.fill(0);
        buf.set(xs.subarray(i * per, (i + k) * per));
        const out = m.run({ [xi.name]: buf });
        outputs.forEach((o, j) => {
          const y = out[outNames[j]!];
          if (!(y instanceof Float32Array)) throw new ModelError(source, `output '${outNames[j]}'`, 'is not float32');
          res.get(o.name)!.set(y.subarray(0, k * o.elements), i * o.elements);
        });
      }
      return res;
    },
  };
}

/**
 * A teacher from a model graph: `features` are node (or tensor) names whose outputs the run also returns
 * (hints, the relational embedding); each missing one is refused naming it.
 */
export async function graphTeacher(
  g: Graph,
  features: string[],
  studentSample: readonly number[],
  build: 'simd' | 'scalar' = 'simd',
): Promise<Teacher> {
  const c = cloneGraph(g);
  if (c.inputs.length !== 1 || c.outputs.length < 1)
    throw new ModelError(g.source, 'graph', `a teacher needs one input and an output, found ${c.inputs.length} inputs`);
  const logits = logitsOf(c);
  const names = [logits];
  for (const f of features) {
    const t = tensorOf(c, f);
    if (!t) throw new ModelError(g.source, `node '${f}'`, 'is not in the teacher (give a node or tensor name of it)');
    names.push(t);
  }
  c.outputs = [...new Set(names)];
  const gb = withBatch(c, TEACHER_BATCH);
  const bundle = compileGraph(gb).bundle;
  const m = await load(bundle, { build });
  const outputs = [logits, ...features].map((name, i) => {
    const shape = gb.tensors.get(names[i]!)!.shape.slice(1);
    return { name: i === 0 ? 'logits' : name, shape, elements: numElements(shape) };
  });
  if (outputs[0]!.shape.length !== 1)
    throw new ModelError(
      g.source,
      `output '${logits}'`,
      `the teacher's logits must be [batch, classes], found [${gb.tensors.get(logits)!.shape}]`,
    );
  return runner(m, g.source, outputs, names, studentSample, bundle, c);
}

/** A teacher from a compiled bundle (float or int8): its first output is read as the logits. */
export async function bundleTeacher(
  bytes: Uint8Array,
  source: string,
  studentSample: readonly number[],
  build: 'simd' | 'scalar' = 'simd',
): Promise<Teacher> {
  const m = await load(bytes, { build }).catch((e: unknown) => {
    throw e instanceof BundleError ? new BundleError(`${source}: ${e.message}`) : e;
  });
  const o = m.info.outputs[0]!;
  if (m.info.inputs.length !== 1)
    throw new ModelError(source, 'bundle', `a teacher needs one input, found ${m.info.inputs.length}`);
  const shape = o.shape.slice(1);
  if (shape.length !== 1)
    throw new ModelError(
      source,
      `output '${o.name}'`,
      `the teacher's logits must be [batch, classes], found [${o.shape}]`,
    );
  return runner(m, source, [{ name: 'logits', shape, elements: shape[0]! }], [o.name], studentSample, bytes);
}

/**
 * The teacher of a labels-only job (α 0 and nothing else reading it): never loaded into a runtime, never run —
 * a graph is compiled (not executed) so the report can give its size; a bundle is only counted in bytes.
 */
export function unusedTeacher(
  t: Graph | { bundle: Uint8Array; source: string },
  classes: number,
  reason: string,
): Teacher {
  const graph = 'nodes' in t ? cloneGraph(t) : undefined;
  return {
    source: t.source,
    outputs: [],
    classes,
    sampleShape: [],
    bundle: 'nodes' in t ? compileGraph(graph!).bundle : t.bundle,
    graph,
    skipped: reason,
    run() {
      throw new ModelError(t.source, 'teacher', `is not run (${reason})`);
    },
  };
}
