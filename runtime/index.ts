// The thin host runtime (browser and Node; no Node APIs): instantiates an edgec .wasm, copies the bundle in (or has
// a BundleSource write it there), lets the wasm executor validate and run it, and moves input/output bytes. It never
// interprets the graph; names, shapes and dtypes for `info` come from bundle-info.ts, read from the wasm's copy.
import { BundleError } from './bundle-error.ts';
import { readBundleInfo, type BundleInfo, type TensorInfo } from './bundle-info.ts';
import { readSteps, sampleRoute, type SampleRoute } from './branches.ts';
import { startThreads, type ThreadOptions, type ThreadPool } from './threads.ts';

export type { RuntimeDType, TensorInfo } from './bundle-info.ts';
export type { SampleRoute, ControlStep } from './branches.ts';
export { threadsSupported, type ThreadOptions, type ThreadPort } from './threads.ts';
export type TensorArray = Float32Array | Int8Array | Uint8Array | Int32Array;

export interface ModelInfo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  arenaBytes: number;
  steps: number;
  build: 'relaxed' | 'simd' | 'scalar';
  /** Threads running the large steps (1 unless loaded with LoadOptions.threads on the threads build). */
  threads: number;
}

export interface Model {
  readonly info: ModelInfo;
  /**
   * Runs the model; an input holding N samples stacked along the first axis (N whole copies of the
   * model's input size, the same N for every input) runs them one by one and returns stacked outputs.
   */
  run(inputs: Record<string, TensorArray>): Record<string, TensorArray>;
  /**
   * Runs N samples stacked along the first axis (N = 1 for a model-sized input), one at a time, and
   * returns the stacked outputs plus, per sample, the branch / exit taken and the executed MACs.
   */
  runDetailed(inputs: Record<string, TensorArray>): { outputs: Record<string, TensorArray>; samples: SampleRoute[] };
  /**
   * run() without fresh arrays: copies each output named in `outputs` into the caller's array there (the output's
   * dtype and the length run() would return; outputs not named are not copied) and returns `outputs`. For loops that
   * run often: a fresh array per run costs the allocator (0.5–4 µs for 640 bytes in Chromium, docs/benchmarks.md).
   */
  runInto(inputs: Record<string, TensorArray>, outputs: Record<string, TensorArray>): Record<string, TensorArray>;
  /** Variant names of a multi-variant bundle ([] otherwise) and the current one ('' without variants). */
  readonly variants: readonly string[];
  readonly variant: string;
  /** Switches variant in the same instance (each decoded once, then kept); `info` follows. */
  useVariant(name: string): void;
  /**
   * Training bundles (docs/training.md): one run() is one training step; the weights and optimiser
   * moments are variables kept in the wasm across runs, read and written here by name.
   */
  readonly variables: readonly TensorInfo[];
  readVariable(name: string): TensorArray;
  writeVariable(name: string, data: TensorArray): void;
  /** Every variable back to the bundle's initial value (weights as compiled, moments zero). */
  resetVariables(): void;
  /**
   * The wasm memory run() reads input `name` from, as a typed array of its dtype and one sample's size: a host that
   * fills it (e.g. reads a file straight into it) and passes it to run() holds the input once. Valid until the
   * memory grows (runDetailed, useVariant, writeVariable may grow it); take it just before filling it.
   */
  inputView(name: string): TensorArray;
  /** Ends the worker threads (a no-op with one thread); the model must not run afterwards. */
  close(): void;
}

export interface LoadOptions {
  wasm: BufferSource | WebAssembly.Module;
  /** Run the slow reference kernels (bit-identical by contract; for tests and debugging). */
  reference?: boolean;
  /** Relaxed build: 'split' runs the int8 GEMM tile that is exact on every engine even where relaxedDotMode() allows
   *  one dot per 16 products (same bytes; for tests and benchmarks). Default: relaxedDotMode(). */
  relaxedDot?: 'split';
  /** The variant to start with (multi-variant bundles; default the first). */
  variant?: string;
  /**
   * false: skip the CRC-32 check of the whole file (edgec_verify_checksum(0)); every structural check
   * still runs. Default true: a damaged bundle is refused instead of running with altered weights.
   */
  verifyChecksum?: boolean;
  /** count ≥ 2 with `wasm` the threads build (docs/threads.md): its workers, spawned before the bundle loads. */
  threads?: ThreadOptions;
}

export { BundleError };

/**
 * Bundle bytes the host writes straight into the wasm memory (Node's load(path) reads the file there), so they are
 * held once: a Uint8Array bundle is copied in and then sits in memory twice until the caller drops it.
 */
export interface BundleSource {
  readonly byteLength: number;
  /** Fills `into`, a view of byteLength bytes of the wasm memory, with the bundle; throws when it cannot. */
  readInto(into: Uint8Array): void;
}

/** The exports of every edgec build (bench/ scripts drive them directly). */
export interface Exports {
  memory: WebAssembly.Memory;
  edgec_alloc(bytes: number): number;
  edgec_load(ptr: number, len: number): number;
  edgec_error_ptr(): number;
  edgec_error_len(): number;
  edgec_arena_size(): number;
  edgec_input_count(): number;
  edgec_input_ptr(i: number): number;
  edgec_input_size(i: number): number;
  edgec_output_count(): number;
  edgec_output_ptr(i: number): number;
  edgec_output_size(i: number): number;
  edgec_run(): number;
  edgec_set_reference(on: number): void;
  edgec_verify_checksum(on: number): void;
  edgec_build(): number;
  edgec_set_dot_mode(mode: number): number;
  edgec_executed_macs(): number;
  edgec_route(step: number): number;
  edgec_run_samples(n: number, inBase: number, outBase: number, routeBase: number, macsBase: number): number;
  edgec_load_variant(ptr: number, len: number, k: number): number;
  edgec_use_variant(k: number): number;
  edgec_tensor_ptr(i: number): number;
  edgec_tensor_size(i: number): number;
  edgec_reset_variables(): number;
  edgec_threads_setup?(count: number): number;
}

// The smallest module using a v128 instruction (as wasm-feature-detect's simd probe).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when this engine runs WASM SIMD128 (then the simd build is the one to load). */
export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

// A module exporting f(a, b, c) = lane 0 of i32x4.relaxed_dot_i8x16_i7x16_add_s(i8x16.splat(a), i8x16.splat(b),
// i32x4.splat(c)) (opcode 0xfd 0x113), the instruction the relaxed build's qs8 GEMM is made of.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 127, 127, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 22, 1, 20,
  0, 32, 0, 253, 15, 32, 1, 253, 15, 32, 2, 253, 17, 253, 147, 2, 253, 27, 0, 11,
]);
let relaxedOk: boolean | undefined;

/**
 * True when this engine runs WASM relaxed SIMD and its dot product adds as the spec says on operands every engine
 * agrees on (b in [0, 127]): then the relaxed build is the one to load. Chromium ≥ 114 has it on; Node 20's V8
 * (behind --experimental-wasm-relaxed-simd) validates it but returns twice the dot product and drops the
 * accumulator on x64 (f(−100, 100, 5) = −80000, not −39995), so there `auto` stays on the simd build.
 */
export function relaxedSupported(): boolean {
  if (relaxedOk === undefined) {
    relaxedOk = false;
    if (WebAssembly.validate(RELAXED_PROBE)) {
      const f = new WebAssembly.Instance(new WebAssembly.Module(RELAXED_PROBE)).exports.f as (...v: number[]) => number;
      relaxedOk = f(-100, 100, 5) === -39995 && f(-3, 7, 1000) === 916 && f(127, 127, -1) === 64515;
    }
  }
  return relaxedOk;
}

export type DotMode = 'usdot' | 'sdot' | 'split';
let dotMode: DotMode | undefined;

/**
 * How this engine's relaxed dot product (the probe's f) treats full-range operands, which decides the relaxed build's
 * int8 GEMM tile (passed in by edgec_set_dot_mode at load): 'usdot' when the second operand is read as u8 and the i32
 * sums are exact and wrap (x86 AVX-VNNI vpdpbusd: Chromium on recent x86), 'sdot' when both are read as i8, exactly
 * (ARM sdot): one dot per 16 products; else 'split' (x86 without VNNI saturates i16 pairs; engines failing
 * relaxedSupported), the tile that is exact on every engine. The values hit the sign of each operand, pmaddubsw's
 * saturation and the i32 wrap, so only an exact engine passes.
 */
export function relaxedDotMode(): DotMode {
  if (dotMode === undefined)
    dotMode = relaxedSupported()
      ? classifyDot(new WebAssembly.Instance(new WebAssembly.Module(RELAXED_PROBE)).exports.f as DotProbe)
      : 'split';
  return dotMode;
}

/** f(a, b, c) = lane 0 of the relaxed dot of splat(a), splat(b) plus splat(c), as RELAXED_PROBE exports it. */
export type DotProbe = (a: number, b: number, c: number) => number;

/** relaxedDotMode's rule, given the engine's probe function. */
export function classifyDot(f: DotProbe): DotMode {
  const cases = [
    [-128, -56, 0],
    [127, -1, 0],
    [-128, -128, 0],
    [127, -128, 0],
    [-128, 127, -7],
    [-100, 100, 5],
    [127, -1, 2147483647],
    [-128, -1, -2147483648],
    [127, 127, 2147483647],
  ] as const;
  const fits = (b: (v: number) => number) => cases.every(([a, v, c]) => f(a, v, c) === ((c + 4 * a * b(v)) | 0));
  return fits((v) => v & 255) ? 'usdot' : fits((v) => v) ? 'sdot' : 'split';
}

/** The build `auto` resolves to on this engine: relaxed, else simd, else scalar. */
export function bestBuild(): 'relaxed' | 'simd' | 'scalar' {
  return relaxedSupported() ? 'relaxed' : simdSupported() ? 'simd' : 'scalar';
}

/** A load option's build: 'auto' → bestBuild(); 'relaxed' only on an engine that passes the probe (elsewhere its
 *  bytes could differ from the other builds', so it is refused, not run). */
export function resolveBuild<B extends 'relaxed' | 'simd' | 'scalar'>(
  want: 'auto' | B,
): B | 'relaxed' | 'simd' | 'scalar' {
  if (want === 'auto') return bestBuild();
  if (want === 'relaxed' && !relaxedSupported())
    throw new Error(
      "edgec runtime: build 'relaxed' needs an engine whose relaxed-SIMD dot product passes edgec's probe " +
        "(Chromium ≥ 114; Node 20's is wrong even with --experimental-wasm-relaxed-simd): use 'auto' or 'simd'",
    );
  return want;
}

const BUILDS = ['scalar', 'simd', 'relaxed'] as const;
/** edgec_set_dot_mode's codes. */
const DOT_MODES: readonly DotMode[] = ['split', 'usdot', 'sdot'];

const ARRAYS = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array } as const;

/** One input or output of the current variant as run() copies it: the executor's address and byte size. */
interface IoSlot {
  name: string;
  dtype: keyof typeof ARRAYS;
  ptr: number;
  size: number;
}

function errorText(ex: Exports): string {
  const len = ex.edgec_error_len();
  const bytes = new Uint8Array(ex.memory.buffer, ex.edgec_error_ptr(), len);
  return new TextDecoder().decode(bytes.slice());
}

/** Calls into the wasm; a trap becomes a BundleError carrying the executor's message. */
function guarded<T>(ex: Exports, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      const msg = errorText(ex);
      throw new BundleError(`${what}: wasm trap (${e.message})${msg ? ': ' + msg : ''}`);
    }
    throw e;
  }
}

export async function load(bundle: Uint8Array | BundleSource, opts: LoadOptions): Promise<Model> {
  const module = opts.wasm instanceof WebAssembly.Module ? opts.wasm : await WebAssembly.compile(opts.wasm);
  const count = opts.threads?.count ?? 1;
  const pool: ThreadPool | undefined = count > 1 ? await startThreads(module, opts.threads!) : undefined;
  const instance = pool ? pool.instance : await WebAssembly.instantiate(module, {});
  const ex = instance.exports as unknown as Exports;
  if (pool) {
    if (!ex.edgec_threads_setup) {
      pool.close();
      throw new Error('edgec runtime: LoadOptions.threads needs the threads build (edgec-threads.wasm)');
    }
    pool.enter(ex.edgec_threads_setup(count));
  }

  // before the load: with a one-dot mode the load makes no i16 weight copies for the one-row Dense (the relaxed
  // GEMV runs instead; assembly/kernels/qs8-steps.ts widenDenseWeights)
  if (ex.edgec_build() === 2) ex.edgec_set_dot_mode(DOT_MODES.indexOf(opts.relaxedDot ?? relaxedDotMode()));
  let ptr = 0;
  const len = bundle.byteLength;
  let status: number;
  try {
    status = guarded(ex, 'load', () => {
      ex.edgec_verify_checksum(opts.verifyChecksum === false ? 0 : 1);
      ptr = ex.edgec_alloc(len);
      const into = new Uint8Array(ex.memory.buffer, ptr, len);
      if ('readInto' in bundle) bundle.readInto(into);
      else into.set(bundle);
      // Variant 0 (the Bundle's own fields) through the variant loader, so useVariant can return to it.
      return ex.edgec_load_variant(ptr, len, 0);
    });
  } catch (e) {
    pool?.close();
    throw e;
  }
  if (status !== 0) {
    pool?.close();
    throw new BundleError(errorText(ex) || `bundle refused (status ${status})`);
  }
  ex.edgec_set_reference(opts.reference ? 1 : 0);
  // The host reads names and steps from the wasm's copy, not from `bundle`, so the caller's bytes can be collected
  // (a fresh view each time: memory may have grown and detached an older one).
  const bytes = () => new Uint8Array(ex.memory.buffer, ptr, len);

  // The executor has validated every offset, so this plain reader only supplies names and shapes.
  // each variant's decoded info, once: readVariable / writeVariable run per weight per training step, and
  // decoding every tensor's record each time made a long run's garbage (and its peak RSS) grow
  const infos = new Map<number, BundleInfo>();
  const infoOf = (k: number): BundleInfo => {
    let v = infos.get(k);
    if (!v) infos.set(k, (v = readBundleInfo(bytes(), k)));
    return v;
  };
  const b = infoOf(0);
  const info: ModelInfo = {
    inputs: b.inputs,
    outputs: b.outputs,
    arenaBytes: ex.edgec_arena_size(),
    steps: b.steps,
    build: BUILDS[ex.edgec_build()] ?? 'scalar',
    threads: count,
  };
  const variants = b.variants;
  /** Dispatch / Exit steps of the current variant (runDetailed names the routes by them). */
  let control = readSteps(bytes(), 0).control;
  let staging = 0,
    stagingBytes = 0;
  const loadedVariants = new Set<number>([0]);
  let current = 0;
  /** run()'s input / output slots (ioOf below); declared before useVariant, which drops them, may run at load. */
  let io: { ins: IoSlot[]; outs: IoSlot[]; names: Set<string>; outIndex: Map<string, number> } | undefined;
  function useVariant(name: string): void {
    const k = variants.indexOf(name);
    if (k < 0)
      throw new BundleError(`variant '${name}' is not in this bundle (variants: ${variants.join(', ') || 'none'})`);
    if (k === current) return;
    const rc = guarded(ex, 'useVariant', () =>
      loadedVariants.has(k) ? ex.edgec_use_variant(k) : ex.edgec_load_variant(ptr, len, k),
    );
    if (rc !== 0) throw new BundleError(errorText(ex) || `variant '${name}' refused (status ${rc})`);
    loadedVariants.add(k);
    current = k;
    const v = infoOf(k);
    Object.assign(info, { inputs: v.inputs, outputs: v.outputs, steps: v.steps, arenaBytes: ex.edgec_arena_size() });
    io = undefined;
    control = readSteps(bytes(), k).control;
  }
  if (opts.variant !== undefined) useVariant(opts.variant);

  // run()'s per-call path, kept free of wasm calls and views it need not make (on a ~10 µs model they were ~1 µs):
  // the current variant's input / output addresses and sizes (fixed once it is loaded; useVariant drops them) and
  // typed views of the whole memory (made again once memory has grown: the old buffer is then detached or shorter),
  // no memory.buffer read, no closure per call: on AD (int8 I/O) run() costs 0.58 µs over edgec_run itself, 0.19 of
  // it the fresh output array (docs/benchmarks.md)
  const ioOf = () =>
    (io ??= {
      ins: info.inputs.map((t, i) => ({
        name: t.name,
        dtype: t.dtype,
        ptr: ex.edgec_input_ptr(i),
        size: ex.edgec_input_size(i),
      })),
      outs: info.outputs.map((t, i) => ({
        name: t.name,
        dtype: t.dtype,
        ptr: ex.edgec_output_ptr(i),
        size: ex.edgec_output_size(i),
      })),
      names: new Set(info.inputs.map((t) => t.name)),
      outIndex: new Map(info.outputs.map((t, i) => [t.name, i])),
    });
  let views: Partial<Record<keyof typeof ARRAYS, TensorArray>> = {};
  /**
   * A view of all of memory as `dtype`'s elements reaching past byte `end`, or undefined when ptr is not aligned to
   * them. Kept across runs without reading ex.memory.buffer (a getter into the engine) each time: growing memory
   * detaches the old buffer (byteLength 0) or, shared memory (the threads build), leaves the old one shorter, and
   * either makes a new view here.
   */
  const memView = (dtype: keyof typeof ARRAYS, ptr: number, end: number): TensorArray | undefined => {
    const Ctor = ARRAYS[dtype];
    if (ptr % Ctor.BYTES_PER_ELEMENT) return undefined;
    const v = views[dtype];
    if (v !== undefined && v.byteLength >= end) return v;
    const buf = ex.memory.buffer;
    return (views[dtype] = new Ctor(buf, 0, Math.floor(buf.byteLength / Ctor.BYTES_PER_ELEMENT)));
  };

  /** Checks the input names; N when an input holds N > 1 whole samples (runDetailed runs those), else 1. */
  function samplesOf(inputs: Record<string, TensorArray>): number {
    const { ins, names } = ioOf();
    for (const name in inputs) {
      if (!names.has(name)) {
        throw new BundleError(`run: unknown input '${name}' (inputs: ${info.inputs.map((t) => t.name).join(', ')})`);
      }
    }
    for (let i = 0; i < ins.length; i++) {
      const { name, size } = ins[i]!;
      const data = inputs[name];
      if (data !== undefined && size > 0 && data.byteLength > size && data.byteLength % size === 0)
        return data.byteLength / size;
    }
    return 1;
  }

  /** One sample: checks and copies the inputs in, runs; the outputs are then in the wasm memory. */
  function runSample(inputs: Record<string, TensorArray>): void {
    const { ins } = ioOf();
    for (let i = 0; i < ins.length; i++) {
      const { name, dtype, ptr, size } = ins[i]!;
      const data = inputs[name];
      if (data === undefined) throw new BundleError(`run: missing input '${name}'`);
      const Ctor = ARRAYS[dtype];
      if (!(data instanceof Ctor)) throw new BundleError(`run: input '${name}' must be a ${Ctor.name} (${dtype})`);
      if (data.byteLength !== size) {
        throw new BundleError(
          `run: input '${name}' has ${data.length} elements, shape [${info.inputs[i]!.shape}] needs ${size / Ctor.BYTES_PER_ELEMENT}`,
        );
      }
      const v = memView(dtype, ptr, ptr + size);
      if (v) v.set(data, ptr / Ctor.BYTES_PER_ELEMENT);
      else new Uint8Array(ex.memory.buffer, ptr, size).set(new Uint8Array(data.buffer, data.byteOffset, size));
    }
    let rc: number;
    try {
      rc = ex.edgec_run();
    } catch (e) {
      // guarded() without its closure, which run() would allocate on every call
      rc = guarded(ex, 'run', () => {
        throw e;
      });
    }
    if (rc !== 0) throw new BundleError(errorText(ex) || `run failed (status ${rc})`);
  }

  function run(inputs: Record<string, TensorArray>): Record<string, TensorArray> {
    if (samplesOf(inputs) > 1) return runDetailed(inputs).outputs;
    runSample(inputs);
    const { outs } = ioOf();
    const out: Record<string, TensorArray> = {};
    for (let i = 0; i < outs.length; i++) {
      const { name, dtype, ptr, size } = outs[i]!;
      const v = memView(dtype, ptr, ptr + size),
        n = ARRAYS[dtype].BYTES_PER_ELEMENT;
      // slice: a fresh array of its own, as the caller may keep it across runs
      if (v) out[name] = v.slice(ptr / n, (ptr + size) / n);
      else out[name] = new ARRAYS[dtype](new Uint8Array(ex.memory.buffer, ptr, size).slice().buffer, 0, size / n);
    }
    return out;
  }

  function runInto(
    inputs: Record<string, TensorArray>,
    outputs: Record<string, TensorArray>,
  ): Record<string, TensorArray> {
    const samples = samplesOf(inputs);
    const { outs, outIndex } = ioOf();
    // every output array checked before anything runs
    for (const name in outputs) {
      const i = outIndex.get(name);
      if (i === undefined) {
        const all = info.outputs.map((t) => t.name).join(', ');
        throw new BundleError(`runInto: unknown output '${name}' (outputs: ${all})`);
      }
      const { dtype, size } = outs[i]!,
        Ctor = ARRAYS[dtype],
        o = outputs[name];
      if (!(o instanceof Ctor)) throw new BundleError(`runInto: output '${name}' must be a ${Ctor.name} (${dtype})`);
      if (o.byteLength !== samples * size) {
        const of = samples > 1 ? `${samples} samples of ` : '';
        throw new BundleError(
          `runInto: output '${name}' has ${o.length} elements, ${of}shape [${info.outputs[i]!.shape}] needs ${(samples * size) / Ctor.BYTES_PER_ELEMENT}`,
        );
      }
    }
    if (samples > 1) {
      const r = runDetailed(inputs).outputs;
      for (const name in outputs) outputs[name]!.set(r[name]!);
      return outputs;
    }
    runSample(inputs);
    for (const name in outputs) {
      const { dtype, ptr, size } = outs[outIndex.get(name)!]!;
      const o = outputs[name]!,
        v = memView(dtype, ptr, ptr + size),
        n = ARRAYS[dtype].BYTES_PER_ELEMENT;
      if (v) o.set(v.subarray(ptr / n, (ptr + size) / n));
      else new Uint8Array(o.buffer, o.byteOffset, size).set(new Uint8Array(ex.memory.buffer, ptr, size));
    }
    return outputs;
  }

  function inputView(name: string): TensorArray {
    const i = info.inputs.findIndex((t) => t.name === name);
    if (i < 0)
      throw new BundleError(
        `inputView: unknown input '${name}' (inputs: ${info.inputs.map((t) => t.name).join(', ')})`,
      );
    const Ctor = ARRAYS[info.inputs[i]!.dtype];
    return new Ctor(ex.memory.buffer, ex.edgec_input_ptr(i), ex.edgec_input_size(i) / Ctor.BYTES_PER_ELEMENT);
  }

  function runDetailed(inputs: Record<string, TensorArray>): {
    outputs: Record<string, TensorArray>;
    samples: SampleRoute[];
  } {
    let n = -1;
    for (const t of info.inputs) {
      const data = inputs[t.name];
      const per = t.shape.reduce((a, b) => a * b, 1);
      if (data === undefined) throw new BundleError(`run: missing input '${t.name}'`);
      const k = data.length / per;
      if (!Number.isInteger(k) || k < 1 || (n >= 0 && k !== n)) {
        throw new BundleError(
          `run: input '${t.name}' has ${data.length} elements, not a whole number of samples of shape [${t.shape}] (or a different count than the other inputs)`,
        );
      }
      n = k;
    }
    // the executor loops over the samples itself (edgec_run_samples): inputs and outputs stacked per tensor
    for (const [i, t] of info.inputs.entries()) {
      const data = inputs[t.name]!;
      const Ctor = ARRAYS[t.dtype];
      if (!(data instanceof Ctor)) throw new BundleError(`run: input '${t.name}' must be a ${Ctor.name} (${t.dtype})`);
      if (data.byteLength !== n * ex.edgec_input_size(i))
        throw new BundleError(`run: input '${t.name}' does not match the model's input size`);
    }
    const inBytes = info.inputs.reduce((a, _, i) => a + n * ex.edgec_input_size(i), 0);
    const outBytes = info.outputs.reduce((a, _, i) => a + n * ex.edgec_output_size(i), 0);
    const need = inBytes + outBytes + n * info.steps * 4 + n * 8 + 64;
    if (need > stagingBytes) {
      // the executor's allocator never frees: keep one staging block, grown (×1.5) only when too small
      stagingBytes = Math.max(need, Math.ceil(stagingBytes * 1.5));
      staging = guarded(ex, 'runDetailed', () => ex.edgec_alloc(stagingBytes));
    }
    const align8 = (p: number) => Math.ceil(p / 8) * 8;
    const inBase = staging,
      outBase = align8(inBase + inBytes),
      routeBase = align8(outBase + outBytes),
      macsBase = align8(routeBase + n * info.steps * 4);
    let at = inBase;
    for (const t of info.inputs) {
      const d = inputs[t.name]!;
      new Uint8Array(ex.memory.buffer, at, d.byteLength).set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      at += d.byteLength;
    }
    const rc = guarded(ex, 'run', () => ex.edgec_run_samples(n, inBase, outBase, routeBase, macsBase));
    if (rc !== 0) throw new BundleError(errorText(ex) || `run failed (status ${rc})`);
    const outputs: Record<string, TensorArray> = {};
    at = outBase;
    for (const [i, t] of info.outputs.entries()) {
      const size = n * ex.edgec_output_size(i);
      const bytes = new Uint8Array(ex.memory.buffer, at, size).slice();
      outputs[t.name] = new ARRAYS[t.dtype](bytes.buffer, 0, size / ARRAYS[t.dtype].BYTES_PER_ELEMENT);
      at += size;
    }
    const routes = new Int32Array(ex.memory.buffer, routeBase, n * info.steps).slice();
    const macs = new Float64Array(ex.memory.buffer, macsBase, n).slice();
    const samples: SampleRoute[] = [];
    for (let i = 0; i < n; i++) samples.push(sampleRoute(control, (s) => routes[i * info.steps + s]!, macs[i]!));
    return { outputs, samples };
  }

  const variableOf = (name: string) => {
    const v = infoOf(current).variables.find((t) => t.name === name);
    if (!v)
      throw new BundleError(
        `variable '${name}' is not in this bundle (variables: ${
          infoOf(current)
            .variables.map((t) => t.name)
            .join(', ') || 'none'
        })`,
      );
    return v;
  };
  function readVariable(name: string): TensorArray {
    const v = variableOf(name);
    const size = ex.edgec_tensor_size(v.id);
    const bytes = new Uint8Array(ex.memory.buffer, ex.edgec_tensor_ptr(v.id), size).slice();
    return new ARRAYS[v.dtype](bytes.buffer, 0, size / ARRAYS[v.dtype].BYTES_PER_ELEMENT);
  }
  function writeVariable(name: string, data: TensorArray): void {
    const v = variableOf(name);
    const Ctor = ARRAYS[v.dtype];
    const size = ex.edgec_tensor_size(v.id);
    if (!(data instanceof Ctor) || data.byteLength !== size) {
      throw new BundleError(
        `writeVariable: '${name}' needs a ${Ctor.name} of ${size / Ctor.BYTES_PER_ELEMENT} elements (shape [${v.shape}])`,
      );
    }
    new Uint8Array(ex.memory.buffer, ex.edgec_tensor_ptr(v.id), size).set(
      new Uint8Array(data.buffer, data.byteOffset, size),
    );
  }

  return {
    info,
    run,
    runDetailed,
    runInto,
    variants,
    useVariant,
    get variant() {
      return variants[current] ?? '';
    },
    get variables() {
      return infoOf(current).variables.map(({ name, shape, dtype }) => ({ name, shape, dtype }));
    },
    readVariable,
    writeVariable,
    resetVariables: () => {
      guarded(ex, 'resetVariables', () => ex.edgec_reset_variables());
    },
    inputView,
    close: () => pool?.close(),
  };
}
