// Runs ONNX's own per-operator node tests (Debian libonnx-testdata: model.onnx + test_data_set_*/
// input_N.pb, output_N.pb) for the ops edgec imports: import → IR reference evaluator → compile →
// runtime (simd and scalar), compared with ONNX's tolerance |got − want| ≤ 1e-5 + 1e-3·|want|.
// Shared by test/compiler/frontend/onnx/conformance.test.ts and scripts/onnx-conformance.ts.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from '../compiler/ir/graph.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { decodeModel, decodeTensorProto, ONNX_DTYPE } from '../compiler/frontend/onnx/decode.ts';
import type { OnnxModel, OnnxTensor } from '../compiler/frontend/onnx/decode.ts';
import { importOnnxModel, SUPPORTED_OPS } from '../compiler/frontend/onnx/importer.ts';
import { FOLDABLE_OPS } from '../compiler/frontend/onnx/fold.ts';
import { evaluate } from '../compiler/ir/reference.ts';

export const TESTDATA_DIR = '/usr/share/libonnx-testdata/data';
export const NODE_TEST_DIR = `${TESTDATA_DIR}/node`;
/** Whole small models exported by PyTorch (weights as initializers, opset 6–12): every test runs. */
export const MODEL_SUITES = ['pytorch-converted', 'pytorch-operator', 'simple'];
export const RTOL = 1e-3;
export const ATOL = 1e-5;

export type Status = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  test: string;
  op: string;
  opset: number;
  status: Status;
  /** Why skipped or failed; for passed, notes like 'weights bound as constants'. */
  reason: string;
}

/** Runs a compiled graph on one runtime build; absent when the runtime is not available. */
export type BuildRunner = (
  graph: Graph,
  inputs: Record<string, Float32Array>,
) => Promise<Record<string, ArrayLike<number>>>;

const OPS_BY_LENGTH = [...SUPPORTED_OPS].filter((o) => o !== 'Constant').sort((a, b) => b.length - a.length);

/** The op a node test is about: its single node's op, else the longest supported op its name starts with. */
export function testOp(name: string, model: OnnxModel): string | undefined {
  const nodes = model.graph.nodes;
  if (nodes.length === 1) return nodes[0].opType;
  const lower = name.toLowerCase();
  return OPS_BY_LENGTH.find((o) => lower === `test_${o.toLowerCase()}` || lower.startsWith(`test_${o.toLowerCase()}_`));
}

export function listNodeTests(dir = NODE_TEST_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, 'model.onnx')))
    .sort();
}

function close(got: ArrayLike<number>, want: ArrayLike<number>): string | undefined {
  if (got.length !== want.length) return `expected ${want.length} values, found ${got.length}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue; // also equal infinities
    if (!(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) return `element ${i}: expected ${w}, found ${g}`;
  }
  return undefined;
}

const SUPPORTED = new Set<string>([...SUPPORTED_OPS, ...FOLDABLE_OPS]);
const isFloat = (t: number) => t === ONNX_DTYPE.FLOAT;

/**
 * Runs one node test. Integer inputs (shapes, axes, pads …) and — when the importer needs them
 * constant — float weights are bound as constants with the test's values: edgec compiles static
 * graphs, so that is how such a model reaches it.
 */
export async function runNodeTest(
  dir: string,
  name: string,
  runners: Record<string, BuildRunner>,
): Promise<CaseResult> {
  const path = join(dir, name, 'model.onnx');
  const model = decodeModel(readFileSync(path), path);
  const op = testOp(name, model) ?? '?';
  const base = { test: name, op, opset: model.opset };
  const skip = (reason: string): CaseResult => ({ ...base, status: 'skipped', reason });
  const fail = (reason: string): CaseResult => ({ ...base, status: 'failed', reason });

  const unsupported = [
    ...new Set(
      model.graph.nodes
        .filter((n) => !SUPPORTED.has(n.opType) || (n.domain && n.domain !== 'ai.onnx'))
        .map((n) => n.opType),
    ),
  ];
  if (unsupported.length) return skip(`uses ops outside the supported set: ${unsupported.join(', ')}`);
  const graphInputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
  for (const o of model.graph.outputs) {
    if (!isFloat(o.elemType))
      return skip(
        `output '${o.name}' is ${o.elemType === ONNX_DTYPE.DOUBLE ? 'double' : 'not float32'} (int/bool/double types unsupported)`,
      );
  }
  if (graphInputs.length === 0) return skip('no graph input (constant-only graph)');
  if (!isFloat(graphInputs[0].elemType)) return skip('first input is not float32 (int/bool/double types unsupported)');

  const sets = readdirSync(join(dir, name))
    .filter((d) => d.startsWith('test_data_set_'))
    .sort();
  if (sets.length === 0) return skip('no test data');
  let note = '';
  for (const set of sets) {
    const sdir = join(dir, name, set);
    const inputs = graphInputs.map((vi, i) =>
      decodeTensorProto(readFileSync(join(sdir, `input_${i}.pb`)), join(sdir, `input_${i}.pb`)),
    );
    const wants = model.graph.outputs.map((_, i) =>
      decodeTensorProto(readFileSync(join(sdir, `output_${i}.pb`)), join(sdir, `output_${i}.pb`)),
    );
    if (inputs.some((t) => numelOf(t) === 0) || wants.some((t) => numelOf(t) === 0)) return skip('empty tensors');
    const shapes: Record<string, number[]> = {};
    const constants: Record<string, OnnxTensor> = {};
    const feeds: Record<string, Float32Array> = {};
    graphInputs.forEach((vi, i) => {
      if (isFloat(vi.elemType)) {
        shapes[vi.name] = inputs[i].dims.length ? inputs[i].dims : [1];
        feeds[vi.name] = Float32Array.from(inputs[i].values);
      } else constants[vi.name] = inputs[i];
    });
    let graph: Graph;
    try {
      try {
        graph = importOnnxModel(model, path, { shapes, constants });
      } catch (e) {
        if (!(e instanceof ModelError) || !/as a constant/.test(e.message)) throw e;
        // Weights fed as inputs: bind every input but the first with its test value.
        graphInputs.slice(1).forEach((vi, i) => {
          constants[vi.name] = inputs[i + 1];
          delete feeds[vi.name];
          delete shapes[vi.name];
        });
        graph = importOnnxModel(model, path, { shapes, constants });
        note = 'weights bound as constants';
      }
    } catch (e) {
      if (e instanceof ModelError) return skip(`import: ${e.detail}`);
      return fail(`import crashed: ${(e as Error).message}`);
    }
    if (Object.keys(feeds).length === 0) return skip('every input is a constant after binding');
    let ref: Record<string, Float64Array>;
    try {
      ref = evaluate(graph, feeds);
    } catch (e) {
      return fail(`reference evaluator: ${(e as Error).message}`);
    }
    for (let i = 0; i < wants.length; i++) {
      const outName = model.graph.outputs[i].name;
      const bad = close(ref[outName] ?? [], wants[i].values);
      if (bad) return fail(`${set} output '${outName}' (IR reference): ${bad}`);
    }
    for (const [build, run] of Object.entries(runners)) {
      let got: Record<string, ArrayLike<number>>;
      try {
        got = await run(graph, feeds);
      } catch (e) {
        return fail(`${build}: ${(e as Error).message.split('\n')[0]}`);
      }
      for (let i = 0; i < wants.length; i++) {
        const outName = model.graph.outputs[i].name;
        const bad = close(got[outName] ?? [], wants[i].values);
        if (bad) return fail(`${set} output '${outName}' (${build} build): ${bad}`);
      }
    }
  }
  return { ...base, status: 'passed', reason: note };
}

function numelOf(t: OnnxTensor): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** Node tests of the ops edgec maps (the table's rows), in name order. */
export function relevantTests(dir = NODE_TEST_DIR): string[] {
  const ops = new Set<string>(SUPPORTED_OPS);
  return listNodeTests(dir).filter((name) => {
    const path = join(dir, name, 'model.onnx');
    try {
      const op = testOp(name, decodeModel(readFileSync(path), path));
      return op !== undefined && ops.has(op) && op !== 'Constant';
    } catch {
      return false;
    }
  });
}

/** Runners for both runtime builds: compileGraph with that target, load, run. */
export async function runtimeRunners(): Promise<Record<string, BuildRunner>> {
  const { compileGraph } = await import('../compiler/compile.ts');
  const { load } = await import('../runtime/node.ts');
  const runners: Record<string, BuildRunner> = {};
  for (const build of ['simd', 'scalar'] as const) {
    runners[build] = async (graph, inputs) => {
      const { bundle } = compileGraph(graph, { target: build });
      const model = await load(bundle, { build });
      return model.run(inputs);
    };
  }
  return runners;
}
