// Data-parallel training in browsers (dist/browser/train-parallel.js): the shard trainer of
// runtime/train-shards.ts with module Web Workers (dist/browser/train-worker.js beside this file), default
// one per logical core (navigator.hardwareConcurrency). Same bytes as Node and as one thread.
import { compileWasm, pickBuild, type Build } from './browser.ts';
import {
  createShardTrainer,
  type ParallelTrainer,
  type ShardedBundles,
  type WorkerPort,
  type FromWorker,
} from './train-shards.ts';

export type { ParallelTrainer, ShardedBundles, ShardPlan, StepFeed } from './train-shards.ts';
// the Trainer (dist/browser/edgec.js) steps through a ParallelTrainer with this runner
export { parallelStepRunner } from './train-shards.ts';

export interface BrowserParallelOptions {
  /** Workers computing shard gradients (default navigator.hardwareConcurrency; capped at the shard count). */
  threads?: number;
  build?: 'auto' | Build;
  /** Folder URL holding edgec-simd.wasm / edgec-scalar.wasm; default: next to this script. */
  wasmBase?: string | URL;
  /** The worker script; default train-worker.js next to this script. */
  workerUrl?: string | URL;
  reference?: boolean;
}

export async function trainParallel(
  bundles: ShardedBundles,
  opts: BrowserParallelOptions = {},
): Promise<ParallelTrainer> {
  const build = pickBuild(opts.build ?? 'auto');
  const wasm = await compileWasm(
    new URL(`edgec-${build}.wasm`, new URL(String(opts.wasmBase ?? './'), import.meta.url)).href,
  );
  const workerUrl = new URL(String(opts.workerUrl ?? './train-worker.js'), import.meta.url);
  const spawn = (): WorkerPort => {
    const w = new Worker(workerUrl, { type: 'module' });
    return {
      post: (msg, transfer) => w.postMessage(msg, transfer ?? []),
      onMessage: (f) => {
        w.onmessage = (e: MessageEvent<FromWorker>) => f(e.data);
      },
      onError: (f) => {
        w.onerror = (e: ErrorEvent) => f(new Error(e.message || `worker ${workerUrl.href} failed to start`));
      },
      busy: () => {},
      terminate: async () => w.terminate(),
    };
  };
  return createShardTrainer(bundles, {
    wasm,
    threads: opts.threads ?? (navigator.hardwareConcurrency || 1),
    reference: opts.reference,
    spawn,
  });
}
