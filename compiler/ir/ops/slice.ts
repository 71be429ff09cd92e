// Slice with ONNX semantics: per-axis starts/ends/steps (negative indices count from the end, clamped);
// never empty. Same dtype.
import type { Node } from '../graph.ts';
import { attrNums, fail, gather, need, normAxis, rowStrides, passChannels } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export interface SliceGeometry {
  shape: number[];
  starts: number[];
  steps: number[];
}

/** ONNX Slice semantics: negative indices count from the end, starts/ends clamp, per-axis steps. */
export function sliceGeometry(n: Node, inShape: readonly number[], file: string): SliceGeometry {
  const r = inShape.length;
  const starts = attrNums(n, 'starts', []),
    ends = attrNums(n, 'ends', []);
  const axes = attrNums(
    n,
    'axes',
    starts.map((_, i) => i),
  );
  const stepsA = attrNums(
    n,
    'steps',
    starts.map(() => 1),
  );
  if (ends.length !== starts.length || axes.length !== starts.length || stepsA.length !== starts.length) {
    fail(
      file,
      n,
      `starts, ends, axes and steps must have the same length, found ${starts.length}, ${ends.length}, ${axes.length}, ${stepsA.length}`,
    );
  }
  const shape = [...inShape],
    st = inShape.map(() => 0),
    steps = inShape.map(() => 1);
  const seen = new Set<number>();
  starts.forEach((s0, i) => {
    const a = normAxis(n, file, axes[i]!, r, 'axes entry');
    if (seen.has(a)) fail(file, n, `axis ${a} is sliced twice`);
    seen.add(a);
    const d = inShape[a]!,
      step = stepsA[i]!;
    if (!Number.isInteger(step) || step === 0) fail(file, n, `steps[${i}] must be a non-zero integer, found ${step}`);
    let s = s0 < 0 ? s0 + d : s0,
      e = ends[i]! < 0 ? ends[i]! + d : ends[i]!;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const len = Math.max(0, Math.ceil((e - s) / step));
    if (len < 1) fail(file, n, `axis ${a}: slice [${s0}:${ends[i]}:${step}] of dim ${d} is empty`);
    shape[a] = len;
    st[a] = s;
    steps[a] = step;
  });
  return { shape, starts: st, steps };
}

export const slice: OpDef = {
  schema: {
    inputs: [1, 1],
    outputs: 1,
    attrs: {
      starts: { kind: 'ints' },
      ends: { kind: 'ints' },
      axes: {
        kind: 'ints',
        derive: (a) => (a.starts as number[]).map((_, i) => i),
        deriveDoc: '[0, 1, …, len(starts)-1]',
      },
      steps: { kind: 'ints', derive: (a) => (a.starts as number[]).map(() => 1), deriveDoc: 'all 1' },
    },
    check: (a) => {
      const n = (a.starts as number[]).length;
      for (const k of ['ends', 'axes', 'steps']) {
        const len = (a[k] as number[]).length;
        if (len !== n) return `attr '${k}': expected ${n} values (as many as starts), found ${len}`;
      }
      if ((a.steps as number[]).includes(0)) {
        return `attr 'steps': expected non-zero steps, found ${JSON.stringify(a.steps)}`;
      }
      return undefined;
    },
  },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    return [{ shape: sliceGeometry(n, x.shape, file).shape, dtype: x.dtype }];
  },
  evaluate(n, ins) {
    const x = ins[0]!;
    const g = sliceGeometry(n, x.shape, '');
    const rs = rowStrides(x.shape);
    const offset = g.starts.reduce((p, s, k) => p + s * rs[k]!, 0);
    return [
      gather(
        x.data,
        g.shape,
        rs.map((s, k) => s * g.steps[k]!),
        offset,
      ),
    ];
  },
  int8: { quantize: 'input-params' },
  channelFlow(n, ins, outs) {
    const s = ins[0]!.shape,
      g = sliceGeometry(n, s, '');
    return g.shape.at(-1) === s.at(-1) && g.steps.at(-1) === 1
      ? passChannels()
      : { kind: 'boundary', why: 'slices the channel axis' };
  },
};
