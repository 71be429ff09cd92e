// The CLI as a user runs it, for the CLI tests: `node bin/edgec.js` (the esbuild bundle in dist/), or with
// EDGEC_TEST_CLI=source compiler/cli.ts through tsx (no build needed); stack traces off (EDGEC_DEBUG unset).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
/** node arguments that start the CLI (append the edgec arguments). */
export const CLI =
  process.env.EDGEC_TEST_CLI === 'source'
    ? ['--import', import.meta.resolve('tsx'), join(ROOT, 'compiler/cli.ts')]
    : [join(ROOT, 'bin/edgec.js')];

/** A runner of `edgec …args` in `cwd` (extra environment `env` on top): exit code, stdout, stderr. */
export function edgecIn(cwd: string, env: Record<string, string> = {}) {
  return (...args: string[]) => {
    const r = spawnSync(process.execPath, [...CLI, ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, EDGEC_DEBUG: '', ...env },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
}
