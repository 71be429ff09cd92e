// TF.js weights: the model.json `weightsManifest` (groups of weights laid end to end over the group's shard
// files, in order) → one decoded array per weight name. Dequantisation is TF.js's own (io.decodeWeights):
// uint8/uint16 `q·scale + min` in float64 rounded once to float32 (int32 weights: Math.round), float16 exactly.
// Shards are read only from the model's own folder; every size is checked against the manifest.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ModelError, numElements } from '../../ir/graph.ts';

/** A decoded weight: float32 data for float weights, int32 for int32 ones (shapes, axes), bool as 0/1. */
export interface TfjsWeight {
  name: string;
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: Float32Array | Int32Array;
}

interface Entry {
  name: string;
  shape: number[];
  dtype: TfjsWeight['dtype'];
  /** Stored dtype: the quantisation dtype when quantised, else `dtype`. */
  stored: 'float32' | 'int32' | 'bool' | 'uint8' | 'uint16' | 'float16';
  scale: number;
  min: number;
}

const BYTES = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 } as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `p` lies strictly inside folder `dir` (both absolute). */
function inside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r !== '' && !isAbsolute(r) && r.split(sep)[0] !== '..';
}

/** The real path of shard `path`, which must stay inside the model's folder (no absolute path, `..` or symlink out). */
export function shardPath(file: string, where: string, path: string): string {
  const dir = dirname(resolve(file));
  const p = resolve(dir, path);
  const outside = (found: string): never => {
    throw new ModelError(file, where, `expected a shard file inside the model's folder, found ${found}`);
  };
  if (isAbsolute(path) || !inside(dir, p)) outside(`'${path}', a path that leads outside it`);
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError(file, where, `shard '${path}': ${code === 'ENOENT' ? 'no such file' : code} at ${p}`);
  }
  if (!inside(realpathSync(dir), real)) outside(`'${path}', a symlink to ${real} outside it`);
  return real;
}

/** A float16 bit pattern as a number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function parseEntry(file: string, where: string, w: unknown): Entry {
  if (!isObject(w))
    throw new ModelError(file, where, `expected a weight entry {name, shape, dtype}, found ${typeof w}`);
  const name = w.name;
  if (typeof name !== 'string' || name === '')
    throw new ModelError(file, where, `name: expected a non-empty string, found ${JSON.stringify(name)}`);
  const at = `weight '${name}'`;
  const shape = w.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new ModelError(file, at, `shape: expected a list of integers ≥ 0, found ${JSON.stringify(shape)}`);
  const dtype = w.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool')
    throw new ModelError(file, at, `dtype: expected float32, int32 or bool, found ${JSON.stringify(dtype)}`);
  const entry: Entry = { name, shape: shape as number[], dtype, stored: dtype, scale: 1, min: 0 };
  const q = w.quantization;
  if (q === undefined) return entry;
  if (!isObject(q)) throw new ModelError(file, at, `quantization: expected an object, found ${JSON.stringify(q)}`);
  if (q.dtype === 'float16') {
    if (dtype !== 'float32')
      throw new ModelError(file, at, `quantization: float16 expected a float32 weight, found dtype ${dtype}`);
    return { ...entry, stored: 'float16' };
  }
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16')
    throw new ModelError(
      file,
      at,
      `quantization.dtype: expected uint8, uint16 or float16, found ${JSON.stringify(q.dtype)}`,
    );
  if (typeof q.scale !== 'number' || typeof q.min !== 'number' || !isFinite(q.scale) || !isFinite(q.min))
    throw new ModelError(
      file,
      at,
      `quantization: expected finite numbers scale and min for ${q.dtype}, found scale ${JSON.stringify(q.scale)}, min ${JSON.stringify(q.min)}`,
    );
  if (dtype === 'bool') throw new ModelError(file, at, `quantization: expected a float32 or int32 weight, found bool`);
  return { ...entry, stored: q.dtype, scale: q.scale, min: q.min };
}

function decode(e: Entry, bytes: Uint8Array): Float32Array | Int32Array {
  const n = numElements(e.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = e.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (e.stored) {
      case 'float32':
        v = view.getFloat32(4 * i, true);
        break;
      case 'int32':
        v = view.getInt32(4 * i, true);
        break;
      case 'bool':
        v = bytes[i]! === 0 ? 0 : 1;
        break;
      case 'float16':
        v = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'uint8':
        v = bytes[i]! * e.scale + e.min;
        break;
      case 'uint16':
        v = view.getUint16(2 * i, true) * e.scale + e.min;
        break;
    }
    out[i] = e.dtype === 'int32' && (e.stored === 'uint8' || e.stored === 'uint16') ? Math.round(v) : v;
  }
  return out;
}

/**
 * Reads and decodes every weight of `manifest` (the model.json field) from the shards beside `file`.
 * Errors name the file, the group/shard and the weight: a missing shard, shards shorter or longer than the
 * weights the manifest lists, an unknown dtype, a duplicate weight name.
 */
export function readWeights(file: string, manifest: unknown): Map<string, TfjsWeight> {
  const weights = new Map<string, TfjsWeight>();
  if (manifest === undefined) return weights;
  if (!Array.isArray(manifest))
    throw new ModelError(file, 'weightsManifest', `expected a list of weight groups, found ${typeof manifest}`);
  manifest.forEach((group, g) => {
    const where = `weightsManifest[${g}]`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      throw new ModelError(file, where, 'expected a weight group {paths: [...], weights: [...]}');
    const entries = group.weights.map((w, i) => parseEntry(file, `${where}.weights[${i}]`, w));
    const sizes = entries.map((e) => numElements(e.shape) * BYTES[e.stored]);
    const starts: number[] = [];
    let total = 0;
    for (const s of sizes) (starts.push(total), (total += s));
    /** The weight whose bytes cover byte `offset` of the group (the last one past the end). */
    const weightAt = (offset: number): string => {
      let k = entries.findIndex((_, i) => starts[i]! + sizes[i]! > offset);
      if (k < 0) k = entries.length - 1;
      return entries[k] ? `weight '${entries[k]!.name}'` : 'no weight';
    };
    const shards: Uint8Array[] = [];
    let length = 0;
    group.paths.forEach((p, s) => {
      const at = `${where}.paths[${s}]`;
      if (typeof p !== 'string' || p === '')
        throw new ModelError(file, at, `expected a shard file name, found ${JSON.stringify(p)}`);
      let real: string;
      try {
        real = shardPath(file, at, p);
      } catch (e) {
        // name the weight the missing shard starts in (the shards before it are read, so the offset is known)
        if (e instanceof ModelError && !e.detail.includes('outside'))
          throw new ModelError(
            file,
            at,
            `${e.detail} (it holds the group's bytes from ${length} on, starting in ${weightAt(length)})`,
          );
        throw e;
      }
      const bytes = new Uint8Array(readFileSync(real));
      shards.push(bytes);
      length += bytes.length;
    });
    if (length !== total) {
      const files = group.paths.map((p) => `'${p}'`).join(', ');
      const k = entries.findIndex((_, i) => starts[i]! + sizes[i]! > length);
      const why =
        length < total
          ? `weight '${entries[k]!.name}' (bytes ${starts[k]}..${starts[k]! + sizes[k]!}) is cut at byte ${length}`
          : `${length - total} bytes follow the last weight${entries.length ? ` '${entries[entries.length - 1]!.name}'` : ''}`;
      throw new ModelError(
        file,
        where,
        `shard size: the manifest's ${entries.length} weights need ${total} bytes, the shards ${files} hold ${length}: ${why}`,
      );
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const s of shards) (all.set(s, o), (o += s.length));
    entries.forEach((e, i) => {
      if (weights.has(e.name))
        throw new ModelError(file, `weight '${e.name}'`, 'name: expected it once, found it twice');
      const data = decode(e, all.subarray(starts[i]!, starts[i]! + sizes[i]!));
      weights.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data });
    });
  });
  return weights;
}
