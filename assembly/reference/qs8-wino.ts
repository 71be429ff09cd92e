// Reference twin of Conv2DWino_QS8 (kernels/conv/qs8-conv2d-wino-*.ts): one output at a time, in i64 (no wrap-around
// argument needed), the F(2×2, 3×3) matrices as tables: V = BᵀdB of the output's tile window (padding = zp_in),
// U' read from the packed layout by formula, 4Y = Σ_ξ Aᵀ[a][i]·A[j][b]·Σ_ci U'·V, acc = 4Y / 4 + bias (bias −
// zp_in·Σw folded in), requantised as the direct conv. Slow on purpose; the fast kernels must match byte for byte.
import { StepParams } from '../bundle/model';
import { requantAt, qcAt } from '../kernels/gemm/qs8-requant';

/** Bᵀ[i][r]: rows [1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1] (no static table: the builds' initial
 *  memory is full). */
function bt(i: i32, r: i32): i32 {
  if (i == 0) return r == 0 ? 1 : r == 2 ? -1 : 0;
  if (i == 1) return r == 1 || r == 2 ? 1 : 0;
  if (i == 2) return r == 1 ? -1 : r == 2 ? 1 : 0;
  return r == 1 ? 1 : r == 3 ? -1 : 0;
}

/** Aᵀ[a][i]: rows [1, 1, 1, 0], [0, 1, −1, −1]. */
function at(a: i32, i: i32): i32 {
  if (a == 0) return i < 3 ? 1 : 0;
  return i == 0 ? 0 : i == 1 ? 1 : -1;
}

/** U'[ξ = 4i + j] of output channel co, input channel ci, from blocks [ceil(Co/8)][16][Cip/2][8][2] of i16
 *  (Cip = Ci rounded up to 8). */
// @ts-ignore: decorator
@inline function uPacked(w: usize, Ci: i32, co: i32, ci: i32, xi: i32): i64 {
  const Cip = (Ci + 7) & ~7;
  return <i64>(
    load<i16>(w + <usize>(((((co >> 3) * 16 + xi) * (Cip >> 1) + (ci >> 1)) * 8 + (co & 7)) * 4 + (ci & 1) * 2))
  );
}

/** V[i][j] = Σ_r Σ_s Bᵀ[i][r]·d[r][s]·Bᵀ[j][s] of channel ci's window at (ih0, iw0). */
function vRef(x: usize, H: i32, W: i32, Ci: i32, ci: i32, ih0: i32, iw0: i32, zp: i32, i: i32, j: i32): i64 {
  let v: i64 = 0;
  for (let r = 0; r < 4; r++)
    for (let s = 0; s < 4; s++) {
      const ih = ih0 + r,
        iw = iw0 + s;
      const d = ih < 0 || ih >= H || iw < 0 || iw >= W ? zp : <i32>load<i8>(x + <usize>((ih * W + iw) * Ci + ci));
      v += <i64>(bt(i, r) * bt(j, s) * d);
    }
  return v;
}

export function refConv2dWinoQs8<R>(
  x: usize,
  w: usize,
  qc: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  p: StepParams,
  zpIn: i32,
  zpOut: i32,
): void {
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let co = 0; co < Co; co++) {
          const xn = x + <usize>(n * H * W * Ci),
            a = oh & 1,
            b = ow & 1;
          const ih0 = (oh & ~1) - p.pt,
            iw0 = (ow & ~1) - p.pl;
          let y4: i64 = 0;
          for (let xi = 0; xi < 16; xi++) {
            const i = xi >> 2,
              j = xi & 3;
            const k = <i64>(at(a, i) * at(b, j));
            if (k == 0) continue;
            let m: i64 = 0;
            for (let ci = 0; ci < Ci; ci++)
              m += uPacked(w, Ci, co, ci, xi) * vRef(xn, H, W, Ci, ci, ih0, iw0, zpIn, i, j);
            y4 += k * m;
          }
          const acc = <i32>(y4 / 4) + qcAt(qc, Co, 0, co);
          store<i8>(
            y + <usize>(((n * OH + oh) * OW + ow) * Co + co),
            <i8>requantAt<R>(acc, qc, Co, co, zpOut, p.qMin, p.qMax),
          );
        }
}
