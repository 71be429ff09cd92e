// ONNX Slice (static starts/ends/axes/steps) and Split (into static Slices along one axis).
import type { OnnxNode } from '../decode.ts';
import { TO_NCHW } from '../shapes.ts';
import type { Importer } from '../importer.ts';

/** Output dim of a static ONNX slice along one axis. */
function sliceDim(d: number, start: number, end: number, step: number): number {
  const clampS = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = clampS(s, 0, d);
    e = clampS(e, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clampS(s, 0, d - 1);
  e = clampS(e, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

export function slice(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (c.opset < 10) {
    starts = c.ints('starts') ?? [];
    ends = c.ints('ends') ?? [];
    axes = c.ints('axes');
  } else {
    starts = [...c.constInput(1, 'starts').values];
    ends = [...c.constInput(2, 'ends').values];
    const at = c.optConst(3, 'axes');
    const st = c.optConst(4, 'steps');
    axes = at ? [...at.values] : undefined;
    steps = st ? [...st.values] : undefined;
  }
  axes = (axes ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  steps ??= starts.map(() => 1);
  if (steps.includes(0)) c.fail('steps', 'expected non-zero steps, found 0');
  const big = 2 ** 31 - 1;
  const clampBig = (v: number) => Math.min(Math.max(v, -big), big);
  starts = starts.map(clampBig);
  ends = ends.map(clampBig);
  const shape = [...x.shape];
  axes.forEach((a, i) => {
    shape[a] = sliceDim(x.shape[a], starts[i], ends[i], steps![i]);
  });
  if (shape.some((d) => d === 0)) c.fail('inputs', `expected a non-empty slice, found output shape [${shape}]`);
  const ir = c.produce(n.outputs[0], shape, x.layout);
  c.addNode(
    'Slice',
    [x.ir],
    [ir],
    {
      starts,
      ends,
      axes: x.layout === 'nhwc' ? axes.map((a) => TO_NCHW[a]) : axes,
      steps,
    },
    n.name,
  );
}

/** Split into static Slices along one axis (sizes from the attr < 13, the input ≥ 13, or equal parts). */
export function split(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let axis = c.int('axis', 0);
  if (axis < 0) axis += r;
  const d = x.shape[axis];
  const k = n.outputs.length;
  let sizes = c.opset >= 13 ? (n.inputs[1] ? [...c.constInput(1, 'split').values] : undefined) : c.ints('split');
  if (!sizes) {
    const numOutputs = c.int('num_outputs', k);
    const part = Math.ceil(d / numOutputs);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(part, d - i * part)));
  }
  if (sizes.length !== k || sizes.reduce((a, b) => a + b, 0) !== d || sizes.some((v) => v <= 0)) {
    c.fail('split', `expected ${k} positive sizes summing to ${d}, found [${sizes}]`);
  }
  let start = 0;
  n.outputs.forEach((out, i) => {
    const shape = [...x.shape];
    shape[axis] = sizes![i];
    const ir = c.produce(out, shape, x.layout);
    c.addNode(
      'Slice',
      [x.ir],
      [ir],
      {
        starts: [start],
        ends: [start + sizes![i]],
        axes: [x.layout === 'nhwc' ? TO_NCHW[axis] : axis],
        steps: [1],
      },
      `${n.name}/${i}`,
    );
    start += sizes![i];
  });
}
