// The slice of cli-progress's API the CLI uses (the package ships no types; @types is not a dependency).
declare module 'cli-progress' {
  interface BarOptions {
    stream?: NodeJS.WritableStream;
    format?: string;
  }
  export class SingleBar {
    constructor(opts: BarOptions, preset?: unknown);
    start(total: number, value: number, payload?: Record<string, string | number>): void;
    update(value: number, payload?: Record<string, string | number>): void;
    increment(step?: number): void;
    stop(): void;
  }
  export const Presets: { shades_classic: unknown };
  const cliProgress: { SingleBar: typeof SingleBar; Presets: typeof Presets };
  export default cliProgress;
}
