// Training peer: one SGD (momentum 0.9) step of an edgec IR forward graph (after the compiler's passes: NHWC, fused
// bias/activation) in tfjs — softmax cross-entropy, tf.train.momentum. tfjs-backend-wasm has no Conv2DBackpropFilter
// nor depthwise backward kernels (tensorflow/tfjs#8474), so with `customGrads` the convolutions carry their gradients
// through tf.customGrad, written with kernels the wasm backend has: dW of a full conv as a forward conv of transposed
// x and dy, depthwise dW as one strided product-sum per tap, depthwise dx as a conv of the zero-upsampled dy with
// the flipped filter. tfjs-cpu uses its own gradients (customGrads false).
import * as tf from '@tensorflow/tfjs-core';
import type { Graph } from '../../compiler/ir/graph.ts';

type T4 = tf.Tensor4D;
type Pads = [[number, number], [number, number], [number, number], [number, number]];

interface ConvGeom {
  k: [number, number];
  s: [number, number];
  pads: [number, number, number, number];
  depthwise: boolean;
}

/** dW [KH,KW,Ci,Co] of a groups-1 conv: conv2d(xpadᵀ [Ci,Hp,Wp,N], dyᵀ [OH,OW,N,Co], dilation = stride). */
function convFilterGrad(xp: T4, dy: T4, c: ConvGeom): T4 {
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as T4,
    f = tf.transpose(dy, [1, 2, 0, 3]) as T4;
  const r = tf.conv2d(xt, f, 1, 'valid', 'NHWC', c.s);
  const [ci, , , co] = r.shape;
  return tf.transpose(tf.slice(r, [0, 0, 0, 0], [ci, c.k[0], c.k[1], co]), [1, 2, 0, 3]) as T4;
}

/** Depthwise dW [KH,KW,C,1]: per tap Σ over n, oy, ox of dy · the strided window of xpad. */
function depthwiseFilterGrad(xp: T4, dy: T4, c: ConvGeom): T4 {
  const [n, oh, ow, ch] = dy.shape;
  const taps: tf.Tensor[] = [];
  for (let ky = 0; ky < c.k[0]; ky++)
    for (let kx = 0; kx < c.k[1]; kx++) {
      const win = tf.stridedSlice(
        xp,
        [0, ky, kx, 0],
        [n, ky + (oh - 1) * c.s[0] + 1, kx + (ow - 1) * c.s[1] + 1, ch],
        [1, c.s[0], c.s[1], 1],
      );
      taps.push(tf.sum(tf.mul(win, dy), [0, 1, 2]));
    }
  return tf.reshape(tf.stack(taps), [c.k[0], c.k[1], ch, 1]);
}

/** Depthwise dx [N,H,W,C]: dy zero-upsampled by the stride, padded by k − 1 − pad, depthwise conv with the flipped w. */
function depthwiseInputGrad(dy: T4, w: T4, xShape: number[], c: ConvGeom): T4 {
  const [n, oh, ow, ch] = dy.shape;
  let u: tf.Tensor = dy;
  if (c.s[0] > 1 || c.s[1] > 1) {
    u = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, ch]), [
      [0, 0],
      [0, 0],
      [0, c.s[0] - 1],
      [0, 0],
      [0, c.s[1] - 1],
      [0, 0],
    ]);
    u = tf.slice(tf.reshape(u, [n, oh * c.s[0], ow * c.s[1], ch]), 0, [
      n,
      (oh - 1) * c.s[0] + 1,
      (ow - 1) * c.s[1] + 1,
      ch,
    ]);
  }
  const [, uh, uw] = u.shape as number[];
  const qt = c.k[0] - 1 - c.pads[0],
    ql = c.k[1] - 1 - c.pads[1];
  if (qt < 0 || ql < 0) throw new Error('tfjs peer: depthwise padding larger than the kernel');
  const qb = Math.max(0, xShape[1]! + c.k[0] - 1 - qt - uh!),
    qr = Math.max(0, xShape[2]! + c.k[1] - 1 - ql - uw!);
  const up = tf.pad(u, [
    [0, 0],
    [qt, qb],
    [ql, qr],
    [0, 0],
  ]) as T4;
  const r = tf.depthwiseConv2d(up, tf.reverse(w, [0, 1]) as T4, 1, 'valid');
  return tf.slice(r, 0, [n, xShape[1]!, xShape[2]!, ch]);
}

function convOp(c: ConvGeom, customGrads: boolean): (x: T4, w: T4) => T4 {
  const [pt, pl, pb, pr] = c.pads;
  const pads: Pads = [
    [0, 0],
    [pt, pb],
    [pl, pr],
    [0, 0],
  ];
  const fwd = (x: T4, w: T4): T4 =>
    c.depthwise ? tf.depthwiseConv2d(tf.pad(x, pads), w, c.s, 'valid') : tf.conv2d(x, w, c.s, pads);
  if (!customGrads) return fwd;
  const op = tf.customGrad(((x: T4, w: T4, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: fwd(x, w),
      gradFunc: (dy: T4, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [T4, T4];
        const xp = tf.pad(xs, pads);
        if (c.depthwise) return [depthwiseInputGrad(dy, ws, xs.shape, c), depthwiseFilterGrad(xp, dy, c)];
        return [
          tf.conv2dTranspose(dy, ws, xs.shape as [number, number, number, number], c.s, pads),
          convFilterGrad(xp, dy, c),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x, w) => op(x, w) as T4;
}

/** Builds the model's variables (tfjs layouts) on the current backend; the returned function runs one step. */
export function prepareTfjsTraining(
  g: Graph,
  customGrads: boolean,
  lr: number,
): (x: Float32Array, labels: Int32Array) => Promise<number> {
  const vars = new Map<string, tf.Variable>();
  const layers: ((env: Map<string, tf.Tensor>) => void)[] = [];
  const variable = (name: string, data: ArrayLike<number>, shape: number[], perm?: number[]): tf.Variable => {
    const t = tf.tensor(Float32Array.from(data), shape);
    const v = tf.variable(perm ? tf.transpose(t, perm) : t, true, `${g.name}/${name}`);
    vars.set(name, v);
    return v;
  };
  for (const n of g.nodes) {
    const a = n.attrs,
      inp = n.inputs[0]!,
      out = n.outputs[0]!;
    const act = a.activation ?? 'none';
    if (act !== 'none' && act !== 'relu')
      throw new Error(`tfjs peer: activation ${String(act)} of ${n.name} not mapped`);
    const relu = (y: tf.Tensor) => (act === 'relu' ? tf.relu(y) : y);
    const bias = n.inputs[2] ? g.tensors.get(n.inputs[2])! : undefined;
    const b = bias ? variable(`${n.name}/b`, bias.data as ArrayLike<number>, bias.shape) : undefined;
    const addBias = (y: tf.Tensor) => (b ? tf.add(y, b) : y);
    if (n.op === 'Conv2D') {
      const wt = g.tensors.get(n.inputs[1]!)!; // OHWI
      const ci = g.tensors.get(inp)!.shape[3]!,
        groups = a.groups as number;
      const depthwise = groups > 1;
      if (depthwise && (groups !== ci || wt.shape[0] !== ci))
        throw new Error(`tfjs peer: grouped conv ${n.name} not mapped`);
      if ((a.dilations as number[]).some((d) => d !== 1))
        throw new Error(`tfjs peer: dilated conv ${n.name} not mapped`);
      const w = depthwise
        ? variable(`${n.name}/w`, wt.data as ArrayLike<number>, [ci, wt.shape[1]!, wt.shape[2]!, 1], [1, 2, 0, 3])
        : variable(`${n.name}/w`, wt.data as ArrayLike<number>, wt.shape, [1, 2, 3, 0]);
      const op = convOp(
        {
          k: [wt.shape[1]!, wt.shape[2]!],
          s: a.strides as [number, number],
          pads: a.padding as ConvGeom['pads'],
          depthwise,
        },
        customGrads,
      );
      layers.push((env) => env.set(out, relu(addBias(op(env.get(inp) as T4, w as tf.Tensor as T4)))));
    } else if (n.op === 'Dense') {
      const wt = g.tensors.get(n.inputs[1]!)!; // [out, in]
      const w = variable(`${n.name}/w`, wt.data as ArrayLike<number>, wt.shape, [1, 0]);
      layers.push((env) => env.set(out, relu(addBias(tf.matMul(env.get(inp) as tf.Tensor2D, w)))));
    } else if (n.op === 'MaxPool') {
      if ((a.padding as number[]).some((p) => p !== 0)) throw new Error(`tfjs peer: padded pool ${n.name} not mapped`);
      layers.push((env) =>
        env.set(
          out,
          tf.maxPool(env.get(inp) as T4, a.kernel as [number, number], a.strides as [number, number], 'valid'),
        ),
      );
    } else if (n.op === 'GlobalAvgPool') {
      layers.push((env) => env.set(out, tf.mean(env.get(inp)!, [1, 2], true)));
    } else if (n.op === 'Reshape' || n.op === 'Flatten') {
      const shape = g.tensors.get(out)!.shape;
      layers.push((env) => env.set(out, tf.reshape(env.get(inp)!, shape)));
    } else throw new Error(`tfjs peer: op ${n.op} (${n.name}) not mapped for training`);
  }
  const opt = tf.train.momentum(lr, 0.9);
  const xShape = g.tensors.get(g.inputs[0]!)!.shape,
    classes = g.tensors.get(g.outputs[0]!)!.shape[1]!;
  return async (x, labels) => {
    const loss = tf.tidy(() =>
      opt.minimize(
        () => {
          const env = new Map<string, tf.Tensor>([[g.inputs[0]!, tf.tensor(x, xShape)]]);
          for (const l of layers) l(env);
          return tf.losses.softmaxCrossEntropy(
            tf.oneHot(tf.tensor1d(labels, 'int32'), classes),
            env.get(g.outputs[0]!)!,
          ) as tf.Scalar;
        },
        true,
        [...vars.values()],
      )!,
    );
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };
}
