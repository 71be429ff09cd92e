// Regenerates docs/onnx-support.md: runs ONNX's node tests (Debian libonnx-testdata) for every op
// the importer maps, through import → IR reference → compile → runtime simd + scalar, and writes the
// per-op table (opsets, passed/failed/skipped with why). Run: node --import tsx scripts/onnx-conformance.ts
import { existsSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ATOL,
  MODEL_SUITES,
  NODE_TEST_DIR,
  RTOL,
  TESTDATA_DIR,
  listNodeTests,
  relevantTests,
  runNodeTest,
  runtimeRunners,
} from './onnx-conformance-core.ts';
import type { CaseResult } from './onnx-conformance-core.ts';
import { SUPPORTED_OPS } from '../compiler/frontend/onnx/importer.ts';
import { FOLDABLE_OPS } from '../compiler/frontend/onnx/fold.ts';

/** What the importer maps each op to, and the variants it refuses (shown in the table). */
const MAPPING: Record<string, string> = {
  Conv: 'Conv2D (W → OHWI); group/depthwise, pads, strides, dilations, auto_pad; 1-D as 1×k 2-D',
  Gemm: 'Dense (transA via Transpose; transB, alpha, beta folded; row-varying C → Add); constant B',
  MatMul: 'Dense with constant 2-D B; A of any rank ≥ 1 (reshaped to rows)',
  Add: 'Add (numpy broadcasting; constants follow the layout)',
  Sub: 'Sub',
  Mul: 'Mul',
  Div: 'Div',
  Max: 'Max (variadic → pairwise)',
  Min: 'Min (variadic → pairwise)',
  Relu: 'Relu',
  Clip: 'Clip (attrs < opset 11, constant inputs ≥ 11)',
  LeakyRelu: 'LeakyRelu',
  PRelu: 'PRelu',
  Sigmoid: 'Sigmoid',
  Tanh: 'Tanh',
  Exp: 'Exp',
  Neg: 'Mul by −1',
  MaxPool: 'MaxPool (ceil_mode via end padding); 1-D/2-D, no dilations, no Indices output',
  AveragePool: 'AvgPool (count_include_pad); 1-D/2-D',
  HardSigmoid: 'Clip(alpha·x + beta, 0, 1) as Mul, Add, Clip',
  HardSwish: 'x · HardSigmoid(x) (alpha 1/6, beta 1/2)',
  Sum: 'Add chain',
  Mean: 'Add chain · 1/N',
  Reciprocal: 'Div(1, x)',
  Split: 'one static Slice per output',
  Cast: 'computed float → float: no node (other casts only on constants, folded)',
  ReduceMean: 'GlobalAvgPool when axes are [2, 3] of 4-D data (+ Reshape if keepdims = 0)',
  GlobalAveragePool: 'GlobalAvgPool',
  GlobalMaxPool: 'MaxPool over the whole H×W',
  BatchNormalization: 'BatchNorm on the channel axis (inference only); 2-D, 3-D, 4-D input',
  Flatten: 'Reshape in NCHW element order',
  Reshape: 'Reshape (0 / −1 resolved; constant shape)',
  Squeeze: 'Reshape (axes attr < 13, constant input ≥ 13)',
  Unsqueeze: 'Reshape (axes attr < 13, constant input ≥ 13)',
  Transpose: 'Transpose composed with the layout (identity → no node)',
  Concat: 'Concat (axis remapped on NHWC data)',
  Softmax: 'Softmax (opset < 13 coerce-to-2-D via Reshape; ≥ 13 one axis)',
  Pad: 'Pad constant mode (attrs < 11, constant inputs ≥ 11, axes ≥ 18)',
  Slice: 'Slice, static (attrs < 10, constant inputs ≥ 10)',
  Identity: 'no node (alias)',
  Dropout: 'no node (inference)',
  Constant: 'constant',
  QuantizeLinear: 'Clip to [(qmin − zp)·s, (qmax − zp)·s]; output tensor records scale / zero point (per-tensor)',
  QLinearConv: 'Q(Conv2D(x, dequantised W, int32 B · s_x·s_w)) — float inside, exact params recorded',
  QLinearMatMul: 'Q(Dense(a, dequantised B)) — float inside, exact params recorded',
  DequantizeLinear:
    'constant: folded to float32 (q − zp)·s with exact quant params (per-tensor or per-axis); activation: alias',
};

function summarize(rows: CaseResult[]): string {
  const reasons = new Map<string, string[]>();
  for (const r of rows.filter((x) => x.status !== 'passed')) {
    const key = `${r.status}: ${r.reason}`;
    reasons.set(key, [...(reasons.get(key) ?? []), r.test.replace(/^test_/, '')]);
  }
  return [...reasons]
    .map(([why, tests]) => `${why} (${tests.join(', ')})`)
    .join('<br>')
    .replace(/\|/g, '\\|');
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (!existsSync(NODE_TEST_DIR)) {
    console.error(`${NODE_TEST_DIR} not found: apt-get install libonnx-testdata`);
    process.exit(1);
  }
  const runners = await runtimeRunners();
  const results: CaseResult[] = [];
  for (const name of relevantTests()) results.push(await runNodeTest(NODE_TEST_DIR, name, runners));
  const byOp = new Map<string, CaseResult[]>();
  for (const r of results) byOp.set(r.op, [...(byOp.get(r.op) ?? []), r]);
  const count = (rows: CaseResult[], s: string) => rows.filter((r) => r.status === s).length;
  const lines: string[] = [];
  for (const op of SUPPORTED_OPS) {
    if (op === 'Constant') continue;
    const rows = byOp.get(op) ?? [];
    const opsets = [...new Set(rows.map((r) => r.opset))].sort((a, b) => a - b);
    const bound = rows.filter((r) => r.status === 'passed' && r.reason).length;
    lines.push(
      `| ${op} | ${MAPPING[op] ?? ''} | ${opsets.join(', ') || '—'} | ${count(rows, 'passed')}${bound ? ` (${bound} with weights bound as constants)` : ''} | ${count(rows, 'failed')} | ${count(rows, 'skipped')} | ${summarize(rows) || '—'} |`,
    );
  }
  const total = (s: string) => count(results, s);
  const suiteLines: string[] = [];
  const suiteResults: CaseResult[] = [];
  for (const suite of MODEL_SUITES) {
    const rows: CaseResult[] = [];
    for (const name of listNodeTests(`${TESTDATA_DIR}/${suite}`))
      rows.push(await runNodeTest(`${TESTDATA_DIR}/${suite}`, name, runners));
    suiteResults.push(...rows);
    const passedNames = rows
      .filter((r) => r.status === 'passed')
      .map((r) => r.test.replace(/^test_/, ''))
      .join(', ');
    suiteLines.push(
      `| ${suite} | ${count(rows, 'passed')} | ${count(rows, 'failed')} | ${count(rows, 'skipped')} | ${passedNames || '—'} | ${summarize(rows) || '—'} |`,
    );
  }
  const doc = `# ONNX support

<!-- Generated by scripts/onnx-conformance.ts from ONNX's node tests; do not edit by hand. -->

\`edgec compile model.onnx\` (and \`edgec import model.onnx -o model.json\`) reads ONNX models of opsets
1–21 of the default domain (checked against models of opsets 7–17), decoded with protobufjs from ONNX's
own \`onnx.proto\` (compiler/frontend/onnx). Inputs and outputs keep their ONNX shapes and layout (NCHW):
feed the same tensors as to ONNX Runtime. Inside, activations are NHWC; the importer inserts Transpose
nodes only where a layout-sensitive op (Conv, pools, BatchNorm) meets data in the other order, composes
ONNX Transposes with the layout, and lets Flatten/Reshape/Squeeze read NCHW element order (without a
copy when only size-1 dims move).

- **Constants**: initializers, \`Constant\` nodes, graph inputs that are also initializers. Nodes whose
  inputs are all constant are folded at import: ${FOLDABLE_OPS.filter((o) => o !== 'Constant').join(', ')}
  (so exporters' Shape → Gather → Unsqueeze → Concat → Reshape chains become static).
- **Shapes** are static. A symbolic batch dim (dim 0) becomes 1; any other symbolic dim is refused with
  the input's name and the fix, e.g. \`--shape input=1x3x224x224\`.
- **Types**: float32 graph inputs and outputs; float16/double constants are converted to float32.
- **Errors**: a model with unsupported ops is refused with one message listing every unsupported op
  type with its count and first node names; an unsupported variant of a supported op names the node,
  the field, what was expected and what was found; a file that is not a ModelProto names the file.
- **QDQ int8 models** (QuantizeLinear/DequantizeLinear, as onnxruntime's quantiser writes them) import
  as float graphs that carry every scale and zero point exactly as \`Tensor.quant\` (weights and bias:
  per-channel on Dense/Conv2D output axis 0; activations: per-tensor). Quantised weights become float32
  (q − zp)·s; each QuantizeLinear of an activation becomes a Clip to the range its integer type can
  represent (that is how such models carry ReLU/ReLU6). Until the int8 path runs them on integer
  kernels, the float result tracks onnxruntime's int8 output within quantisation noise (bench
  cnn_small/mlp/mobilenet_v2 QDQ: max abs 0.011–0.028, same top-1).
- **QOperator int8 ops**: QLinearConv, QLinearMatMul and onnxruntime's com.microsoft QLinearAdd and QGemm
  import the same way (the float op between dequantised weights and a range Clip, params recorded);
  tested against onnxruntime on grid-exact inputs within one output step.
- Not yet: other QLinear* ops (QLinearConcat, QLinearGlobalAveragePool, …), int8 graph inputs, MatMul of two
  computed tensors, 3-D convolution and pooling, general reductions, non-constant pads, Pad edge/reflect modes.

## Conformance

ONNX's per-operator node tests from Debian's \`libonnx-testdata\` (ONNX 1.12, opsets up to 17), every test
of every op below: each is imported, evaluated by the IR reference evaluator, compiled, and run on the
runtime's simd and scalar builds; every output must satisfy |got − want| ≤ ${ATOL} + ${RTOL}·|want| (ONNX's
own tolerance) on all three. Integer inputs (shapes, axes, pads) and weights that the tests feed as graph
inputs are bound as constants with the test's values, since edgec compiles static graphs ("weights bound
as constants"). Run it with \`node --import tsx node_modules/uvu/bin.js test/compiler/frontend/onnx conformance\`;
regenerate this page with \`node --import tsx scripts/onnx-conformance.ts\`.

Total: **${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped** of ${results.length} node tests.

| op | maps to | test opsets | passed | failed | skipped | why (tests) |
|---|---|---|---|---|---|---|
${lines.join('\n')}

### Exported model suites

The same package's PyTorch-exported model tests (weights as initializers, opsets 6–12), all of them,
same pipeline and tolerance: **${count(suiteResults, 'passed')} passed, ${count(suiteResults, 'failed')} failed,
${count(suiteResults, 'skipped')} skipped** of ${suiteResults.length}.

| suite | passed | failed | skipped | passed tests | why not (tests) |
|---|---|---|---|---|---|
${suiteLines.join('\n')}
`;
  writeFileSync(join(root, 'docs', 'onnx-support.md'), doc);
  console.log(
    `docs/onnx-support.md: node tests ${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped; model suites ${count(suiteResults, 'passed')} passed, ${count(suiteResults, 'failed')} failed, ${count(suiteResults, 'skipped')} skipped`,
  );
}

await main();
