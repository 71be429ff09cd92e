// The edgec command line: compile | run | inspect | profile | eval | import | train | compress | distill (esbuild bundles this file into
// dist/cli.js, which bin/edgec.js imports). Every failure is one stderr line and exit code 1
// (2 for usage errors); EDGEC_DEBUG=1 adds the stack.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { reportError, UsageError } from './cli/errors.ts';

export const HELP = `usage: edgec <command> [options]

commands:
  compile <model.json|.onnx|.tflite|TF.js> -o <out.edgec>   compile a model into a bundle
  run <bundle> --input <x.npy> --output <y.npy>    run a bundle on .npy data
  inspect <bundle>                                 per-step table: kernels, shapes, params, MACs, arena
  profile <bundle> --input <x.npy>                 how often each branch / early exit is taken, MACs run
  eval <bundle|model> -i <x.npy> --labels <y.npy>  top-1 / top-5 accuracy (or MSE) on labelled data
  import <model.onnx|.tflite|TF.js model.json> -o <model.json>   convert to model.json + .bin
  train <model> --data <x.npy> --labels <y.npy> -o <out.json|out.onnx>   train the weights in the wasm
  compress <model> -o <small.json|.onnx|.edgec>    prune channels and layers; report MACs, latency, accuracy
  distill --teacher <T> <student> --data <x.npy> -o <out>   train a student on a teacher's soft targets

options:
  -h, --help      show help (also 'edgec <command> --help')
  -v, --version   print the version

Errors print one line to stderr and exit 1 (2 for usage errors); EDGEC_DEBUG=1 shows the stack.`;

type Command = (argv: string[]) => Promise<number>;
// Each command's module is imported only when it runs: `edgec run` then loads the runtime, not the whole
// compiler (eager imports cost every run ~15 MiB of peak RSS; bench/memory.ts).
const COMMANDS: Record<string, () => Promise<Command>> = {
  compile: async () => (await import('./cli/compile.ts')).compileCommand,
  run: async () => (await import('./cli/run.ts')).runCommand,
  inspect: async () => (await import('./cli/inspect-command.ts')).inspectCommand,
  import: async () => (await import('./cli/import.ts')).importCommand,
  profile: async () => (await import('./cli/branches.ts')).profileCommand,
  eval: async () => (await import('./cli/eval.ts')).evalCommand,
  train: async () => (await import('./cli/train.ts')).trainCommand,
  compress: async () => (await import('./cli/compress.ts')).compressCommand,
  distill: async () => (await import('./cli/distill.ts')).distillCommand,
};

/** The package version; package.json sits one level above both compiler/ and dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined) {
      process.stderr.write(`${HELP}\n`);
      return 2;
    }
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      console.log(HELP);
      return 0;
    }
    if (cmd === '--version' || cmd === '-v') {
      console.log(version());
      return 0;
    }
    const command = COMMANDS[cmd];
    if (!command) throw new UsageError(`unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return await (
      await command()
    )(rest);
  } catch (e) {
    const { line, code } = reportError(e);
    process.stderr.write(`${line}\n`);
    if (process.env.EDGEC_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return code;
  }
}

// Runs when loaded as the program (bin/edgec.js imports the bundle; `tsx compiler/cli.ts` too),
// not when a test imports `main`.
const entry = process.argv[1] ?? '';
if (/(?:edgec(?:\.js)?|cli\.(?:js|ts))$/.test(entry)) {
  // `edgec inspect x | head` closes stdout early: that is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  process.exitCode = await main(process.argv.slice(2));
}
