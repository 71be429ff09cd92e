// WASI command entry (the `wasi` target: scalar kernels, wasm3 >= 0.5 safe): `runtime.wasm model.edgec
// in.bin out.bin` reads raw little-endian tensors (per sample: input 0, input 1, ... in bundle order),
// runs each sample and writes the outputs the same way (docs/embedding.md). Exact: same kernels as scalar.
import { errorPtr, errorLength, resetError, failed } from './error';
import { setBuffer, rootTable, fieldRef, vectorLength, vectorTable, fieldString } from './bundle/flatbuffers';
import { setSelectedVariant } from './bundle/variant';
import * as S from './bundle/slots';
import { loadBundle, runModel, model } from './executor';
import './abort';

// Only calls wasm3 >= 0.5 implements (docs/embedding.md). Every pointer handed over is a heap
// address, never 0 (wasm3 0.5.0 reads address 0 as NULL).
@external('wasi_snapshot_preview1', 'args_sizes_get')
declare function args_sizes_get(argc: usize, bufSize: usize): i32;
@external('wasi_snapshot_preview1', 'args_get')
declare function args_get(argv: usize, buf: usize): i32;
@external('wasi_snapshot_preview1', 'fd_prestat_get')
declare function fd_prestat_get(fd: i32, buf: usize): i32;
@external('wasi_snapshot_preview1', 'fd_prestat_dir_name')
declare function fd_prestat_dir_name(fd: i32, path: usize, len: usize): i32;
@external('wasi_snapshot_preview1', 'path_open')
declare function path_open(dirfd: i32, dirflags: i32, path: usize, pathLen: usize, oflags: i32,
  rightsBase: u64, rightsInheriting: u64, fdflags: i32, fdOut: usize): i32;
@external('wasi_snapshot_preview1', 'fd_seek')
declare function fd_seek(fd: i32, offset: i64, whence: i32, newOffset: usize): i32;
@external('wasi_snapshot_preview1', 'fd_read')
declare function fd_read(fd: i32, iovs: usize, iovsLen: usize, nread: usize): i32;
@external('wasi_snapshot_preview1', 'fd_write')
declare function fd_write(fd: i32, iovs: usize, iovsLen: usize, nwritten: usize): i32;
@external('wasi_snapshot_preview1', 'fd_close')
declare function fd_close(fd: i32): i32;
@external('wasi_snapshot_preview1', 'proc_exit')
declare function proc_exit(code: i32): void;

const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_SEEK: u64 = 1 << 2;
const RIGHT_FD_TELL: u64 = 1 << 5;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const O_CREAT: i32 = 1;
const O_TRUNC: i32 = 8;
const WHENCE_SET: i32 = 0;
const WHENCE_END: i32 = 2;

/** A bundle linked into the module by `edgec compile --embed` (address, length); 0 = read argv[1]. */
export let edgec_embedded_ptr: u32 = 0;
export let edgec_embedded_len: u32 = 0;

// Scratch for iovecs and out-parameters: a heap block, so never address 0.
const scratch: usize = heap.alloc(64);

function writeAll(fd: i32, ptr: usize, len: usize): bool {
  while (len > 0) {
    store<u32>(scratch, <u32>ptr);
    store<u32>(scratch + 4, <u32>len);
    if (fd_write(fd, scratch, 1, scratch + 8) != 0) return false;
    const n = <usize>load<u32>(scratch + 8);
    if (n == 0) return false;
    ptr += n;
    len -= n;
  }
  return true;
}

function writeText(fd: i32, s: string): void {
  const b = String.UTF8.encode(s);
  writeAll(fd, changetype<usize>(b), <usize>b.byteLength);
}

/** Prints `edgec-wasi: <msg>` on stderr and exits with `code`. */
function fail(msg: string, code: i32 = 1): void {
  writeText(2, 'edgec-wasi: ' + msg + '\n');
  proc_exit(code);
}

function cstr(p: usize): string {
  let n: usize = 0;
  while (load<u8>(p + n) != 0) n++;
  return String.UTF8.decodeUnsafe(p, n);
}

/** The preopened directory to open `path` in, and the path relative to it: an absolute path goes to
 *  the longest preopen that prefixes it; a relative one to '.' (or the first preopen: wasm3 uses cwd). */
function resolve(path: string): string[] {
  let bestFd = -1, bestRest = path, bestLen = -1, firstFd = -1;
  for (let fd = 3; fd < 64; fd++) {
    if (fd_prestat_get(fd, scratch) != 0) break;
    if (load<u8>(scratch) != 0) continue;
    const nameLen = <usize>load<u32>(scratch + 4);
    const buf = heap.alloc(nameLen + 1);
    if (fd_prestat_dir_name(fd, buf, nameLen) != 0) continue;
    let name = String.UTF8.decodeUnsafe(buf, nameLen);
    while (name.length > 1 && name.endsWith('/')) name = name.substring(0, name.length - 1);
    if (firstFd < 0) firstFd = fd;
    if (path.startsWith('/')) {
      const isPrefix = name == '/' || path == name || path.startsWith(name + '/');
      if (isPrefix && name.length > bestLen) {
        bestFd = fd; bestLen = name.length;
        bestRest = name == '/' ? path.substring(1) : path.substring(name.length + 1);
      }
    } else if (name == '.' && bestFd < 0) {
      bestFd = fd; bestLen = 1;
    }
  }
  if (bestFd < 0) bestFd = firstFd < 0 ? 3 : firstFd;
  if (bestRest.length == 0) bestRest = '.';
  return [bestFd.toString(), bestRest];
}

function openFile(path: string, write: bool): i32 {
  const r = resolve(path);
  const dirfd = I32.parseInt(r[0]);
  const rel = String.UTF8.encode(r[1]);
  const rights: u64 = write ? RIGHT_FD_WRITE : RIGHT_FD_READ | RIGHT_FD_SEEK | RIGHT_FD_TELL;
  const err = path_open(dirfd, 1, changetype<usize>(rel), <usize>rel.byteLength, write ? O_CREAT | O_TRUNC : 0,
    rights, 0, 0, scratch + 16);
  if (err != 0) { fail('cannot open ' + path + ' (WASI errno ' + err.toString() + ')'); return -1; }
  return <i32>load<u32>(scratch + 16);
}

/** Whole file into a fresh 16-aligned heap block; returns [ptr, length]. */
function readFile(path: string): u64 {
  const fd = openFile(path, false);
  if (fd_seek(fd, 0, WHENCE_END, scratch + 24) != 0) fail('cannot seek ' + path);
  const size = load<u64>(scratch + 24);
  if (size > 0x3fff0000) fail(path + ' is too large');
  if (fd_seek(fd, 0, WHENCE_SET, scratch + 24) != 0) fail('cannot seek ' + path);
  const len = <usize>size;
  const ptr = (heap.alloc(len + 16) + 15) & ~<usize>15;
  let got: usize = 0;
  while (got < len) {
    store<u32>(scratch, <u32>(ptr + got));
    store<u32>(scratch + 4, <u32>(len - got));
    if (fd_read(fd, scratch, 1, scratch + 8) != 0) fail('cannot read ' + path);
    const n = <usize>load<u32>(scratch + 8);
    if (n == 0) break;
    got += n;
  }
  fd_close(fd);
  if (got != len) fail(path + ': short read');
  return (<u64>len << 32) | <u64>ptr;
}

/** Index of the variant named `name` in Bundle.variants (the bytes are validated again by the load). */
function variantIndex(ptr: usize, len: u32, name: string): i32 {
  resetError();
  setBuffer(ptr, len);
  const root = rootTable('EDGC');
  const vv = failed ? 0 : fieldRef(root, S.Bundle_variants);
  const n: u32 = vv == 0 || failed ? 0 : vectorLength(vv, 4);
  let names = '';
  for (let i: u32 = 0; i < n && !failed; i++) {
    const v = fieldString(vectorTable(vv, i), S.Variant_name);
    if (v == name) return <i32>i;
    names += (i > 0 ? ', ' : '') + v;
  }
  fail('variant \'' + name + '\' is not in the bundle (variants: ' + (n == 0 ? 'none' : names) + ')');
  return 0;
}

function main(): void {
  if (args_sizes_get(scratch, scratch + 4) != 0) fail('cannot read arguments');
  const argc = <i32>load<u32>(scratch);
  const argBytes = <usize>load<u32>(scratch + 4);
  const argv = heap.alloc(<usize>argc * 4 + 4);
  const argBuf = heap.alloc(argBytes + 1);
  if (args_get(argv, argBuf) != 0) fail('cannot read arguments');
  const args = new Array<string>(0);
  for (let i = 0; i < argc; i++) args.push(cstr(<usize>load<u32>(argv + <usize>i * 4)));

  const embedded = edgec_embedded_len != 0;
  const want = embedded ? 3 : 4;
  // An optional last argument `--variant=NAME` picks a variant of a multi-variant bundle.
  let variantName: string | null = null;
  if (argc == want + 1 && args[want].startsWith('--variant=')) variantName = args[want].substring(10);
  if (argc != want && variantName === null) {
    fail(embedded ? 'usage: model.wasm input.bin output.bin [--variant=NAME]'
      : 'usage: runtime.wasm model.edgec input.bin output.bin [--variant=NAME]', 2);
  }
  let bundlePtr: usize, bundleLen: u32;
  if (embedded) {
    bundlePtr = <usize>edgec_embedded_ptr;
    bundleLen = edgec_embedded_len;
  } else {
    const b = readFile(args[1]);
    bundlePtr = <usize>(b & 0xffffffff);
    bundleLen = <u32>(b >> 32);
  }
  const inPath = args[want - 2], outPath = args[want - 1];
  if (variantName !== null) setSelectedVariant(variantIndex(bundlePtr, bundleLen, variantName));
  if (loadBundle(bundlePtr, bundleLen) != 0) {
    fail('bundle refused: ' + String.UTF8.decodeUnsafe(errorPtr(), <usize>errorLength()));
  }
  const m = model!;
  let inBytes: u64 = 0, outBytes: u64 = 0;
  for (let i = 0; i < m.inputs.length; i++) inBytes += m.tensors[m.inputs[i]].size;
  for (let i = 0; i < m.outputs.length; i++) outBytes += m.tensors[m.outputs[i]].size;
  const inp = readFile(inPath);
  const inPtr = <usize>(inp & 0xffffffff), inLen = inp >> 32;
  if (inBytes == 0 || inLen == 0 || inLen % inBytes != 0) {
    fail(inPath + ' has ' + inLen.toString() + ' bytes, not a positive multiple of the ' + inBytes.toString() +
      ' bytes of one sample');
  }
  const samples = inLen / inBytes;
  if (samples * outBytes > 0x3fff0000) fail('the outputs would exceed 1 GiB');
  const outPtr = (heap.alloc(<usize>(samples * outBytes) + 16) + 15) & ~<usize>15;
  let src = inPtr, dst = outPtr;
  for (let s: u64 = 0; s < samples; s++) {
    for (let i = 0; i < m.inputs.length; i++) {
      const t = m.tensors[m.inputs[i]];
      memory.copy(t.ptr, src, <usize>t.size);
      src += <usize>t.size;
    }
    if (runModel() != 0) {
      fail('sample ' + s.toString() + ': ' + String.UTF8.decodeUnsafe(errorPtr(), <usize>errorLength()));
    }
    for (let i = 0; i < m.outputs.length; i++) {
      const t = m.tensors[m.outputs[i]];
      memory.copy(dst, t.ptr, <usize>t.size);
      dst += <usize>t.size;
    }
  }
  const fd = openFile(outPath, true);
  if (!writeAll(fd, outPtr, <usize>(samples * outBytes))) fail('cannot write ' + outPath);
  fd_close(fd);
}

main();
