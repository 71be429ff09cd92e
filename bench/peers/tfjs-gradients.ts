// Registers tfjs-core's gradient functions (the @tensorflow/tfjs union package does it; tfjs-core alone does not).
// tfjs-core ships them only as extensionless ESM (dist/register_all_gradients.js) that Node cannot import, so esbuild
// bundles that file once into a temporary module. The bundle carries its own copy of the ops it calls; tfjs keeps
// its engine, kernel and gradient registries on the global object and Tensor has a duck-typed instanceof, so the
// copy registers into, and runs on, the one engine the bench uses.
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function registerTfjsGradients(): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const out = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'error',
  });
  const dir = mkdtempSync(join(tmpdir(), 'edgec-tfjs-grads-'));
  try {
    const file = join(dir, 'register-all-gradients.mjs');
    writeFileSync(file, out.outputFiles[0]!.text);
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
