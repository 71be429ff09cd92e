// Pooling's backward ops (training graphs), with the forward node's kernel, strides, padding and
// countIncludePad: MaxPoolGrad (x, dy) → dx — each window's dy goes to its first in-bounds tap (ky, kx
// order) holding the maximum; AvgPoolGrad (dy; attrs.inputShape) → dx — dy / count to each in-bounds tap.
// Both accumulate windows in (n, oy, ox, c) order, as MaxPoolGrad_F32 / AvgPoolGrad_F32 do.
import type { Node } from '../graph.ts';
import { attrNum, attrNums, fail, fmt, need, rank } from './helpers.ts';
import type { OpDef, OpSchema } from './op-def.ts';
import { poolGeometry, type PoolGeometry } from './pool.ts';

const schema = (inputs: number, extra: OpSchema['attrs'] = {}): OpSchema => ({
  inputs: [inputs, inputs],
  outputs: 1,
  attrs: {
    kernel: { kind: 'ints', length: 2, min: 1 },
    strides: { kind: 'ints', length: 2, min: 1, derive: (a) => [...(a.kernel as number[])], deriveDoc: 'kernel' },
    padding: { kind: 'padding', default: 'valid' },
    countIncludePad: { kind: 'bool', default: false },
    ...extra,
  },
});

function checked(n: Node, xShape: readonly number[], dyShape: readonly number[], file: string): PoolGeometry {
  const g = poolGeometry(n, xShape, file);
  const want = [g.n, g.oh, g.ow, g.c];
  if (dyShape.join() !== want.join()) fail(file, n, `dy ${fmt(dyShape)} is not the forward output ${fmt(want)}`);
  return g;
}

/** Visits each window's in-bounds taps: f(window index, tap index). */
function windows(
  g: PoolGeometry,
  f: (o: number, i: number, ky: number, kx: number) => void,
  end: (o: number) => void,
): void {
  for (let n = 0; n < g.n; n++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let c = 0; c < g.c; c++) {
          const o = ((n * g.oh + oy) * g.ow + ox) * g.c + c;
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh - g.pad[0] + ky,
                ix = ox * g.sw - g.pad[1] + kx;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              f(o, ((n * g.h + iy) * g.w + ix) * g.c + c, oy * g.sh - g.pad[0], ox * g.sw - g.pad[1]);
            }
          end(o);
        }
}

export const maxPoolGrad: OpDef = {
  schema: schema(2),
  trainingOnly: true,
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x'),
      dy = need(n, ins, 1, file, 'dy');
    rank(n, x, 4, file, 'x');
    checked(n, x.shape, dy.shape, file);
    return [{ shape: [...x.shape], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]!,
      dy = ins[1]!;
    const g = checked(n, x.shape, dy.shape, '');
    const dx = new Float64Array(x.data.length);
    let arg = -1;
    windows(
      g,
      (_o, i) => {
        if (arg < 0 || x.data[i]! > x.data[arg]!) arg = i;
      },
      (o) => {
        dx[arg] += dy.data[o]!;
        arg = -1;
      },
    );
    return [dx];
  },
};

export const avgPoolGrad: OpDef = {
  schema: schema(1, { inputShape: { kind: 'ints', length: 4, min: 1 } }),
  trainingOnly: true,
  infer(n, ins, file) {
    const dy = need(n, ins, 0, file, 'dy');
    const xs = attrNums(n, 'inputShape', []);
    if (xs.length !== 4) fail(file, n, `inputShape must be [N,H,W,C], found ${JSON.stringify(n.attrs.inputShape)}`);
    checked(n, xs, dy.shape, file);
    return [{ shape: [...xs], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    const dy = ins[0]!;
    const xs = attrNums(n, 'inputShape', []);
    const g = checked(n, xs, dy.shape, '');
    const incl = attrNum(n, 'countIncludePad', 0) !== 0;
    const dx = new Float64Array(xs.reduce((a, b) => a * b, 1));
    // count as the forward op: taps inside the padded window (countIncludePad) or in-bounds taps
    const count = (y0: number, x0: number) => {
      let all = 0,
        inside = 0;
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++) {
          const iy = y0 + ky,
            ix = x0 + kx;
          if (iy < g.h + g.pad[2] && ix < g.w + g.pad[3]) all++;
          if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) inside++;
        }
      return incl ? all : inside;
    };
    const taps: number[] = [];
    let origin: [number, number] = [0, 0];
    windows(
      g,
      (_o, i, y0, x0) => {
        taps.push(i);
        origin = [y0, x0];
      },
      (o) => {
        const share = dy.data[o]! / count(origin[0], origin[1]);
        for (const i of taps) dx[i] += share;
        taps.length = 0;
      },
    );
    return [dx];
  },
};
