// Thin wrapper over node:util parseArgs that turns its TypeErrors into UsageErrors and
// handles `--help` the same way for every subcommand.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommand<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!, command);
  }
}

/** `name=value` or plain `value`; the name must be a known one so paths with '=' still work. */
export function splitNamed(arg: string, names: readonly string[]): { name?: string; value: string } {
  const eq = arg.indexOf('=');
  if (eq > 0 && names.includes(arg.slice(0, eq))) return { name: arg.slice(0, eq), value: arg.slice(eq + 1) };
  return { value: arg };
}
