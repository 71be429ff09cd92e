// Node worker_threads entry of a shard worker (runtime/train-parallel.ts starts it): the messages are
// answered by serveShards in runtime/train-shards.ts, which holds one gradient-bundle instance.
import { parentPort } from 'node:worker_threads';
import { serveShards, type ToWorker } from './train-shards.ts';

if (!parentPort) throw new Error('edgec train-worker: run me as a worker thread (runtime/train-parallel.ts)');
const port = parentPort;
const serve = serveShards((msg, transfer) => port.postMessage(msg, transfer));
port.on('message', (msg: ToWorker) => void serve(msg));
