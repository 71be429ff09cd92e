// Reference twins of Transpose, Concat, Copy and Pad: element by element, indices by division.
import { StepParams } from '../bundle/model';

// @ts-ignore: decorator
@inline function copyElem(dst: usize, src: usize, es: i32): void {
  if (es == 4) store<u32>(dst, load<u32>(src));
  else store<u8>(dst, load<u8>(src));
}

export function refTranspose(x: usize, y: usize, es: i32, p: StepParams): void {
  let n = 1;
  for (let k = 0; k < p.shape.length; k++) n *= p.shape[k];
  for (let i = 0; i < n; i++) {
    let rest = i,
      xo = p.offset;
    for (let k = p.shape.length - 1; k >= 0; k--) {
      xo += (rest % p.shape[k]) * p.aStrides[k];
      rest /= p.shape[k];
    }
    copyElem(y + <usize>i * es, x + <usize>xo * es, es);
  }
}

export function refConcat(xs: StaticArray<usize>, y: usize, es: i32, p: StepParams): void {
  let total = 0;
  for (let i = 0; i < p.sizes.length; i++) total += p.sizes[i];
  for (let o = 0; o < p.outer; o++) {
    let col = 0;
    for (let i = 0; i < xs.length; i++) {
      for (let e = 0; e < p.sizes[i]; e++)
        copyElem(y + <usize>(o * total + col + e) * es, xs[i] + <usize>(o * p.sizes[i] + e) * es, es);
      col += p.sizes[i];
    }
  }
}

export function refCopy(x: usize, y: usize, bytes: u32): void {
  for (let i: u32 = 0; i < bytes; i++) store<u8>(y + i, load<u8>(x + i));
}

export function refPad(x: usize, y: usize, es: i32, dtype: i32, zeroPoint: i32, p: StepParams): void {
  let n = 1;
  for (let k = 0; k < p.shape.length; k++) n *= p.shape[k];
  for (let i = 0; i < n; i++) {
    let rest = i,
      xo = 0,
      xstride = 1,
      inside = true;
    for (let k = p.shape.length - 1; k >= 0; k--) {
      const ik = (rest % p.shape[k]) - p.before[k];
      rest /= p.shape[k];
      if (ik < 0 || ik >= p.inShape[k]) inside = false;
      xo += ik * xstride;
      xstride *= p.inShape[k];
    }
    const dst = y + <usize>i * es;
    if (inside) copyElem(dst, x + <usize>xo * es, es);
    else if (es == 1) store<u8>(dst, <u8>zeroPoint);
    else store<u32>(dst, dtype == 0 ? reinterpret<u32>(p.value) : <u32>(<i32>p.value));
  }
}
