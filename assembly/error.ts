// The executor's one error buffer: a fixed static block holding the UTF-8 message of the first
// failure since the last reset. The host reads it through edgec_error_ptr/len (no imports needed).

const ERROR_CAP: i32 = 1024;
const errorBuf: usize = memory.data(ERROR_CAP, 16);
let errorLen: i32 = 0;
/** Set by the first failure; validation checks it after each section instead of unwinding. */
export let failed: bool = false;

export function errorPtr(): usize {
  return errorBuf;
}
export function errorLength(): i32 {
  return errorLen;
}

export function resetError(): void {
  failed = false;
  errorLen = 0;
}

/** Records `msg` unless an earlier failure already did: the first cause is the useful one. */
export function setError(msg: string): void {
  if (failed) return;
  failed = true;
  writeError(msg);
}

/** Overwrites the buffer (used by abort, which must win over an earlier message). */
export function writeError(msg: string): void {
  // ASCII fast path byte by byte keeps this allocation-free (abort may run with a broken heap).
  let n = 0;
  for (let i = 0; i < msg.length && n < ERROR_CAP; i++) {
    let c = msg.charCodeAt(i);
    if (c >= 0x80) c = 0x3f; // '?': messages are ASCII by construction; never split a code point
    store<u8>(errorBuf + <usize>n, <u8>c);
    n++;
  }
  errorLen = n;
}
