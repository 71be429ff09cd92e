// Node entry: the same load() as runtime/index.ts, but finds and compiles the .wasm itself
// (build/ next to the sources, or the copies beside the bundled dist/ runtime) and picks the build.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load as loadWith, simdSupported, type Model } from './index.ts';

export { BundleError, simdSupported } from './index.ts';
export { VariantPolicy, chooseVariant, readBattery, type PolicyOptions, type PolicyState } from './policy.ts';
export type { Model, ModelInfo, TensorInfo, TensorArray, RuntimeDType } from './index.ts';

export type Build = 'simd' | 'scalar';

export interface NodeLoadOptions {
  /** 'auto' (default): simd when this engine validates SIMD128, else scalar. */
  build?: 'auto' | Build;
  reference?: boolean;
  /** Multi-variant bundles: the variant to start with (default the first). */
  variant?: string;
}

const modules = new Map<Build, WebAssembly.Module>();

/** Path of build/edgec-<build>.wasm: source tree (runtime/ → ../build) or dist/runtime/ → ../. */
export function wasmPath(build: Build): string {
  const file = `edgec-${build}.wasm`;
  for (const rel of [`../build/${file}`, `../${file}`, `../../build/${file}`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(`edgec runtime: ${file} not found next to ${fileURLToPath(import.meta.url)}; run 'npm run build'`);
}

export function wasmModule(build: Build): WebAssembly.Module {
  let m = modules.get(build);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasmPath(build)));
    modules.set(build, m);
  }
  return m;
}

export function load(bundle: Uint8Array, opts: NodeLoadOptions = {}): Promise<Model> {
  const want = opts.build ?? 'auto';
  const build: Build = want === 'auto' ? (simdSupported() ? 'simd' : 'scalar') : want;
  return loadWith(bundle, { wasm: wasmModule(build), reference: opts.reference, variant: opts.variant });
}
