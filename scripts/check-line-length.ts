// Fails on source lines longer than the limit (default 120 characters, prettier's printWidth in .prettierrc.json),
// one `file:line: N characters` per line. prettier leaves comments and long string literals as they are, so this
// is the hard limit beside `npm run format:check`. Usage: node --import tsx scripts/check-line-length.ts
// [--max N] [dir or file ...] (default: assembly/); exit 1 when any line is over.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');

/** The .ts files under a path (a file is itself), sorted so the report reads in a stable order. */
function tsFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(path, f));
}

/** `file:line: N characters` for each line over `max` characters (code points, so `·` and `≤` count one). */
export function longLines(files: readonly string[], max: number): string[] {
  const out: string[] = [];
  for (const f of files) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const n = [...line.replace(/\r$/, '')].length;
        if (n > max) out.push(`${relative(root, f)}:${i + 1}: ${n} characters (max ${max})`);
      });
  }
  return out;
}

if (import.meta.filename === process.argv[1]) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--max');
  const max = at >= 0 ? Number(args.splice(at, 2)[1]) : 120;
  if (!Number.isInteger(max) || max < 1) {
    console.error('check-line-length: --max needs a positive integer');
    process.exit(2);
  }
  const paths = (args.length ? args : ['assembly']).map((p) => resolve(root, p));
  const missing = paths.filter((p) => {
    try {
      statSync(p);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    console.error(`check-line-length: no such file or directory: ${missing.map((p) => relative(root, p)).join(', ')}`);
    process.exit(2);
  }
  const over = longLines(paths.flatMap(tsFiles), max);
  if (over.length) {
    console.error(over.join('\n'));
    console.error(`${over.length} line(s) over ${max} characters`);
    process.exit(1);
  }
}
