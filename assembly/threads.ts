// Threaded inference (the `threads` build only: simd kernels + one shared memory + atomics; docs/threads.md).
// T instances of this module share one memory: the main one runs the model, T − 1 worker instances sit in
// edgec_thread_loop. A large int8 conv step is split by output rows (a 1×1 direct conv by GEMM rows): thread t
// runs rows [t·R/T, (t+1)·R/T) through the same kernel, on a copy of the step's params whose top padding is
// shifted so the slice's first row is row 0 (ih = oh·sh − pt holds for every row). Each output byte is made by one
// thread with the same integer arithmetic as one thread: the bytes are those of the simd build by construction.
// Only the fixed-point (i64 requant) conv ids split; the fp32-requant ones of .tflite graphs run on one thread.
// The float convs split the same way (assembly/threads-float.ts).
// Control block (i32 words at ctl, made by edgec_threads_setup): GEN (bumped per split step / quit), DONE (workers
// finished with it), STEP, COUNT (T), MODEL (the Model's address), QUIT, FAIL (a worker trapped), LANDING, then T region
// bases. The main instance polls DONE (a browser's main thread may not block, and Node 20's V8 loses a local live across
// memory.atomic.wait32 in its baseline tier: a `want` kept over the wait read 0 and the run went on before the workers
// were done); a worker blocks on GEN and keeps nothing in locals across the wait (its slice and last GEN are globals). Each worker
// moves its bump allocator into its own REGION_BYTES region so its kernel scratch never meets the main heap.
import { Model, StepInfo, StepParams, K_CONV2D_QS8, K_DWCONV2D_QS8 } from './bundle/model';
import { conv2dQs8 } from './kernels/conv/qs8-conv2d-im2col';
import { dwconv2dQs8, privatePad } from './kernels/conv/qs8-dwconv2d';
import { gemmQs8 } from './kernels/gemm/qs8-gemm';
import { privatePanel } from './kernels/gemm/qs8-gemm-4x8c2-wasmsimd';
import { privateConvTile } from './kernels/conv/f32-conv2d-4x8-packed-interior';
import { isFloatSplit, floatSplittable, runFloatSlice } from './threads-float';

const GEN = 0;
const DONE = 4;
const STEP = 8;
const COUNT = 12;
const MODEL = 16;
const QUIT = 20;
const FAIL = 28;
const LANDING = 32;
const REGIONS = 36;
const LANDING_BYTES: usize = 64;
/** A worker's heap: its 3×3 depthwise padded block (1 MiB + 16), its GEMM panel (32 KiB; K > 4096: Kp·8 bytes) and
 * its StepParams, with room. */
const REGION_BYTES: usize = 2 << 20;
/** Steps below this many MACs run on the main thread alone: waking a worker costs ~10–50 µs. */
const MIN_SPLIT_MACS: u64 = 400_000;
/** A worker's polls of GEN before blocking on it (the next split step is often a few µs away; a wake-up is not). */
const SPINS = 20_000;

let ctl: usize = 0;
let threads: i32 = 1;
/** Worker instance: its thread index and the last GEN it ran (globals: see the header). */
let myThread: i32 = 0;
let seenGen: i32 = 0;
/** This instance's copy of a split step's params (its top padding shifted to the slice). */
let sliceParams: StepParams | null = null;

/** Main instance: the control block and T − 1 worker heap regions; returns ctl (0 for T < 2). */
export function setupThreads(T: i32): usize {
  if (T < 2) return 0;
  // the first block after the start code's objects: a worker's allocator stands here until enterThread moves it,
  // and its two block headers land in these bytes (never in the control block or the model)
  const landing = heap.alloc(LANDING_BYTES);
  ctl = (heap.alloc(<usize>(REGIONS + T * 4) + 16) + 15) & ~(<usize>15);
  memory.fill(ctl, 0, <usize>(REGIONS + T * 4));
  store<i32>(ctl + COUNT, T);
  store<u32>(ctl + LANDING, <u32>landing);
  for (let t = 1; t < T; t++) store<u32>(ctl + REGIONS + <usize>(t * 4), <u32>heap.alloc(REGION_BYTES));
  // the main instance's padded block too: no allocation (so no memory.grow) while workers run a split step
  privatePad();
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
  privatePad();
  privateConvTile();
  sliceParams = new StepParams();
}

/** Worker instance (after enterThread): runs its slice of every split step until the main instance quits. */
export function threadLoop(): void {
  while (true) {
    let g = atomic.load<i32>(ctl + GEN);
    for (let i = 0; g == seenGen && i < SPINS; i++) g = atomic.load<i32>(ctl + GEN);
    if (g == seenGen) {
      atomic.wait<i32>(ctl + GEN, seenGen);
      continue;
    }
    seenGen = g;
    if (atomic.load<i32>(ctl + QUIT) != 0) return;
    const m = changetype<Model>(<usize>atomic.load<u32>(ctl + MODEL));
    runSlice(m, m.steps[atomic.load<i32>(ctl + STEP)], myThread);
    atomic.add<i32>(ctl + DONE, 1);
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

/** Worker host: a trap in a worker ends its loop; the main instance then runs every step alone. */
export function failThread(): void {
  atomic.store<i32>(ctl + FAIL, 1);
  atomic.add<i32>(ctl + DONE, 1);
}

function splittable(m: Model, s: StepInfo): bool {
  if (s.macs < MIN_SPLIT_MACS) return false;
  const k = s.kernel;
  if (isFloatSplit(k)) return floatSplittable(m, s, threads);
  if (k != K_CONV2D_QS8 && k != K_DWCONV2D_QS8) return false;
  const y = m.tensors[s.outputs[0]];
  // a 1×1 direct conv splits its N·H·W GEMM rows; the others split the rows of one image
  if (k == K_CONV2D_QS8 && scratchOf(m, s) == 0) return true;
  return y.shape[0] == 1 && y.shape[1] >= threads;
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
  store<u32>(ctl + MODEL, <u32>changetype<usize>(m));
  store<i32>(ctl + STEP, i);
  atomic.store<i32>(ctl + DONE, 0);
  atomic.add<i32>(ctl + GEN, 1);
  atomic.notify(ctl + GEN, threads - 1);
  runSlice(m, s, 0);
  const want = threads - 1;
  while (atomic.load<i32>(ctl + DONE) < want) {}
  return atomic.load<i32>(ctl + FAIL) != 0 ? -1 : 1;
}

/** Row r of R split over T threads: [rowAt(t), rowAt(t + 1)) is thread t's, multiples of `unit` but the last. */
// @ts-ignore: decorator
@inline function rowAt(R: i32, t: i32, T: i32, unit: i32): i32 {
  if (t >= T) return R;
  const r = <i32>((<i64>R * <i64>t) / <i64>T);
  return min(R, ((r + unit - 1) / unit) * unit);
}

function runSlice(m: Model, s: StepInfo, t: i32): void {
  if (isFloatSplit(s.kernel)) {
    memory.copy(changetype<usize>(sliceParams!), changetype<usize>(s.p), offsetof<StepParams>());
    runFloatSlice(m, s, t, threads, sliceParams!);
    return;
  }
  const T = threads;
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
  if (s.kernel == K_CONV2D_QS8) {
    const scratch = scratchOf(m, s);
    if (scratch == 0) {
      const M = sh[0] * H * W;
      const r0 = rowAt(M, t, T, 4),
        r1 = rowAt(M, t + 1, T, 4);
      if (r1 > r0)
        gemmQs8<i64>(
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
    const r0 = rowAt(OH, t, T, 1),
      r1 = rowAt(OH, t + 1, T, 1);
    if (r1 <= r0) return;
    const Kp = (p.kh * p.kw * (Ci / p.groups) + 7) & ~7;
    q.pt = p.pt - r0 * p.sh;
    conv2dQs8<i64>(
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
    const r0 = rowAt(OH, t, T, 1),
      r1 = rowAt(OH, t + 1, T, 1);
    if (r1 <= r0) return;
    q.pt = p.pt - r0 * p.sh;
    dwconv2dQs8<i64>(
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
