// `edgec run` loads the runtime, not the compiler (issue 17: its peak RSS; docs/benchmarks.md): the static import
// graph of its command module, as esbuild resolves it for dist/, holds no npm package, no node:worker_threads and
// no compiler module beyond the CLI plumbing, .npy I/O and the runtime's data loader. cli-progress loads when a bar
// shows, worker_threads with the first worker. The compile command's graph is the control: the walk sees packages.
// The build ships the command as one file (dist/cli-run.js: every extra ES module loaded costs peak RSS).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ROOT } from './run-edgec.ts';

interface Graph {
  files: string[];
  packages: string[];
  dynamic: string[];
}

/** Files and bare imports reachable from `entry` through static imports (type-only ones are gone in esbuild). */
async function staticGraph(entry: string): Promise<Graph> {
  const { metafile } = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const inputs = (metafile as Metafile).inputs;
  const files = new Set<string>(),
    packages = new Set<string>(),
    dynamic = new Set<string>();
  const walk = (f: string) => {
    if (files.has(f)) return;
    files.add(f);
    for (const i of inputs[f]!.imports) {
      if (i.kind === 'dynamic-import') dynamic.add(i.path);
      else if (i.kind !== 'import-statement') continue;
      else if (i.external) packages.add(i.path);
      else walk(i.path);
    }
  };
  walk(entry);
  return { files: [...files].sort(), packages: [...packages].sort(), dynamic: [...dynamic].sort() };
}

// what `edgec run` may load from compiler/: the CLI's own plumbing, .npy I/O, and compiler/train/data/ (the data
// loader runtime/train.ts shares); never the frontends, IR, passes, quantizer or emitter
const ALLOWED = /^(runtime\/|compiler\/cli\/(run|args|errors)\.ts$|compiler\/io\/|compiler\/train\/data\/)/;

test('edgec run: only node builtins (not worker_threads), the runtime and the CLI plumbing', async () => {
  const g = await staticGraph('compiler/cli/run.ts');
  assert.ok(g.files.includes('runtime/node.ts'), g.files.join(' '));
  assert.equal(
    g.files.filter((f) => !ALLOWED.test(f)),
    [],
  );
  assert.equal(
    g.packages.filter((p) => !p.startsWith('node:') || p === 'node:worker_threads'),
    [],
  );
  assert.ok(g.dynamic.includes('cli-progress'), `dynamic imports: ${g.dynamic.join(' ')}`);
});

test('dist: cli.js takes `run` from dist/cli-run.js, one file whose static imports are node builtins', () => {
  const cli = readFileSync(join(ROOT, 'dist/cli.js'), 'utf8');
  assert.match(cli, /run: async \(\) => \(await import\("\.\/cli-run\.js"\)\)\.runCommand/);
  const run = readFileSync(join(ROOT, 'dist/cli-run.js'), 'utf8');
  const imports = [...run.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);
  assert.ok(imports.includes('node:fs'), imports.join(' '));
  assert.equal(
    imports.filter((i) => !i.startsWith('node:')),
    [],
  );
  assert.match(run, /^async function runCommand\(/m);
});

test('control: the compile command statically loads the ONNX frontend and protobufjs', async () => {
  const g = await staticGraph('compiler/cli/compile.ts');
  assert.ok(
    g.packages.includes('protobufjs') || g.packages.some((p) => p.startsWith('protobufjs/')),
    g.packages.join(),
  );
  assert.ok(
    g.files.some((f) => f.startsWith('compiler/frontend/onnx/')),
    g.files.join(' '),
  );
});

test.run();
