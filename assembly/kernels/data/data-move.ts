// Data movement for any dtype (element size 1 or 4 bytes): Transpose/Slice as a strided gather
// (rank ≤ 6, strides and offset in elements), Concat over [outer, sizes], Copy, constant Pad.
// Pure byte moves: exact in every build. y never aliases x for Transpose, Concat and Pad.
import { StepParams } from '../../bundle/model';

// Scratch dims, allocated once: the stub runtime never frees, so nothing may allocate per run.
// d and s (transposeAny's) are globals: a worker instance of the threads build takes its own (privateTransposeDims),
// since threads run slices of one Transpose at once (assembly/threads-steps.ts) and the start code's are shared.
let d = new StaticArray<i32>(6);
let s = new StaticArray<i32>(6);
const od = new StaticArray<i32>(6);
const id = new StaticArray<i32>(6);
const bf = new StaticArray<i32>(6);

/** Threaded build: this instance's transposeAny scratch dims, in its own heap. */
export function privateTransposeDims(): void {
  d = new StaticArray<i32>(6);
  s = new StaticArray<i32>(6);
}

export function transposeAny(x: usize, y: usize, es: i32, p: StepParams): void {
  const off = 6 - p.shape.length;
  for (let k = 0; k < 6; k++) {
    d[k] = k >= off ? p.shape[k - off] : 1;
    s[k] = k >= off ? p.aStrides[k - off] : 0;
  }
  const n5 = d[5],
    s5 = s[5];
  // dims and strides in locals: the loops below run once per inner row
  const d0 = d[0],
    d1 = d[1],
    d2 = d[2],
    d3 = d[3],
    d4 = d[4];
  const s0 = s[0],
    s1 = s[1],
    s2 = s[2],
    s3 = s[3],
    s4 = s[4],
    o0 = p.offset;
  const ues = <usize>es;
  let yp = y;
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++)
        for (let i3 = 0; i3 < d3; i3++) {
          const base = o0 + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3;
          if (s5 == 1) {
            // Contiguous inner runs (slices, reshapes): bulk copies.
            for (let i4 = 0; i4 < d4; i4++) {
              memory.copy(yp, x + <usize>(base + i4 * s4) * ues, <usize>n5 * ues);
              yp += <usize>n5 * ues;
            }
          } else if (n5 < d4) {
            // Short inner rows (NCHW → NHWC with 3 channels: 224·224 rows of 3): the longer dim innermost instead,
            // output written with stride n5, so the per-row loop overhead is paid n5 times, not d4 times.
            const ys = <usize>n5 * ues,
              xs = <usize>s4 * ues;
            let i4s = 0;
            if (ASC_FEATURE_SIMD && es == 1 && n5 == 3 && s4 == 1) {
              // int8 NCHW → NHWC with 3 channels (an int8 image input, quantised before its transpose): 16 pixels of
              // the 3 planes at a time (interleave3x16)
              const p0 = x + <usize>base;
              for (; i4s + 16 <= d4; i4s += 16) interleave3x16(p0 + <usize>i4s, <usize>s5, yp + <usize>(3 * i4s));
            }
            for (let i5 = 0; i5 < n5; i5++) {
              let xp = x + <usize>(base + i5 * s5 + i4s * s4) * ues,
                q = yp + <usize>i5 * ues + <usize>i4s * ys;
              if (es == 4)
                for (let i4 = i4s; i4 < d4; i4++) {
                  store<u32>(q, load<u32>(xp));
                  xp += xs;
                  q += ys;
                }
              else
                for (let i4 = i4s; i4 < d4; i4++) {
                  store<u8>(q, load<u8>(xp));
                  xp += xs;
                  q += ys;
                }
            }
            yp += <usize>d4 * ys;
          } else {
            for (let i4 = 0; i4 < d4; i4++) {
              let xi = base + i4 * s4;
              if (es == 4)
                for (let i = 0; i < n5; i++) {
                  store<u32>(yp, load<u32>(x + ((<usize>xi) << 2)));
                  xi += s5;
                  yp += 4;
                }
              else
                for (let i = 0; i < n5; i++) {
                  store<u8>(yp, load<u8>(x + <usize>xi));
                  xi += s5;
                  yp += 1;
                }
            }
          }
        }
}

export function concatAny(xs: StaticArray<usize>, y: usize, es: i32, p: StepParams): void {
  let total = 0;
  for (let i = 0; i < p.sizes.length; i++) total += p.sizes[i];
  const rowBytes = <usize>total * es;
  let colOff: usize = 0;
  for (let i = 0; i < xs.length; i++) {
    const bytes = <usize>p.sizes[i] * es;
    for (let o = 0; o < p.outer; o++) memory.copy(y + <usize>o * rowBytes + colOff, xs[i] + <usize>o * bytes, bytes);
    colOff += bytes;
  }
}

export function padAny(x: usize, y: usize, es: i32, dtype: i32, zeroPoint: i32, p: StepParams): void {
  const rank = p.shape.length;
  const off = 6 - rank;
  let outElems = 1;
  for (let k = 0; k < 6; k++) {
    od[k] = k >= off ? p.shape[k - off] : 1;
    id[k] = k >= off ? p.inShape[k - off] : 1;
    bf[k] = k >= off ? p.before[k - off] : 0;
    outElems *= od[k];
  }
  // Fill: F32 the value's bits, I32 the value truncated, I8/U8 the output zero point.
  if (es == 4) {
    const bits: u32 = dtype == 0 ? reinterpret<u32>(p.value) : <u32>(<i32>p.value);
    for (let i = 0; i < outElems; i++) store<u32>(y + ((<usize>i) << 2), bits);
  } else {
    memory.fill(y, <u8>zeroPoint, <usize>outElems);
  }
  const rowBytes = <usize>id[5] * es;
  let xp = x;
  for (let i0 = 0; i0 < id[0]; i0++)
    for (let i1 = 0; i1 < id[1]; i1++)
      for (let i2 = 0; i2 < id[2]; i2++)
        for (let i3 = 0; i3 < id[3]; i3++)
          for (let i4 = 0; i4 < id[4]; i4++) {
            const o =
              ((((i0 + bf[0]) * od[1] + i1 + bf[1]) * od[2] + i2 + bf[2]) * od[3] + i3 + bf[3]) * od[4] + i4 + bf[4];
            memory.copy(y + (<usize>o * od[5] + bf[5]) * es, xp, rowBytes);
            xp += rowBytes;
          }
}

/**
 * 16 bytes of each of 3 planes (p, p + plane, p + 2·plane) interleaved into 48 bytes at q (a0 b0 c0 a1 b1 c1 …).
 * Byte and 16-bit zips (one punpck each in V8) make 4-byte pixels a b c c, one byte shuffle per 4 pixels drops the
 * fourth byte; 16-byte stores of 12 valid bytes overlap (each next store overwrites the 4 stale bytes), the last
 * store is 8 + 4 bytes so nothing past q + 48 is written. Two-input shuffles cost V8 ~11 instructions each here.
 */
// @ts-ignore: decorator
@inline function interleave3x16(p: usize, plane: usize, q: usize): void {
  const a = v128.load(p),
    b = v128.load(p + plane),
    c = v128.load(p + (plane << 1));
  const abLo = v128.shuffle<u8>(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const abHi = v128.shuffle<u8>(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const ccLo = v128.shuffle<u8>(c, c, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const ccHi = v128.shuffle<u8>(c, c, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const x0 = v128.shuffle<u16>(abLo, ccLo, 0, 8, 1, 9, 2, 10, 3, 11),
    x1 = v128.shuffle<u16>(abLo, ccLo, 4, 12, 5, 13, 6, 14, 7, 15);
  const x2 = v128.shuffle<u16>(abHi, ccHi, 0, 8, 1, 9, 2, 10, 3, 11),
    x3 = v128.shuffle<u16>(abHi, ccHi, 4, 12, 5, 13, 6, 14, 7, 15);
  v128.store(q, dropFourth(x0));
  v128.store(q, dropFourth(x1), 12);
  v128.store(q, dropFourth(x2), 24);
  const y3 = dropFourth(x3);
  v128.store64_lane(q, y3, 0, 36);
  v128.store32_lane(q, y3, 2, 44);
}

/** Bytes 0 1 2 4 5 6 8 9 10 12 13 14 of 4-byte pixels, then 4 don't-care bytes. */
// @ts-ignore: decorator
@inline function dropFourth(v: v128): v128 {
  return v128.shuffle<u8>(v, v, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15);
}
