// Scratch rules of the kernels that need an arena work buffer (compiler/kernels/registry.ts ties each to its
// KernelId): the shape of the I8 scratch tensor a step gets, or null when the kernel runs without one. Shapes in
// elements; the AS load-time checks (assembly/kernels/qs8-checks.ts) demand exactly these shapes.

/** The conv geometry a scratch rule reads (compiler/ir convGeometry's fields). */
export interface ConvShape {
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  ci: number;
  groups: number;
  /** top, left, bottom, right */
  pad: readonly number[];
}

const unpadded = (c: ConvShape) => c.pad.every((p) => p === 0);

/** Conv2D_QS8: im2col rows [OH·OW, Kp] (Kp = KH·KW·Ci/G rounded up to 8); none for a 1×1, stride 1, unpadded,
 *  ungrouped conv, which runs the GEMM on the input directly. */
export function im2colScratch(c: ConvShape): number[] | null {
  if (c.kh === 1 && c.kw === 1 && c.sh === 1 && c.sw === 1 && unpadded(c) && c.groups === 1) return null;
  return [c.oh * c.ow, Math.ceil((c.kh * c.kw * c.ci) / c.groups / 8) * 8];
}

/**
 * Lines (rows / columns) per scratch group of the 1×k / k×1 kernels: R lines at a fixed pitch let the last
 * outLong mod 4 outputs of R lines run as one 4-row GEMM tile instead of a mostly wasted tile per line.
 * The AS kernel (assembly/kernels/conv/qs8-conv2d-1xk.ts) groups its lines by the same rule; its load-time check
 * demands the scratch this rule sizes, and test/compiler/kernels/line-group.test.ts runs both over a grid.
 */
export function lineGroup(outLong: number, outShort: number): number {
  return outLong % 4 ? Math.min(4, outShort) : 1;
}

/** Conv1xK_QS8 (rows) / ConvKx1_QS8 (columns): R zp-padded lines of L pixels, [R·L, Ci]; L = the padded pixels the
 *  windows of one output line read. None for an unpadded 1×k (the kernel reads the input rows in place). */
export function lineScratch(c: ConvShape, rows: boolean): number[] | null {
  if (rows && unpadded(c)) return null;
  const L = rows ? (c.ow - 1) * c.sw + c.kw : (c.oh - 1) * c.sh + c.kh;
  const R = rows ? lineGroup(c.ow, c.oh) : lineGroup(c.oh, c.ow);
  return [R * L, c.ci];
}
