// Dense float64 linear algebra for the factorisation pass: symmetric eigendecomposition (Householder
// tridiagonalisation, then implicit QL with Wilkinson-type shifts) and the thin SVD built on it (eigen of the
// smaller Gram matrix). Matrices are row-major Float64Array; vectors come back as arrays of Float64Array.
// Exactness: eigen residuals ~1e-13·‖A‖; singular values below ~1e-8·s₀ lose relative accuracy (Gram squaring),
// which truncation never keeps anyway.
import { ModelError } from '../ir/graph.ts';

export interface Eigen {
  /** Descending. */
  values: Float64Array;
  /** vectors[j] is the unit eigenvector of values[j]. */
  vectors: Float64Array[];
}

/** Eigendecomposition of the symmetric n×n matrix a (row-major; only symmetry is assumed, a is not modified). */
export function symmetricEigen(a: Float64Array, n: number): Eigen {
  const m = Float64Array.from(a);
  // qt holds Qᵀ (row i = column i of Q) so both the Householder and the QL rotations touch contiguous rows
  const qt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) qt[i * n + i] = 1;
  const d = new Float64Array(n),
    e = new Float64Array(n);
  const v = new Float64Array(n),
    p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // reflector H = I − 2vvᵀ on rows/cols k+1.. zeroing m[k+2.., k]
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += m[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const x0 = m[(k + 1) * n + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    v.fill(0);
    for (let i = k + 1; i < n; i++) v[i] = m[i * n + k]!;
    v[k + 1] = x0 - alpha;
    let vn = 0;
    for (let i = k + 1; i < n; i++) vn += v[i]! ** 2;
    if (vn === 0) continue;
    vn = Math.sqrt(vn);
    for (let i = k + 1; i < n; i++) v[i] = v[i]! / vn;
    // HAH = A − 2vwᵀ − 2wvᵀ with p = Av, w = p − (vᵀp)v, on the trailing block (column k set directly)
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += m[i * n + j]! * v[j]!;
      p[i] = s;
      vp += v[i]! * s;
    }
    for (let i = k + 1; i < n; i++) p[i] = p[i]! - vp * v[i]!;
    for (let i = k + 1; i < n; i++)
      for (let j = k + 1; j < n; j++) m[i * n + j] = m[i * n + j]! - 2 * (v[i]! * p[j]! + p[i]! * v[j]!);
    for (let i = k + 1; i < n; i++) {
      m[i * n + k] = 0;
      m[k * n + i] = 0;
    }
    m[(k + 1) * n + k] = alpha;
    m[k * n + k + 1] = alpha;
    // Qᵀ ← H Qᵀ (Q = H₀H₁⋯)
    p.fill(0); // p ← vᵀQᵀ, row by row so the loops stay contiguous
    for (let i = k + 1; i < n; i++) {
      const c = v[i]!;
      for (let j = 0; j < n; j++) p[j] = p[j]! + c * qt[i * n + j]!;
    }
    for (let i = k + 1; i < n; i++) {
      const c = 2 * v[i]!;
      for (let j = 0; j < n; j++) qt[i * n + j] = qt[i * n + j]! - c * p[j]!;
    }
  }
  for (let i = 0; i < n; i++) d[i] = m[i * n + i]!;
  for (let i = 0; i < n - 1; i++) e[i] = m[(i + 1) * n + i]!;
  tridiagonalQl(d, e, qt, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]!);
  return {
    values: Float64Array.from(order, (i) => d[i]!),
    vectors: order.map((i) => qt.slice(i * n, (i + 1) * n)),
  };
}

/** Implicit QL on the tridiagonal (d, e: e[i] couples i and i+1), rotating the rows of qt alongside. */
function tridiagonalQl(d: Float64Array, e: Float64Array, qt: Float64Array, n: number): void {
  const rotate = (i: number, c: number, s: number) => {
    // columns i, i+1 of Q are rows i, i+1 of qt
    const a = i * n,
      b = (i + 1) * n;
    for (let k = 0; k < n; k++) {
      const f = qt[b + k]!,
        g = qt[a + k]!;
      qt[b + k] = s * g + c * f;
      qt[a + k] = c * g - s * f;
    }
  };
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter === 100) throw new ModelError('factorize', 'eigen', `QL iteration did not converge (n = ${n})`);
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1,
        c = 1,
        p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!,
          b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        rotate(i, c, s);
      }
      if (underflow) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

export interface Svd {
  /** Singular values, descending; k = min(rows, cols) of them. */
  s: Float64Array;
  /** u[j]: left singular vector j (length rows); orthonormal. */
  u: Float64Array[];
  /** v[j]: right singular vector j (length cols); orthonormal. */
  v: Float64Array[];
}

/** Thin SVD of the rows×cols matrix a (row-major): a = Σ s[j]·u[j]·v[j]ᵀ. */
export function svd(a: Float64Array, rows: number, cols: number): Svd {
  const wide = rows < cols;
  const k = Math.min(rows, cols);
  // Gram matrix of the smaller side: wide → a·aᵀ (rows×rows), else aᵀ·a (cols×cols)
  const gram = new Float64Array(k * k);
  const at = (i: number, j: number) => (wide ? a[i * cols + j]! : a[j * cols + i]!); // entry (i, j) of the k×long view
  const long = wide ? cols : rows;
  const lines = Array.from({ length: k }, (_, i) => Float64Array.from({ length: long }, (_, j) => at(i, j)));
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      const x = lines[i]!,
        y = lines[j]!;
      for (let t = 0; t < long; t++) s += x[t]! * y[t]!;
      gram[i * k + j] = s;
      gram[j * k + i] = s;
    }
  const { values, vectors } = symmetricEigen(gram, k);
  const s = Float64Array.from(values, (x) => Math.sqrt(Math.max(x, 0)));
  // the other side: (view)ᵀ·x / s, then re-orthonormalised (the vectors of tiny s are noise; zero s → completion)
  const other: Float64Array[] = vectors.map((x, j) => {
    const y = new Float64Array(long);
    if (s[j]! > 0) {
      for (let i = 0; i < k; i++) {
        const c = x[i]!;
        if (c !== 0) {
          const li = lines[i]!;
          for (let t = 0; t < long; t++) y[t] = y[t]! + c * li[t]!;
        }
      }
      for (let t = 0; t < long; t++) y[t] = y[t]! / s[j]!;
    }
    return y;
  });
  orthonormalize(other, s);
  return wide ? { s, u: vectors, v: other } : { s, u: other, v: vectors };
}

/** Modified Gram-Schmidt (twice) in place; a vector that vanishes is replaced by the next unit vector outside the span. */
function orthonormalize(vs: Float64Array[], s: Float64Array): void {
  const tiny = (s[0] ?? 0) * 1e-10;
  let unit = 0;
  for (let j = 0; j < vs.length; j++) {
    let y = vs[j]!;
    for (let attempt = 0; ; attempt++) {
      if (s[j]! <= tiny && attempt === 0) y.fill(0);
      for (let pass = 0; pass < 2; pass++)
        for (let i = 0; i < j; i++) {
          const x = vs[i]!;
          let d = 0;
          for (let t = 0; t < y.length; t++) d += x[t]! * y[t]!;
          for (let t = 0; t < y.length; t++) y[t] = y[t]! - d * x[t]!;
        }
      let nrm = 0;
      for (let t = 0; t < y.length; t++) nrm += y[t]! ** 2;
      nrm = Math.sqrt(nrm);
      if (nrm > 0.5 || (attempt > 0 && nrm > 1e-3)) {
        for (let t = 0; t < y.length; t++) y[t] = y[t]! / nrm;
        break;
      }
      if (unit >= y.length) throw new ModelError('factorize', 'svd', 'cannot complete an orthonormal basis');
      y = new Float64Array(y.length);
      y[unit++] = 1;
      vs[j] = y;
    }
  }
}

/** Smallest r with Σ_{i<r} s[i]² ≥ energy·Σ s[i]² (energy in (0, 1]); a relative 1e-12 slack absorbs rounding. */
export function energyRank(s: ArrayLike<number>, energy: number): number {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i]! ** 2;
  if (total === 0) return 1;
  let acc = 0;
  for (let r = 0; r < s.length; r++) {
    acc += s[r]! ** 2;
    if (acc >= energy * total * (1 - 1e-12)) return r + 1;
  }
  return s.length;
}
