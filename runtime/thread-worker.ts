// Node worker_threads entry of an inference thread (runtime/node.ts starts it for load(bundle, { threads })):
// serveThread in runtime/threads.ts instantiates the threads build on the shared memory and runs its loop.
import { parentPort } from 'node:worker_threads';
import { serveThread, type ToThread } from './threads.ts';

if (!parentPort) throw new Error('edgec thread-worker: run me as a worker thread (runtime/node.ts)');
const port = parentPort;
const serve = serveThread((msg) => port.postMessage(msg));
port.on('message', (msg: ToThread) => serve(msg));
