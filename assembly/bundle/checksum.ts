// The bundle's CRC-32 trailer (docs/bundle-format.md, "Checksum"): the last 4 bytes of a version-2
// file hold, little-endian, the CRC-32 of every byte before them — zlib's crc32 (IEEE 802.3,
// reflected polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF), so any tool can check it.
// Byte-at-a-time with a 1 KiB table built on first use (a host that skips the check never builds it).
import { setError } from '../error';

const table: usize = memory.data(1024, 4);
let tableReady = false;

/** 1 (default): edgec_load checks the trailer; 0: skipped (size- or time-critical hosts). */
export let verifyChecksum = true;

export function setVerifyChecksum(on: bool): void {
  verifyChecksum = on;
}

function buildTable(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(table + ((<usize>n) << 2), c);
  }
  tableReady = true;
}

/** zlib's crc32 of [ptr, ptr+len). */
export function crc32(ptr: usize, len: usize): u32 {
  if (!tableReady) buildTable();
  let c: u32 = 0xffffffff;
  for (let i: usize = 0; i < len; i++) {
    c = load<u32>(table + ((<usize>((c ^ (<u32>load<u8>(ptr + i))) & 0xff)) << 2)) ^ (c >>> 8);
  }
  return ~c;
}

function hex(v: u32): string {
  let s = v.toString(16);
  while (s.length < 8) s = '0' + s;
  return '0x' + s;
}

/** Checks the trailer of the file at [ptr, ptr+len); false (message set) on a mismatch. */
export function checkTrailer(ptr: usize, len: u32): bool {
  if (len < 4) {
    setError('bundle: file of ' + len.toString() + ' bytes has no room for its 4-byte checksum');
    return false;
  }
  const body = len - 4;
  const stored = load<u32>(ptr + <usize>body);
  const actual = crc32(ptr, <usize>body);
  if (stored == actual) return true;
  setError(
    'bundle: checksum mismatch: the CRC-32 of bytes [0, ' +
      body.toString() +
      ') is ' +
      hex(actual) +
      ', the trailer at byte ' +
      body.toString() +
      ' says ' +
      hex(stored) +
      ' (file is ' +
      len.toString() +
      ' bytes): the file was cut short or altered; copy or compile it again',
  );
  return false;
}
