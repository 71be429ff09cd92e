// Data-parallel training on Node (`import { trainParallel } from 'edgec/train-parallel'`): the shard
// trainer of runtime/train-shards.ts with worker_threads as its workers, default one per core
// (os.availableParallelism()). Weights are byte-identical for every thread count (docs/training.md "Threads").
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { simdSupported } from './index.ts';
import { wasmModule, type Build } from './node.ts';
import {
  createShardTrainer,
  type ParallelTrainer,
  type ShardedBundles,
  type WorkerPort,
  type FromWorker,
} from './train-shards.ts';

export type { ParallelTrainer, ShardedBundles, ShardPlan, StepFeed } from './train-shards.ts';
export { parallelStepRunner } from './train-shards.ts';

export interface ParallelOptions {
  /** Threads computing shard gradients (default: every core; capped at the plan's shard count). */
  threads?: number;
  build?: 'auto' | Build;
  reference?: boolean;
}

/**
 * The worker script: beside this file as .ts (source tree, run with tsx) or .js (dist/runtime/); from the
 * CLI (dist/cli.js) it is ./runtime/train-worker.js, from a dist/chunks/ bundle ../runtime/train-worker.js.
 */
function workerUrl(): URL {
  const ts = import.meta.url.endsWith('.ts');
  for (const rel of ts
    ? ['./train-worker.ts']
    : ['./train-worker.js', './runtime/train-worker.js', '../runtime/train-worker.js']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  throw new Error(
    `edgec runtime: train-worker.js not found beside ${fileURLToPath(import.meta.url)}; run 'npm run build'`,
  );
}

function spawn(): WorkerPort {
  const url = workerUrl();
  // Node 20 workers do not take tsx's loader from --import: the source tree's .ts worker registers it first
  const w = url.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
        .then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true },
      )
    : new Worker(url);
  w.unref();
  return {
    post: (msg, transfer) => w.postMessage(msg, transfer),
    onMessage: (f) => w.on('message', (m: FromWorker) => f(m)),
    onError: (f) => {
      w.on('error', f);
      w.on('exit', (code) => f(new Error(`exited with code ${code}`)));
    },
    busy: (on) => (on ? w.ref() : w.unref()),
    terminate: async () => {
      w.removeAllListeners('exit');
      await w.terminate();
    },
  };
}

export function trainParallel(bundles: ShardedBundles, opts: ParallelOptions = {}): Promise<ParallelTrainer> {
  const want = opts.build ?? 'auto';
  const build: Build = want === 'auto' ? (simdSupported() ? 'simd' : 'scalar') : want;
  return createShardTrainer(bundles, {
    wasm: wasmModule(build),
    threads: opts.threads ?? availableParallelism(),
    reference: opts.reference,
    spawn,
  });
}
