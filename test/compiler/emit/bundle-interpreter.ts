// Test helper: a slow TypeScript interpreter of a .edgec bundle (read back with readBundle), one
// loop nest per kernel exactly as docs/bundle-format.md states it, over a real arena at the planned
// offsets. It checks lowering + packing + planning + emit without the wasm runtime. Float32 storage.
import { readBundle, fb } from '../../../compiler/emit/bundle-writer.ts';

const numEl = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function interpretBundle(
  bytes: Uint8Array,
  inputs: Record<string, ArrayLike<number>>,
): Record<string, Float32Array> {
  const b = readBundle(bytes).unpack();
  const arena = new ArrayBuffer(b.arenaSize + 16);
  const consts = new Uint8Array(b.constants).slice().buffer;
  const view = (id: number): Float32Array => {
    const t = b.tensors[id]!;
    if (t.dtype !== fb.DType.F32) throw new Error('interpreter handles F32 only');
    if (t.offset % 16) throw new Error(`tensor ${t.name} offset ${t.offset} not 16-aligned`);
    const n = numEl(t.shape);
    if (t.constant) return new Float32Array(consts, t.offset, n);
    if (t.offset + t.size > b.arenaSize) throw new Error(`tensor ${t.name} outside the arena`);
    return new Float32Array(arena, t.offset, n);
  };
  const shape = (id: number) => b.tensors[id]!.shape;
  b.inputs.forEach((id) => view(id).set(inputs[b.tensors[id]!.name as string]!));
  const act = (v: number, p: { activation: fb.Activation; actMin: number; actMax: number }) =>
    p.activation === fb.Activation.Relu
      ? Math.max(v, 0)
      : p.activation === fb.Activation.Clip
        ? Math.min(Math.max(v, p.actMin), p.actMax)
        : v;
  const f = Math.fround;
  for (const s of b.steps) {
    const out = view(s.outputs[0]!);
    const os = shape(s.outputs[0]!);
    switch (s.kernel) {
      case fb.KernelId.Conv2D_F32:
      case fb.KernelId.Conv2D_F32_P8:
      case fb.KernelId.DepthwiseConv2D_F32: {
        const p = s.params as fb.ConvParamsT;
        const x = view(s.inputs[0]!),
          w = view(s.inputs[1]!),
          bias = view(s.inputs[2]!);
        const [N, H, W, Ci] = shape(s.inputs[0]!) as [number, number, number, number];
        const [, OH, OW, Co] = os as [number, number, number, number];
        const dw = s.kernel === fb.KernelId.DepthwiseConv2D_F32,
          p8 = s.kernel === fb.KernelId.Conv2D_F32_P8;
        const G = dw ? Ci : p.groups,
          cig = Ci / G,
          cog = Co / G,
          panels = Math.ceil(cog / 8);
        const res = new Float32Array(out.length);
        for (let n = 0; n < N; n++)
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++)
              for (let co = 0; co < Co; co++) {
                const g = Math.floor(co / cog),
                  oo = co % cog;
                let acc = bias[co]!;
                for (let ky = 0; ky < p.kernelH; ky++) {
                  const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
                  if (iy < 0 || iy >= H) continue;
                  for (let kx = 0; kx < p.kernelW; kx++) {
                    const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
                    if (ix < 0 || ix >= W) continue;
                    for (let c = 0; c < cig; c++) {
                      const wv = dw
                        ? w[(ky * p.kernelW + kx) * Co + co]!
                        : p8
                          ? w[
                              ((((g * panels + Math.floor(oo / 8)) * p.kernelH + ky) * p.kernelW + kx) * cig + c) * 8 +
                                (oo % 8)
                            ]!
                          : w[(((g * p.kernelH + ky) * p.kernelW + kx) * cig + c) * cog + oo]!;
                      acc = f(acc + f(x[((n * H + iy) * W + ix) * Ci + g * cig + c]! * wv));
                    }
                  }
                }
                res[((n * OH + oy) * OW + ox) * Co + co] = act(acc, p);
              }
        out.set(res);
        break;
      }
      case fb.KernelId.Dense_F32: {
        const p = s.params as fb.DenseParamsT;
        const x = view(s.inputs[0]!),
          w = view(s.inputs[1]!),
          bias = view(s.inputs[2]!);
        const [M, K] = shape(s.inputs[0]!) as [number, number];
        const N = os[1]!;
        const res = new Float32Array(out.length);
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let acc = bias[n]!;
            for (let k = 0; k < K; k++) acc = f(acc + f(x[m * K + k]! * w[k * N + n]!));
            res[m * N + n] = act(acc, p);
          }
        out.set(res);
        break;
      }
      case fb.KernelId.MaxPool_F32:
      case fb.KernelId.AvgPool_F32: {
        const p = s.params as fb.PoolParamsT;
        const x = view(s.inputs[0]!);
        const [N, H, W, C] = shape(s.inputs[0]!) as [number, number, number, number];
        const [, OH, OW] = os as [number, number, number];
        const res = new Float32Array(out.length);
        for (let n = 0; n < N; n++)
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++)
              for (let c = 0; c < C; c++) {
                let acc = s.kernel === fb.KernelId.MaxPool_F32 ? -Infinity : 0,
                  cnt = 0,
                  padded = 0;
                for (let ky = 0; ky < p.kernelH; ky++)
                  for (let kx = 0; kx < p.kernelW; kx++) {
                    const iy = oy * p.strideH - p.padTop + ky,
                      ix = ox * p.strideW - p.padLeft + kx;
                    if (iy < H + p.padBottom && ix < W + p.padRight) padded++;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    const v = x[((n * H + iy) * W + ix) * C + c]!;
                    acc = s.kernel === fb.KernelId.MaxPool_F32 ? Math.max(acc, v) : f(acc + v);
                    cnt++;
                  }
                res[((n * OH + oy) * OW + ox) * C + c] =
                  s.kernel === fb.KernelId.MaxPool_F32 ? acc : acc / (p.countIncludePad ? padded : cnt);
              }
        out.set(res);
        break;
      }
      case fb.KernelId.GlobalAvgPool_F32: {
        const x = view(s.inputs[0]!);
        const [N, H, W, C] = shape(s.inputs[0]!) as [number, number, number, number];
        const res = new Float32Array(out.length);
        for (let n = 0; n < N; n++)
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let i = 0; i < H * W; i++) acc = f(acc + x[(n * H * W + i) * C + c]!);
            res[n * C + c] = acc / (H * W);
          }
        out.set(res);
        break;
      }
      case fb.KernelId.Binary_F32: {
        const p = s.params as fb.BinaryParamsT;
        const a = view(s.inputs[0]!),
          bb = view(s.inputs[1]!);
        const ops = [
          (x: number, y: number) => x + y,
          (x: number, y: number) => x - y,
          (x: number, y: number) => x * y,
          (x: number, y: number) => x / y,
          Math.max,
          Math.min,
          (x: number, y: number) => (x < 0 ? x * y : x),
        ];
        const res = new Float32Array(out.length);
        const idx = p.shape.map(() => 0);
        for (let i = 0; i < res.length; i++) {
          let ia = 0,
            ib = 0;
          idx.forEach((v, k) => {
            ia += v * p.aStrides[k]!;
            ib += v * p.bStrides[k]!;
          });
          res[i] = act(ops[p.op]!(a[ia]!, bb[ib]!), p);
          for (let k = idx.length - 1; k >= 0; k--) {
            if (++idx[k]! < p.shape[k]!) break;
            idx[k] = 0;
          }
        }
        out.set(res);
        break;
      }
      case fb.KernelId.Unary_F32: {
        const p = s.params as fb.UnaryParamsT;
        const x = view(s.inputs[0]!);
        const fn = [
          (v: number) => Math.max(v, 0),
          (v: number) => Math.min(Math.max(v, p.alpha), p.beta),
          (v: number) => 1 / (1 + Math.exp(-v)),
          Math.tanh,
          Math.exp,
          (v: number) => (v < 0 ? v * p.alpha : v),
        ][p.op]!;
        out.set(x.map(fn));
        break;
      }
      case fb.KernelId.Softmax_F32: {
        const p = s.params as fb.SoftmaxParamsT;
        const x = view(s.inputs[0]!).slice();
        for (let o = 0; o < p.outer; o++)
          for (let i = 0; i < p.inner; i++) {
            const at = (k: number) => (o * p.axis + k) * p.inner + i;
            let m = -Infinity,
              sum = 0;
            for (let k = 0; k < p.axis; k++) m = Math.max(m, x[at(k)]!);
            for (let k = 0; k < p.axis; k++) {
              x[at(k)] = Math.exp(x[at(k)]! - m);
              sum = f(sum + x[at(k)]!);
            }
            for (let k = 0; k < p.axis; k++) x[at(k)]! /= sum;
          }
        out.set(x);
        break;
      }
      case fb.KernelId.Transpose: {
        const p = s.params as fb.TransposeParamsT;
        const x = view(s.inputs[0]!);
        const res = new Float32Array(out.length);
        const idx = p.shape.map(() => 0);
        for (let i = 0; i < res.length; i++) {
          let j = p.offset;
          idx.forEach((v, k) => {
            j += v * p.strides[k]!;
          });
          res[i] = x[j]!;
          for (let k = idx.length - 1; k >= 0; k--) {
            if (++idx[k]! < p.shape[k]!) break;
            idx[k] = 0;
          }
        }
        out.set(res);
        break;
      }
      case fb.KernelId.Concat: {
        const p = s.params as fb.ConcatParamsT;
        const xs = s.inputs.map(view);
        const total = p.sizes.reduce((a, c) => a + c, 0);
        const res = new Float32Array(out.length);
        for (let o = 0; o < p.outer; o++) {
          let at = o * total;
          xs.forEach((x, i) => {
            res.set(x.subarray(o * p.sizes[i]!, (o + 1) * p.sizes[i]!), at);
            at += p.sizes[i]!;
          });
        }
        out.set(res);
        break;
      }
      case fb.KernelId.Copy:
        out.set(view(s.inputs[0]!));
        break;
      case fb.KernelId.Pad: {
        const p = s.params as fb.PadParamsT;
        const x = view(s.inputs[0]!);
        const res = new Float32Array(out.length).fill(p.value);
        const r = p.shape.length;
        const ost: number[] = [];
        for (let k = r - 1, acc = 1; k >= 0; k--) {
          ost[k] = acc;
          acc *= p.shape[k]!;
        }
        const idx = p.inShape.map(() => 0);
        for (let i = 0; i < x.length; i++) {
          let o = 0;
          for (let k = 0; k < r; k++) o += (idx[k]! + p.before[k]!) * ost[k]!;
          res[o] = x[i]!;
          for (let k = r - 1; k >= 0; k--) {
            if (++idx[k]! < p.inShape[k]!) break;
            idx[k] = 0;
          }
        }
        out.set(res);
        break;
      }
      default:
        throw new Error(`interpreter: unknown kernel ${s.kernel}`);
    }
  }
  const result: Record<string, Float32Array> = {};
  for (const id of b.outputs) result[b.tensors[id]!.name as string] = view(id).slice();
  return result;
}
