// int8 for block models: each piece (trunk segment, gate, branch, exit head) is quantised on its own
// by compiler/quantize with calibration samples of ITS input — the float activations the pieces
// before it produce on the model's calibration samples (every branch sees every sample). Pieces
// keep float boundaries, so Dispatch / Exit read float scores and logits as in a float plan.
import { ModelError, type Graph } from '../ir/graph.ts';
import type { BlockModel } from '../ir/blocks.ts';
import { argmaxLowest } from '../ir/blocks.ts';
import { quantize, type CalibrationMethod, type QuantizeReport } from '../quantize/index.ts';
import { floatRunner } from '../quantize/calibrate.ts';
import { compileBlockModel, type BlockCompileOptions, type BlockCompileResult } from './branches.ts';

export interface BlockQuantizeOptions {
  /** Calibration samples of the model's (single) input, one Float32Array each. */
  samples: Float32Array[];
  method?: CalibrationMethod;
  dumpAfter?: string;
  onDump?: (pass: string, text: string) => void;
}

/** The int8 graph of every piece, keyed by the piece's float graph. */
export async function quantizeBlockModel(
  bm: BlockModel,
  q: BlockQuantizeOptions,
): Promise<{ prepared: Map<Graph, Graph>; reports: Record<string, QuantizeReport> }> {
  if (bm.inputs.length !== 1)
    throw new ModelError(
      bm.source,
      '--quantize int8',
      `calibration supports one model input, found ${bm.inputs.length}`,
    );
  const values = new Map<string, Float32Array[]>([[bm.inputs[0]!, q.samples]]);
  const prepared = new Map<Graph, Graph>();
  const reports: Record<string, QuantizeReport> = {};
  /** Quantises piece g and returns its float outputs per sample. */
  const piece = async (g: Graph, label: string): Promise<Map<string, Float32Array[]>> => {
    if (g.inputs.length !== 1) {
      throw new ModelError(
        bm.source,
        `${label}`,
        `int8 needs each piece to read one activation, this one reads ${g.inputs.length} (${g.inputs.join(', ')})`,
      );
    }
    const input = g.inputs[0]!;
    const data = values.get(input)!;
    const r = await quantize(g, {
      samples: { input, data },
      method: q.method ?? 'minmax',
      dumpAfter: q.dumpAfter,
      onDump: q.onDump,
    });
    prepared.set(g, r.graph);
    reports[label] = r.report;
    const run = await floatRunner(g, g.outputs);
    const outs = new Map<string, Float32Array[]>(g.outputs.map((o) => [o, []]));
    for (const x of data) {
      const m = run(x);
      for (const o of g.outputs) outs.get(o)!.push(m.get(o)!);
    }
    return outs;
  };
  for (const p of bm.pieces) {
    if (p.kind === 'graph') {
      for (const [k, v] of await piece(p.graph, p.graph.name)) values.set(k, v);
    } else if (p.kind === 'exit') {
      await piece(p.head, `${p.name}/head`);
    } else {
      const scores = (await piece(p.gate, `${p.name}/gate`)).get(p.gate.outputs[0]!)!;
      const outs: Float32Array[][] = [];
      for (const [i, b] of p.branches.entries())
        outs.push((await piece(b, `${p.name}/branch${i}`)).get(b.outputs[0]!)!);
      values.set(
        p.output,
        scores.map((s, n) => outs[argmaxLowest(s)]![n]!),
      );
    }
  }
  return { prepared, reports };
}

export async function compileBlockModelInt8(
  bm: BlockModel,
  q: BlockQuantizeOptions,
  opts: BlockCompileOptions = {},
): Promise<BlockCompileResult & { reports: Record<string, QuantizeReport> }> {
  const { prepared, reports } = await quantizeBlockModel(bm, q);
  return { ...compileBlockModel(bm, { ...opts, prepared }), reports };
}
