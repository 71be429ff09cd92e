// CLI side of branch blocks and early exits: compile a model.json with Branch / EarlyExit nodes
// (optionally pruning rarely taken branches on calibration data), `edgec profile` (how often each
// branch / exit is taken, executed MACs, accuracy, latency) and the block section of `edgec inspect`.
import { readFileSync } from 'node:fs';
import type { Graph } from '../ir/graph.ts';
import { hasBlocks, parseBlockModel, type BlockModel, type Piece } from '../ir/blocks.ts';
import { parseJsonText, readSidecar } from '../frontend/model-json/index.ts';
import { compileBlockModel, type BlockCompileOptions, type BlockCompileResult } from '../lower/branches.ts';
import { compileBlockModelInt8 } from '../lower/branches-int8.ts';
import type { CalibrationMethod } from '../quantize/index.ts';
import { cloneGraph } from '../compile.ts';
import { readSteps } from '../../runtime/branches.ts';
import { load, type Model, type TensorArray } from '../../runtime/node.ts';
import type { SampleRoute } from '../../runtime/index.ts';
import { loadNpy, type NpyArray } from '../io/npy.ts';
import { loadCalibration } from '../quantize/cli.ts';
import { parseCommand } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { toModelDtype } from './run.ts';

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);

/** The block model of a model.json with Branch / EarlyExit nodes; undefined for any other model. */
export function loadBlockModel(path: string): BlockModel | undefined {
  if (!path.toLowerCase().endsWith('.json')) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const json = parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, path) as Record<string, unknown>;
  if (!hasBlocks(json)) return undefined;
  const weights = typeof json.weights === 'string' && json.weights !== '' ? readSidecar(path, json.weights) : undefined;
  return parseBlockModel(json, weights, path);
}

/** Samples of a .npy for a batch-1 model input: [N, ...] or the bare sample shape. */
function samplesOf(arr: NpyArray, name: string, shape: number[], file: string): { n: number; data: Float32Array } {
  const per = shape.reduce((a, b) => a * b, 1);
  // as `edgec run` checks its input: float data only (uint8 images get the x / 255 hint), and finite
  const data = toModelDtype(arr, { name, shape, dtype: 'float32' }, file) as Float32Array;
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new CliError(file, `element ${bad}: expected finite float32 values, found ${data[bad]}`);
  if (data.length === 0 || data.length % per !== 0)
    throw new CliError(file, `${data.length} values are not a whole number of samples of shape [${shape}]`);
  return { n: data.length / per, data };
}

function labelsOf(path: string | undefined, n: number): number[] | undefined {
  if (path === undefined) return undefined;
  const a = loadNpy(path);
  const l = Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
  if (l.length !== n) throw new CliError(path, `${l.length} labels for ${n} samples`);
  return l;
}

export interface ProfileResult {
  samples: SampleRoute[];
  outputs: TensorArray;
  /** Mean wall time of one sample, milliseconds. */
  msPerSample: number;
  accuracy?: number;
}

/** Runs every sample through the bundle and collects routes, MACs, accuracy (labels) and latency. */
export async function profileBundle(
  bundle: Uint8Array,
  data: Float32Array,
  labels: number[] | undefined,
  build?: 'simd' | 'scalar',
): Promise<ProfileResult & { model: Model }> {
  const model = await load(bundle, build ? { build } : {});
  const input = model.info.inputs[0]!;
  const t0 = performance.now();
  const r = model.runDetailed({ [input.name]: data });
  const ms = (performance.now() - t0) / r.samples.length;
  const out = r.outputs[model.info.outputs[0]!.name]!;
  let accuracy: number | undefined;
  if (labels) {
    const cols = out.length / r.samples.length;
    let ok = 0;
    for (let i = 0; i < r.samples.length; i++) {
      let best = 0;
      for (let c = 1; c < cols; c++) if (out[i * cols + c]! > out[i * cols + best]!) best = c;
      if (best === labels[i]) ok++;
    }
    accuracy = ok / r.samples.length;
  }
  return { samples: r.samples, outputs: out, msPerSample: ms, ...(accuracy !== undefined ? { accuracy } : {}), model };
}

/** Static costs per block from the bundle: gate, each branch, exit heads, the MACs up to each exit. */
export function blockCosts(bytes: Uint8Array) {
  const st = readSteps(bytes);
  const sum = (from: number, to: number) => st.macs.slice(from, to).reduce((a, b) => a + b, 0);
  const prefixed = (p: string) => st.macs.reduce((a, m, i) => a + (st.node[i]!.startsWith(p) ? m : 0), 0);
  // the longest path: every step except, in each block, the branches cheaper than its dearest one
  const skipped = new Set<number>();
  const blocks = st.control.map((c) => {
    if (c.kind === 'branch') {
      const branchMacs = c.targets.slice(0, -1).map((t, i) => sum(t, c.targets[i + 1]!));
      const dear = branchMacs.indexOf(Math.max(...branchMacs));
      c.targets.slice(0, -1).forEach((t, i) => {
        if (i !== dear) for (let k = t; k < c.targets[i + 1]!; k++) skipped.add(k);
      });
      return { ...c, gateMacs: prefixed(`${c.name}/gate/`), branchMacs, headMacs: 0, macsToHere: 0 };
    }
    return { ...c, gateMacs: 0, branchMacs: [] as number[], headMacs: prefixed(`${c.name}/head/`), macsToHere: 0 };
  });
  for (const b of blocks)
    b.macsToHere = st.macs.slice(0, b.step + 1).reduce((a, m, k) => a + (skipped.has(k) ? 0 : m), 0);
  const fullMacs = st.macs.reduce((a, m, k) => a + (skipped.has(k) ? 0 : m), 0);
  return { blocks, fullMacs, totalMacs: sum(0, st.macs.length) };
}

/** The block section of `edgec inspect` ('' for a bundle without branches or exits). */
export function formatBlockReport(bytes: Uint8Array): string {
  const c = blockCosts(bytes);
  if (c.blocks.length === 0) return '';
  const lines = ['', 'branches and exits:'];
  for (const b of c.blocks) {
    if (b.kind === 'branch') {
      lines.push(
        `  branch '${b.name}' (step ${b.step}): gate ${fmtInt(b.gateMacs)} MACs; ` +
          b.branchMacs
            .map((m, i) => `branch ${i} ${fmtInt(m)} MACs (steps ${b.targets[i]}-${b.targets[i + 1]! - 1})`)
            .join(', ') +
          `; arena saved by sharing ${fmtInt(b.arenaSaved)} bytes`,
      );
    } else {
      lines.push(
        `  exit '${b.name}' (step ${b.step}): head ${fmtInt(b.headMacs)} MACs, ${fmtInt(b.macsToHere)} MACs to exit here`,
      );
    }
  }
  lines.push(`  full network (no exit, dearest branches): ${fmtInt(c.fullMacs)} MACs`);
  return lines.join('\n');
}

/** How often each branch / exit was taken, in lines. */
export function formatProfile(bytes: Uint8Array, p: ProfileResult): string[] {
  const c = blockCosts(bytes);
  const n = p.samples.length;
  const lines: string[] = [];
  for (const b of c.blocks) {
    if (b.kind === 'branch') {
      const counts = b.branchMacs.map((_, i) => p.samples.filter((s) => s.branches[b.name] === i).length);
      const reached = counts.reduce((a, x) => a + x, 0);
      lines.push(
        `branch '${b.name}' (gate ${fmtInt(b.gateMacs)} MACs, reached by ${reached} of ${n}): ` +
          counts.map((k, i) => `branch ${i} ${k} (${pct(k, reached)}, ${fmtInt(b.branchMacs[i]!)} MACs)`).join(', '),
      );
    } else {
      const reached = p.samples.filter((s) => s.exits[b.name] !== null && s.exits[b.name] !== undefined).length;
      const taken = p.samples.filter((s) => s.exits[b.name] === true).length;
      lines.push(
        `exit '${b.name}' (head ${fmtInt(b.headMacs)} MACs, ${fmtInt(b.macsToHere)} MACs to here): taken by ${taken} of ${reached} reaching it (${pct(taken, n)} of all)`,
      );
    }
  }
  const ran = p.samples.filter((s) => s.exitedAt === null).length;
  if (c.blocks.some((b) => b.kind === 'exit')) lines.push(`ran to the end: ${ran} of ${n} (${pct(ran, n)})`);
  const avg = p.samples.reduce((a, s) => a + s.macs, 0) / n;
  lines.push(
    `executed MACs per sample: ${fmtInt(avg)} average (full network ${fmtInt(c.fullMacs)}: ${pct(avg, c.fullMacs)})`,
  );
  if (p.accuracy !== undefined) lines.push(`accuracy: ${(100 * p.accuracy).toFixed(2)}% on ${n} labelled samples`);
  lines.push(`latency: ${p.msPerSample.toFixed(4)} ms per sample (mean of ${n}, including host copies)`);
  return lines;
}

export const PROFILE_HELP = `usage: edgec profile <bundle.edgec> --input <x.npy> [--labels <y.npy>] [--build simd|scalar]

Runs every sample of x.npy ([N, ...] for a batch-1 model) and reports how often each branch and
each early exit is taken, the MACs the executor actually ran (average and against the full
network), accuracy when labels are given (argmax of the first output) and the mean latency.

options:
  -i, --input FILE       input .npy (the model's first input)
  --labels FILE          integer class labels .npy, one per sample
  --build simd|scalar    runtime build (default: simd when supported)
  -h, --help             show this help`;

export async function profileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('profile', argv, {
    input: { type: 'string', short: 'i' },
    labels: { type: 'string' },
    build: { type: 'string' },
  });
  if (values.help) {
    console.log(PROFILE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one bundle file, got ${positionals.length}`, 'profile');
  if (!values.input) throw new UsageError('missing --input <x.npy>', 'profile');
  const build = values.build;
  if (build !== undefined && build !== 'simd' && build !== 'scalar')
    throw new UsageError(`--build must be simd or scalar, got '${build}'`, 'profile');
  const file = positionals[0]!;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    throw new CliError(file, 'no such file');
  }
  const probe = await load(bytes, build ? { build } : {});
  const { n, data } = samplesOf(
    loadNpy(values.input),
    probe.info.inputs[0]!.name,
    probe.info.inputs[0]!.shape,
    values.input,
  );
  const p = await profileBundle(bytes, data, labelsOf(values.labels, n), build as 'simd' | 'scalar' | undefined);
  console.log(`${file}: ${n} samples (build ${p.model.info.build})`);
  for (const l of formatProfile(bytes, p)) console.log(l);
  return 0;
}

/** Renames tensor `from` to `to` throughout a graph (a pruned block's one branch becomes trunk). */
function renameTensor(g: Graph, from: string, to: string): Graph {
  const c = cloneGraph(g);
  const sw = (s: string) => (s === from ? to : s);
  for (const n of c.nodes) {
    n.inputs = n.inputs.map(sw);
    n.outputs = n.outputs.map(sw);
  }
  c.outputs = c.outputs.map(sw);
  const t = c.tensors.get(from);
  if (t) {
    c.tensors.delete(from);
    c.tensors.set(to, { ...t, name: to });
  }
  return c;
}

/**
 * Drops the branches taken by fewer than `below` of the samples (share of the samples reaching the
 * block). One branch left: the block becomes plain trunk, gate gone. Several: the gate's scores are
 * sliced to the kept branches, so its argmax falls back to the best remaining one.
 */
export function pruneBranches(
  bm: BlockModel,
  counts: Record<string, number[]>,
  below: number,
): { model: BlockModel; dropped: Record<string, number[]> } {
  const dropped: Record<string, number[]> = {};
  const pieces: Piece[] = bm.pieces.map((p): Piece => {
    if (p.kind !== 'branch') return p;
    const c = counts[p.name] ?? p.branches.map(() => 0);
    const total = c.reduce((a, b) => a + b, 0);
    let keep = p.branches.map((_, i) => i).filter((i) => total > 0 && c[i]! / total >= below);
    if (keep.length === 0) keep = [c.indexOf(Math.max(...c))];
    dropped[p.name] = p.branches.map((_, i) => i).filter((i) => !keep.includes(i));
    if (keep.length === p.branches.length) return p;
    if (keep.length === 1) {
      const b = p.branches[keep[0]!]!;
      return { kind: 'graph', graph: renameTensor(b, b.outputs[0]!, p.output) };
    }
    const gate = cloneGraph(p.gate);
    const gout = gate.outputs[0]!;
    const shape = bm.shapes.get(gout)!.shape;
    const axis = shape.length - 1;
    const parts = keep.map((k) => {
      const name = `${gout}:branch${k}`;
      gate.nodes.push({
        name: `${p.name}/gate/prune${k}`,
        op: 'Slice',
        inputs: [gout],
        outputs: [name],
        attrs: { starts: [k], ends: [k + 1], axes: [axis] },
      });
      gate.tensors.set(name, { name, dtype: 'float32', shape: shape.map((d, i) => (i === axis ? 1 : d)) });
      return name;
    });
    const kept = `${gout}:kept`;
    gate.nodes.push({ name: `${p.name}/gate/prune`, op: 'Concat', inputs: parts, outputs: [kept], attrs: { axis } });
    gate.tensors.set(kept, {
      name: kept,
      dtype: 'float32',
      shape: shape.map((d, i) => (i === axis ? keep.length : d)),
    });
    gate.outputs = [kept];
    return { ...p, gate, branches: keep.map((k) => p.branches[k]!) };
  });
  return { model: { ...bm, pieces }, dropped };
}

export interface BlockCompileCli {
  options: BlockCompileOptions;
  pruneBelow?: number;
  calibration?: string;
  labels?: string;
  /** int8: every piece quantised on the activations the calibration samples give it. */
  quantize?: { method: CalibrationMethod };
}

/** `edgec compile` for a model with blocks: the bundle and the pruning report (compileModel writes it). */
export async function compileBlocks(
  bm: BlockModel,
  cli: BlockCompileCli,
): Promise<{ bundle: Uint8Array; notes: string[] }> {
  const cal =
    cli.calibration === undefined
      ? undefined
      : loadCalibration(cli.calibration, { inputs: bm.inputs, tensors: bm.shapes });
  if (cli.quantize && !cal)
    throw new UsageError('--quantize int8 needs --calibration <x.npy> for a model with blocks', 'compile');
  const { dumpAfter, onDump } = cli.options;
  const build = async (m: BlockModel): Promise<BlockCompileResult> =>
    cli.quantize
      ? compileBlockModelInt8(m, { samples: cal!.data, method: cli.quantize.method, dumpAfter, onDump }, cli.options)
      : compileBlockModel(m, cli.options);
  let result = await build(bm);
  const lines: string[] = [];
  if (cli.pruneBelow !== undefined) {
    if (!cal) throw new UsageError('--prune-branches-below needs --calibration <x.npy>', 'compile');
    const n = cal.data.length;
    const data = new Float32Array(n * (cal.data[0]?.length ?? 0));
    cal.data.forEach((x, i) => data.set(x, i * x.length));
    const labels = labelsOf(cli.labels, n);
    const before = await profileBundle(result.bundle, data, labels);
    const counts: Record<string, number[]> = {};
    for (const p of bm.pieces) {
      if (p.kind === 'branch')
        counts[p.name] = p.branches.map((_, i) => before.samples.filter((s) => s.branches[p.name] === i).length);
    }
    const { model, dropped } = pruneBranches(bm, counts, cli.pruneBelow);
    const pruned = await build(model);
    const after = await profileBundle(pruned.bundle, data, labels);
    const avg = (r: ProfileResult) => r.samples.reduce((a, s) => a + s.macs, 0) / r.samples.length;
    for (const [name, d] of Object.entries(dropped)) {
      lines.push(
        `prune '${name}': taken ${counts[name]!.join('/')} of ${n}; ${d.length === 0 ? 'no branch below' : `dropped branch${d.length > 1 ? 'es' : ''} ${d.join(', ')}`} (threshold ${cli.pruneBelow})`,
      );
    }
    lines.push(
      `prune: executed MACs per sample ${fmtInt(avg(before))} -> ${fmtInt(avg(after))} (${pct(avg(after) - avg(before), avg(before))})` +
        (before.accuracy !== undefined
          ? `, accuracy ${(100 * before.accuracy).toFixed(2)}% -> ${(100 * after.accuracy!).toFixed(2)}% on ${n} labelled samples`
          : ''),
    );
    result = pruned;
  }
  return { bundle: result.bundle, notes: lines };
}
