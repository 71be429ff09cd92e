// Error plumbing of the CLI: every failure becomes ONE line on stderr (`edgec: error: …`) and an
// exit code (2 = usage, 1 = anything else); the stack only with EDGEC_DEBUG=1.

/** Bad command line: unknown flag, missing argument, wrong value. Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure tied to a file the user named (unreadable, wrong contents). Exit code 1. */
export class CliError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'CliError';
  }
}

const KNOWN = new Set(['ModelError', 'BundleError', 'NpyError', 'CliError', 'CheckpointError']);

/** Names for a message: all of them when few, else the first `max` and 'and N more' (a line stays short). */
export function listNames(names: readonly string[], max = 8): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ').trim();
}

/** Node fs errors name the path in `path`; say what went wrong in words a user expects. */
function describeSystemError(e: NodeJS.ErrnoException): string | undefined {
  const path = e.path ?? (e as { dest?: string }).dest;
  if (!path || !e.code) return undefined;
  const what: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory, expected a file',
    ENOTDIR: 'a parent is not a directory',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  };
  return `${path}: ${what[e.code] ?? e.code}`;
}

/** Formats any thrown value as the single stderr line and picks the exit code. */
export function reportError(e: unknown): { line: string; code: number } {
  // by name, as KNOWN: dist/cli-run.js (`edgec run`, bundled apart) throws its own copy of the class
  if (e instanceof Error && e.name === 'UsageError') {
    const command = (e as UsageError).command;
    const hint = command ? `edgec ${command} --help` : 'edgec --help';
    return { line: `edgec: error: ${oneLine(e.message)} (see '${hint}')`, code: 2 };
  }
  if (e instanceof Error) {
    if (KNOWN.has(e.name)) return { line: `edgec: error: ${oneLine(e.message)}`, code: 1 };
    const sys = describeSystemError(e as NodeJS.ErrnoException);
    if (sys) return { line: `edgec: error: ${oneLine(sys)}`, code: 1 };
    return { line: `edgec: error: ${oneLine(e.message)} (internal error; EDGEC_DEBUG=1 shows the stack)`, code: 1 };
  }
  return { line: `edgec: error: ${oneLine(String(e))}`, code: 1 };
}
