// Reads and writes NumPy .npy files (format v1/v2/v3 headers, C order, little-endian):
// <f4 <f8 |i1 |u1 <i4 <i8. Hand-written: the npm readers we found parse only and assume fetch.
// Errors are NpyError naming the file and what was found, so the CLI can print them in one line.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.ts';

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int32' | 'int64';
export type NpyData = Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

export class NpyError extends Error {
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'NpyError';
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<NpyDtype, string> = {
  float32: '<f4', float64: '<f8', int8: '|i1', uint8: '|u1', int32: '<i4', int64: '<i8',
};
// numpy writes '<i1' / '<u1' as '|i1' / '|u1', but accept both spellings when reading.
const FROM_DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32', '<f8': 'float64', '|i1': 'int8', '<i1': 'int8', 'i1': 'int8',
  '|u1': 'uint8', '<u1': 'uint8', 'u1': 'uint8', '<i4': 'int32', '<i8': 'int64',
};
const CTORS = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array, int64: BigInt64Array,
} as const;

export function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  return 'int64';
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Parses .npy bytes (v1/v2/v3 header). `file` only names the source in errors. The data is a copy (aligned). */
export function readNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new NpyError(file, 'not a .npy file (missing \\x93NUMPY magic)');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(file, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyError(file, `unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  if (start + headerLen > bytes.length) throw new NpyError(file, 'truncated .npy header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyError(file, `malformed .npy header: ${header.trim()}`);
  }
  if (fortran === 'True') {
    throw new NpyError(file, 'Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  }
  const dtype = FROM_DESCR[descr];
  if (dtype === undefined) {
    throw new NpyError(file, `unsupported dtype '${descr}' (expected one of ${Object.values(DESCR).join(', ')})`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const d = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(d) || d < 0) throw new NpyError(file, `malformed shape (${shapeText})`);
    return d;
  });
  const Ctor = CTORS[dtype];
  const count = product(shape);
  const dataStart = start + headerLen;
  const byteLen = count * Ctor.BYTES_PER_ELEMENT;
  if (dataStart + byteLen > bytes.length) {
    throw new NpyError(file, `truncated data: shape [${shape.join(',')}] ${dtype} needs ${byteLen} bytes, file has ${bytes.length - dataStart}`);
  }
  // Copy into a fresh buffer: the data start is only 16-aligned relative to the file, not to memory.
  // (Not bytes.slice(): on a Node Buffer that is a view, not a copy.)
  const raw = new Uint8Array(byteLen);
  raw.set(bytes.subarray(dataStart, dataStart + byteLen));
  return { dtype, shape, data: new Ctor(raw.buffer, 0, count) };
}

/** Serialises an array as .npy v1.0 (v2.0 if the header does not fit in 65535 bytes). */
export function writeNpy(arr: { shape: readonly number[]; data: NpyData }): Uint8Array {
  const dtype = dtypeOf(arr.data);
  if (product(arr.shape) !== arr.data.length) {
    throw new Error(`writeNpy: shape [${arr.shape.join(',')}] holds ${product(arr.shape)} elements, data has ${arr.data.length}`);
  }
  const shapeText = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let prefix = 10;
  // Header (prefix + dict + padding + '\n') is padded to a multiple of 64 bytes, as numpy does.
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - prefix;
  const payload = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(total + payload.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const text = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  out.set(payload, total);
  return out;
}

/** Reads a .npy file; errors name the path. */
export function loadNpy(path: string): NpyArray {
  return readNpy(new Uint8Array(readFileSync(path)), path);
}

/** Writes a .npy file atomically (temp file + rename). */
export function saveNpy(path: string, arr: { shape: readonly number[]; data: NpyData }): void {
  writeFileAtomic(path, writeNpy(arr));
}
