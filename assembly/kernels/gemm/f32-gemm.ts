// Dense_F32 and pointwise (1x1, stride 1, unpadded, ungrouped) Conv2D_F32 as one GEMM, f32:
// x [M,K] row-major, w [K,N], b [N] or none, y [M,N]; per output acc = b[n]; k ascending; act.
// SIMD: per 8-column block (its K x 8 weights stay in L1) 4x8 register tiles, 1x8 row tail;
// M < 4 first takes 1x16 tiles (4 independent accumulators), M = 1 a k-outer pass over whole rows of w with the
// sums in y (row1Stream); 4-wide and scalar column tails.
// Scalar build: 4×8 then 4×4 tiles (rows4F32) where M and N allow, else 4 columns per row, in local accumulators.
// Bit-identical to the reference twins in both builds.
import { ACT_NONE, activate, activate4, simdAct } from '../activation';

export function gemmF32(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  M: i32,
  K: i32,
  N: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  if (ASC_FEATURE_SIMD) {
    act = simdAct(act, lo, hi);
    let j = 0;
    if (M == 1 && N >= 16) {
      j = N & ~15;
      row1Stream(x, w, b, y, K, j, N, act, lo, hi);
    } else if (M < 4) {
      for (; j + 16 <= N; j += 16) for (let m = 0; m < M; m++) row1x16(x, w, b, y, m, j, K, N, act, lo, hi);
    }
    for (; j + 8 <= N; j += 8) {
      let m = 0;
      for (; m + 4 <= M; m += 4) tile4x8(x, w, b, y, m, j, K, N, act, lo, hi);
      for (; m < M; m++) row1x8(x, w, b, y, m, j, K, N, act, lo, hi, true);
    }
    if (j + 4 <= N) {
      for (let m = 0; m < M; m++) row1x8(x, w, b, y, m, j, K, N, act, lo, hi, false);
      j += 4;
    }
    if (j < N) {
      for (let m = 0; m < M; m++) {
        for (let n = j; n < N; n++) {
          let acc: f32 = b == 0 ? 0 : load<f32>(b + ((<usize>n) << 2));
          let xp = x + ((<usize>(m * K)) << 2),
            wp = w + ((<usize>n) << 2);
          for (let k = 0; k < K; k++) {
            acc += load<f32>(xp) * load<f32>(wp);
            xp += 4;
            wp += (<usize>N) << 2;
          }
          store<f32>(y + ((<usize>(m * N + n)) << 2), activate(acc, act, lo, hi));
        }
      }
    }
  } else {
    // Scalar build: 4 columns in local accumulators per row, then single columns; 4 rows at a time first where
    // N allows (each x and w load serves 4 products: what wasm3 pays for).
    const ws = (<usize>N) << 2;
    let m0 = 0;
    if (N >= 4) for (; m0 + 4 <= M; m0 += 4) rows4F32(x, w, b, y, m0, K, N, act, lo, hi);
    for (let m = m0; m < M; m++) {
      const xr = x + ((<usize>(m * K)) << 2);
      const yr = y + ((<usize>(m * N)) << 2);
      let n = 0;
      for (; n + 4 <= N; n += 4) {
        const bn = b + ((<usize>n) << 2);
        let a0: f32 = b == 0 ? 0 : load<f32>(bn),
          a1: f32 = b == 0 ? 0 : load<f32>(bn, 4);
        let a2: f32 = b == 0 ? 0 : load<f32>(bn, 8),
          a3: f32 = b == 0 ? 0 : load<f32>(bn, 12);
        let xp = xr,
          wp = w + ((<usize>n) << 2);
        for (let k = 0; k < K; k++) {
          const xv = load<f32>(xp);
          a0 += xv * load<f32>(wp);
          a1 += xv * load<f32>(wp, 4);
          a2 += xv * load<f32>(wp, 8);
          a3 += xv * load<f32>(wp, 12);
          xp += 4;
          wp += ws;
        }
        const o = yr + ((<usize>n) << 2);
        store<f32>(o, activate(a0, act, lo, hi));
        store<f32>(o, activate(a1, act, lo, hi), 4);
        store<f32>(o, activate(a2, act, lo, hi), 8);
        store<f32>(o, activate(a3, act, lo, hi), 12);
      }
      for (; n < N; n++) {
        let acc: f32 = b == 0 ? 0 : load<f32>(b + ((<usize>n) << 2));
        let xp = xr,
          wp = w + ((<usize>n) << 2);
        for (let k = 0; k < K; k++) {
          acc += load<f32>(xp) * load<f32>(wp);
          xp += 4;
          wp += ws;
        }
        store<f32>(yr + ((<usize>n) << 2), activate(acc, act, lo, hi));
      }
    }
  }
}

/** Scalar build: rows m..m+3, 8 then 4 columns at a time in 32 / 16 local accumulators (each k ascending from the
 * bias, as in the 1-row loop), then the last N mod 4 columns one by one. */
function rows4F32(x: usize, w: usize, b: usize, y: usize, m: i32, K: i32, N: i32, act: i32, lo: f32, hi: f32): void {
  const ws = (<usize>N) << 2,
    rs = (<usize>K) << 2;
  const xr = x + ((<usize>(m * K)) << 2);
  let n = 0;
  for (; n + 8 <= N; n += 8) {
    const bn = b + ((<usize>n) << 2);
    const c0: f32 = b == 0 ? 0 : load<f32>(bn, 0);
    const c1: f32 = b == 0 ? 0 : load<f32>(bn, 4);
    const c2: f32 = b == 0 ? 0 : load<f32>(bn, 8);
    const c3: f32 = b == 0 ? 0 : load<f32>(bn, 12);
    const c4: f32 = b == 0 ? 0 : load<f32>(bn, 16);
    const c5: f32 = b == 0 ? 0 : load<f32>(bn, 20);
    const c6: f32 = b == 0 ? 0 : load<f32>(bn, 24);
    const c7: f32 = b == 0 ? 0 : load<f32>(bn, 28);
    let a00 = c0,
      a01 = c1,
      a02 = c2,
      a03 = c3,
      a04 = c4,
      a05 = c5,
      a06 = c6,
      a07 = c7;
    let a10 = c0,
      a11 = c1,
      a12 = c2,
      a13 = c3,
      a14 = c4,
      a15 = c5,
      a16 = c6,
      a17 = c7;
    let a20 = c0,
      a21 = c1,
      a22 = c2,
      a23 = c3,
      a24 = c4,
      a25 = c5,
      a26 = c6,
      a27 = c7;
    let a30 = c0,
      a31 = c1,
      a32 = c2,
      a33 = c3,
      a34 = c4,
      a35 = c5,
      a36 = c6,
      a37 = c7;
    let xp = xr,
      wp = w + ((<usize>n) << 2);
    for (let k = 0; k < K; k++) {
      const w0 = load<f32>(wp, 0),
        w1 = load<f32>(wp, 4),
        w2 = load<f32>(wp, 8),
        w3 = load<f32>(wp, 12),
        w4 = load<f32>(wp, 16),
        w5 = load<f32>(wp, 20),
        w6 = load<f32>(wp, 24),
        w7 = load<f32>(wp, 28);
      let v = load<f32>(xp);
      a00 += v * w0;
      a01 += v * w1;
      a02 += v * w2;
      a03 += v * w3;
      a04 += v * w4;
      a05 += v * w5;
      a06 += v * w6;
      a07 += v * w7;
      v = load<f32>(xp + rs);
      a10 += v * w0;
      a11 += v * w1;
      a12 += v * w2;
      a13 += v * w3;
      a14 += v * w4;
      a15 += v * w5;
      a16 += v * w6;
      a17 += v * w7;
      v = load<f32>(xp + 2 * rs);
      a20 += v * w0;
      a21 += v * w1;
      a22 += v * w2;
      a23 += v * w3;
      a24 += v * w4;
      a25 += v * w5;
      a26 += v * w6;
      a27 += v * w7;
      v = load<f32>(xp + 3 * rs);
      a30 += v * w0;
      a31 += v * w1;
      a32 += v * w2;
      a33 += v * w3;
      a34 += v * w4;
      a35 += v * w5;
      a36 += v * w6;
      a37 += v * w7;
      xp += 4;
      wp += ws;
    }
    let o = y + ((<usize>(m * N + n)) << 2);
    store<f32>(o, activate(a00, act, lo, hi), 0);
    store<f32>(o, activate(a01, act, lo, hi), 4);
    store<f32>(o, activate(a02, act, lo, hi), 8);
    store<f32>(o, activate(a03, act, lo, hi), 12);
    store<f32>(o, activate(a04, act, lo, hi), 16);
    store<f32>(o, activate(a05, act, lo, hi), 20);
    store<f32>(o, activate(a06, act, lo, hi), 24);
    store<f32>(o, activate(a07, act, lo, hi), 28);
    o += ws;
    store<f32>(o, activate(a10, act, lo, hi), 0);
    store<f32>(o, activate(a11, act, lo, hi), 4);
    store<f32>(o, activate(a12, act, lo, hi), 8);
    store<f32>(o, activate(a13, act, lo, hi), 12);
    store<f32>(o, activate(a14, act, lo, hi), 16);
    store<f32>(o, activate(a15, act, lo, hi), 20);
    store<f32>(o, activate(a16, act, lo, hi), 24);
    store<f32>(o, activate(a17, act, lo, hi), 28);
    o += ws;
    store<f32>(o, activate(a20, act, lo, hi), 0);
    store<f32>(o, activate(a21, act, lo, hi), 4);
    store<f32>(o, activate(a22, act, lo, hi), 8);
    store<f32>(o, activate(a23, act, lo, hi), 12);
    store<f32>(o, activate(a24, act, lo, hi), 16);
    store<f32>(o, activate(a25, act, lo, hi), 20);
    store<f32>(o, activate(a26, act, lo, hi), 24);
    store<f32>(o, activate(a27, act, lo, hi), 28);
    o += ws;
    store<f32>(o, activate(a30, act, lo, hi), 0);
    store<f32>(o, activate(a31, act, lo, hi), 4);
    store<f32>(o, activate(a32, act, lo, hi), 8);
    store<f32>(o, activate(a33, act, lo, hi), 12);
    store<f32>(o, activate(a34, act, lo, hi), 16);
    store<f32>(o, activate(a35, act, lo, hi), 20);
    store<f32>(o, activate(a36, act, lo, hi), 24);
    store<f32>(o, activate(a37, act, lo, hi), 28);
  }
  for (; n + 4 <= N; n += 4) {
    const bn = b + ((<usize>n) << 2);
    const c0: f32 = b == 0 ? 0 : load<f32>(bn, 0);
    const c1: f32 = b == 0 ? 0 : load<f32>(bn, 4);
    const c2: f32 = b == 0 ? 0 : load<f32>(bn, 8);
    const c3: f32 = b == 0 ? 0 : load<f32>(bn, 12);
    let a00 = c0,
      a01 = c1,
      a02 = c2,
      a03 = c3;
    let a10 = c0,
      a11 = c1,
      a12 = c2,
      a13 = c3;
    let a20 = c0,
      a21 = c1,
      a22 = c2,
      a23 = c3;
    let a30 = c0,
      a31 = c1,
      a32 = c2,
      a33 = c3;
    let xp = xr,
      wp = w + ((<usize>n) << 2);
    for (let k = 0; k < K; k++) {
      const w0 = load<f32>(wp, 0),
        w1 = load<f32>(wp, 4),
        w2 = load<f32>(wp, 8),
        w3 = load<f32>(wp, 12);
      let v = load<f32>(xp);
      a00 += v * w0;
      a01 += v * w1;
      a02 += v * w2;
      a03 += v * w3;
      v = load<f32>(xp + rs);
      a10 += v * w0;
      a11 += v * w1;
      a12 += v * w2;
      a13 += v * w3;
      v = load<f32>(xp + 2 * rs);
      a20 += v * w0;
      a21 += v * w1;
      a22 += v * w2;
      a23 += v * w3;
      v = load<f32>(xp + 3 * rs);
      a30 += v * w0;
      a31 += v * w1;
      a32 += v * w2;
      a33 += v * w3;
      xp += 4;
      wp += ws;
    }
    let o = y + ((<usize>(m * N + n)) << 2);
    store<f32>(o, activate(a00, act, lo, hi), 0);
    store<f32>(o, activate(a01, act, lo, hi), 4);
    store<f32>(o, activate(a02, act, lo, hi), 8);
    store<f32>(o, activate(a03, act, lo, hi), 12);
    o += ws;
    store<f32>(o, activate(a10, act, lo, hi), 0);
    store<f32>(o, activate(a11, act, lo, hi), 4);
    store<f32>(o, activate(a12, act, lo, hi), 8);
    store<f32>(o, activate(a13, act, lo, hi), 12);
    o += ws;
    store<f32>(o, activate(a20, act, lo, hi), 0);
    store<f32>(o, activate(a21, act, lo, hi), 4);
    store<f32>(o, activate(a22, act, lo, hi), 8);
    store<f32>(o, activate(a23, act, lo, hi), 12);
    o += ws;
    store<f32>(o, activate(a30, act, lo, hi), 0);
    store<f32>(o, activate(a31, act, lo, hi), 4);
    store<f32>(o, activate(a32, act, lo, hi), 8);
    store<f32>(o, activate(a33, act, lo, hi), 12);
  }
  for (let r = 0; r < 4; r++)
    for (let j = n; j < N; j++) {
      let acc: f32 = b == 0 ? 0 : load<f32>(b + ((<usize>j) << 2));
      let xp = xr + <usize>r * rs,
        wp = w + ((<usize>j) << 2);
      for (let k = 0; k < K; k++) {
        acc += load<f32>(xp) * load<f32>(wp);
        xp += 4;
        wp += ws;
      }
      store<f32>(y + ((<usize>((m + r) * N + j)) << 2), activate(acc, act, lo, hi));
    }
}

// @ts-ignore: decorator
@inline function biasAt(b: usize, j: i32, off: usize): v128 {
  return b == 0 ? f32x4.splat(0) : v128.load(b + ((<usize>j) << 2) + off);
}

function tile4x8(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  m: i32,
  j: i32,
  K: i32,
  N: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const b0 = biasAt(b, j, 0),
    b1 = biasAt(b, j, 16);
  let a00 = b0,
    a01 = b1,
    a10 = b0,
    a11 = b1,
    a20 = b0,
    a21 = b1,
    a30 = b0,
    a31 = b1;
  let xp = x + ((<usize>(m * K)) << 2);
  const rs = (<usize>K) << 2;
  let wp = w + ((<usize>j) << 2);
  const ws = (<usize>N) << 2;
  for (let k = 0; k < K; k++) {
    const w0 = v128.load(wp),
      w1 = v128.load(wp, 16);
    const x0 = v128.load32_splat(xp),
      x1 = v128.load32_splat(xp + rs);
    const x2 = v128.load32_splat(xp + 2 * rs),
      x3 = v128.load32_splat(xp + 3 * rs);
    a00 = f32x4.add(a00, f32x4.mul(x0, w0));
    a01 = f32x4.add(a01, f32x4.mul(x0, w1));
    a10 = f32x4.add(a10, f32x4.mul(x1, w0));
    a11 = f32x4.add(a11, f32x4.mul(x1, w1));
    a20 = f32x4.add(a20, f32x4.mul(x2, w0));
    a21 = f32x4.add(a21, f32x4.mul(x2, w1));
    a30 = f32x4.add(a30, f32x4.mul(x3, w0));
    a31 = f32x4.add(a31, f32x4.mul(x3, w1));
    xp += 4;
    wp += ws;
  }
  const vl = f32x4.splat(lo),
    vh = f32x4.splat(hi);
  const o = y + ((<usize>(m * N + j)) << 2);
  v128.store(o, activate4(a00, act, vl, vh));
  v128.store(o, activate4(a01, act, vl, vh), 16);
  v128.store(o + ws, activate4(a10, act, vl, vh));
  v128.store(o + ws, activate4(a11, act, vl, vh), 16);
  v128.store(o + 2 * ws, activate4(a20, act, vl, vh));
  v128.store(o + 2 * ws, activate4(a21, act, vl, vh), 16);
  v128.store(o + 3 * ws, activate4(a30, act, vl, vh));
  v128.store(o + 3 * ws, activate4(a31, act, vl, vh), 16);
}

function row1x16(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  m: i32,
  j: i32,
  K: i32,
  N: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  let a0 = biasAt(b, j, 0),
    a1 = biasAt(b, j, 16),
    a2 = biasAt(b, j, 32),
    a3 = biasAt(b, j, 48);
  let xp = x + ((<usize>(m * K)) << 2);
  let wp = w + ((<usize>j) << 2);
  const ws = (<usize>N) << 2;
  for (let k = 0; k < K; k++) {
    const xv = v128.load32_splat(xp);
    a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
    a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
    a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp, 32)));
    a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp, 48)));
    xp += 4;
    wp += ws;
  }
  const vl = f32x4.splat(lo),
    vh = f32x4.splat(hi);
  const o = y + ((<usize>(m * N + j)) << 2);
  v128.store(o, activate4(a0, act, vl, vh));
  v128.store(o, activate4(a1, act, vl, vh), 16);
  v128.store(o, activate4(a2, act, vl, vh), 32);
  v128.store(o, activate4(a3, act, vl, vh), 48);
}

/** One row (M = 1), columns [0, N16) (N16 a multiple of 16): k outer, so w's rows are read in order and the weights
 *  stream from memory once (row1x16 walks them N·4 bytes apart per k: a classifier's 1280×1000 weights miss the
 *  prefetcher and the TLB); the N16 sums are kept in y (f32 in memory, the same bits as in a register) between k. */
function row1Stream(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  K: i32,
  N16: i32,
  N: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const end = y + ((<usize>N16) << 2);
  for (let o = y, bp = b; o < end; o += 16, bp += 16) v128.store(o, b == 0 ? f32x4.splat(0) : v128.load(bp));
  const ws = (<usize>N) << 2;
  let wp = w;
  for (let k = 0; k < K; k++) {
    const xv = v128.load32_splat(x + ((<usize>k) << 2));
    let wq = wp;
    for (let o = y; o < end; o += 64) {
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(xv, v128.load(wq))));
      v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(xv, v128.load(wq, 16))), 16);
      v128.store(o, f32x4.add(v128.load(o, 32), f32x4.mul(xv, v128.load(wq, 32))), 32);
      v128.store(o, f32x4.add(v128.load(o, 48), f32x4.mul(xv, v128.load(wq, 48))), 48);
      wq += 64;
    }
    wp += ws;
  }
  const vl = f32x4.splat(lo),
    vh = f32x4.splat(hi);
  if (act != ACT_NONE) for (let o = y; o < end; o += 16) v128.store(o, activate4(v128.load(o), act, vl, vh));
}

/** One row x 8 columns (wide) or x 4 columns. */
function row1x8(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  m: i32,
  j: i32,
  K: i32,
  N: i32,
  act: i32,
  lo: f32,
  hi: f32,
  wide: bool,
): void {
  let a0 = biasAt(b, j, 0),
    a1 = wide ? biasAt(b, j, 16) : f32x4.splat(0);
  let xp = x + ((<usize>(m * K)) << 2);
  let wp = w + ((<usize>j) << 2);
  const ws = (<usize>N) << 2;
  if (wide) {
    for (let k = 0; k < K; k++) {
      const xv = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
      xp += 4;
      wp += ws;
    }
  } else {
    for (let k = 0; k < K; k++) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), v128.load(wp)));
      xp += 4;
      wp += ws;
    }
  }
  const vl = f32x4.splat(lo),
    vh = f32x4.splat(hi);
  const o = y + ((<usize>(m * N + j)) << 2);
  v128.store(o, activate4(a0, act, vl, vh));
  if (wide) v128.store(o, activate4(a1, act, vl, vh), 16);
}
