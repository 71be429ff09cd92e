// Test harness for the wasm executor: builds small bundles with writeBundle (arena and constants
// laid out 16-aligned here), runs them through every build x mode (simd/scalar x fast/reference, and relaxed
// where the engine has it) and checks the outputs are bit-identical. Also a seeded PRNG for test data.
import * as assert from 'uvu/assert';
import { writeBundle, fb, type ParamsSpec } from '../../compiler/emit/bundle-writer.ts';
import { load, relaxedSupported, type TensorArray } from '../../runtime/node.ts';

export { fb };

export type Role = 'in' | 'const' | 'out' | 'tmp';
export interface TDesc {
  name: string;
  shape: number[];
  role: Role;
  dtype?: fb.DType;
  data?: TensorArray;
  zeroPoint?: number;
}
export interface SDesc {
  kernel: fb.KernelId;
  inputs: number[];
  outputs: number[];
  params?: ParamsSpec;
  node?: string;
}

const ELEM: Record<number, number> = { [fb.DType.F32]: 4, [fb.DType.I32]: 4, [fb.DType.I8]: 1, [fb.DType.U8]: 1 };
const align16 = (n: number) => (n + 15) & ~15;
export const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** A bundle of the given tensors and steps; inputs/outputs are the 'in'/'out' tensors in order. */
export function makeBundle(tensors: TDesc[], steps: SDesc[], arenaExtra = 0): Uint8Array {
  let arena = 0,
    consts = 0;
  const specs = tensors.map((t) => {
    const dtype = t.dtype ?? fb.DType.F32;
    const size = numel(t.shape) * ELEM[dtype]!;
    let offset: number;
    if (t.role === 'const') {
      offset = consts;
      consts = align16(consts + size);
    } else {
      offset = arena;
      arena = align16(arena + size);
    }
    return {
      name: t.name,
      dtype,
      shape: t.shape,
      constant: t.role === 'const',
      offset,
      size,
      zeroPoint: t.zeroPoint ?? 0,
    };
  });
  const constants = new Uint8Array(consts);
  tensors.forEach((t, i) => {
    if (t.role === 'const')
      constants.set(new Uint8Array(t.data!.buffer, t.data!.byteOffset, specs[i]!.size), specs[i]!.offset);
  });
  return writeBundle({
    tensors: specs,
    steps: steps.map((s) => ({ ...s, macs: 0 })),
    inputs: tensors.flatMap((t, i) => (t.role === 'in' ? [i] : [])),
    outputs: tensors.flatMap((t, i) => (t.role === 'out' ? [i] : [])),
    arenaSize: arena + arenaExtra,
    constants,
    metadata: { edgecVersion: 'test', sourceHash: '', compileOptions: '{}', target: 'simd', modelName: 'test' },
  });
}

/** Two inputs (a, b f32 [2,3]) and an i32 one (iv [2,3]); outputs sum = a + b and idx = ivᵀ [3,2] (i32). */
export function twoInOutBundle(): Uint8Array {
  return makeBundle(
    [
      { name: 'a', shape: [2, 3], role: 'in' },
      { name: 'b', shape: [2, 3], role: 'in' },
      { name: 'sum', shape: [2, 3], role: 'out' },
      { name: 'idx', shape: [3, 2], role: 'out', dtype: fb.DType.I32 },
      { name: 'iv', shape: [2, 3], role: 'in', dtype: fb.DType.I32 },
    ],
    [
      {
        kernel: fb.KernelId.Binary_F32,
        inputs: [0, 1],
        outputs: [2],
        params: { type: 'binary', op: fb.BinaryOp.Add, shape: [2, 3], aStrides: [3, 1], bStrides: [3, 1] },
      },
      {
        kernel: fb.KernelId.Transpose,
        inputs: [4],
        outputs: [3],
        params: { type: 'transpose', shape: [3, 2], strides: [1, 3], offset: 0 },
      },
    ],
  );
}

// EDGEC_TEST_RELAXED=1 (test/kernels/relaxed.test.ts starts a child node with the engine flag): the relaxed build
// must be there, so a run that silently left it out cannot pass.
if (process.env.EDGEC_TEST_RELAXED === '1' && !relaxedSupported())
  throw new Error('EDGEC_TEST_RELAXED=1 but this engine does not validate relaxed SIMD');

/** simd/scalar × fast/reference, then the relaxed build (fast) where this engine runs relaxed SIMD. */
export const VARIANTS: readonly { build: 'relaxed' | 'simd' | 'scalar'; reference: boolean }[] = [
  { build: 'simd', reference: false },
  { build: 'scalar', reference: false },
  { build: 'simd', reference: true },
  { build: 'scalar', reference: true },
  ...(relaxedSupported() ? [{ build: 'relaxed' as const, reference: false }] : []),
];

/** Runs the bundle in all four variants, asserts identical bits, returns the reference outputs. */
export async function runAll(
  bundle: Uint8Array,
  inputs: Record<string, TensorArray>,
  label: string,
): Promise<Record<string, TensorArray>> {
  const results: Record<string, TensorArray>[] = [];
  for (const v of VARIANTS) {
    const m = await load(bundle, v);
    assert.is(m.info.build, v.build, `${label}: loaded build`);
    results.push(m.run(inputs));
  }
  const ref = results[2]!;
  for (let k = 0; k < results.length; k++) {
    for (const name of Object.keys(ref)) {
      const a = bits(results[k]![name]!),
        b = bits(ref[name]!);
      assert.is(a.length, b.length, `${label}: ${name} length`);
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) {
          const v = VARIANTS[k]!;
          assert.unreachable(
            `${label}: ${name}[${i}] ${v.build}${v.reference ? '-ref' : ''} ${asF32(a[i]!)} != reference ${asF32(b[i]!)}`,
          );
        }
      }
    }
  }
  return ref;
}

function bits(a: TensorArray): Uint32Array | Uint8Array {
  return a.BYTES_PER_ELEMENT === 4
    ? new Uint32Array(a.buffer, a.byteOffset, a.length)
    : new Uint8Array(a.buffer, a.byteOffset, a.length);
}
function asF32(u: number): number {
  return new Float32Array(new Uint32Array([u]).buffer)[0]!;
}

/** mulberry32: deterministic test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randF32(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/**
 * got (f32 from the wasm) vs want (float64 spec loop): |got − want| ≤ tol·(mag + 1e-30), where mag
 * is Σ|terms| of that output (the scale f32 rounding errors grow with), or |want| for non-sums.
 */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  mag: ArrayLike<number>,
  tol: number,
  label: string,
): void {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= tol * (mag[i]! + 1e-30)) && !Object.is(got[i], want[i])) {
      assert.unreachable(`${label}: [${i}] got ${got[i]} want ${want[i]} (err ${err}, allowed ${tol * mag[i]!})`);
    }
  }
}
