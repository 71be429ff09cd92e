#!/usr/bin/env node
// Builds everything a user runs: the runtime .wasm files (AssemblyScript → build/), the compiler CLI,
// the API entries (`edgec`, `edgec/browser`, `edgec/runtime`, `edgec/compiler`; esbuild → dist/) and their
// declarations (tsc → dist/types/). `--if-stale` skips when outputs are newer than every source, so
// `npm test` after `npm ci` does not rebuild.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  mkdirSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ifStale = process.argv.includes('--if-stale');

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const outputs = [
  'build/edgec-relaxed.wasm',
  'build/edgec-simd.wasm',
  'build/edgec-threads.wasm',
  'build/edgec-scalar.wasm',
  'build/edgec-scalar.names',
  'build/edgec-wasi.wasm',
  'dist/cli.js',
  'dist/cli-run.js',
  'dist/runtime/index.js',
  'dist/runtime/train-worker.js',
  'dist/browser/edgec.js',
  'dist/browser/train-worker.js',
  'dist/compiler/index.js',
  'dist/types/compiler/index.d.ts',
];
const oldestOut = Math.min(...outputs.map((o) => (existsSync(join(root, o)) ? statSync(join(root, o)).mtimeMs : 0)));
const newestSrc = Math.max(
  ...['assembly', 'compiler', 'runtime', 'schema', 'scripts'].map((d) => newest(join(root, d))),
  statSync(join(root, 'asconfig.json')).mtimeMs,
);
if (ifStale && oldestOut > newestSrc) process.exit(0);

const bin = (name) => join(root, 'node_modules', '.bin', name);

/**
 * Moves the "name" custom section of `wasm` (asc --debug; the code is byte-identical without it) into `names`:
 * the shipped runtime stays as small as before, and `edgec compile --mcu` appends the section again to find the
 * kernels a bundle does not use by name (compiler/embed/mcu-image.ts).
 */
function splitNameSection(wasm, names) {
  const w = readFileSync(join(root, wasm));
  let p = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      x;
    do {
      x = w[p++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  while (p < w.length) {
    const start = p;
    const id = w[p++];
    const n = leb();
    const body = p;
    p += n;
    if (id !== 0) continue;
    p = body;
    const len = leb();
    const name = w.subarray(p, p + len).toString();
    p = body + n;
    if (name !== 'name') continue;
    writeFileSync(join(root, names), w.subarray(start, body + n));
    writeFileSync(join(root, wasm), Buffer.concat([w.subarray(0, start), w.subarray(body + n)]));
    return;
  }
  throw new Error(`${wasm}: no name section (asconfig.json's scalar target needs "debug": true)`);
}
mkdirSync(join(root, 'build'), { recursive: true });
for (const target of ['relaxed', 'simd', 'scalar']) {
  execFileSync(bin('asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', target], {
    cwd: root,
    stdio: 'inherit',
  });
}
splitNameSection('build/edgec-scalar.wasm', 'build/edgec-scalar.names');
// The threads build (shared memory; docs/threads.md): index.ts's ABI plus the thread exports of its own entry.
execFileSync(bin('asc'), ['assembly/index-threads.ts', '--config', 'asconfig.json', '--target', 'threads'], {
  cwd: root,
  stdio: 'inherit',
});
// The WASI command (scalar kernels + _start; docs/embedding.md): its own config, so index.ts is not an entry.
execFileSync(bin('asc'), ['--config', 'assembly/wasi.asconfig.json'], { cwd: root, stdio: 'inherit' });

const esbuild = await import('esbuild');
const common = { bundle: true, format: 'esm', sourcemap: true, logLevel: 'warning', absWorkingDir: root };
// The CLI and the compiler API (`edgec/compiler`) share their code through chunks in dist/chunks/, except `edgec
// run`: dist/cli-run.js is the run command in one file, which cli.js imports for it. Each ES module a process loads
// adds to its peak RSS: the five shared chunks the run command loaded cost ~0.4 MiB more than one file of the same
// code (docs/benchmarks.md, issue 17).
rmSync(join(root, 'dist/chunks'), { recursive: true, force: true });
const runCommandApart = {
  name: 'run-command-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/cli\/run\.ts$/ }, (args) =>
      args.importer === join(root, 'compiler/cli.ts') ? { path: './cli-run.js', external: true } : undefined,
    );
  },
};
await esbuild.build({
  ...common,
  entryPoints: { cli: 'compiler/cli.ts', 'compiler/index': 'compiler/index.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [runCommandApart],
});
await esbuild.build({
  ...common,
  entryPoints: { 'cli-run': 'compiler/cli/run.ts' },
  outdir: 'dist',
  platform: 'node',
  target: 'node20',
  packages: 'external',
});
await esbuild.build({
  ...common,
  outdir: 'dist/runtime',
  // train-worker.js sits beside train-parallel.js: runtime/train-parallel.ts starts it as a worker thread
  entryPoints: {
    index: 'runtime/index.ts',
    node: 'runtime/node.ts',
    'train-parallel': 'runtime/train-parallel.ts',
    'train-worker': 'runtime/train-worker.ts',
    // runtime/node.ts starts it for load(bundle, { threads }) (docs/threads.md)
    'thread-worker': 'runtime/thread-worker.ts',
  },
  platform: 'neutral',
  target: 'es2022',
  external: ['node:*'],
});
// Every Node entry finds the .wasm in build/ (runtime/node.ts); copies here from older builds would only
// be shipped twice.
for (const f of ['edgec-relaxed.wasm', 'edgec-simd.wasm', 'edgec-threads.wasm', 'edgec-scalar.wasm', 'edgec-wasi.wasm'])
  rmSync(join(root, 'dist', f), { force: true });
// Browser ESM bundle (runtime/browser.ts, no Node APIs) with the .wasm files beside it (docs/embedding.md).
await esbuild.build({
  ...common,
  outdir: 'dist/browser',
  platform: 'browser',
  target: 'es2022',
  // data-parallel training (runtime/train-browser.ts) starts train-worker.js beside it as a module Web Worker
  entryPoints: {
    edgec: 'runtime/browser.ts',
    'train-parallel': 'runtime/train-browser.ts',
    'train-worker': 'runtime/train-worker-browser.ts',
    // load(bundle, { threads }) starts it as a module Web Worker (docs/threads.md)
    'thread-worker': 'runtime/thread-worker-browser.ts',
  },
});
for (const f of ['edgec-relaxed.wasm', 'edgec-simd.wasm', 'edgec-threads.wasm', 'edgec-scalar.wasm'])
  copyFileSync(join(root, 'build', f), join(root, 'dist/browser', f));

// Declarations for the exports map. tsc keeps the sources' `./x.ts` specifiers; consumers resolve `./x.js`.
rmSync(join(root, 'dist/types'), { recursive: true, force: true });
execFileSync(bin('tsc'), ['-p', 'scripts/tsconfig.types.json'], { cwd: root, stdio: 'inherit' });
(function rewrite(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) rewrite(p);
    else if (p.endsWith('.d.ts'))
      writeFileSync(
        p,
        readFileSync(p, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*)\.ts\2/g, '$1$2$3.js$2'),
      );
  }
})(join(root, 'dist/types'));
