// Thin wrapper over node:util parseArgs that turns its TypeErrors into UsageErrors and
// handles `--help` the same way for every subcommand.
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, listNames } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommand<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    // node's own text for this one ends in an unbalanced quote: `as in '-- "--foo"`
    const unknown =
      (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' &&
      /^Unknown option '([^']+)'/.exec((e as Error).message);
    if (unknown)
      throw new UsageError(`unknown option '${unknown[1]}' (a file name starting with '-' goes after '--')`, command);
    throw new UsageError((e as Error).message.split('\n')[0]!, command);
  }
}

/**
 * `NAME=value` or plain `value` for `--input` / `--output` (`flag`). A NAME the model does not have is
 * a usage error listing the ones it has, unless `arg` is a path: it contains a '/' before the '=' or
 * (`existing`) names an existing file, so `./a=b.npy` still works.
 */
export function splitNamed(
  arg: string,
  names: readonly string[],
  flag: string,
  command: string,
  existing = false,
): { name?: string; value: string } {
  const eq = arg.indexOf('=');
  if (eq <= 0) return { value: arg };
  const name = arg.slice(0, eq);
  if (names.includes(name)) return { name, value: arg.slice(eq + 1) };
  if (name.includes('/') || (existing && existsSync(arg))) return { value: arg };
  const kind = flag === '--input' ? 'input' : 'output';
  throw new UsageError(`${flag} ${arg}: the model has no ${kind} '${name}' (${kind}s: ${listNames(names)})`, command);
}
