// Threaded inference, the host side (browser and Node; no Node APIs; docs/threads.md): one shared
// WebAssembly.Memory, the main instance on it, and T − 1 workers each holding an instance of the same module on
// the same memory, parked in edgec_thread_loop (assembly/threads.ts). runtime/node.ts and runtime/browser.ts
// supply the workers (worker_threads / module Web Workers); the worker scripts call serveThread.

/** One worker as the pool sees it (the Node and browser entries wrap their Worker in this). */
export interface ThreadPort {
  post(msg: ToThread): void;
  onMessage(f: (msg: FromThread) => void): void;
  onError(f: (e: Error) => void): void;
  terminate(): void;
}

export type ToThread = { module: WebAssembly.Module; memory: WebAssembly.Memory } | { ctl: number; t: number };
export type FromThread = { ready: true } | { error: string };

export interface ThreadOptions {
  /** Threads in all (the main one included), ≥ 2. */
  count: number;
  spawn(): ThreadPort;
}

/** The threads build's memory import (asconfig.json target `threads`: 2 initial pages, 1 GiB maximum). */
const MEMORY = { initial: 2, maximum: 16384, shared: true } as const;

/**
 * True when this engine can share a WebAssembly.Memory between threads: SharedArrayBuffer and Atomics exist (in
 * a browser only on a cross-origin isolated page) and a shared memory can be made. Otherwise load() runs one thread.
 */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

export interface ThreadPool {
  instance: WebAssembly.Instance;
  /** Hands the control block to the workers (after edgec_threads_setup, before the bundle is loaded). */
  enter(ctl: number): void;
  /** Workers leave their loop and end. */
  close(): void;
}

/**
 * The main instance on a fresh shared memory plus count − 1 ready workers. Every instance's start code writes
 * the same bytes at the same addresses (the module's data and its first heap objects), so the workers are
 * instantiated before the main instance runs anything; each then moves its allocator to its own region.
 */
export async function startThreads(module: WebAssembly.Module, opts: ThreadOptions): Promise<ThreadPool> {
  const memory = new WebAssembly.Memory(MEMORY);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const ports: ThreadPort[] = [];
  const close = () => {
    for (const p of ports) p.terminate();
    ports.length = 0;
  };
  try {
    await Promise.all(
      Array.from({ length: opts.count - 1 }, () => {
        const port = opts.spawn();
        ports.push(port);
        return new Promise<void>((resolve, reject) => {
          port.onError(reject);
          port.onMessage((m) => ('ready' in m ? resolve() : reject(new Error(m.error))));
          port.post({ module, memory });
        });
      }),
    );
  } catch (e) {
    close();
    throw new Error(`edgec runtime: a thread did not start (${(e as Error).message})`);
  }
  return {
    instance,
    enter: (ctl) => ports.forEach((p, i) => p.post({ ctl, t: i + 1 })),
    close: () => {
      (instance.exports.edgec_threads_quit as () => void)();
      close();
    },
  };
}

interface ThreadExports {
  edgec_thread_enter(ctl: number, t: number): void;
  edgec_thread_loop(): void;
  edgec_thread_fail(): void;
}

/** A worker's message handler: instantiate on the shared memory, then (told its region) run the loop. */
export function serveThread(reply: (msg: FromThread) => void): (msg: ToThread) => void {
  let ex: ThreadExports | undefined;
  return (msg) => {
    if ('module' in msg) {
      try {
        ex = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports as unknown as ThreadExports;
        reply({ ready: true });
      } catch (e) {
        reply({ error: (e as Error).message });
      }
      return;
    }
    if (!ex) return;
    try {
      ex.edgec_thread_enter(msg.ctl, msg.t);
      ex.edgec_thread_loop();
    } catch (e) {
      ex.edgec_thread_fail();
      reply({ error: (e as Error).message });
    }
  };
}
