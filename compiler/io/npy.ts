// Reads and writes NumPy .npy files (format v1/v2/v3 headers, C order, little-endian):
// <f4 <f8 |i1 |u1 <i4 <i8. Hand-written: the npm readers we found parse only and assume fetch.
// Errors are NpyError naming the file and what was found, so the CLI can print them in one line.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic.ts';

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int32' | 'int64';
export type NpyData = Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

export class NpyError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'NpyError';
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<NpyDtype, string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  uint8: '|u1',
  int32: '<i4',
  int64: '<i8',
};
// numpy writes '<i1' / '<u1' as '|i1' / '|u1', but accept both spellings when reading.
const FROM_DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '|i1': 'int8',
  '<i1': 'int8',
  i1: 'int8',
  '|u1': 'uint8',
  '<u1': 'uint8',
  u1: 'uint8',
  '<i4': 'int32',
  '<i8': 'int64',
};
const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
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

/** What a .npy header says: dtype, shape and the byte offset where the row-major data starts. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  dataOffset: number;
}

/**
 * Parses the header at the start of `bytes` (the whole file, or at least its first bytes: v1 headers
 * fit in 65,546). `file` only names the source in errors. Does not check that the data is all there.
 */
export function readNpyHeader(bytes: Uint8Array, file = '<npy>'): NpyHeader {
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
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(d) || d < 0) throw new NpyError(file, `malformed shape (${shapeText})`);
      return d;
    });
  return { dtype, shape, dataOffset: start + headerLen };
}

/** Bytes per element of a dtype. */
export function npyElementSize(dtype: NpyDtype): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** A typed array of `dtype` over a fresh, aligned copy of `raw` (raw.length a multiple of the element size). */
export function npyTypedArray(dtype: NpyDtype, raw: Uint8Array): NpyData {
  const Ctor = CTORS[dtype];
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return new Ctor(copy.buffer, 0, raw.length / Ctor.BYTES_PER_ELEMENT);
}

/** Bytes of the header's data, checked to fit in the `available` bytes after its data offset. */
function dataBytes(h: NpyHeader, available: number, file: string): number {
  const byteLen = product(h.shape) * npyElementSize(h.dtype);
  if (h.dataOffset + byteLen > available) {
    throw new NpyError(
      file,
      `truncated data: shape [${h.shape.join(',')}] ${h.dtype} needs ${byteLen} bytes, file has ${available - h.dataOffset}`,
    );
  }
  return byteLen;
}

/** Parses .npy bytes (v1/v2/v3 header). `file` only names the source in errors. The data is a copy (aligned). */
export function readNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  const h = readNpyHeader(bytes, file);
  const { dtype, shape, dataOffset: dataStart } = h;
  const byteLen = dataBytes(h, bytes.length, file);
  // Copy into a fresh buffer: the data start is only 16-aligned relative to the file, not to memory.
  // (Not bytes.slice(): on a Node Buffer that is a view, not a copy.)
  return { dtype, shape, data: npyTypedArray(dtype, bytes.subarray(dataStart, dataStart + byteLen)) };
}

/** Serialises an array as .npy v1.0 (v2.0 if the header does not fit in 65535 bytes). */
export function writeNpy(arr: { shape: readonly number[]; data: NpyData }): Uint8Array {
  const dtype = dtypeOf(arr.data);
  if (product(arr.shape) !== arr.data.length) {
    throw new Error(
      `writeNpy: shape [${arr.shape.join(',')}] holds ${product(arr.shape)} elements, data has ${arr.data.length}`,
    );
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

/** The header of the open .npy file `fd` (`size` bytes): a v1 one is at most 10 + 65535 bytes, v2/v3 say theirs. */
function readHeaderAt(fd: number, size: number, path: string): NpyHeader {
  let head = new Uint8Array(Math.min(size, 65546));
  readSync(fd, head, 0, head.length, 0);
  if (head.length >= 12 && head[6]! >= 2) {
    const len = 12 + new DataView(head.buffer).getUint32(8, true);
    if (len > head.length && len <= size) {
      head = new Uint8Array(len);
      readSync(fd, head, 0, len, 0);
    }
  }
  return readNpyHeader(head, path);
}

/**
 * Reads a .npy file; errors name the path. The data is read straight into its (aligned) typed array, so a large
 * file is held once, not as the file's bytes plus a copy. `target`, given the checked header, may name that array:
 * one of the header's dtype and element count (e.g. the runtime's input view, Model.inputView), or undefined for a
 * fresh one.
 */
export function loadNpy(path: string, target?: (h: NpyHeader) => NpyData | undefined): NpyArray {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const h = readHeaderAt(fd, size, path);
    const { dtype, shape, dataOffset } = h;
    const byteLen = dataBytes(h, size, path);
    const data = target?.(h) ?? new CTORS[dtype](product(shape));
    if (!(data instanceof CTORS[dtype]) || data.byteLength !== byteLen)
      throw new Error(`loadNpy: the target for ${path} is not a ${dtype} array of ${product(shape)} elements`);
    const into = new Uint8Array(data.buffer, data.byteOffset, byteLen);
    for (let at = 0; at < byteLen;) {
      const n = readSync(fd, into, at, byteLen - at, dataOffset + at);
      if (n === 0) throw new NpyError(path, `truncated data: the file shrank while read`);
      at += n;
    }
    return { dtype, shape, data };
  } finally {
    closeSync(fd);
  }
}

/** Writes a .npy file atomically (temp file + rename). */
export function saveNpy(path: string, arr: { shape: readonly number[]; data: NpyData }): void {
  writeFileAtomic(path, writeNpy(arr));
}

/**
 * A .npy file opened for reading by rows (first axis) without loading it: the header is parsed on
 * open, each read is one positioned read of the rows asked for. For data larger than memory.
 */
export class NpyFile {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  /** Elements and bytes of one row (the product of every dim after the first). */
  readonly rowElements: number;
  readonly rowBytes: number;
  private readonly dataOffset: number;
  private fd: number | undefined;

  /** Opens `path`, checks the header and that the file holds every row the shape promises. */
  constructor(readonly path: string) {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const h = readHeaderAt(fd, size, path);
      if (h.shape.length === 0) throw new NpyError(path, 'a 0-d array has no rows to read');
      this.dtype = h.dtype;
      this.shape = h.shape;
      this.dataOffset = h.dataOffset;
      this.rowElements = product(h.shape.slice(1));
      this.rowBytes = this.rowElements * npyElementSize(h.dtype);
      dataBytes(h, size, path);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.fd = fd;
  }

  /** Number of rows (the first dim). */
  get rows(): number {
    return this.shape[0]!;
  }

  /** Raw little-endian bytes of rows `indices[i]`, one after the other (runs of consecutive rows are one read). */
  readRowBytes(indices: ArrayLike<number>, out = new Uint8Array(indices.length * this.rowBytes)): Uint8Array {
    if (this.fd === undefined) throw new NpyError(this.path, 'read after close');
    const rb = this.rowBytes;
    for (let i = 0; i < indices.length;) {
      const first = indices[i]!;
      if (!Number.isInteger(first) || first < 0 || first >= this.rows) {
        throw new RangeError(`${this.path}: row ${first} outside [0, ${this.rows})`);
      }
      let run = 1;
      while (i + run < indices.length && indices[i + run] === first + run && first + run < this.rows) run++;
      let done = 0;
      const want = run * rb;
      while (done < want) {
        const n = readSync(this.fd, out, i * rb + done, want - done, this.dataOffset + first * rb + done);
        if (n === 0) throw new NpyError(this.path, `truncated data: row ${first + Math.floor(done / rb)} ends early`);
        done += n;
      }
      i += run;
    }
    return out;
  }

  /** Rows `indices[i]` as one typed array of the file's dtype ([indices.length, ...shape[1:]] row-major). */
  readRows(indices: ArrayLike<number>): NpyData {
    return npyTypedArray(this.dtype, this.readRowBytes(indices));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
