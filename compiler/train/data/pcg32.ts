// PCG32 (O'Neill's pcg32_random_r: 64-bit LCG state, XSH-RR output, odd increment = stream) — the
// one random generator of training: shuffles, augmentation, initialisation. Written once from the
// published algorithm, tested against its reference demo output (test/compiler/train/pcg32.test.ts).
// BigInt state arithmetic (mod 2^64): a few hundred ns a draw, nothing next to a training step.

const MULT = 6364136223846793005n;
const MASK64 = (1n << 64n) - 1n;

/** The generator's whole state, as JSON-safe hex strings (for checkpoints). */
export interface Pcg32State {
  state: string;
  inc: string;
}

export class Pcg32 {
  private state = 0n;
  private inc = 1n;

  /** pcg32_srandom_r(initState, initSeq): the same pair gives the same sequence; each seq is its own stream. */
  constructor(initState: number | bigint = 0x853c49e6748fea9bn, initSeq: number | bigint = 0xda3e39cb94b95bdbn) {
    this.inc = ((BigInt.asUintN(64, BigInt(initSeq)) << 1n) | 1n) & MASK64;
    this.step();
    this.state = (this.state + BigInt.asUintN(64, BigInt(initState))) & MASK64;
    this.step();
  }

  private step(): void {
    this.state = (this.state * MULT + this.inc) & MASK64;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const old = this.state;
    this.step();
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << (-rot & 31))) >>> 0;
  }

  /** Uniform integer in [0, bound) without modulo bias (pcg32_boundedrand_r: reject below 2^32 mod bound). */
  bounded(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 0x100000000)
      throw new RangeError(`Pcg32.bounded: bound must be an integer in [1, 2^32], got ${bound}`);
    const threshold = (0x100000000 - bound) % bound;
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) return r % bound;
    }
  }

  /** Uniform float64 in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  getState(): Pcg32State {
    return { state: this.state.toString(16), inc: this.inc.toString(16) };
  }

  /** A generator that continues exactly where the one that produced `s` stood. */
  static fromState(s: Pcg32State): Pcg32 {
    const hex = /^[0-9a-f]{1,16}$/;
    if (!hex.test(s?.state ?? '') || !hex.test(s?.inc ?? '') || (BigInt(`0x${s.inc}`) & 1n) === 0n) {
      throw new RangeError(
        `not a PCG32 state (expected { state, inc } as hex of at most 16 digits, inc odd): ${JSON.stringify(s)}`,
      );
    }
    const g = new Pcg32();
    g.state = BigInt(`0x${s.state}`);
    g.inc = BigInt(`0x${s.inc}`);
    return g;
  }
}

/**
 * Fisher–Yates shuffle of 0..n−1 in the reference demo's order (i from n down to 2, swap i−1 with
 * bounded(i)), so the permutation is a function of the generator state alone.
 */
export function permutation(n: number, rng: Pcg32): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n; i > 1; i--) {
    const j = rng.bounded(i);
    const t = p[j]!;
    p[j] = p[i - 1]!;
    p[i - 1] = t;
  }
  return p;
}
