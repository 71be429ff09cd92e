// Node worker threads of the runtime (node.ts's threaded inference, train-parallel.ts's data-parallel training):
// finds the worker script wherever the build put it and starts it, under tsx in the source tree.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';

// node:worker_threads is loaded by the first worker, not by every importer of the runtime (`edgec run` on one
// thread never starts one; the module costs ~0.5 MiB of peak RSS)
const workerThreads = () =>
  createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');

/**
 * A worker thread running `name` (thread-worker: load(…, { threads }); train-worker: runtime/train-parallel.ts). The
 * script is beside this file as .ts (source tree, run with tsx) or .js (dist/runtime/); from the CLI (dist/cli.js)
 * it is ./runtime/<name>.js, from a dist/chunks/ bundle ../runtime/<name>.js. Started unref'd.
 */
export function startWorker(name: 'thread-worker' | 'train-worker'): Worker {
  const ts = import.meta.url.endsWith('.ts');
  const url = (ts ? [`./${name}.ts`] : [`./${name}.js`, `./runtime/${name}.js`, `../runtime/${name}.js`])
    .map((rel) => new URL(rel, import.meta.url))
    .find((u) => existsSync(fileURLToPath(u)));
  if (!url)
    throw new Error(
      `edgec runtime: ${name}.js not found beside ${fileURLToPath(import.meta.url)}; run 'npm run build'`,
    );
  // Node 20 workers do not take tsx's loader from --import: the source tree's .ts worker registers it first
  const { Worker } = workerThreads();
  const w = ts
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
        .then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true },
      )
    : new Worker(url);
  w.unref();
  return w;
}
