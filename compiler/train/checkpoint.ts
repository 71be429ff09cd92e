// Training checkpoints: one file holding everything a run needs to continue to the same bytes —
// weights, optimiser moments, observer tensors, step / epoch / batch, the PCG32 state, optimiser
// settings — plus a hash of the model's structure, so a checkpoint is never applied to another model.
// Layout: 'EDGECKPT' (8 bytes), u32 LE version (1), u32 LE header length H, H bytes of UTF-8 JSON,
// zero padding to a multiple of 16, then the payload: every tensor row-major little-endian at a
// 16-byte aligned offset. The JSON lists each tensor's section, name, dtype, shape, offset and
// length, and the payload's byte count and sha256, so truncation and corruption are caught on load.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../ir/graph.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { Pcg32State } from './data/pcg32.ts';

export const CHECKPOINT_FILE = 'checkpoint.edgeckpt';
const MAGIC = 'EDGECKPT';
const VERSION = 1;

export type CkptArray = Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array;
export interface CkptTensor {
  shape: number[];
  data: CkptArray;
}

/** Tensor groups of a checkpoint; names are the graph's tensor names (moments: `<weight>:<moment>`). */
export const SECTIONS = ['weights', 'moments', 'observers'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Checkpoint {
  /** modelStructureHash of the graph being trained. */
  modelHash: string;
  /** Optimiser steps done, the epoch in progress and the next batch of that epoch. */
  step: number;
  epoch: number;
  batch: number;
  rng: Pcg32State;
  /** Optimiser kind and hyper-parameters (JSON). */
  optimizer: { kind: string } & Record<string, unknown>;
  weights: Map<string, CkptTensor>;
  moments: Map<string, CkptTensor>;
  observers: Map<string, CkptTensor>;
  /** Anything else the trainer wants back (JSON), e.g. the best validation accuracy so far. */
  extra?: Record<string, unknown>;
}

/** A checkpoint file that cannot be used: names the file and what is wrong. Exit code 1 in the CLI. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'CheckpointError';
  }
}

const DTYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
} as const;
type CkptDtype = keyof typeof DTYPES;

function dtypeOf(a: CkptArray): CkptDtype {
  for (const [k, C] of Object.entries(DTYPES)) if (a instanceof C) return k as CkptDtype;
  throw new TypeError('checkpoint tensors are Float32Array, Float64Array, Int32Array, Int8Array or Uint8Array');
}

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/**
 * sha256 (hex) of what makes two graphs the same model for training: inputs, outputs, every node
 * (op, inputs, outputs, attrs with sorted keys) and every constant's name, dtype and shape — not
 * the constants' values, which training changes.
 */
export function modelStructureHash(g: Graph): string {
  const sorted = (o: Record<string, unknown>) =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  const tensor = (n: string) => {
    const t = g.tensors.get(n);
    return [n, t?.dtype, t?.shape];
  };
  const constants = [...g.tensors.values()]
    .filter((t) => t.data !== undefined)
    .map((t) => [t.name, t.dtype, t.shape])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  const text = JSON.stringify({
    inputs: g.inputs.map(tensor),
    outputs: g.outputs.map(tensor),
    constants,
    nodes: g.nodes.map((n) => [n.name, n.op, n.inputs, n.outputs, sorted(n.attrs)]),
  });
  return createHash('sha256').update(text).digest('hex');
}

interface Entry {
  section: Section;
  name: string;
  dtype: CkptDtype;
  shape: number[];
  offset: number;
  length: number;
}

/** The checkpoint as file bytes. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const entries: Entry[] = [];
  const arrays: CkptArray[] = [];
  let offset = 0;
  for (const section of SECTIONS) {
    for (const [name, t] of c[section]) {
      if (product(t.shape) !== t.data.length)
        throw new RangeError(
          `checkpoint ${section} '${name}': shape [${t.shape}] holds ${product(t.shape)} values, data has ${t.data.length}`,
        );
      entries.push({ section, name, dtype: dtypeOf(t.data), shape: [...t.shape], offset, length: t.data.byteLength });
      arrays.push(t.data);
      offset = align16(offset + t.data.byteLength);
    }
  }
  const payload = new Uint8Array(offset);
  entries.forEach((e, i) => payload.set(new Uint8Array(arrays[i]!.buffer, arrays[i]!.byteOffset, e.length), e.offset));
  const header = {
    format: 'edgec-checkpoint',
    modelHash: c.modelHash,
    step: c.step,
    epoch: c.epoch,
    batch: c.batch,
    rng: c.rng,
    optimizer: c.optimizer,
    extra: c.extra ?? {},
    tensors: entries,
    payload: { bytes: payload.length, sha256: createHash('sha256').update(payload).digest('hex') },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align16(16 + json.length);
  const out = new Uint8Array(start + payload.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(payload, start);
  return out;
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** Parses and verifies checkpoint bytes; `file` names the source in errors. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const bad = (detail: string) => new CheckpointError(file, detail);
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw bad('not an edgec checkpoint (missing EDGECKPT magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw bad(`checkpoint version ${version}, this edgec reads version ${VERSION}`);
  const jsonLen = view.getUint32(12, true);
  if (16 + jsonLen > bytes.length)
    throw bad(`truncated: the header needs ${jsonLen} bytes, the file has ${bytes.length - 16} after the prefix`);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + jsonLen))) as Record<
      string,
      unknown
    >;
  } catch (e) {
    throw bad(`corrupt header (${(e as Error).message})`);
  }
  const payload = h.payload as { bytes?: unknown; sha256?: unknown } | undefined;
  const opt = h.optimizer as { kind?: unknown } | undefined;
  const rng = h.rng as { state?: unknown; inc?: unknown } | undefined;
  if (
    h.format !== 'edgec-checkpoint' ||
    typeof h.modelHash !== 'string' ||
    !isInt(h.step) ||
    !isInt(h.epoch) ||
    !isInt(h.batch) ||
    typeof rng?.state !== 'string' ||
    typeof rng.inc !== 'string' ||
    typeof opt?.kind !== 'string' ||
    !Array.isArray(h.tensors) ||
    typeof h.extra !== 'object' ||
    h.extra === null ||
    !isInt(payload?.bytes) ||
    typeof payload.sha256 !== 'string'
  ) {
    throw bad(
      'corrupt header (expected format, modelHash, step, epoch, batch, rng, optimizer, extra, tensors, payload)',
    );
  }
  const start = align16(16 + jsonLen);
  if (bytes.length !== start + payload.bytes) {
    throw bad(
      `${bytes.length < start + payload.bytes ? 'truncated' : 'trailing bytes'}: expected ${start + payload.bytes} bytes, found ${bytes.length}`,
    );
  }
  const body = bytes.subarray(start);
  if (createHash('sha256').update(body).digest('hex') !== payload.sha256)
    throw bad('corrupt: the tensor data does not match its sha256');
  const c: Checkpoint = {
    modelHash: h.modelHash,
    step: h.step,
    epoch: h.epoch,
    batch: h.batch,
    rng: { state: rng.state, inc: rng.inc },
    optimizer: h.optimizer as Checkpoint['optimizer'],
    extra: h.extra as Record<string, unknown>,
    weights: new Map(),
    moments: new Map(),
    observers: new Map(),
  };
  for (const [i, raw] of (h.tensors as Entry[]).entries()) {
    const e = raw ?? ({} as Entry);
    const C = DTYPES[e.dtype];
    if (
      !SECTIONS.includes(e.section) ||
      typeof e.name !== 'string' ||
      !C ||
      !Array.isArray(e.shape) ||
      !e.shape.every((d) => isInt(d)) ||
      !isInt(e.offset) ||
      e.length !== product(e.shape) * C.BYTES_PER_ELEMENT ||
      e.offset + e.length > body.length ||
      c[e.section].has(e.name)
    ) {
      throw bad(`corrupt header: tensors[${i}] (${JSON.stringify(raw).slice(0, 120)})`);
    }
    const copy = new Uint8Array(e.length);
    copy.set(body.subarray(e.offset, e.offset + e.length));
    c[e.section].set(e.name, { shape: e.shape, data: new C(copy.buffer) });
  }
  return c;
}

/** The checkpoint file of `path`: the path itself, or CHECKPOINT_FILE inside it when it is a directory. */
export function checkpointFile(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, CHECKPOINT_FILE) : path;
}

/**
 * Writes `c` to `dir`/CHECKPOINT_FILE (creating `dir`) atomically: the previous checkpoint stays
 * whole until the new one is complete. Returns the file written.
 */
export function saveCheckpoint(dir: string, c: Checkpoint): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, CHECKPOINT_FILE);
  writeFileAtomic(file, encodeCheckpoint(c));
  return file;
}

/**
 * Reads the checkpoint at `path` (a directory from saveCheckpoint or the file) and refuses one
 * written for another model: `model` gives the graph being trained and its file for the message.
 */
export function loadCheckpoint(path: string, model?: { graph: Graph; file: string }): Checkpoint {
  const file = checkpointFile(path);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new CheckpointError(
      file,
      `cannot read the checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const c = decodeCheckpoint(bytes, file);
  if (model) {
    const want = modelStructureHash(model.graph);
    if (c.modelHash !== want) {
      throw new CheckpointError(
        file,
        `written for another model (structure hash ${c.modelHash.slice(0, 12)}…, ${model.file} has ${want.slice(0, 12)}…): resume with the model the run started from`,
      );
    }
    for (const [name, t] of c.weights) {
      const g = model.graph.tensors.get(name);
      if (!g?.data || g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
        throw new CheckpointError(
          file,
          `weight '${name}' [${t.shape}] is not a constant of that shape in ${model.file}`,
        );
      }
    }
  }
  return c;
}
