// Runs a WASI command module (build/edgec-wasi.wasm or a one-file model.wasm) under node:wasi with one
// preopened directory as '.', capturing stderr to a file; returns the exit code and the stderr text.
import { WASI } from 'node:wasi';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WasiResult {
  code: number;
  stderr: string;
}

export function runWasi(wasm: Uint8Array | WebAssembly.Module, args: string[], dir: string): WasiResult {
  const errPath = join(dir, `stderr-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const errFd = openSync(errPath, 'w');
  try {
    const wasi = new WASI({
      version: 'preview1',
      args,
      env: {},
      preopens: { '.': dir },
      returnOnExit: true,
      stderr: errFd,
    });
    const module = wasm instanceof WebAssembly.Module ? wasm : new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
    const code = wasi.start(instance);
    return { code, stderr: readFileSync(errPath, 'utf8') };
  } finally {
    closeSync(errFd);
  }
}
