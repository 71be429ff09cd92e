// Web Worker entry of a shard worker (dist/browser/train-worker.js, started as a module worker by
// runtime/train-browser.ts): the same serveShards as the Node worker, on the worker's global scope.
import { serveShards, type ToWorker } from './train-shards.ts';

interface WorkerScope {
  postMessage(msg: unknown, transfer: ArrayBuffer[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const serve = serveShards((msg, transfer) => scope.postMessage(msg, transfer ?? []));
scope.onmessage = (e) => void serve(e.data);
