// Web Worker entry of an inference thread (dist/browser/thread-worker.js, started as a module worker by
// runtime/browser.ts for load(bundle, { threads })): the same serveThread as the Node worker.
import { serveThread, type ToThread } from './threads.ts';

interface WorkerScope {
  postMessage(msg: unknown): void;
  onmessage: ((e: MessageEvent<ToThread>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const serve = serveThread((msg) => scope.postMessage(msg));
scope.onmessage = (e) => serve(e.data);
