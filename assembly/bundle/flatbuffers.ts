// A bounds-checked FlatBuffers reader over one buffer [base, base+length). Positions are byte
// offsets into the buffer (u32). Every read checks the buffer end; a failure records a message
// naming the byte offset (error.ts) and returns 0, and callers test `failed` after each section.
import { setError, failed } from '../error';

let base: usize = 0;
let length: u64 = 0;

export function setBuffer(ptr: usize, len: u32): void {
  base = ptr;
  length = <u64>len;
}

export function bufferBase(): usize {
  return base;
}
export function bufferLength(): u32 {
  return <u32>length;
}

function fail(what: string, at: u64): void {
  setError('bundle: ' + what + ' at byte ' + at.toString() + ' (file is ' + length.toString() + ' bytes)');
}

/** True when [pos, pos+n) lies inside the buffer. */
// @ts-ignore: decorator
@inline export function inBounds(pos: u64, n: u64): bool {
  return pos <= length && n <= length - pos;
}

export function readU8(pos: u64): u32 {
  if (!inBounds(pos, 1)) {
    fail('1-byte read past the end', pos);
    return 0;
  }
  return <u32>load<u8>(base + <usize>pos);
}
export function readU16(pos: u64): u32 {
  if (!inBounds(pos, 2)) {
    fail('2-byte read past the end', pos);
    return 0;
  }
  return <u32>load<u16>(base + <usize>pos);
}
export function readU32(pos: u64): u32 {
  if (!inBounds(pos, 4)) {
    fail('4-byte read past the end', pos);
    return 0;
  }
  return load<u32>(base + <usize>pos);
}
export function readI32(pos: u64): i32 {
  return <i32>readU32(pos);
}
export function readF32(pos: u64): f32 {
  return reinterpret<f32>(readU32(pos));
}

/** Root table position, after checking the file identifier (bytes 4..8). */
export function rootTable(ident: string): u32 {
  if (length < 8) {
    fail('file shorter than the 8-byte header', 0);
    return 0;
  }
  for (let i = 0; i < 4; i++) {
    if (readU8(4 + i) != <u32>ident.charCodeAt(i)) {
      setError("bundle: file identifier is not '" + ident + "' (bytes 4..8)");
      return 0;
    }
  }
  const root = readU32(0);
  if (failed) return 0;
  checkTable(root);
  return failed ? 0 : root;
}

/** Checks the table at `t` and its vtable lie inside the buffer. */
export function checkTable(t: u64): bool {
  if (!inBounds(t, 4)) {
    fail('table starts past the end', t);
    return false;
  }
  const vt = <i64>t - <i64>load<i32>(base + <usize>t);
  if (vt < 0 || !inBounds(<u64>vt, 4)) {
    fail('vtable of the table at ' + t.toString() + ' lies outside the file', <u64>max<i64>(vt, 0));
    return false;
  }
  const vtSize = <u64>load<u16>(base + <usize>vt);
  const tSize = <u64>load<u16>(base + <usize>vt + 2);
  if (vtSize < 4 || (vtSize & 1) != 0 || !inBounds(<u64>vt, vtSize)) {
    fail('bad vtable size ' + vtSize.toString(), <u64>vt);
    return false;
  }
  if (tSize < 4 || !inBounds(t, tSize)) {
    fail('table of ' + tSize.toString() + ' bytes runs past the end', t);
    return false;
  }
  return true;
}

/** Position of field `slot` of the (checked) table at `t`, or 0 when the field is absent. */
export function fieldPos(t: u32, slot: i32, size: u32): u64 {
  if (failed) return 0;
  const vt = <u64>(<i64>t - <i64>load<i32>(base + <usize>t));
  const vtSize = <u64>load<u16>(base + <usize>vt);
  const tSize = <u32>load<u16>(base + <usize>vt + 2);
  const entry = <u64>(4 + 2 * slot);
  if (entry + 2 > vtSize) return 0;
  const fo = <u32>load<u16>(base + <usize>(vt + entry));
  if (fo == 0) return 0;
  if (<u64>fo + <u64>size > <u64>tSize) {
    fail('field ' + slot.toString() + ' lies outside its table', <u64>t + fo);
    return 0;
  }
  return <u64>t + <u64>fo;
}

export function fieldU8(t: u32, slot: i32, def: u32): u32 {
  const p = fieldPos(t, slot, 1);
  return p == 0 ? def : readU8(p);
}
export function fieldU16(t: u32, slot: i32, def: u32): u32 {
  const p = fieldPos(t, slot, 2);
  return p == 0 ? def : readU16(p);
}
export function fieldI32(t: u32, slot: i32, def: i32): i32 {
  const p = fieldPos(t, slot, 4);
  return p == 0 ? def : readI32(p);
}
export function fieldU32(t: u32, slot: i32, def: u32): u32 {
  const p = fieldPos(t, slot, 4);
  return p == 0 ? def : readU32(p);
}
export function fieldF32(t: u32, slot: i32, def: f32): f32 {
  const p = fieldPos(t, slot, 4);
  return p == 0 ? def : readF32(p);
}

/** Target of an offset field (vector, string, table), or 0 when absent. */
export function fieldRef(t: u32, slot: i32): u32 {
  const p = fieldPos(t, slot, 4);
  if (p == 0) return 0;
  const target = p + <u64>readU32(p);
  if (failed) return 0;
  if (target >= length) {
    fail('offset field points past the end', p);
    return 0;
  }
  return <u32>target;
}

/** A sub-table field, checked; 0 when absent. */
export function fieldTable(t: u32, slot: i32): u32 {
  const r = fieldRef(t, slot);
  if (r == 0) return 0;
  return checkTable(r) ? r : 0;
}

/** Element count of the vector at `v` after checking all `elemSize`-byte elements are inside. */
export function vectorLength(v: u32, elemSize: u32): u32 {
  const n = readU32(v);
  if (failed) return 0;
  if (!inBounds(<u64>v + 4, <u64>n * <u64>elemSize)) {
    fail('vector of ' + n.toString() + ' elements runs past the end', v);
    return 0;
  }
  return n;
}

/** Position of element i of the vector at v. */
// @ts-ignore: decorator
@inline export function vectorElem(v: u32, i: u32, elemSize: u32): u32 {
  return v + 4 + i * elemSize;
}

/** Table element i of a vector of tables (checked). */
export function vectorTable(v: u32, i: u32): u32 {
  const e = <u64>vectorElem(v, i, 4);
  const target = e + <u64>readU32(e);
  if (failed) return 0;
  return checkTable(target) ? <u32>target : 0;
}

/** Reads a vector of int32 into a fresh array (empty when absent). */
export function fieldI32Vector(t: u32, slot: i32): StaticArray<i32> {
  const v = fieldRef(t, slot);
  if (v == 0) return new StaticArray<i32>(0);
  const n = vectorLength(v, 4);
  if (failed) return new StaticArray<i32>(0);
  const out = new StaticArray<i32>(n);
  for (let i: u32 = 0; i < n; i++) out[i] = load<i32>(base + <usize>vectorElem(v, i, 4));
  return out;
}

/** Reads a string field (empty when absent). */
export function fieldString(t: u32, slot: i32): string {
  const p = fieldStringSpan(t, slot);
  return p == 0 ? '' : String.UTF8.decodeUnsafe(p, <usize>stringSpanLength);
}

/** Length in bytes of the string fieldStringSpan found last. */
export let stringSpanLength: i32 = 0;

/** Checks string field `slot` as fieldString does and returns its bytes' address (0: absent or bad), nothing decoded. */
export function fieldStringSpan(t: u32, slot: i32): usize {
  stringSpanLength = 0;
  const v = fieldRef(t, slot);
  if (v == 0) return 0;
  const n = vectorLength(v, 1);
  if (failed) return 0;
  // FlatBuffers strings end in a 0 byte: a file cut just after the characters is still truncated.
  if (readU8(<u64>v + 4 + <u64>n) != 0) {
    if (!failed) fail('string is not 0-terminated', <u64>v + 4 + <u64>n);
    return 0;
  }
  stringSpanLength = <i32>n;
  return n == 0 ? 0 : base + <usize>v + 4;
}
