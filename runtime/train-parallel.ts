// Data-parallel training on Node (`import { trainParallel } from 'edgec/train-parallel'`): the shard
// trainer of runtime/train-shards.ts with worker_threads as its workers, default one per core
// (os.availableParallelism()). Weights are byte-identical for every thread count (docs/training.md "Threads").
import { availableParallelism } from 'node:os';
import { simdSupported } from './index.ts';
import { wasmModule, type Build } from './node.ts';
import { startWorker } from './node-worker.ts';
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

function spawn(): WorkerPort {
  const w = startWorker('train-worker');
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
