// `edgec inspect <bundle>`: prints the per-step table of compiler/cli/inspect.ts.
import { readFileSync } from 'node:fs';
import { load, BundleError } from '../../runtime/node.ts';
import { parseCommand } from './args.ts';
import { CliError, UsageError, oneLine } from './errors.ts';
import { NODE_COLUMN, formatInspect, summarizeBundle } from './inspect.ts';
import { formatBlockReport } from './branches.ts';
import { formatMcuBudget, mcuBudget } from '../embed/mcu-budget.ts';

export const INSPECT_HELP = `usage: edgec inspect <bundle.edgec> [--wide] [--mcu]

Prints one row per step (index, kernel, node, input shapes -> output shape, params, MACs, arena
offsets of the outputs), then totals: steps, MACs, arena, constants and file bytes.

options:
  --wide       show node names in full (the table cuts them at ${NODE_COLUMN} characters)
  --mcu        also print the RAM and flash it needs on a microcontroller under wasm3 (examples/mcu)
  -h, --help   show this help`;

/**
 * Validates the file exactly as `load` does (the executor's checksum and structural checks), for
 * every variant, before anything is printed: inspect never shows a table for a bundle load refuses.
 */
export async function validateBundle(bytes: Uint8Array, file: string): Promise<void> {
  try {
    const model = await load(bytes);
    for (const v of model.variants) model.useVariant(v);
  } catch (e) {
    if (e instanceof BundleError) throw new CliError(file, oneLine(e.message));
    throw e;
  }
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('inspect', argv, {
    wide: { type: 'boolean' },
    mcu: { type: 'boolean' },
  });
  if (values.help) {
    console.log(INSPECT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one bundle file, got ${positionals.length}`, 'inspect');
  const file = positionals[0]!;
  const bytes = new Uint8Array(readFileSync(file));
  await validateBundle(bytes, file);
  let text: string;
  try {
    text = formatInspect(summarizeBundle(bytes), file, { wide: values.wide === true }) + formatBlockReport(bytes);
  } catch (e) {
    // The generated readers throw RangeError & co. on truncated files: name the file instead.
    const msg = (e as Error).message;
    throw new CliError(file, msg.startsWith('not an edgec bundle') ? msg : `not a readable edgec bundle (${msg})`);
  }
  if (values.mcu === true) text += formatMcuBudget(await mcuBudget(bytes));
  console.log(text);
  return 0;
}
