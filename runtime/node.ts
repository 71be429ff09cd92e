// Node entry (the package's main export, `import { load } from 'edgec'`): the same load() as
// runtime/index.ts, but reads a bundle from a path when given one (straight into the wasm memory: its bytes are
// held once), finds and compiles the runtime .wasm itself (build/ in the source tree and in the installed package)
// and picks the build.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startWorker } from './node-worker.ts';
import { load as loadWith, resolveBuild, simdSupported, BundleError, type BundleSource, type Model } from './index.ts';
import { threadsSupported, type ThreadPort, type FromThread } from './threads.ts';

export { BundleError, simdSupported, relaxedSupported, relaxedDotMode, threadsSupported } from './index.ts';
export * from './train-api.ts';
export { VariantPolicy, chooseVariant, readBattery, type PolicyOptions, type PolicyState } from './policy.ts';
export type { Model, ModelInfo, TensorInfo, TensorArray, RuntimeDType, SampleRoute, ControlStep } from './index.ts';

export type Build = 'relaxed' | 'simd' | 'scalar';

export interface NodeLoadOptions {
  /** 'auto' (default): relaxed when this engine validates relaxed SIMD, else simd when it validates SIMD128, else
   *  scalar. The three give identical bytes. */
  build?: 'auto' | Build;
  /** Run the slow reference kernels (bit-identical by contract; for tests and debugging). */
  reference?: boolean;
  /** 'split': the relaxed build's int8 GEMM on the tile exact on every engine, not the one-dot tile relaxedDotMode()
   *  allows (same bytes; for tests and benchmarks; LoadOptions.relaxedDot in index.ts). */
  relaxedDot?: 'split';
  /** Multi-variant bundles: the variant to start with (default the first). */
  variant?: string;
  /** false: skip the bundle's CRC-32 check (LoadOptions.verifyChecksum in index.ts). */
  verifyChecksum?: boolean;
  /**
   * Threads (the main one included) for the large steps, default 1 (docs/threads.md): N ≥ 2 loads the threads
   * build (simd kernels, shared memory) with N − 1 worker threads; same bytes as one thread. One thread where
   * shared memory or SIMD is missing, or with build 'scalar' / 'relaxed'. Model.close() ends the workers.
   */
  threads?: number;
}

const modules = new Map<Build | 'threads', WebAssembly.Module>();

/**
 * Path of build/edgec-<build>.wasm. This code runs from three places, all inside one package root that
 * holds build/: runtime/node.ts (source tree) → ../build; dist/runtime/node.js (the `edgec` entry) and
 * dist/chunks/*.js (code the CLI and `edgec/compiler` share) → ../../build.
 */
export function wasmPath(build: Build | 'threads'): string {
  const file = `edgec-${build}.wasm`;
  for (const rel of [`../build/${file}`, `../../build/${file}`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(
    `edgec runtime: build/${file} not found above ${fileURLToPath(import.meta.url)}; run 'npm run build'`,
  );
}

export function wasmModule(build: Build | 'threads'): WebAssembly.Module {
  let m = modules.get(build);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasmPath(build)));
    modules.set(build, m);
  }
  return m;
}

function spawnThread(): ThreadPort {
  // a parked worker never keeps the process alive (Model.close() ends it explicitly)
  const w = startWorker('thread-worker');
  return {
    post: (msg) => w.postMessage(msg),
    onMessage: (f) => w.on('message', (m: FromThread) => f(m)),
    onError: (f) => w.on('error', f),
    terminate: () => void w.terminate(),
  };
}

const unreadable = (path: string, e: unknown) =>
  new BundleError(`${path}: cannot read the bundle (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
    cause: e,
  });

/** The open file at `path` as a BundleSource: read with pread into the wasm memory, never into a JS buffer. */
function fileSource(path: string, fd: number): BundleSource {
  const size = fstatSync(fd).size;
  return {
    byteLength: size,
    readInto(into) {
      let at = 0;
      while (at < size) {
        let n: number;
        try {
          n = readSync(fd, into, at, size - at, at);
        } catch (e) {
          throw unreadable(path, e);
        }
        if (n === 0) throw new BundleError(`${path}: cannot read the bundle (it shrank to ${at} bytes while read)`);
        at += n;
      }
    },
  };
}

/** Loads a bundle (its bytes, or the path of an .edgec file) on the relaxed, simd or scalar runtime build. */
export async function load(bundle: Uint8Array | string, opts: NodeLoadOptions = {}): Promise<Model> {
  const build = resolveBuild(opts.build ?? 'auto');
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`edgec runtime: threads must be a whole number ≥ 1, got ${threads}`);
  let fd = -1;
  try {
    let source: Uint8Array | BundleSource = bundle as Uint8Array;
    if (typeof bundle === 'string') {
      try {
        fd = openSync(bundle, 'r');
        source = fileSource(bundle, fd);
      } catch (e) {
        throw unreadable(bundle, e);
      }
    }
    const want = opts.build ?? 'auto';
    const threaded = threads > 1 && (want === 'auto' || want === 'simd') && simdSupported() && threadsSupported();
    return await loadWith(source, {
      wasm: wasmModule(threaded ? 'threads' : build),
      threads: threaded ? { count: threads, spawn: spawnThread } : undefined,
      reference: opts.reference,
      relaxedDot: opts.relaxedDot,
      variant: opts.variant,
      verifyChecksum: opts.verifyChecksum,
    });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
