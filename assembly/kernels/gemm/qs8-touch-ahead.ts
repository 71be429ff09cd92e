// Cross-step touching: while a compute-bound int8 GEMM step runs on the 4×8 tile's Touch path, its tiles load one word
// every TOUCH_AHEAD_STRIDE bytes of the next Dense's weights (wasm has no prefetch instruction), so they come from
// L2/L3 when the Dense starts, not from DRAM: a one-row Dense reads each weight once, memory-bound (MobileNetV2's
// 1280 → 1000, 1.28 MB: 50 µs hot, 85–100 µs in a whole run). Region: [ptr, ptr + bytes) of the Dense's constant
// weights, which validation placed inside the bundle's constants, or of their i16 copy (planned at load,
// StepInfo.aheadPtr / aheadBytes); a word is read at ptr + j·stride only when it ends inside the region. Reads only:
// the output bytes never depend on it.
import {
  Model,
  DT_I8,
  K_CONV2D_QS8,
  K_CONV2D_QS8_FP32,
  K_CONV1XK_QS8,
  K_CONV1XK_QS8_FP32,
  K_CONVKX1_QS8,
  K_CONVKX1_QS8_FP32,
  K_DENSE_QS8,
  K_DENSE_QS8_FP32,
} from '../../bundle/model';
import { qs8W16Bytes } from './qs8-gemm-1x16c2w16-wasmsimd';

/** One touch per 16 lines: the hardware prefetchers fetch most of the rest, and each touch that misses to DRAM holds
 *  the tile's retirement up. Int8 MobileNetV2, step 63 touching the Dense's 1.28 MB, steps in sequence: every line
 *  Dense 94 → 53 µs but step 63 +65 µs; strides 512, 1024, 2048, 4096: Dense 101 → 72, 70, 74, 77 µs, step 63 +5, −2,
 *  +1, 0 (docs/bench-log/2026-12-04.md, "Dense weights ahead"). */
export const TOUCH_AHEAD_STRIDE: usize = 1024;

/** The current step's region as [next word, end): a word is touched while its address is below `aheadEnd`. */
let aheadNext: usize = 0;
let aheadEnd: usize = 0;

/** The region the current step touches ahead (0, 0: none); the executor sets it around each int8 step. */
export function setTouchAhead(ptr: usize, bytes: u32): void {
  aheadNext = ptr;
  // the last word read starts at most 4 bytes before the region's end
  aheadEnd = bytes >= 4 ? ptr + <usize>bytes - 3 : ptr;
}

/** The int8 steps whose weights (input 1) the GEMM tiles stream: the ones touched ahead, and the ones that touch. */
function streamsWeights(k: i32): bool {
  return (
    k == K_CONV2D_QS8 ||
    k == K_CONV2D_QS8_FP32 ||
    k == K_CONV1XK_QS8 ||
    k == K_CONV1XK_QS8_FP32 ||
    k == K_CONVKX1_QS8 ||
    k == K_CONVKX1_QS8_FP32 ||
    k == K_DENSE_QS8 ||
    k == K_DENSE_QS8_FP32
  );
}

/** At load, after validation and widenDenseWeights: every GEMM-backed step followed (past steps without weights) by a Dense on constant int8
 *  weights gets those weights as its region. Only the Dense: it is memory-bound (1.28 MB read once in MobileNetV2, no
 *  reuse), while a conv's first weight block is a few KiB the 4×8 tile's own Touch path follows at once. */
export function planTouchAhead(m: Model): void {
  for (let i = 0; i < m.steps.length; i++) {
    const s = m.steps[i];
    s.aheadPtr = 0;
    s.aheadBytes = 0;
    if (!streamsWeights(s.kernel)) continue;
    for (let j = i + 1; j < m.steps.length; j++) {
      const t = m.steps[j];
      if (!streamsWeights(t.kernel)) continue;
      if (t.kernel != K_DENSE_QS8 && t.kernel != K_DENSE_QS8_FP32) break;
      const w = m.tensors[t.inputs[1]];
      if (t.w16 != 0) {
        // the GEMV reads the i16 copy made at load (qs8-steps.ts widenDenseWeights), not the int8 weights
        s.aheadPtr = t.w16;
        s.aheadBytes = <u32>qs8W16Bytes(m.tensors[t.outputs[0]].shape[1], m.tensors[t.inputs[0]].shape[1]);
      } else if (w.constant && w.dtype == DT_I8) {
        s.aheadPtr = w.ptr;
        s.aheadBytes = w.size;
      }
      break;
    }
  }
}

/** Words each of `tiles` tiles touches to cover the region in one call (0: no region). Per call: a step of several
 *  GEMM calls (an im2col conv's chunks) touches it all in its first; rows past the last multiple of 4 (the 1×16 GEMV)
 *  touch none of it. */
export function touchAheadPerTile(tiles: i32): i32 {
  if (aheadNext >= aheadEnd || tiles <= 0) return 0;
  const words = <i32>((aheadEnd - aheadNext + TOUCH_AHEAD_STRIDE - 1) / TOUCH_AHEAD_STRIDE);
  return (words + tiles - 1) / tiles;
}

/** Touches the region's next `words` words (fewer at its end); the xor of what it read, for the caller's sink. */
// @ts-ignore: decorator
@inline export function touchAhead(words: i32): i32 {
  let s: i32 = 0;
  let p = aheadNext;
  const e = aheadEnd;
  for (let j = 0; j < words && p < e; j++, p += TOUCH_AHEAD_STRIDE) s ^= load<i32>(p);
  aheadNext = p;
  return s;
}
