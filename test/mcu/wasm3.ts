// Builds the real wasm3 interpreter (0.9.0 and 0.5.0) for the tests from the vendored sources beside the
// clone (../shared/vendor, or $EDGEC_WASM3_VENDOR), with Debian's cmake + gcc, into
// node_modules/.cache/edgec-wasm3/<version>-<hash of the sources>/ so a second run builds nothing.
// Two programs per version: the CLI with WASI (`wasm3 module.wasm args…`) and examples/mcu's C host
// compiled for this machine (the plain-i32 ABI, no WASI; the same C file the firmware uses).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WASM3_VERSIONS = ['0.9.0', '0.5.0'] as const;
export type Wasm3Version = (typeof WASM3_VERSIONS)[number];

/** The vendor folder: $EDGEC_WASM3_VENDOR, else `<repo>/../shared/vendor` (the clone's sibling, also in CI). */
export function vendorDir(): string {
  return process.env.EDGEC_WASM3_VENDOR ?? resolve(REPO_ROOT, '..', 'shared', 'vendor');
}

/** What is missing to build wasm3 here, or '' when the sources and the tools are present. */
export function wasm3Missing(): string {
  for (const v of WASM3_VERSIONS)
    if (!existsSync(join(vendorDir(), `wasm3-${v}`, 'source', 'wasm3.h')))
      return `wasm3 ${v} sources in ${vendorDir()} (or set EDGEC_WASM3_VENDOR)`;
  for (const tool of ['cmake', 'make', 'gcc'])
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool}: apt-get install cmake make gcc`;
  return '';
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (statSync(p).isFile()) out.push(p);
  }
  return out;
}

/** sha256 over the relative names and bytes of every file given (folders walked in name order). */
export function hashSources(paths: string[], base: string): string {
  const h = createHash('sha256');
  for (const p of paths.flatMap((x) => (statSync(x).isDirectory() ? filesUnder(x) : [x]))) {
    h.update(p.slice(base.length)).update('\0').update(readFileSync(p)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`);
}

/** Builds into a temporary folder and renames it into place, so an interrupted build is never reused. */
function cached(key: string, build: (dir: string) => void): string {
  const root = join(REPO_ROOT, 'node_modules', '.cache', 'edgec-wasm3');
  const dir = join(root, key);
  if (existsSync(join(dir, 'ok'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  build(tmp);
  run('touch', ['ok'], tmp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The wasm3 CLI with its simple WASI, as vendor/README.md builds it (BUILD_NATIVE off: portable code). */
export function wasm3Cli(version: Wasm3Version): string {
  const src = join(vendorDir(), `wasm3-${version}`);
  const dir = cached(`cli-${version}-${hashSources([src], src)}`, (tmp) => {
    run(
      'cmake',
      ['-S', src, '-B', join(tmp, 'b'), '-DBUILD_WASI=simple', '-DBUILD_NATIVE=OFF', '-DCMAKE_BUILD_TYPE=Release'],
      tmp,
    );
    run('make', ['-C', join(tmp, 'b'), '-j2', 'wasm3'], tmp);
  });
  return join(dir, 'b', 'wasm3');
}

/**
 * examples/mcu's host for this machine: the interpreter core (`source/m3_*.c` without the WASI/libc APIs)
 * + examples/mcu/edgec-host.c + the native main, with the firmware's wasm3 settings (examples/mcu/wasm3-config.h).
 * `-O1 -g` keeps callgrind's per-function counts readable.
 */
export function wasm3NativeHost(version: Wasm3Version): string {
  const src = join(vendorDir(), `wasm3-${version}`, 'source');
  const mcu = join(REPO_ROOT, 'examples', 'mcu');
  const ours = ['edgec-host.c', 'edgec-host.h', 'heap-stats.c', 'heap-stats.h', 'wasm3-config.h', 'native/main.c'].map(
    (f) => join(mcu, f),
  );
  const key = `host-${version}-${hashSources([src], src)}-${hashSources(ours, mcu)}`;
  const dir = cached(key, (tmp) => {
    const core = readdirSync(src).filter((f) => /^m3_.*\.c$/.test(f) && !f.startsWith('m3_api_'));
    run(
      'gcc',
      [
        '-O2',
        '-g',
        '-std=gnu11',
        '-include',
        join(mcu, 'wasm3-config.h'),
        `-I${src}`,
        `-I${mcu}`,
        ...core.map((f) => join(src, f)),
        join(mcu, 'edgec-host.c'),
        join(mcu, 'heap-stats.c'),
        join(mcu, 'native', 'main.c'),
        '-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free',
        '-lm',
        '-o',
        join(tmp, 'edgec-host'),
      ],
      tmp,
    );
  });
  return join(dir, 'edgec-host');
}
