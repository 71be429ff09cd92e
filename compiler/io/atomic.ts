// Atomic output files: write to a temp file in the destination's directory, then rename over
// the destination. A failed or interrupted command never leaves a partial or empty file, and an
// existing output stays untouched until the new one is complete.
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

function tempName(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`,
  );
}

/** Errors name the file the user asked for, never our temp file (a missing directory, `-o somedir/`). */
function asUserPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (err && typeof err === 'object' && 'code' in err) {
    err.path = path;
    delete err.dest;
  }
  return e;
}

/** rename() would report EISDIR against the temp file after all the work: refuse up front. */
function refuseDirectory(path: string): void {
  if (/[\\/]$/.test(path) || statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw Object.assign(new Error(`EISDIR: ${path} is a directory`), { code: 'EISDIR', path });
  }
}

/** Writes `data` to `path` atomically (same-directory temp file + fsync + rename). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  refuseDirectory(path);
  const tmp = tempName(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw asUserPath(e, path);
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw asUserPath(e, path);
  }
}

/**
 * Runs `write(dir)` against a fresh temp directory beside `destDir`, then renames every file it
 * produced into `destDir`. For writers that produce several files (model.json + model.bin): all
 * of them appear only if the writer succeeded. Each rename is atomic; the set is not, but no file
 * is ever partial.
 */
export function writeFilesAtomic(destDir: string, write: (tmpDir: string) => void): string[] {
  const tmpDir = mkdtempSync(join(destDir, '.edgec-tmp-'));
  try {
    write(tmpDir);
    const names = readdirSync(tmpDir);
    for (const n of names) refuseDirectory(join(destDir, n));
    for (const n of names) {
      try {
        renameSync(join(tmpDir, n), join(destDir, n));
      } catch (e) {
        throw asUserPath(e, join(destDir, n));
      }
    }
    return names.map((n) => join(destDir, n));
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
