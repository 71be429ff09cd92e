// The pass pipeline: infer-shapes once, then the canonicalize/fold/fuse/cancel/dead set repeated to
// a fixed point. verify() runs after every pass; onDump(pass, formatGraph) serves --dump-after.
import type { Graph } from '../ir/graph.ts';
import { ModelError } from '../ir/graph.ts';
import { formatGraph } from '../ir/format.ts';
import { verify } from '../ir/verify.ts';
import { canonicalize } from './canonicalize.ts';
import { inferShapes } from './infer-shapes.ts';
import { foldConstants } from './fold-constants.ts';
import { foldBatchnorm } from './fold-batchnorm.ts';
import { fuseBias } from './fuse-bias.ts';
import { fuseActivation } from './fuse-activation.ts';
import { fusePad } from './fuse-pad.ts';
import { cancelTransposes } from './cancel-transposes.ts';
import { eliminateDead } from './eliminate-dead.ts';
import type { Pass } from './util.ts';

export type { Pass };
export const PIPELINE: Pass[] = [
  // fuse-bias before fold-batchnorm: conv → Add(bias) → BatchNorm must reach the BN as conv → BN
  inferShapes,
  canonicalize,
  foldConstants,
  fuseBias,
  foldBatchnorm,
  fuseActivation,
  fusePad,
  cancelTransposes,
  eliminateDead,
];
export const PASS_NAMES: string[] = PIPELINE.map((p) => p.name);
const MAX_ROUNDS = 10;

export interface PipelineOptions {
  dumpAfter?: string;
  onDump?: (pass: string, text: string) => void;
  /** Passes left out (e.g. training a BatchNorm keeps it: ['fold-batchnorm']). */
  skip?: string[];
}

export function runPasses(g: Graph, opts: PipelineOptions = {}): Graph {
  if (opts.dumpAfter !== undefined && !PASS_NAMES.includes(opts.dumpAfter)) {
    throw new ModelError(g.source, 'dump-after', `unknown pass '${opts.dumpAfter}'; passes: ${PASS_NAMES.join(', ')}`);
  }
  const apply = (p: Pass, first: boolean): boolean => {
    const changed = p.run(g);
    verify(g, `after pass ${p.name}`);
    if (opts.dumpAfter === p.name && (first || changed)) opts.onDump?.(p.name, formatGraph(g));
    return changed;
  };
  apply(inferShapes, true);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = false;
    for (const p of PIPELINE.slice(1)) if (!opts.skip?.includes(p.name)) changed = apply(p, round === 0) || changed;
    if (!changed) break;
  }
  return g;
}
