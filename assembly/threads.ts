// Threaded inference (the `threads` build only: simd kernels + one shared memory + atomics; docs/threads.md).
// T instances of this module share one memory: the main one runs the model, T − 1 worker instances sit in
// edgec_thread_loop. A large int8 conv step is split by output rows (a 1×1 direct conv by GEMM rows): thread t
// runs rows [t·R/T, (t+1)·R/T) through the same kernel, on a copy of the step's params whose top padding is
// shifted so the slice's first row is row 0 (ih = oh·sh − pt holds for every row). Each output byte is made by one
// thread with the same integer arithmetic as one thread: the bytes are those of the simd build by construction.
// Both requantisations split: the fixed-point (i64) ids and the fp32 ones of .tflite graphs (R = f32, same slicing).
// A split step is CHUNKS = 4·T row chunks (a depthwise step with fewer rows: T), thread t owning the t-th 1/T of
// them: it claims its own from the front, one at a time, then the others' from the back (the ones their owners would
// reach last), so a worker the OS has not scheduled costs the chunk it holds, not its 1/T share: on a loaded machine
// the main thread then runs the step nearly alone instead of waiting for a sleeping worker (a fixed 1/T split ran
// 1.4–1.8× one thread's time). Owning a contiguous share keeps each thread on the same part of the image step after
// step, so it reads the rows it wrote from its own cache: with one shared chunk counter (chunks to whichever thread
// came first) a depthwise step after a split pointwise one ran 1.2–3.0× its time with warm inputs on 2 threads, and an
// unsplit one after a split one 2.8× (float MobileNetV2, 2026-12-04; docs/threads.md). Which thread computes a chunk
// changes no byte: each chunk's rows run the same kernel on the same inputs. Control block (i32 words at ctl, made by
// edgec_threads_setup): GEN (bumped per split step / quit), DONE (chunks finished), STEP, COUNT (T), MODEL (the Model's
// address), QUIT, CHUNKS, FAIL (a worker trapped), LANDING, SLEEPERS (workers blocked on GEN: only then does a split
// step notify), RUNNING, T region bases, then RANGES (T i64 words, 8-aligned): thread t's unclaimed chunks [front,
// back) (bits 16–31, 0–15) under the split's generation (high word), claimed by compare-exchange so a thread that read
// an older generation can never claim a chunk of a newer step.
// The main instance polls DONE (a browser's main thread may not block, and Node 20's V8 loses a local live across
// memory.atomic.wait32 in its baseline tier: a `want` kept over the wait read 0 and the run went on before the
// workers were done); a worker blocks on GEN and keeps nothing in locals across the wait (its last GEN is a global).
// Each worker moves its bump allocator into its own REGION_BYTES region so its kernel scratch never meets the main heap.
// The float convs split the same way, by the same chunks (assembly/threads-float.ts).
import {
  Model,
  StepInfo,
  StepParams,
  K_CONV2D_QS8,
  K_DWCONV2D_QS8,
  K_CONV2D_QS8_FP32,
  K_DWCONV2D_QS8_FP32,
  K_CONV2D_WINO_QS8,
  K_CONV2D_WINO_QS8_FP32,
} from './bundle/model';
import { conv2dWinoQs8 } from './kernels/conv/qs8-conv2d-wino-wasmsimd';
import { conv2dQs8 } from './kernels/conv/qs8-conv2d-im2col';
import { dwconv2dQs8, privatePad } from './kernels/conv/qs8-dwconv2d';
import { gemmQs8 } from './kernels/gemm/qs8-gemm';
import { privatePanel } from './kernels/gemm/qs8-gemm-4x8c2-wasmsimd';
import { privateStemBuffers } from './kernels/conv/qs8-conv2d-3x3s2c3-wasmsimd';
import { privateConvTile } from './kernels/conv/f32-conv2d-4x8-packed-interior';
import { isFloatSplit, floatSplittable, runFloatSlice, sliceAt } from './threads-float';
import { isStepSplit, stepSplittable, runStepSlice, privateSliceShapes } from './threads-steps';
import { isFloatStep, runFloatStep } from './float-steps';
import { runQs8Step } from './kernels/qs8-steps';
import { isQs8Kernel, K_DWCONV2D } from './bundle/model';

const GEN = 0;
const DONE = 4;
const STEP = 8;
const COUNT = 12;
const MODEL = 16;
const QUIT = 20;
const CHUNKS = 24;
const FAIL = 28;
const LANDING = 32;
const SLEEPERS = 36;
const RUNNING = 40;
const REGIONS = 44;
const LANDING_BYTES: usize = 64;
/** A worker's heap: its 3×3 depthwise padded block (1 MiB + 16), its GEMM panel (32 KiB; K > 4096: Kp·8 bytes) and
 * its StepParams, with room. */
const REGION_BYTES: usize = 2 << 20;
/** Chunks per thread of a split step. Fewer for small steps (one per 250 000 or 1 000 000 MACs, T at least) ran float
 *  MobileNetV2 4–5% slower on 2 threads and int8 0–1% (bench/threads.ts --base, docs/benchmarks.md round two). */
const CHUNKS_PER_THREAD = 4;
/** Steps below this many MACs run on the main thread alone: waking a worker costs ~10–50 µs. */
const MIN_SPLIT_MACS: u64 = 400_000;
/** Depthwise steps below this many MACs run on the main thread alone: split, each thread reads mostly the rows it wrote
 *  in the step before (one thread running MobileNetV2's float 28²→14²·192, 338 688 MACs, took 2.3–2.5× one thread's
 *  time on 2 threads: half its input came from the other core's cache). */
const MIN_SPLIT_DW_MACS: u64 = 200_000;
/** A worker's polls of GEN before blocking on it (~1 ms): the next split step is often a few µs away, a wake-up is not.
 *  At 20 000 polls a worker slept between the small steps of a MLPerf Tiny model and every split step paid a
 *  notify + wake-up (KWS .tflite 2 threads 2.2× one thread's time on a loaded machine; spinning: 1.02×). */
const SPINS = 1_000_000;
/** A worker's polls of GEN while the main instance is inside a run (RUNNING): the next split step is then a few small
 *  steps away unless the OS has taken the main thread's core, and polling on would take CPU time from it (Linux
 *  autogroups share CPU per process group): int8 MobileNetV2 on 2 threads at load 4–12 ran 1.35–1.90× one thread's
 *  time with SPINS, 1.04–1.29× with this; unloaded both 0.59 (docs/benchmarks.md, round three). Between runs SPINS
 *  keeps a worker awake for the next run of a small model (KWS .tflite 2T/1T 1.04 → 2.84 with 20 000 polls there). */
const RUN_SPINS = 50_000;

let ctl: usize = 0;
let threads: i32 = 1;
/** Worker instance: its thread index and the last GEN it ran (globals: see the header). */
let myThread: i32 = 0;
let seenGen: i32 = 0;
/** This instance's copy of a split step's params (its top padding shifted to the slice). */
let sliceParams: StepParams | null = null;
/** Main instance: the generation of the last split step (the RANGE words' high word). */
let splitGen: i64 = 0;
/** Main instance, for bench/profile.ts --threads: of the last split step, the chunks the main thread ran and its polls of
 *  DONE after its last chunk (how long it waited for a worker's). */
let mainChunks: i32 = 0;
let mainPolls: i32 = 0;

/** RANGES' offset in the control block of T threads (after the region bases, 8-aligned for the i64 atomics). */
// @ts-ignore: decorator
@inline function rangesAt(T: i32): usize {
  return <usize>((REGIONS + T * 4 + 7) & ~7);
}

/** Main instance: the control block and T − 1 worker heap regions; returns ctl (0 for T < 2). */
export function setupThreads(T: i32): usize {
  if (T < 2) return 0;
  // the first block after the start code's objects: a worker's allocator stands here until enterThread moves it,
  // and its two block headers land in these bytes (never in the control block or the model)
  const landing = heap.alloc(LANDING_BYTES);
  ctl = (heap.alloc(rangesAt(T) + 8 * T + 16) + 15) & ~(<usize>15);
  memory.fill(ctl, 0, rangesAt(T) + 8 * T);
  store<i32>(ctl + COUNT, T);
  store<u32>(ctl + LANDING, <u32>landing);
  for (let t = 1; t < T; t++) store<u32>(ctl + REGIONS + <usize>(t * 4), <u32>heap.alloc(REGION_BYTES));
  // the main instance's padded block too: no allocation (so no memory.grow) while workers run a split step
  privatePad();
  privateSliceShapes();
  sliceParams = new StepParams();
  threads = T;
  return ctl;
}

/** Worker instance t: bump allocator into region t (every allocation of this instance lands there from now on). */
export function enterThread(c: usize, t: i32): void {
  ctl = c;
  myThread = t;
  seenGen = 0;
  threads = load<i32>(c + COUNT);
  const region = <usize>load<u32>(c + REGIONS + <usize>(t * 4));
  // the stub allocator's next block starts 12 bytes past `here`; both headers written here fall in the landing
  const here = heap.alloc(0);
  if (here != <usize>load<u32>(c + LANDING)) unreachable(); // the main instance allocated before edgec_threads_setup
  heap.alloc(region - here - 16);
  privatePanel();
  privateStemBuffers();
  privatePad();
  privateConvTile();
  privateSliceShapes();
  sliceParams = new StepParams();
}

/** Worker instance (after enterThread): runs its slice of every split step until the main instance quits. */
export function threadLoop(): void {
  while (true) {
    let g = atomic.load<i32>(ctl + GEN);
    for (let i = 0; g == seenGen && i < (atomic.load<i32>(ctl + RUNNING) != 0 ? RUN_SPINS : SPINS); i++)
      g = atomic.load<i32>(ctl + GEN);
    if (g == seenGen) {
      // SLEEPERS before the wait re-reads GEN, runSplit's GEN bump before it reads SLEEPERS (sequentially consistent):
      // either the main instance sees this worker counted and notifies, or the wait sees the new GEN and returns
      atomic.add<i32>(ctl + SLEEPERS, 1);
      atomic.wait<i32>(ctl + GEN, seenGen);
      atomic.sub<i32>(ctl + SLEEPERS, 1);
      continue;
    }
    seenGen = g;
    if (atomic.load<i32>(ctl + QUIT) != 0) return;
    runChunks();
  }
}

/** Main instance: workers leave threadLoop (the host then ends them). */
export function quitThreads(): void {
  if (threads < 2) return;
  atomic.store<i32>(ctl + QUIT, 1);
  atomic.add<i32>(ctl + GEN, 1);
  atomic.notify(ctl + GEN, threads - 1);
  threads = 1;
}

/** Main instance: edgec_run starts (on) or ends a run; workers spin RUN_SPINS polls inside one, SPINS between. */
export function threadsRunning(on: bool): void {
  if (threads > 1) atomic.store<i32>(ctl + RUNNING, on ? 1 : 0);
}

/** Worker host: a trap in a worker ends its loop; the main instance then runs every step alone. */
export function failThread(): void {
  atomic.store<i32>(ctl + FAIL, 1);
  atomic.add<i32>(ctl + DONE, 1);
}

function splittable(m: Model, s: StepInfo): bool {
  const k = s.kernel;
  if (isStepSplit(k)) return stepSplittable(m, s, threads);
  const dw = k == K_DWCONV2D_QS8 || k == K_DWCONV2D_QS8_FP32 || k == K_DWCONV2D;
  const least = dw ? MIN_SPLIT_DW_MACS : MIN_SPLIT_MACS;
  if (s.macs < least) return false;
  if (isFloatSplit(k)) return floatSplittable(m, s, threads);
  if (k == K_CONV2D_WINO_QS8 || k == K_CONV2D_WINO_QS8_FP32) {
    const y = m.tensors[s.outputs[0]];
    return y.shape[0] == 1 && y.shape[1] >= 2 * threads;
  }
  const conv = k == K_CONV2D_QS8 || k == K_CONV2D_QS8_FP32;
  if (!conv && k != K_DWCONV2D_QS8 && k != K_DWCONV2D_QS8_FP32) return false;
  const y = m.tensors[s.outputs[0]];
  // a 1×1 direct conv splits its N·H·W GEMM rows; the others split the rows of one image
  if (conv && scratchOf(m, s) == 0) return true;
  return y.shape[0] == 1 && y.shape[1] >= threads;
}

/** The chunks of split step s: CHUNKS_PER_THREAD per thread, but one per thread for a depthwise conv with fewer rows
 *  than that. A depthwise step sets up every 8-channel group per call: 1-row chunks of MobileNetV2's 7×7·960 repeated
 *  that setup and ran ×1.00–1.05 of one thread unloaded, ×1.26–1.30 when the main thread ran every chunk
 *  (bench/profile.ts --threads 2, docs/benchmarks.md); unsplit, a thread reads the rows the other one wrote. */
function chunksOf(m: Model, s: StepInfo): i32 {
  const k = s.kernel;
  const chunks = CHUNKS_PER_THREAD * threads;
  if (k != K_DWCONV2D_QS8 && k != K_DWCONV2D_QS8_FP32 && k != K_DWCONV2D) return chunks;
  return m.tensors[s.outputs[0]].shape[1] < chunks ? threads : chunks;
}

function scratchOf(m: Model, s: StepInfo): usize {
  return s.inputs.length > 3 && s.inputs[3] >= 0 ? m.tensors[s.inputs[3]].ptr : 0;
}

/**
 * Main instance, step i: when threads are on and the step is split, runs it on every thread and returns 1 (−1: a
 * worker trapped during it, the output is incomplete); 0 leaves it to the one-thread dispatch.
 */
export function runSplit(m: Model, i: i32, s: StepInfo): i32 {
  if (threads < 2 || atomic.load<i32>(ctl + FAIL) != 0 || !splittable(m, s)) return 0;
  const chunks = chunksOf(m, s);
  // every word a claimer reads is written before the RANGE words publish the new generation
  store<u32>(ctl + MODEL, <u32>changetype<usize>(m));
  store<i32>(ctl + STEP, i);
  store<i32>(ctl + CHUNKS, chunks);
  atomic.store<i32>(ctl + DONE, 0);
  splitGen++;
  const at = ctl + rangesAt(threads);
  for (let t = 0; t < threads; t++) {
    const r0 = <i64>((t * chunks) / threads),
      r1 = <i64>(((t + 1) * chunks) / threads);
    atomic.store<i64>(at + <usize>(t * 8), (splitGen << 32) | (r0 << 16) | r1);
  }
  atomic.add<i32>(ctl + GEN, 1);
  // a notify is a call into the engine (a lock and a wait-list walk); the spinning workers need none
  if (atomic.load<i32>(ctl + SLEEPERS) > 0) atomic.notify(ctl + GEN, threads - 1);
  mainChunks = runChunks();
  // the chunks the workers claimed (a failed worker counts its chunk done: FAIL then says the output is incomplete)
  let polls = 0;
  while (atomic.load<i32>(ctl + DONE) < chunks) polls++;
  mainPolls = polls;
  return atomic.load<i32>(ctl + FAIL) != 0 ? -1 : 1;
}

/** Any thread: claims and runs chunks of the current split step until none is left: first its own range from the
 *  front, then the other threads' from the back (the chunks their owners would reach last). A claim succeeds only while
 *  the range word still holds the value read before STEP / CHUNKS were read, so those belong to the claimed chunk's
 *  step. */
function runChunks(): i32 {
  const T = load<i32>(ctl + COUNT);
  const at = ctl + rangesAt(T);
  let ran = 0;
  for (let k = 0; k < T; k++) {
    const u = myThread + k < T ? myThread + k : myThread + k - T;
    const w = at + <usize>(u * 8);
    const own = k == 0;
    while (true) {
      const v = atomic.load<i64>(w);
      const r0 = <i32>((v >> 16) & 0xffff),
        r1 = <i32>(v & 0xffff);
      if (r0 >= r1) break;
      const chunks = atomic.load<i32>(ctl + CHUNKS);
      const m = changetype<Model>(<usize>atomic.load<u32>(ctl + MODEL));
      const s = m.steps[atomic.load<i32>(ctl + STEP)];
      if (atomic.cmpxchg<i64>(w, v, own ? v + 0x10000 : v - 1) != v) continue;
      runSlice(m, s, own ? r0 : r1 - 1, chunks);
      atomic.add<i32>(ctl + DONE, 1);
      ran++;
    }
  }
  return ran;
}

/** bench/profile.ts --threads: steps [from, to) of model m as runModel runs them (no control steps); 0 ok, 1 a step is
 *  none of the inference kernels, 2 a worker trapped. */
export function runSteps(m: Model, from: i32, to: i32): i32 {
  for (let i = from; i < to; i++) {
    const s = m.steps[i];
    const split = runSplit(m, i, s);
    if (split < 0) return 2;
    if (split > 0) continue;
    if (isFloatStep(s.kernel)) runFloatStep(m, s, false);
    else if (isQs8Kernel(s.kernel)) runQs8Step(m, s, false);
    else return 1;
  }
  return 0;
}

/** bench/profile.ts --threads: 0 the kernel id of step i, 1 its MACs, 2 whether it splits, 3/4 mainChunks/mainPolls. */
export function stepStat(m: Model, i: i32, what: i32): f64 {
  const s = m.steps[i];
  if (what == 0) return <f64>s.kernel;
  if (what == 1) return <f64>s.macs;
  if (what == 2) return threads > 1 && splittable(m, s) ? 1 : 0;
  return what == 3 ? <f64>mainChunks : <f64>mainPolls;
}

/** Chunk t of T of a split step. */
function runSlice(m: Model, s: StepInfo, t: i32, T: i32): void {
  const k = s.kernel;
  if (isFloatSplit(k) || isStepSplit(k)) {
    memory.copy(changetype<usize>(sliceParams!), changetype<usize>(s.p), offsetof<StepParams>());
    if (isStepSplit(k)) runStepSlice(m, s, t, T, sliceParams!);
    else runFloatSlice(m, s, t, T, sliceParams!);
  } else if (k == K_CONV2D_WINO_QS8) winoSlice<i64>(m, s, t, T);
  else if (k == K_CONV2D_WINO_QS8_FP32) winoSlice<f32>(m, s, t, T);
  else if (k == K_CONV2D_QS8 || k == K_DWCONV2D_QS8) runSliceOf<i64>(m, s, t, T, k == K_CONV2D_QS8);
  else runSliceOf<f32>(m, s, t, T, k == K_CONV2D_QS8_FP32);
}

/** Chunk t's output rows (whole 2-row tile rows but the last) of a Winograd step: the kernel's accumulators are the
 *  direct conv's whatever the tiling, so a slice changes no byte. Its V panel is this instance's own heap block. */
function winoSlice<R>(m: Model, s: StepInfo, t: i32, T: i32): void {
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const sh = x.shape,
    os = y.shape;
  const r0 = sliceAt(os[1], t, T, 2),
    r1 = sliceAt(os[1], t + 1, T, 2);
  if (r1 <= r0) return;
  const q = sliceParams!;
  memory.copy(changetype<usize>(q), changetype<usize>(s.p), offsetof<StepParams>());
  q.pt = s.p.pt - r0;
  const w = m.tensors[s.inputs[1]].ptr,
    qc = m.tensors[s.inputs[2]].ptr;
  const yp = y.ptr + <usize>r0 * <usize>(os[2] * os[3]);
  conv2dWinoQs8<R>(x.ptr, w, qc, yp, 1, sh[1], sh[2], sh[3], r1 - r0, os[2], os[3], q, x.zeroPoint, y.zeroPoint);
}

/** Chunk t's rows of a split step in T chunks, requantised in R (qs8-requant.ts requantAt: i64 fixed point, f32
 *  XNNPACK's). */
function runSliceOf<R>(m: Model, s: StepInfo, t: i32, T: i32, conv: bool): void {
  const p = s.p;
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const sh = x.shape,
    os = y.shape;
  const w = m.tensors[s.inputs[1]].ptr,
    qc = m.tensors[s.inputs[2]].ptr;
  const H = sh[1],
    W = sh[2],
    Ci = sh[3],
    OH = os[1],
    OW = os[2],
    Co = os[3];
  const q = sliceParams!;
  memory.copy(changetype<usize>(q), changetype<usize>(p), offsetof<StepParams>());
  if (conv) {
    const scratch = scratchOf(m, s);
    if (scratch == 0) {
      const M = sh[0] * H * W;
      const r0 = sliceAt(M, t, T, 4),
        r1 = sliceAt(M, t + 1, T, 4);
      if (r1 > r0)
        gemmQs8<R>(
          x.ptr + <usize>r0 * <usize>Ci,
          Ci,
          r1 - r0,
          Ci,
          w,
          qc,
          Co,
          Co,
          y.ptr + <usize>r0 * <usize>Co,
          Co,
          y.zeroPoint,
          p.qMin,
          p.qMax,
        );
      return;
    }
    const r0 = sliceAt(OH, t, T, 1),
      r1 = sliceAt(OH, t + 1, T, 1);
    if (r1 <= r0) return;
    const Kp = (p.kh * p.kw * (Ci / p.groups) + 7) & ~7;
    q.pt = p.pt - r0 * p.sh;
    conv2dQs8<R>(
      x.ptr,
      w,
      qc,
      scratch + <usize>r0 * <usize>(OW * Kp),
      y.ptr + <usize>r0 * <usize>(OW * Co),
      1,
      H,
      W,
      Ci,
      r1 - r0,
      OW,
      Co,
      q,
      x.zeroPoint,
      y.zeroPoint,
    );
  } else {
    const r0 = sliceAt(OH, t, T, 1),
      r1 = sliceAt(OH, t + 1, T, 1);
    if (r1 <= r0) return;
    q.pt = p.pt - r0 * p.sh;
    dwconv2dQs8<R>(
      x.ptr,
      w,
      qc,
      y.ptr + <usize>r0 * <usize>(OW * Co),
      1,
      H,
      W,
      Ci,
      r1 - r0,
      OW,
      q,
      x.zeroPoint,
      y.zeroPoint,
    );
  }
}
