#!/usr/bin/env node
// Runs every uvu test file (test/**/*.test.ts, through tsx) and ends with one plain summary line,
// `tests: N passed, N failed, N skipped`, that CI and humans read the same way.
// Extra arguments narrow the run: `npm test -- assembly` runs the files whose path matches.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pattern = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : '.*\\.test\\.ts$';
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', pattern],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  // eslint-disable-next-line no-control-regex
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (label) => Number(plain.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
  const total = num('Total'), passed = num('Passed'), skipped = num('Skipped');
  const failed = code === 0 ? total - passed : Math.max(1, total - passed);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});
