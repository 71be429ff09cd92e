// Preloaded (`node --import`) into the `edgec run` child of bench/memory.ts: on exit, prints this process's peak
// RSS in bytes (VmHWM; getrusage's maxRSS would carry the forking parent's high-water mark over exec) as one tagged
// line on stderr, so the CLI itself runs unchanged.
import { readFileSync } from 'node:fs';

process.on('exit', () => {
  const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stderr.write(`edgec-bench-rss ${Number(hwm[1]) * 1024}\n`);
});
