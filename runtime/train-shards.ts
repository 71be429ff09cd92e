// Data-parallel training steps, host side, for any JS engine (no Node APIs; docs/training.md "Threads").
// A step cuts the batch into the plan's S shards, runs the shard-gradient bundle on each (N threads: this
// one and N − 1 workers, each holding its own instance and getting the current weights with every step), stacks the
// gradients as [S, ...] per weight in shard order and runs the update bundle once. The update bundle sums
// shards 0..S−1 in order inside the wasm, so the weights do not depend on who computed which shard. A plan with
// BatchNorm in training mode stacks each shard's statistics the same way for the update's BatchNormMerge.
import { load, BundleError, type Model, type TensorArray } from './index.ts';
import { missingTarget, type StepRunner, type TrainingSpec } from './train.ts';

/** Names inside the two bundles (compiler/train/shard.ts makes them). JSON-safe. */
export interface ShardPlan {
  batch: number;
  shards: number;
  /** Trained weights, in the order of every per-weight list below. */
  params: string[];
  gradient: {
    x: string;
    labels: string;
    loss: string;
    logits: string;
    grads: string[];
    /** More per-sample inputs (KD's hard labels, teacher features), fed in this order; absent: none. */
    targets?: string[];
    /** Weighted loss-term outputs (shard means), absent: none. */
    terms?: string[];
    /** BatchNorm in training mode: per BatchNorm the shard's mean and unbiased variance [C], in order. */
    stats?: string[];
  };
  /** `stats`: the update inputs [S, C] the shards' BatchNorm statistics are stacked into (gradient.stats order). */
  update: { grads: string[]; lr: string; step?: string; stats?: string[] };
}

/** Planned arena bytes and steps of one instance of each bundle (compiler/cli/train.ts prints them). */
export interface ShardArena {
  gradient: { arenaBytes: number; steps: number };
  update: { arenaBytes: number; steps: number };
}

export interface ShardedBundles {
  plan: ShardPlan;
  /** One shard: forward, loss, backward → loss, logits, gradients. */
  gradient: Uint8Array;
  /** Σ shards in order, ×1/S, clipping, optimiser; holds the weights and moments. */
  update: Uint8Array;
}

export interface StepFeed {
  /** The whole batch, B samples stacked. */
  x: Float32Array;
  /** Int32 class labels [B], or float32 targets / teacher logits (B rows), as the loss wants. */
  labels: TensorArray;
  /** plan.gradient.targets' values, B rows each, in that order. */
  targets?: TensorArray[];
  lr: number;
  /** Adam / AdamW: the 1-based step number. */
  step?: number;
}

export interface ParallelTrainer {
  readonly batch: number;
  readonly shards: number;
  readonly threads: number;
  /** One training step over the batch: the batch-mean loss and the logits (B rows, sample order). */
  step(feed: StepFeed): Promise<StepOut>;
  /** The update bundle's model: variables (weights, moments, running statistics) are read and written here. */
  readonly model: Model;
  /** Each bundle's arena (one gradient instance per thread). */
  readonly arena: ShardArena;
  /** Stops the workers (a trainer with threads > 1 keeps none running between steps otherwise idle). */
  close(): Promise<void>;
}

export interface StepOut {
  loss: number;
  logits: Float32Array;
  /** plan.gradient.terms' batch means, when the plan has terms. */
  terms?: number[];
}

/** Messages to a shard worker, and its replies. */
export type ToWorker =
  | { type: 'init'; bundle: Uint8Array; wasm: WebAssembly.Module; plan: ShardPlan; reference: boolean }
  | { type: 'step'; weights: Float32Array[]; jobs: ShardJob[] };
export type FromWorker =
  | { type: 'ready'; arenaBytes: number; steps: number }
  | { type: 'done'; results: ShardResult[] }
  | { type: 'error'; message: string };
export interface ShardJob {
  shard: number;
  x: Float32Array;
  labels: TensorArray;
  targets?: TensorArray[];
}
export interface ShardResult {
  shard: number;
  loss: number;
  logits: Float32Array;
  grads: Float32Array[];
  terms?: number[];
  /** BatchNorm statistics (plan.gradient.stats order). */
  stats: Float32Array[];
}

/** What a worker looks like from here (a Node Worker or a browser Worker behind a thin adapter). */
export interface WorkerPort {
  post(msg: ToWorker, transfer?: ArrayBuffer[]): void;
  onMessage(f: (msg: FromWorker) => void): void;
  onError(f: (e: Error) => void): void;
  /** Keep the host alive while a step waits on this worker (Node); no-op elsewhere. */
  busy(on: boolean): void;
  terminate(): Promise<void>;
}

export interface ShardTrainerOptions {
  wasm: WebAssembly.Module;
  /** Thread count, this thread included (threads − 1 workers); 1 runs every shard here. More than S is capped at S. */
  threads: number;
  reference?: boolean;
  /** Starts one worker running serveShards (needed when threads > 1). */
  spawn?: () => WorkerPort;
}

/** Runs one shard on a gradient model holding the given weights. */
function runShard(m: Model, plan: ShardPlan, job: ShardJob): ShardResult {
  const g = plan.gradient;
  const feed: Record<string, TensorArray> = { [g.x]: job.x, [g.labels]: job.labels };
  g.targets?.forEach((t, k) => (feed[t] = job.targets![k]!));
  const out = m.run(feed);
  const r: ShardResult = {
    shard: job.shard,
    loss: out[g.loss]![0]!,
    logits: out[g.logits] as Float32Array,
    grads: g.grads.map((n) => out[n] as Float32Array),
    stats: (g.stats ?? []).map((n) => out[n] as Float32Array),
  };
  if (g.terms?.length) r.terms = g.terms.map((t) => out[t]![0]!);
  return r;
}

function writeWeights(m: Model, plan: ShardPlan, weights: Float32Array[]): void {
  plan.params.forEach((p, k) => m.writeVariable(p, weights[k]!));
}

/** The worker side: answers 'init' and 'step' messages (runtime/train-worker.ts wires it to a port). */
export function serveShards(
  post: (msg: FromWorker, transfer?: ArrayBuffer[]) => void,
): (msg: ToWorker) => Promise<void> {
  let model: Model | undefined, plan: ShardPlan | undefined;
  return async (msg) => {
    try {
      if (msg.type === 'init') {
        model = await load(msg.bundle, { wasm: msg.wasm, reference: msg.reference });
        plan = msg.plan;
        post({ type: 'ready', arenaBytes: model.info.arenaBytes, steps: model.info.steps });
        return;
      }
      if (!model || !plan) throw new BundleError('shard worker: step before init');
      writeWeights(model, plan, msg.weights);
      const results = msg.jobs.map((j) => runShard(model!, plan!, j));
      post(
        { type: 'done', results },
        results.flatMap((r) => [r.logits, ...r.grads, ...r.stats].map((d) => d.buffer as ArrayBuffer)),
      );
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
    }
  };
}

/** Sends one message and waits for the reply, turning worker errors into a rejected promise. */
function request(w: WorkerPort, msg: ToWorker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    pending.set(w, { resolve, reject });
    w.busy(true);
    w.post(msg);
  });
}
const pending = new WeakMap<WorkerPort, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
function listen(w: WorkerPort): void {
  const settle = (f: (p: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }) => void) => {
    const p = pending.get(w);
    pending.delete(w);
    w.busy(false);
    if (p) f(p);
  };
  w.onMessage((m) => settle((p) => (m.type === 'error' ? p.reject(new BundleError(m.message)) : p.resolve(m))));
  w.onError((e) => settle((p) => p.reject(new BundleError(`shard worker failed: ${e.message}`))));
}

export async function createShardTrainer(bundles: ShardedBundles, opts: ShardTrainerOptions): Promise<ParallelTrainer> {
  const { plan } = bundles;
  const S = plan.shards,
    B = plan.batch,
    b = B / S;
  if (!Number.isInteger(b) || S < 1) throw new BundleError(`shard plan: batch ${B} is not ${S} equal shards`);
  if (!Number.isInteger(opts.threads) || opts.threads < 1)
    throw new BundleError(`threads must be a whole number ≥ 1, found ${opts.threads}`);
  const threads = Math.min(opts.threads, S);
  const reference = opts.reference ?? false;
  const update = await load(bundles.update, { wasm: opts.wasm, reference });
  const shapes = plan.params.map((p) => update.variables.find((v) => v.name === p)?.shape ?? []);
  const sizes = shapes.map((s) => s.reduce((a, d) => a * d, 1));
  const stacked = sizes.map((n) => new Float32Array(S * n));
  const statNames = plan.update.stats ?? [];
  const statSizes = statNames.map((n) => update.info.inputs.find((t) => t.name === n)!.shape[1]!);
  const statStacked = statSizes.map((n) => new Float32Array(S * n));

  // the main thread is thread 0 and runs its share of the shards while threads − 1 workers run theirs: one
  // worker (a V8 isolate with its own heap, ≈ 18 MB) fewer than threads, and no core idle waiting on them
  const local = await load(bundles.gradient, { wasm: opts.wasm, reference });
  const gradientArena = { arenaBytes: local.info.arenaBytes, steps: local.info.steps };
  const workers: WorkerPort[] = [];
  if (threads > 1) {
    if (!opts.spawn) throw new BundleError(`threads ${threads} needs a way to start workers (spawn)`);
    for (let i = 1; i < threads; i++) {
      const w = opts.spawn();
      listen(w);
      workers.push(w);
    }
    try {
      await Promise.all(
        workers.map((w) => request(w, { type: 'init', bundle: bundles.gradient, wasm: opts.wasm, plan, reference })),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  let running = false;
  async function step(feed: StepFeed): Promise<StepOut> {
    if (running) throw new BundleError('step: the previous step has not finished (await each step)');
    running = true;
    try {
      return await stepOnce(feed);
    } finally {
      running = false;
    }
  }
  async function stepOnce(feed: StepFeed): Promise<StepOut> {
    if (!(feed.x instanceof Float32Array) || feed.x.length % B !== 0) {
      throw new BundleError(`step: x must be a Float32Array of ${B} samples, found ${feed.x?.length} elements`);
    }
    if (feed.labels.length % B !== 0)
      throw new BundleError(`step: labels must hold ${B} rows, found ${feed.labels.length} elements`);
    const xs = feed.x.length / B,
      ls = feed.labels.length / B;
    const names = plan.gradient.targets ?? [];
    if ((feed.targets?.length ?? 0) !== names.length || feed.targets?.some((t) => t.length % B !== 0))
      throw new BundleError(`step: expected ${names.length} more targets (${names.join(', ')}) of ${B} rows each`);
    const cut = (a: TensorArray, s: number) => a.slice((s * b * a.length) / B, ((s + 1) * b * a.length) / B);
    const jobs: ShardJob[] = Array.from({ length: S }, (_, s) => ({
      shard: s,
      x: feed.x.slice(s * b * xs, (s + 1) * b * xs),
      labels: feed.labels.slice(s * b * ls, (s + 1) * b * ls),
      ...(names.length && { targets: feed.targets!.map((t) => cut(t, s)) }),
    }));
    const weights = plan.params.map((p) => update.readVariable(p) as Float32Array);
    // shard s on thread s mod threads (thread 0: here, thread i: worker i − 1), each thread's shards in order;
    // the workers' requests go out first so they compute while this thread runs its own
    writeWeights(local, plan, weights);
    const replies = workers.map((w, i) =>
      request(w, { type: 'step', weights, jobs: jobs.filter((j) => j.shard % threads === i + 1) }),
    );
    let results: ShardResult[];
    try {
      results = jobs.filter((j) => j.shard % threads === 0).map((j) => runShard(local, plan, j));
    } finally {
      // a failing local shard still waits for the workers, so no step is left running on them
      await Promise.allSettled(replies);
    }
    for (const r of await Promise.all(replies)) if (r.type === 'done') results.push(...r.results);
    results.sort((p, q) => p.shard - q.shard);
    if (results.length !== S) throw new BundleError(`step: ${results.length} of ${S} shards came back`);
    let loss = 0;
    const rows = results[0]!.logits.length;
    const logits = new Float32Array(S * rows);
    for (const r of results) {
      loss = Math.fround(loss + r.loss);
      logits.set(r.logits, r.shard * rows);
      r.grads.forEach((d, k) => stacked[k]!.set(d, r.shard * sizes[k]!));
      r.stats.forEach((d, k) => statStacked[k]!.set(d, r.shard * statSizes[k]!));
    }
    const u = plan.update;
    const inputs: Record<string, TensorArray> = { [u.lr]: Float32Array.of(feed.lr) };
    u.grads.forEach((name, k) => (inputs[name] = stacked[k]!));
    statNames.forEach((name, k) => (inputs[name] = statStacked[k]!));
    if (u.step) inputs[u.step] = Float32Array.of(feed.step ?? 1);
    update.run(inputs);
    const out: StepOut = { loss: Math.fround(loss * Math.fround(1 / S)), logits };
    // terms as the loss: shard means summed in shard order in float32, times 1/S
    if (plan.gradient.terms?.length)
      out.terms = plan.gradient.terms.map((_, k) =>
        Math.fround(results.reduce((a, r) => Math.fround(a + r.terms![k]!), 0) * Math.fround(1 / S)),
      );
    return out;
  }

  return {
    batch: B,
    shards: S,
    threads,
    step,
    model: update,
    arena: { gradient: gradientArena, update: { arenaBytes: update.info.arenaBytes, steps: update.info.steps } },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * A StepRunner (runtime/train.ts) over a ParallelTrainer: the Trainer's step loop on the sharded plan, in Node
 * (runtime/train-parallel.ts) and in browsers (runtime/train-browser.ts). `spec` names the full training graph's
 * weights and moments, which are the update bundle's variables (with any BatchNorm running statistics).
 */
export function parallelStepRunner(t: ParallelTrainer, spec: TrainingSpec): StepRunner {
  return {
    batch: t.batch,
    spec,
    step: (b, lr, k) =>
      t.step({
        x: b.x,
        labels: b.y,
        lr,
        step: k + 1,
        ...(spec.targets.length && { targets: spec.targets.map((n) => b.targets?.[n] ?? missingTarget(n)) }),
      }),
    readVariables: () => new Map(t.model.variables.map((v) => [v.name, t.model.readVariable(v.name) as Float32Array])),
    writeVariables(vars) {
      for (const [name, data] of vars) t.model.writeVariable(name, data);
    },
    reset: () => t.model.resetVariables(),
  };
}
