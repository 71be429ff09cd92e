// ONNX Gemm and MatMul with a constant B: an IR Dense (weights [N,K], alpha folded in, a row-like C as
// bias, any other C added after); MatMul of rank > 2 runs on the flattened rows.
import { numElements } from '../../../ir/graph.ts';
import type { QuantParams } from '../../../ir/graph.ts';
import type { OnnxNode } from '../decode.ts';
import { permuteData } from '../shapes.ts';
import type { ActValue, Importer, Value } from '../importer.ts';
import { binary } from './elementwise.ts';

function gemmLike(
  c: Importer,
  n: OnnxNode,
  a: ActValue,
  weights: Float64Array,
  outF: number,
  inF: number,
  bias: Float64Array | undefined,
  out: string,
  wq?: QuantParams,
  bq?: QuantParams,
): void {
  const w = c.constIR(weights, [outF, inF], `${n.inputs[1]}__dense`, wq);
  const inputs = [c.toPlain(a), w];
  if (bias) inputs.push(c.constIR(bias, [outF], `${n.inputs[2] || n.name}__bias`, bq));
  const ir = c.produce(out, [a.shape[0], outF], 'plain');
  c.addNode('Dense', inputs, [ir], {}, n.name);
}

export function gemm(c: Importer, n: OnnxNode): void {
  let a = c.act(0);
  if (a.shape.length !== 2) c.fail('inputs[0]', `expected 2-D A, found shape [${a.shape}]`);
  if (c.int('transA', 0)) {
    const t = c.fresh(`${n.name}/At`);
    c.addAct(t, [a.shape[1], a.shape[0]]);
    c.addNode('Transpose', [c.toPlain(a)], [t], { perm: [1, 0] });
    a = { kind: 'act', ir: t, shape: [a.shape[1], a.shape[0]], layout: 'plain' };
  }
  const b = c.constInput(1, 'B');
  c.checkFloat(b, 1);
  const alpha = c.float('alpha', 1);
  const beta = c.float('beta', 1);
  const transB = c.int('transB', 0) === 1;
  if (b.dims.length !== 2) c.fail('inputs[1]', `expected 2-D B, found [${b.dims}]`);
  const [k, nOut] = transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (k !== a.shape[1])
    c.fail('inputs[1]', `expected B with K=${a.shape[1]}, found dims [${b.dims}]${transB ? ' (transB)' : ''}`);
  const wt = transB ? Float64Array.from(b.values) : permuteData(b.values, b.dims, [1, 0]);
  for (let i = 0; i < wt.length; i++) wt[i] *= alpha;
  const cv = n.inputs[2] ? c.input(2) : undefined;
  let bias: Float64Array | undefined;
  let extra: Value | undefined;
  if (cv?.kind === 'const') {
    c.checkFloat(cv.t, 2);
    const cnt = numElements(cv.t.dims);
    const rowLike = cv.t.dims.length <= 1 || cv.t.dims.slice(0, -1).every((d) => d === 1);
    if (cnt === 1) bias = new Float64Array(nOut).fill(cv.t.values[0] * beta);
    else if (rowLike && cnt === nOut) bias = cv.t.values.map((v) => v * beta);
    else extra = cv;
  } else if (cv) extra = cv;
  // B [K,N] quantised per column (axis 1) becomes per row of the [N,K] Dense weights (axis 0).
  const wq = c.quantOf(1, (ax) => (transB ? ax : 1 - ax), alpha);
  const bq = bias && cv?.kind === 'const' && numElements(cv.t.dims) === nOut ? c.quantOf(2, () => 0, beta) : undefined;
  if (!extra) {
    gemmLike(c, n, a, wt, nOut, k, bias, n.outputs[0], wq, bq);
    return;
  }
  // C that varies over rows (or is computed) is added after the product.
  const mid = c.fresh(`${n.outputs[0]}__ab`);
  gemmLike(c, n, a, wt, nOut, k, undefined, mid, wq);
  let cv2: Value = extra;
  if (beta !== 1) {
    if (extra.kind !== 'const') c.fail(`attr 'beta'`, 'expected 1 when C is computed, found another value');
    cv2 = { kind: 'const', t: { ...extra.t, values: extra.t.values.map((v) => v * beta) } };
  }
  binary(c, 'Add', c.values.get(mid)!, cv2, [mid, `${n.inputs[2]}__beta`], n.outputs[0], `${n.name}/addC`);
}

export function matmul(c: Importer, n: OnnxNode): void {
  const a = c.act(0);
  const bv = c.input(1)!;
  if (bv.kind !== 'const')
    c.fail(
      'inputs[1]',
      `expected B as a constant (MatMul of two computed tensors is not supported), found '${n.inputs[1]}'`,
    );
  const b = bv.t;
  c.checkFloat(b, 1);
  if (b.dims.length !== 2) c.fail('inputs[1]', `expected 2-D constant B [K,N], found dims [${b.dims}]`);
  const [k, nOut] = b.dims;
  const ka = a.shape[a.shape.length - 1];
  if (ka !== k) c.fail('inputs[1]', `expected B with K=${ka}, found dims [${b.dims}]`);
  const wt = permuteData(b.values, b.dims, [1, 0]);
  const wq = c.quantOf(1, (ax) => 1 - ax);
  if (a.shape.length === 2) {
    gemmLike(c, n, a, wt, nOut, k, undefined, n.outputs[0], wq);
    return;
  }
  const rows = numElements(a.shape) / k;
  const flat = c.fresh(`${n.name}/rows`);
  c.reshapeTo(a, [rows, k], flat);
  const flatV = c.values.get(flat) as ActValue;
  const mid = c.fresh(`${n.outputs[0]}__2d`);
  gemmLike(c, n, flatV, wt, nOut, k, undefined, mid, wq);
  const midV = c.values.get(mid) as ActValue;
  c.reshapeTo(midV, [...a.shape.slice(0, -1), nOut], n.outputs[0]);
}
