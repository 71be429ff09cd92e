// Runs an edgec IR graph (after the compiler's passes: NHWC, fused bias/activation) with
// tfjs ops on tfjs-backend-wasm, so tfjs-wasm is measured on exactly the network edgec runs.
// tfjs has no ONNX importer; mapping our IR op by op onto its fused kernels is the fairest peer.
import * as tf from '@tensorflow/tfjs-core';
import type { Graph, Node } from '../../compiler/ir/graph.ts';

type T = tf.Tensor;

function explicitPad(
  n: Node,
): 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]] {
  const p = n.attrs.padding;
  if (p === 'valid' || p === 'same') return p;
  const [t, l, b, r] = p as number[];
  return [
    [0, 0],
    [t!, b!],
    [l!, r!],
    [0, 0],
  ];
}

function fusedActivation(n: Node): { activation?: tf.fused.Activation; after?: (x: T) => T } {
  const a = n.attrs.activation ?? 'none';
  if (a === 'relu') return { activation: 'relu' };
  if (a === 'clip') {
    const [lo, hi] = (n.attrs.clip as number[]) ?? [0, 6];
    if (lo === 0 && hi === 6) return { activation: 'relu6' };
    return { after: (x) => tf.clipByValue(x, lo!, hi!) };
  }
  return {};
}

/** Prepares tfjs constants once; the returned function runs one inference. */
export function prepareTfjsGraph(
  g: Graph,
): (inputs: Record<string, Float32Array>) => Promise<Record<string, Float32Array>> {
  const consts = new Map<string, T>();
  const constOf = (name: string): T => {
    let t = consts.get(name);
    if (!t) {
      const ten = g.tensors.get(name)!;
      // Kept: constants outlive the tf.tidy scope of any one run.
      t = tf.keep(tf.tensor(Float32Array.from(ten.data as ArrayLike<number>), ten.shape));
      consts.set(name, t);
    }
    return t;
  };
  // Weights re-laid out for tfjs once, outside the timed run.
  const prepared = new Map<string, T>();
  for (const n of g.nodes) {
    if (n.op === 'Conv2D') {
      const w = constOf(n.inputs[1]!); // OHWI
      const co = w.shape[0]!,
        ci = g.tensors.get(n.inputs[0]!)!.shape[3]!;
      const groups = n.attrs.groups as number;
      if (groups === 1)
        prepared.set(n.name, tf.keep(tf.transpose(w, [1, 2, 3, 0]))); // HWIO
      else if (groups === ci)
        prepared.set(
          n.name,
          tf.keep(tf.reshape(tf.transpose(w, [1, 2, 3, 0]), [w.shape[1]!, w.shape[2]!, ci, co / ci])),
        );
      else throw new Error(`tfjs peer: grouped conv ${n.name} (groups ${groups}) not mapped`);
    } else if (n.op === 'Dense') {
      // [out,in] → [in,out]: tfjs-backend-wasm 4.22's fused matMul gives wrong results with transposeB.
      prepared.set(n.name, tf.keep(tf.transpose(constOf(n.inputs[1]!))));
    }
  }
  return async (inputs) => {
    const out = tf.tidy(() => {
      const env = new Map<string, T>();
      const get = (name: string): T | undefined =>
        name === '' ? undefined : (env.get(name) ?? (g.tensors.get(name)?.data ? constOf(name) : undefined));
      for (const name of g.inputs) env.set(name, tf.tensor(inputs[name]!, g.tensors.get(name)!.shape));
      for (const n of g.nodes) {
        const x = get(n.inputs[0]!)!;
        const a = n.attrs;
        let y: T;
        switch (n.op) {
          case 'Conv2D': {
            const { activation, after } = fusedActivation(n);
            const strides = a.strides as [number, number],
              dil = a.dilations as [number, number];
            const bias = get(n.inputs[2] ?? '');
            const w = prepared.get(n.name)!;
            const pad = explicitPad(n) as any;
            y =
              (a.groups as number) === 1
                ? tf.fused.conv2d({
                    x: x as tf.Tensor4D,
                    filter: w as tf.Tensor4D,
                    strides,
                    pad,
                    dataFormat: 'NHWC',
                    dilations: dil,
                    bias,
                    activation,
                  })
                : tf.fused.depthwiseConv2d({
                    x: x as tf.Tensor4D,
                    filter: w as tf.Tensor4D,
                    strides,
                    pad,
                    dataFormat: 'NHWC',
                    dilations: dil,
                    bias,
                    activation,
                  });
            if (after) y = after(y);
            break;
          }
          case 'Dense': {
            const { activation, after } = fusedActivation(n);
            y = tf.fused.matMul({
              a: x as tf.Tensor2D,
              b: prepared.get(n.name) as tf.Tensor2D,
              bias: get(n.inputs[2] ?? ''),
              activation,
            });
            if (after) y = after(y);
            break;
          }
          case 'Add':
          case 'Sub':
          case 'Mul':
          case 'Div':
          case 'Max':
          case 'Min': {
            const b = get(n.inputs[1]!)!;
            const f = { Add: tf.add, Sub: tf.sub, Mul: tf.mul, Div: tf.div, Max: tf.maximum, Min: tf.minimum }[n.op];
            y = f(x, b);
            const { activation, after } = fusedActivation(n);
            if (activation === 'relu') y = tf.relu(y);
            else if (activation === 'relu6') y = tf.relu6(y);
            if (after) y = after(y);
            break;
          }
          case 'Relu':
            y = tf.relu(x);
            break;
          case 'Relu6':
            y = tf.relu6(x);
            break;
          case 'Clip':
            y = tf.clipByValue(x, a.min as number, a.max as number);
            break;
          case 'Sigmoid':
            y = tf.sigmoid(x);
            break;
          case 'Tanh':
            y = tf.tanh(x);
            break;
          case 'Exp':
            y = tf.exp(x);
            break;
          case 'LeakyRelu':
            y = tf.leakyRelu(x, a.alpha as number);
            break;
          case 'MaxPool':
          case 'AvgPool': {
            const k = a.kernel as [number, number],
              s = a.strides as [number, number];
            const pad = explicitPad(n);
            if (Array.isArray(pad)) {
              const padded = n.op === 'MaxPool' ? tf.pad(x, pad, -Infinity) : tf.pad(x, pad);
              y =
                n.op === 'MaxPool'
                  ? tf.maxPool(padded as tf.Tensor4D, k, s, 'valid')
                  : tf.avgPool(padded as tf.Tensor4D, k, s, 'valid');
            } else {
              y =
                n.op === 'MaxPool' ? tf.maxPool(x as tf.Tensor4D, k, s, pad) : tf.avgPool(x as tf.Tensor4D, k, s, pad);
            }
            break;
          }
          case 'GlobalAvgPool':
            y = tf.mean(x, [1, 2], true);
            break;
          case 'Reshape':
          case 'Flatten':
            y = tf.reshape(x, g.tensors.get(n.outputs[0]!)!.shape);
            break;
          case 'Transpose':
            y = tf.transpose(x, a.perm as number[]);
            break;
          case 'Concat':
            y = tf.concat(
              n.inputs.map((i) => get(i)!),
              a.axis as number,
            );
            break;
          case 'Softmax':
            y = tf.softmax(x, a.axis as number);
            break;
          case 'Pad': {
            const pads = a.pads as number[];
            const r = x.rank;
            y = tf.pad(
              x,
              Array.from({ length: r }, (_, i) => [pads[i]!, pads[i + r]!] as [number, number]),
              a.value as number,
            );
            break;
          }
          default:
            throw new Error(`tfjs peer: op ${n.op} (${n.name}) not mapped`);
        }
        env.set(n.outputs[0]!, y);
      }
      return g.outputs.map((o) => env.get(o)!);
    });
    const res: Record<string, Float32Array> = {};
    for (let i = 0; i < g.outputs.length; i++) {
      res[g.outputs[i]!] = (await out[i]!.data()) as Float32Array;
      out[i]!.dispose();
    }
    return res;
  };
}
