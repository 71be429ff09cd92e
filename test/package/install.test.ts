// The package as a user gets it: `npm pack` of this (built) tree, the tarball installed into an empty
// folder offline (a lockfile pins the runtime dependencies to the copies `npm ci` left in the npm cache),
// then the CLI through npx, the API from plain Node and the declarations through tsc. Every file the
// installed package writes must equal, byte for byte, what the source tree's CLI and runtime write.
// The user also installs binaryen (edgec's optional peer dependency, 100 MB, needed by --embed only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgecIn, ROOT } from '../cli/run-edgec.ts';
import { readNpy, writeNpy } from '../../compiler/io/npy.ts';
import { loadModelJson } from '../../compiler/frontend/model-json/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { datasetOf, distill, type DistillJob } from '../../compiler/distill/index.ts';
import { load } from '../../runtime/node.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  dependencies: Record<string, string>;
  bin: unknown;
  engines: unknown;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: unknown;
  devDependencies: Record<string, string>;
};
const userDependencies = (tgz: string) => ({ edgec: `file:../pack/${tgz}`, binaryen: pkg.devDependencies.binaryen! });
const tmp = mkdtempSync(join(tmpdir(), 'edgec-package-'));
const user = join(tmp, 'user'),
  clone = join(tmp, 'clone'),
  packDir = join(tmp, 'pack');
let packed: { filename: string; size: number; entryCount: number; files: { path: string }[] };

function sh(cmd: string, args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, EDGEC_DEBUG: '' };
  // `npm test` exports npm_config_* of this project; the user's folder must not inherit them.
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith('npm_config_')) delete env[k];
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function ok(r: { code: number | null; out: string; err: string }, what: string) {
  assert.is(r.code, 0, `${what} failed:\n${r.err}${r.out}`);
  return r;
}
const edgec = (...args: string[]) =>
  ok(sh('npx', ['--no', '--', 'edgec', ...args], user), `npx edgec ${args.join(' ')}`);
const cloneEdgec = (...args: string[]) => ok(edgecIn(clone)(...args), `clone edgec ${args.join(' ')}`);
const same = (file: string) =>
  assert.ok(
    readFileSync(join(user, file)).equals(readFileSync(join(clone, file))),
    `${file} differs from the source tree's`,
  );

/** The installed project's package-lock.json: edgec from the tarball, its dependencies as this repo locks them. */
function userLockfile(tgz: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const integrity = `sha512-${createHash('sha512')
    .update(readFileSync(join(packDir, tgz)))
    .digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'user', dependencies: userDependencies(tgz) },
    'node_modules/edgec': {
      version: pkg.version,
      resolved: `file:../pack/${tgz}`,
      integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
    },
  };
  for (const [k, v] of Object.entries(lock.packages))
    if (k.startsWith('node_modules/') && !v.dev && !v.devOptional) packages[k] = v;
  const { dev: _dev, ...binaryen } = lock.packages['node_modules/binaryen']!;
  packages['node_modules/binaryen'] = binaryen;
  return JSON.stringify({ name: 'user', lockfileVersion: 3, requires: true, packages }, null, 1);
}

test.before(() => {
  for (const d of [user, clone, packDir]) mkdirSync(d);
  const p = ok(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], ROOT), 'npm pack');
  packed = (JSON.parse(p.out) as (typeof packed)[])[0]!;
  console.log(`  packed ${packed.filename}: ${packed.size} bytes, ${packed.entryCount} files`);
  writeFileSync(
    join(user, 'package.json'),
    JSON.stringify({ name: 'user', private: true, type: 'module', dependencies: userDependencies(packed.filename) }),
  );
  writeFileSync(join(user, 'package-lock.json'), userLockfile(packed.filename));
  const install = ['install', '--no-audit', '--no-fund'];
  let r = sh('npm', [...install, '--offline'], user);
  if (r.code !== 0) {
    console.warn(
      `  npm install --offline failed (${r.err.split('\n').find((l) => /error/.test(l)) ?? 'no message'}); ` +
        'the dependencies are not all in the npm cache (run npm ci first): installing from the registry instead',
    );
    r = sh('npm', install, user);
  }
  ok(r, 'npm install of the tarball');
  // no dependency a user installs carries an install script their npm warns about (protobufjs 8 has none;
  // edgec itself is listed only because a tarball is a non-registry source: from the registry `prepare` never runs)
  const scripted = [...r.err.matchAll(/^npm warn install-scripts\s+(\S+)@\S+ \(/gm)].map((m) => m[1]);
  assert.equal(
    scripted.filter((s) => s !== 'edgec'),
    [],
    r.err,
  );
  // The same inputs in both folders: the MNIST example, 64 of its images, the early-exit variant.
  for (const dir of [user, clone]) {
    for (const f of ['model.json', 'model.bin']) copyFileSync(join(ROOT, 'examples/mnist', f), join(dir, f));
    mkdirSync(join(dir, 'branches'));
    for (const f of ['early-exit.json', 'model.bin'])
      copyFileSync(join(ROOT, 'examples/branches', f), join(dir, 'branches', f));
    const images = readNpy(readFileSync(join(ROOT, 'examples/mnist/images.npy')));
    const per = images.shape.slice(1).reduce((a, b) => a * b, 1);
    writeFileSync(
      join(dir, 'calib.npy'),
      writeNpy({ shape: [64, ...images.shape.slice(1)], data: (images.data as Float32Array).slice(0, 64 * per) }),
    );
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('the tarball holds what users need and nothing else', () => {
  const files = packed.files.map((f) => f.path);
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'bin/edgec.js',
    'dist/cli.js',
    'dist/runtime/node.js',
    'dist/compiler/index.js',
    'dist/browser/edgec.js',
    'dist/browser/edgec-relaxed.wasm',
    'dist/browser/edgec-simd.wasm',
    'dist/browser/edgec-threads.wasm',
    'dist/browser/thread-worker.js',
    'dist/runtime/thread-worker.js',
    'build/edgec-relaxed.wasm',
    'build/edgec-simd.wasm',
    'build/edgec-threads.wasm',
    'build/edgec-scalar.wasm',
    // its name section, split off by scripts/build.js: `edgec compile --mcu` strips by name
    'build/edgec-scalar.names',
    'build/edgec-wasi.wasm',
    'dist/types/runtime/node.d.ts',
    'dist/types/compiler/index.d.ts',
    'docs/cli.md',
  ]) {
    assert.ok(files.includes(f), `missing ${f}`);
  }
  const unwanted = files.filter(
    (f) =>
      /^(test|bench|\.ci|examples|scripts|compiler|assembly|runtime|schema)\//.test(f) ||
      /\.(map|npy|wat|ts)$/.test(f.replace(/\.d\.ts$/, '')),
  );
  assert.equal(unwanted, []);
});

test('npx edgec: compile (float, int8, --embed), run, inspect, profile as in the source tree', () => {
  assert.is(edgec('--version').out.trim(), pkg.version);
  const commands = [
    ['compile', 'model.json', '-o', 'm.edgec'],
    ['compile', 'model.json', '-o', 'q.edgec', '--quantize', 'int8', '--calibration', 'calib.npy'],
    ['compile', 'model.json', '-o', 'm.wasm', '--embed'],
    ['run', 'q.edgec', '--input', 'calib.npy', '--output', 'q.npy'],
    ['run', 'm.edgec', '--input', 'calib.npy', '--output', 'm.npy', '--build', 'scalar'],
    ['compile', 'branches/early-exit.json', '-o', 'ee.edgec'],
  ];
  for (const args of commands) assert.is(edgec(...args).out, cloneEdgec(...args).out, args.join(' '));
  for (const f of ['m.edgec', 'q.edgec', 'm.wasm', 'q.npy', 'm.npy', 'ee.edgec']) same(f);
  assert.is(edgec('inspect', 'q.edgec').out, cloneEdgec('inspect', 'q.edgec').out);
  const noLatency = (s: string) =>
    s
      .split('\n')
      .filter((l) => !/latency/i.test(l))
      .join('\n');
  const profile = edgec('profile', 'ee.edgec', '--input', 'calib.npy').out;
  assert.match(profile, /exit/i);
  assert.is(noLatency(profile), noLatency(cloneEdgec('profile', 'ee.edgec', '--input', 'calib.npy').out));
});

test('plain Node: edgec, edgec/compiler and edgec/browser import; run() takes a stacked batch', async () => {
  writeFileSync(
    join(user, 'api.mjs'),
    `
import { writeFileSync } from 'node:fs';
import { load, BundleError } from 'edgec';
import { compileGraph, loadModelJson, readNpy } from 'edgec/compiler';
import { load as loadBrowser } from 'edgec/browser';
if (typeof loadBrowser !== 'function' || typeof BundleError !== 'function') throw new Error('missing exports');
const { bundle } = compileGraph(loadModelJson('model.json'));
writeFileSync('api.edgec', bundle);
const model = await load('api.edgec', { build: 'simd' });
const x = readNpy(new Uint8Array((await import('node:fs')).readFileSync('calib.npy')));
const y = model.run({ [model.info.inputs[0].name]: x.data })[model.info.outputs[0].name];
writeFileSync('api.bin', new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
`,
  );
  ok(sh(process.execPath, ['api.mjs'], user), 'node api.mjs');
  const { bundle } = compileGraph(loadModelJson(join(user, 'model.json')));
  assert.ok(readFileSync(join(user, 'api.edgec')).equals(bundle), 'edgec/compiler bundle differs from the source tree');
  const x = readNpy(readFileSync(join(user, 'calib.npy')));
  const model = await load(bundle, { build: 'simd' });
  const y = model.runDetailed({ [model.info.inputs[0]!.name]: x.data as Float32Array }).outputs[
    model.info.outputs[0]!.name
  ]!;
  assert.is(y.length, 64 * 10);
  assert.ok(
    readFileSync(join(user, 'api.bin')).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)),
    'installed run() differs from runDetailed',
  );
});

// One epoch of distillation (teacher = the example model, student = itself, so the weights move by the labels'
// CE term, α = 0.5) over 32 images and their labels: the installed edgec/compiler must bundle distill() with its
// runtime and give the source tree's weights, byte for byte.
const DISTILL_JOB = {
  labelled: true,
  alpha: 0.5,
  epochs: 1,
  batch: 16,
  optimizer: { kind: 'sgd', momentum: 0.9 },
  lr: 0.01,
  temperature: 2,
  measure: false,
  threads: 1,
} satisfies Partial<DistillJob>;

test("plain Node: distill() from edgec/compiler gives the source tree's student", async () => {
  writeFileSync(
    join(user, 'distill.mjs'),
    `
import { readFileSync, writeFileSync } from 'node:fs';
import { compileGraph, datasetOf, distill, loadModelJson, readNpy } from 'edgec/compiler';
const x = readNpy(new Uint8Array(readFileSync('calib.npy')));
const labels = Int32Array.from(readNpy(new Uint8Array(readFileSync('labels.npy'))).data.subarray(0, 32));
const data = datasetOf(x.data.slice(0, 32 * 784), [1, 28, 28], labels);
const job = { ...${JSON.stringify(DISTILL_JOB)}, data };
const r = await distill({ teacher: loadModelJson('model.json'), student: loadModelJson('model.json'), ...job });
if (r.status !== 'done' || r.report.epochs.length !== 1) throw new Error('distill: ' + r.status);
writeFileSync('distilled.edgec', compileGraph(r.model).bundle);
`,
  );
  copyFileSync(join(ROOT, 'examples/mnist/labels_u8.npy'), join(user, 'labels.npy'));
  ok(sh(process.execPath, ['distill.mjs'], user), 'node distill.mjs');
  const x = readNpy(readFileSync(join(user, 'calib.npy')));
  const labels = Int32Array.from((readNpy(readFileSync(join(user, 'labels.npy'))).data as Uint8Array).subarray(0, 32));
  const data = datasetOf((x.data as Float32Array).slice(0, 32 * 784), [1, 28, 28], labels);
  const model = loadModelJson(join(user, 'model.json'));
  const r = await distill({ teacher: model, student: loadModelJson(join(user, 'model.json')), ...DISTILL_JOB, data });
  const mine = Buffer.from(compileGraph(r.model).bundle);
  assert.not.ok(mine.equals(compileGraph(model).bundle), 'one epoch of distillation left the weights unchanged');
  assert.ok(
    readFileSync(join(user, 'distilled.edgec')).equals(mine),
    'installed distill() differs from the source tree',
  );
});

test('TypeScript: the declarations type-check a strict consumer (nodenext)', () => {
  writeFileSync(
    join(user, 'consumer.ts'),
    `
import { load, type Model, type TensorArray } from 'edgec';
import { compileGraph, compileQuantized, loadOnnx, loadModelJson, type Graph, type CompileResult } from 'edgec/compiler';
import { distill, type DistillJob, type DistillResult } from 'edgec/compiler';
import { load as loadBrowser, type BrowserLoadOptions } from 'edgec/browser';
const g: Graph = loadModelJson('model.json');
const r: CompileResult = compileGraph(g, { target: 'scalar' });
const m: Model = await load(r.bundle, { build: 'scalar' });
const out: Record<string, TensorArray> = m.run({ x: new Float32Array(4) });
const opts: BrowserLoadOptions = { build: 'auto' };
const job: Partial<DistillJob> = { epochs: 1, batch: 8, alpha: 1 };
const run: (j: DistillJob) => Promise<DistillResult> = distill;
void job; void run; void out; void compileQuantized; void loadOnnx; void loadBrowser; void opts;
// @ts-expect-error: the build is 'auto' | 'relaxed' | 'simd' | 'scalar'
await load(r.bundle, { build: 'gpu' });
`,
  );
  writeFileSync(
    join(user, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        lib: ['es2022', 'dom'],
      },
      files: ['consumer.ts'],
    }),
  );
  ok(sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], user), 'tsc');
});

test.run();
