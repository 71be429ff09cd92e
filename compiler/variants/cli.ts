// `edgec compile … --variants fp32,int8`: compiles each listed variant of the model (fp32 = the float
// pipeline, int8 = the --quantize int8 path with its calibration flags) and merges them into one
// bundle sharing constants (merge.ts). The first listed variant is the default one.
import type { Graph } from '../ir/graph.ts';
import { compileGraph, type CompileOptions, type CompileResult } from '../compile.ts';
import { compileWithQuantizeFlags, type parseQuantizeFlags } from '../quantize/cli.ts';
import { UsageError } from '../cli/errors.ts';
import { mergeVariants, type MergeStats } from './merge.ts';

export const VARIANT_KINDS = ['fp32', 'int8'] as const;
export type VariantKind = (typeof VARIANT_KINDS)[number];

export const VARIANTS_HELP = `  --variants LIST         several variants in one bundle, e.g. fp32,int8 (int8 takes the --quantize
                          int8 flags); constants are shared; the first is the default; switch at run
                          time with load(bundle, { variant }) or model.useVariant(name)`;

export function parseVariants(text: string): VariantKind[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length < 2)
    throw new UsageError(`--variants expects at least two of ${VARIANT_KINDS.join(', ')}, got '${text}'`, 'compile');
  for (const v of list) {
    if (!(VARIANT_KINDS as readonly string[]).includes(v)) {
      throw new UsageError(`--variants: unknown variant '${v}' (known: ${VARIANT_KINDS.join(', ')})`, 'compile');
    }
  }
  if (new Set(list).size !== list.length)
    throw new UsageError(`--variants lists a variant twice: '${text}'`, 'compile');
  return list as VariantKind[];
}

type QuantizeFlags = NonNullable<ReturnType<typeof parseQuantizeFlags>>;

/** Compiles every variant and merges them; `report` is the int8 variant's quantisation report. */
export async function compileVariants(
  kinds: VariantKind[],
  graph: Graph,
  quantize: QuantizeFlags | undefined,
  opts: CompileOptions,
): Promise<CompileResult & { report?: unknown; stats: MergeStats }> {
  if (kinds.includes('int8') && quantize === undefined) {
    throw new UsageError('--variants with int8 needs --quantize int8 (and its --calibration flags)', 'compile');
  }
  const parts: { name: string; bundle: Uint8Array }[] = [];
  let report: unknown;
  let first: CompileResult | undefined;
  for (const kind of kinds) {
    const r = kind === 'int8' ? await compileWithQuantizeFlags(graph, quantize!, opts) : compileGraph(graph, opts);
    if (kind === 'int8') report = (r as { report?: unknown }).report;
    first ??= r;
    parts.push({ name: kind, bundle: r.bundle });
  }
  const { bundle, stats } = mergeVariants(parts);
  return { ...first!, bundle, stats, ...(report !== undefined ? { report } : {}) };
}
