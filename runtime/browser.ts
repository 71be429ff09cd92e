// Browser entry (bundled to dist/browser/edgec.js next to edgec-relaxed/-simd/-scalar.wasm; no Node APIs): fetches
// and compiles the runtime .wasm with streaming compilation (fallback: fetch + compile), picks the relaxed-SIMD
// build where WebAssembly.validate accepts relaxed SIMD, else SIMD where it accepts SIMD128, else scalar, and hands
// it to load() in index.ts.
import { load as loadWith, resolveBuild, simdSupported, type Model } from './index.ts';
import { threadsSupported, type ThreadPort, type FromThread } from './threads.ts';

export { BundleError, simdSupported, relaxedSupported, relaxedDotMode, threadsSupported } from './index.ts';
export * from './train-api.ts';
export { VariantPolicy, chooseVariant, readBattery, type PolicyOptions, type PolicyState } from './policy.ts';
export type { Model, ModelInfo, TensorInfo, TensorArray, RuntimeDType } from './index.ts';

export type Build = 'relaxed' | 'simd' | 'scalar';

export interface BrowserLoadOptions {
  /** 'auto' (default): relaxed when this engine validates relaxed SIMD, else simd when it validates SIMD128, else
   *  scalar. The three give identical bytes. */
  build?: 'auto' | Build;
  /** Folder URL (ending in '/') holding edgec-{relaxed,simd,scalar}.wasm; default: next to this script. */
  wasmBase?: string | URL;
  reference?: boolean;
  /** 'split': the relaxed build's int8 GEMM on the tile exact on every engine, not the one-dot tile relaxedDotMode()
   *  allows (same bytes; for tests and benchmarks; LoadOptions.relaxedDot in index.ts). */
  relaxedDot?: 'split';
  /** Multi-variant bundles: the variant to start with (default the first). */
  variant?: string;
  /** false: skip the bundle's CRC-32 check (LoadOptions.verifyChecksum in index.ts). */
  verifyChecksum?: boolean;
  /**
   * Threads (the main one included) for the large steps, default 1 (docs/threads.md): N ≥ 2 loads
   * edgec-threads.wasm with N − 1 module Web Workers (thread-worker.js); same bytes as one thread. Needs a cross-origin
   * isolated page (COOP: same-origin, COEP: require-corp): without it, or with build 'scalar' / 'relaxed', one thread.
   */
  threads?: number;
  /** The thread worker script; default thread-worker.js next to this script. */
  threadWorkerUrl?: string | URL;
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** The build `auto` resolves to on this engine (throws for 'relaxed' where the engine fails the probe). */
export function pickBuild(want: 'auto' | Build = 'auto'): Build {
  return resolveBuild(want);
}

function defaultBase(): string {
  return new URL('./', import.meta.url).href;
}

/** Compiles `url` while it downloads when the engine can (needs the application/wasm MIME type);
 *  otherwise downloads it whole and compiles the bytes. Cached per URL. */
export function compileWasm(url: string): Promise<WebAssembly.Module> {
  let p = modules.get(url);
  if (!p) {
    p = (async () => {
      if (typeof WebAssembly.compileStreaming === 'function') {
        try {
          return await WebAssembly.compileStreaming(fetch(url));
        } catch (e) {
          // A wrong MIME type or an engine without streaming: fall through to the plain path.
          if (!(e instanceof TypeError)) throw e;
        }
      }
      const r = await fetch(url);
      if (!r.ok) throw new Error(`edgec runtime: cannot fetch ${url} (HTTP ${r.status})`);
      return WebAssembly.compile(await r.arrayBuffer());
    })();
    p.catch(() => modules.delete(url));
    modules.set(url, p);
  }
  return p;
}

export async function load(bundle: Uint8Array, opts: BrowserLoadOptions = {}): Promise<Model> {
  const build = pickBuild(opts.build ?? 'auto');
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`edgec runtime: threads must be a whole number ≥ 1, got ${threads}`);
  const want = opts.build ?? 'auto';
  const threaded = threads > 1 && (want === 'auto' || want === 'simd') && simdSupported() && threadsSupported();
  const base = opts.wasmBase === undefined ? defaultBase() : new URL(String(opts.wasmBase), defaultBase()).href;
  const wasm = await compileWasm(new URL(`edgec-${threaded ? 'threads' : build}.wasm`, base).href);
  const workerUrl = new URL(String(opts.threadWorkerUrl ?? './thread-worker.js'), import.meta.url);
  const spawn = (): ThreadPort => {
    const w = new Worker(workerUrl, { type: 'module' });
    return {
      post: (msg) => w.postMessage(msg),
      onMessage: (f) => {
        w.onmessage = (e: MessageEvent<FromThread>) => f(e.data);
      },
      onError: (f) => {
        w.onerror = (e: ErrorEvent) => f(new Error(e.message || `worker ${workerUrl.href} failed to start`));
      },
      terminate: () => w.terminate(),
    };
  };
  return loadWith(bundle, {
    wasm,
    threads: threaded ? { count: threads, spawn } : undefined,
    reference: opts.reference,
    relaxedDot: opts.relaxedDot,
    variant: opts.variant,
    verifyChecksum: opts.verifyChecksum,
  });
}
