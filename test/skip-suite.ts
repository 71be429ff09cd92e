// A test file whose whole suite needs a system tool that is missing here (chromium, flatc,
// libonnx-testdata …) calls skipSuite instead of registering tests. It prints one marker line that
// scripts/test.js counts as a skip and names in its summary; under CI=true (where .ci/run installs the
// tool) it registers a failing test instead, so a broken install cannot pass as a skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/** The marker scripts/test.js looks for at the start of a stdout line. */
export const SKIPPED_SUITE_MARK = 'edgec-test: skipped suite:';

export function onCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** `suite`: the test file's name (e.g. 'browser/demo'); `missing`: what is missing and how to install it. */
export function skipSuite(suite: string, missing: string): void {
  if (onCI()) {
    test(`${suite}: needs ${missing}`, () => assert.unreachable(`${missing} is missing on CI (.ci/run installs it)`));
  } else {
    process.stdout.write(`${SKIPPED_SUITE_MARK} ${suite} (${missing})\n`);
  }
}
