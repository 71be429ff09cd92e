// Preloaded (`node --import`) into the `edgec run` child of bench/memory.ts, so the CLI itself runs unchanged.
// On exit it prints one tagged line on stderr: this process's peak RSS in bytes (VmHWM; getrusage's maxRSS would
// carry the forking parent's high-water mark over exec) and the ms from opening the bundle EDGEC_BENCH_BUNDLE (its
// bytes then go into memory: readFileSync, or load(path)'s read straight into the wasm memory; both open it with
// fs.openSync) to the first result in memory (the CLI's first fs call on the output path EDGEC_BENCH_OUT,
// writeFileAtomic's check that it is no directory). fs.openSync and fs.statSync are wrapped, and
// syncBuiltinESMExports() hands the wrappers to the CLI's `import { … } from 'node:fs'`.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const { EDGEC_BENCH_BUNDLE: bundle, EDGEC_BENCH_OUT: out } = process.env;
let t0 = -1,
  t1 = -1;
const { openSync, readFileSync, statSync } = fs;
fs.openSync = function (path, ...rest) {
  if (t0 < 0 && String(path) === bundle) t0 = performance.now();
  return openSync.call(this, path, ...rest);
};
fs.statSync = function (path, ...rest) {
  if (t0 >= 0 && t1 < 0 && String(path) === out) t1 = performance.now();
  return statSync.call(this, path, ...rest);
};
syncBuiltinESMExports();

process.on('exit', () => {
  const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stderr.write(`edgec-bench-rss ${Number(hwm[1]) * 1024} ${t0 >= 0 && t1 >= 0 ? t1 - t0 : -1}\n`);
});
