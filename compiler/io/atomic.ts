// Atomic output files: write to a temp file in the destination's directory, then rename over
// the destination. A failed or interrupted command never leaves a partial or empty file, and an
// existing output stays untouched until the new one is complete.
import { closeSync, fsyncSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
}

/** Writes `data` to `path` atomically (same-directory temp file + fsync + rename). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = tempName(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    // Name the file the user asked for, not our temp file (e.g. a missing output directory).
    (e as NodeJS.ErrnoException).path = path;
    throw e;
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    throw e;
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
    for (const n of names) renameSync(join(tmpDir, n), join(destDir, n));
    return names.map((n) => join(destDir, n));
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
