// Shape and constant-data helpers shared by the ONNX importer and its constant folder:
// permutations of row-major data, numpy broadcasting of shapes, ONNX Reshape target resolution.

import { numElements } from '../../ir/graph.ts';

/** IR axis i of NHWC data holds ONNX (NCHW) axis TO_NHWC[i]; ONNX axis a sits at IR axis TO_NCHW[a]. */
export const TO_NHWC = [0, 2, 3, 1];
export const TO_NCHW = [0, 3, 1, 2];

export const permute = <T>(a: readonly T[], perm: readonly number[]): T[] => perm.map((p) => a[p]);

/** True when transposing `shape` by `perm` keeps the row-major element order (only size-1 dims move). */
export function orderPreserved(shape: readonly number[], perm: readonly number[]): boolean {
  const moved = perm.filter((p) => shape[p] !== 1);
  return moved.every((p, i) => i === 0 || p > moved[i - 1]);
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Permutes constant data (row-major in `dims`) by `perm`. */
export function permuteData(values: ArrayLike<number>, dims: readonly number[], perm: readonly number[]): Float64Array {
  const outDims = permute(dims, perm);
  const n = numElements(dims);
  const out = new Float64Array(n);
  const inStrides = dims.map((_, i) => numElements(dims.slice(i + 1)));
  const strides = perm.map((p) => inStrides[p]);
  const idx = new Array(outDims.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < idx.length; k++) src += idx[k] * strides[k];
    out[o] = values[src];
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), −1 is inferred. */
export function reshapeTarget(inShape: number[], spec: number[], allowZero: boolean): number[] | string {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i] : d));
  if (out.some((d) => d === undefined)) return `0 at a position past the input rank ${inShape.length}`;
  const known = out.filter((d) => d !== -1);
  const total = numElements(inShape);
  if (out.filter((d) => d === -1).length > 1) return 'more than one -1';
  if (out.includes(-1)) {
    const p = numElements(known);
    if (p === 0 || total % p !== 0) return `cannot infer -1: ${total} elements do not divide by ${p}`;
    return out.map((d) => (d === -1 ? total / p : d));
  }
  if (numElements(out) !== total) return `${numElements(out)} elements, input has ${total}`;
  if (out.some((d) => d <= 0)) return 'a zero or negative dim';
  return out;
}
