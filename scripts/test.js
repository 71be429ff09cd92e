#!/usr/bin/env node
// Runs every uvu test file (test/**/*.test.ts, through tsx) and ends with one plain summary line,
// `tests: N passed, N failed, N skipped`, that CI and humans read the same way. Skipped counts uvu's
// skips plus whole suites skipped for a missing system tool (test/skip-suite.ts prints one marker line
// each); the line before the summary names those suites.
// Extra arguments narrow the run: `npm test -- assembly` runs the files whose path matches.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIPPED_SUITE_MARK = 'edgec-test: skipped suite:'; // test/skip-suite.ts
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pattern = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : '.*\\.test\\.ts$';
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', pattern], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
// eslint-disable-next-line no-control-regex
const plainText = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
let tail = '',
  line = '';
const skippedSuites = [];
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const text = chunk.toString();
  tail = (tail + text).slice(-4000);
  const lines = (line + text).split('\n');
  line = lines.pop() ?? '';
  for (const l of lines) {
    const at = plainText(l).indexOf(SKIPPED_SUITE_MARK);
    if (at >= 0)
      skippedSuites.push(
        plainText(l)
          .slice(at + SKIPPED_SUITE_MARK.length)
          .trim(),
      );
  }
});
child.on('close', (code) => {
  const plain = plainText(tail);
  const num = (label) => Number(plain.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
  const total = num('Total'),
    passed = num('Passed'),
    skipped = num('Skipped') + skippedSuites.length;
  const failed = code === 0 ? total - passed : Math.max(1, total - passed);
  if (skippedSuites.length > 0) console.log(`skipped suites (${skippedSuites.length}): ${skippedSuites.join('; ')}`);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});
