// Add_QS8's constant-shift row (assembly/kernels/elementwise/qs8-elementwise.ts, addQs8RowFold16: lanes 256·A, 256·B,
// the zero points folded into one constant, shift 30 as a literal) and its constants (compiler/ir/quant.ts addFoldOk,
// ortAddFixedPoint): the row step by step in BigInt against the spec, the kernel on every build against the spec
// with constants at the i16 limits, and onnxruntime-arithmetic Adds on those constants against QLinearAdd's table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeBundle, runAll, fb, rng } from './harness.ts';
import { addFoldOk, addFp32Constants, ortAddFixedPoint, ADD_FOLD_SHIFT } from '../../compiler/ir/quant.ts';
import { addFp32 } from '../../compiler/ir/requant.ts';

const r = rng(20261204);
const randInt = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const i16 = (v: bigint) => BigInt.asIntN(16, v),
  i32 = (v: bigint) => BigInt.asIntN(32, v);
const sat = (v: bigint, bits: bigint) => {
  const m = 1n << (bits - 1n);
  return v < -m ? -m : v >= m ? m - 1n : v;
};

/** The spec (docs/quantization.md, Add_QS8) in exact integers, on the codes A, B. */
function addSpec(A: bigint, B: bigint, c: Consts): bigint {
  const v = (((A - c.zpA) * c.ma + (B - c.zpB) * c.mb + (1n << (c.sh - 1n))) >> c.sh) + c.zp;
  return v < c.lo ? c.lo : v > c.hi ? c.hi : v;
}

interface Consts {
  ma: bigint;
  mb: bigint;
  sh: bigint;
  zpA: bigint;
  zpB: bigint;
  zp: bigint;
  lo: bigint;
  hi: bigint;
}

/** addQs8RowFold16 on one output, step by step in the wasm's widths (pmaddwd: i16 products summed, wrapped to i32). */
function addFoldEmulated(A: bigint, B: bigint, c: Consts): bigint {
  const k = 30n - c.sh,
    fa = c.ma << k,
    fb = c.mb << k;
  const mla = i16(fa),
    mlb = i16(fb),
    mha = i16((fa - mla) >> 16n),
    mhb = i16((fb - mlb) >> 16n);
  const pa = i16(A << 8n),
    pb = i16(B << 8n);
  const dot = (u: bigint, v: bigint) => i32(pa * u + pb * v);
  const kh = i32(((1n << 29n) - c.zpA * fa - c.zpB * fb + (c.zp << 30n)) >> 8n);
  const u = i32(i32(dot(mha, mhb) + kh) + (dot(mla, mlb) >> 16n)) >> 22n;
  const q = sat(sat(u, 16n), 8n);
  return q < c.lo ? c.lo : q > c.hi ? c.hi : q;
}

const show = (c: Consts) => JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? String(v) : v));
const foldOk = (c: Consts) =>
  addFoldOk(
    { multA: Number(c.ma), multB: Number(c.mb), shift: Number(c.sh) },
    Number(c.zpA),
    Number(c.zpB),
    Number(c.zp),
  );

/**
 * Constants addFoldOk takes around the limits: high halves 0 / 1 / 2^15 − 1, low halves −2^15 (one side) / −1 / 0 /
 * 2^15 − 1, shifts 17..30, zero points at the extremes; mult_b's low byte moved until K is a multiple of 2^8.
 */
function foldConsts(): Consts[] {
  const HIGH = [0n, 1n, 0x3fffn, 0x7fffn, 0x5a5an],
    LOW = [-32768n, -1n, 0n, 1n, 32767n, 0x1234n],
    ZP = [-128n, 127n, 0n, -37n, 64n, 1n],
    CLAMP: [bigint, bigint][] = [
      [-128n, 127n],
      [0n, 6n],
      [-128n, -128n],
      [127n, 127n],
    ];
  const out: Consts[] = [];
  let n = 0;
  for (const sh of [30n, 29n, 24n, 17n])
    for (const ha of HIGH)
      for (const la of LOW) {
        n++;
        const k = 30n - sh;
        // constants at shift sh whose value at shift 30 has these halves (a shift below 30 has k low zero bits)
        const ma = ((ha << 16n) + la) >> k,
          hb = pick(HIGH, n),
          zpA = pick(ZP, n),
          zpB = pick(ZP, n + 2);
        if (ma < 0n) continue;
        for (let d = 0n; d < 256n; d++) {
          const mb = (((hb << 16n) + pick(LOW, n + 1)) >> k) + d;
          const c: Consts = { ma, mb, sh, zpA, zpB, zp: pick(ZP, n + 1), lo: 0n, hi: 0n };
          [c.lo, c.hi] = pick(CLAMP, n);
          if (mb >= 0n && foldOk(c)) {
            out.push(c);
            break;
          }
        }
      }
  return out;
}
const pick = <T>(a: readonly T[], i: number): T => a[i % a.length]!;

test('addQs8RowFold16 step by step equals the spec: every code A against every code B, constants at the i16 limits, shifts 17..30, clamps', () => {
  const cs = foldConsts();
  assert.ok(cs.length > 60, `${cs.length} constant sets`);
  assert.ok(
    cs.some((c) => i16(c.ma << (30n - c.sh)) === -32768n) && cs.some((c) => (c.ma << (30n - c.sh)) >> 16n === 0x7fffn),
    'the limits are among them',
  );
  let n = 0;
  for (const c of cs)
    for (let A = -128n; A < 128n; A++)
      for (let B = -128n; B < 128n; B += n % 3 === 0 ? 1n : 17n) {
        const want = addSpec(A, B, c),
          got = addFoldEmulated(A, B, c);
        if (got !== want) assert.unreachable(`A ${A} B ${B} ${show(c)}: ${got} vs ${want}`);
        n++;
      }
  assert.ok(n > 400000, `${n}`);
});

test('addFoldOk refuses what the row gets wrong: both low halves −2^15, |S| or |S + zp·2^30| at 2^39, K not a multiple of 2^8', () => {
  const base: Consts = { ma: 0n, mb: 0n, sh: 30n, zpA: 0n, zpB: 0n, zp: 0n, lo: -128n, hi: 127n };
  const bad = (c: Consts) => {
    let wrong = 0;
    for (let A = -128n; A < 128n; A++)
      for (let B = -128n; B < 128n; B++) if (addFoldEmulated(A, B, c) !== addSpec(A, B, c)) wrong++;
    return wrong;
  };
  // both low halves −2^15: dL = 2^31 at A = B = −128 wraps to −2^31, which moves floor(S / 2^8) by 2^16; high halves
  // summing to 65 put that value on a multiple of 2^22, so the output changes
  const lows = { ...base, ma: (62n << 16n) - 32768n, mb: (3n << 16n) - 32768n };
  assert.not.ok(foldOk(lows));
  assert.ok(bad(lows) > 0, 'both low halves −2^15 must go wrong in the row');
  assert.ok(foldOk({ ...lows, mb: lows.mb + 256n }) && bad({ ...lows, mb: lows.mb + 256n }) === 0);
  // S past 2^39: multipliers near 2^31 with a' up to 255
  const big = { ...base, ma: (0x7fffn << 16n) - 256n, mb: (0x7fffn << 16n) - 256n, zpA: -128n, zpB: -128n };
  assert.not.ok(foldOk(big));
  assert.ok(bad(big) > 0, '|S| ≥ 2^39 must go wrong in the row');
  // the output zero point folded into K: S within 2^39 at zp 0, past it at zp 64
  const nearTop = { ...base, ma: 0x7fffn << 16n, mb: 0x7fffn << 16n };
  assert.ok(foldOk(nearTop) && bad(nearTop) === 0);
  assert.not.ok(foldOk({ ...nearTop, zp: 64n }));
  assert.ok(bad({ ...nearTop, zp: 64n }) > 0, 'S + zp·2^30 ≥ 2^39 must go wrong in the row');
  // K not a multiple of 2^8: at a' = 1, b' = 0, S = 2^30 exactly, and the dropped K mod 2^8 takes the row below it
  const odd = { ...base, ma: 1n << 29n, mb: 777n, zpB: 1n };
  assert.not.ok(foldOk(odd));
  assert.ok(bad(odd) > 0, 'K mod 2^8 ≠ 0 must go wrong in the row');
});

/** One Add_QS8 step a [rows, n] + b (same shape, or one row broadcast) with qc [mult_a, mult_b, shift]. */
function addBundle(c: Consts, rows: number, n: number, broadcast: boolean): Uint8Array {
  return makeBundle(
    [
      { name: 'a', shape: [rows, n], role: 'in', dtype: fb.DType.I8, zeroPoint: Number(c.zpA) },
      { name: 'b', shape: broadcast ? [n] : [rows, n], role: 'in', dtype: fb.DType.I8, zeroPoint: Number(c.zpB) },
      {
        name: 'qc',
        shape: [3],
        role: 'const',
        dtype: fb.DType.I32,
        data: Int32Array.of(Number(c.ma), Number(c.mb), Number(c.sh)),
      },
      { name: 'y', shape: [rows, n], role: 'out', dtype: fb.DType.I8, zeroPoint: Number(c.zp) },
    ],
    [
      {
        kernel: fb.KernelId.Add_QS8,
        inputs: [0, 1, 2],
        outputs: [3],
        params: {
          type: 'binary',
          op: fb.BinaryOp.Add,
          shape: [rows, n],
          aStrides: [n, 1],
          bStrides: [broadcast ? 0 : n, 1],
          qMin: Number(c.lo),
          qMax: Number(c.hi),
        },
      },
    ],
  );
}

/** The spec on numbers (exact: |S| < 2^41), for the kernel runs. */
function specN(A: number, B: number, c: Consts): number {
  const sh = Number(c.sh);
  const v = Math.floor(
    ((A - Number(c.zpA)) * Number(c.ma) + (B - Number(c.zpB)) * Number(c.mb) + 2 ** (sh - 1)) / 2 ** sh,
  );
  return Math.min(Math.max(v + Number(c.zp), Number(c.lo)), Number(c.hi));
}

async function runFold(c: Consts, rows: number, n: number, broadcast: boolean, a: Int8Array, b: Int8Array) {
  const label = `rows ${rows} n ${n}${broadcast ? ' broadcast' : ''} ${show(c)}`;
  assert.ok(foldOk(c), label);
  const y = (await runAll(addBundle(c, rows, n, broadcast), { a, b }, label)).y as Int8Array;
  for (let i = 0; i < y.length; i++) {
    const want = specN(a[i]!, b[broadcast ? i % n : i]!, c);
    if (y[i] !== want) assert.unreachable(`${label}: y[${i}] = ${y[i]}, spec ${want}`);
  }
}

test("Add_QS8 on constant-shift constants, every build, every code pair: MobileNetV2's and i16-limit constants, clamps", async () => {
  const cs = [...foldConsts().filter((_, i) => i % 3 === 0), ...mobilenetFolds()];
  // every (A, B) in one row of 65 536 + 15 (the 16-output loop, then the 8-output and scalar tails)
  const n = 65536 + 15;
  const a = Int8Array.from({ length: n }, (_, i) => (i & 255) - 128),
    b = Int8Array.from({ length: n }, (_, i) => ((i >> 8) & 255) - 128);
  for (const c of cs) await runFold(c, 1, n, false, a, b);
});

test('Add_QS8 on constant-shift constants, every build: rows of n mod 16 = 0..15, one row and broadcast rows', async () => {
  const cs = [...mobilenetFolds(), ...foldConsts()];
  let k = 0;
  for (let n = 16; n < 48; n++)
    for (const [rows, broadcast] of [
      [1, false],
      [3, false],
      [2, true],
    ] as [number, boolean][]) {
      const c = cs[(k++ * 7) % cs.length]!;
      const a = Int8Array.from({ length: rows * n }, () => randInt(-128, 127));
      const b = Int8Array.from({ length: broadcast ? n : rows * n }, () => randInt(-128, 127));
      await runFold(c, rows, n, broadcast, a, b);
    }
});

// int8 MobileNetV2's residual Adds (u8s8 QDQ, zero points as int8; s_a, zp_a, s_b, zp_b, s_out, zp_out)
const MOBILENET_ADDS: [string, number[]][] = [
  ['features.3', [0.004095620475709438, -22, 0.001693996600806713, -26, 0.004805310629308224, -15]],
  ['features.5', [0.002976182382553816, -10, 0.0025809130165725946, -28, 0.0044616758823394775, -35]],
  ['features.6', [0.0044616758823394775, -35, 0.002844566013664007, -24, 0.004499121569097042, -25]],
  ['features.8', [0.0029565144795924425, 14, 0.0028561188373714685, -3, 0.005030608735978603, 21]],
  ['features.9', [0.005030608735978603, 21, 0.002501626731827855, 6, 0.005145183298736811, 0]],
  ['features.10', [0.005145183298736811, 0, 0.0023924256674945354, -27, 0.005330430809408426, 4]],
  ['features.12', [0.002831066492944956, -5, 0.00324504217132926, -21, 0.004728370811790228, -9]],
  ['features.13', [0.004728370811790228, -9, 0.0030492981895804405, 32, 0.004925996530801058, 15]],
  ['features.15', [0.002849219599738717, -2, 0.0031100816559046507, -11, 0.003983787260949612, -17]],
  ['features.16', [0.003983787260949612, -17, 0.002792063867673278, 12, 0.00551212765276432, 12]],
];

/** MobileNetV2's Adds on the constants ortAddFixedPoint picks (those it finds), no clamp. */
function mobilenetFolds(): Consts[] {
  return MOBILENET_ADDS.flatMap(([, [sA, zA, sB, zB, sO, zO]]) => {
    const m = ortAddFixedPoint({ scale: sA!, zp: zA! }, { scale: sB!, zp: zB! }, { scale: sO!, zp: zO! }, -128, 127);
    if (!m) return [];
    const [ma, mb, sh, zpA, zpB, zp] = [m.multA, m.multB, m.shift, zA!, zB!, zO!].map(BigInt) as bigint[];
    return [{ ma: ma!, mb: mb!, sh: sh!, zpA: zpA!, zpB: zpB!, zp: zp!, lo: -128n, hi: 127n }];
  });
}

test("ortAddFixedPoint: MobileNetV2's Adds on constant-shift constants that give QLinearAdd's table on all 65 536 code pairs (8 of 10; .9 and .16 none)", () => {
  const folded: string[] = [];
  for (const [name, [sA, zA, sB, zB, sO, zO]] of MOBILENET_ADDS) {
    const m = ortAddFixedPoint({ scale: sA!, zp: zA! }, { scale: sB!, zp: zB! }, { scale: sO!, zp: zO! }, -128, 127);
    if (!m) continue;
    assert.ok(addFoldOk(m, zA!, zB!, zO!) && m.shift === ADD_FOLD_SHIFT, `${name}: ${JSON.stringify(m)}`);
    const k = addFp32Constants(sA!, sB!, sO!, zO!);
    const c: Consts = {
      ma: BigInt(m.multA),
      mb: BigInt(m.multB),
      sh: BigInt(m.shift),
      zpA: BigInt(zA!),
      zpB: BigInt(zB!),
      zp: BigInt(zO!),
      lo: -128n,
      hi: 127n,
    };
    for (let A = -128; A < 128; A++)
      for (let B = -128; B < 128; B++) {
        const want = BigInt(addFp32(A, B, zA!, zB!, zO!, k, -128, 127));
        if (addSpec(BigInt(A), BigInt(B), c) !== want || addFoldEmulated(BigInt(A), BigInt(B), c) !== want)
          assert.unreachable(`${name} A ${A} B ${B}: QLinearAdd ${want}`);
      }
    folded.push(name);
  }
  assert.equal(
    folded,
    MOBILENET_ADDS.map(([n]) => n).filter((n) => n !== 'features.9' && n !== 'features.16'),
  );
});

test.run();
