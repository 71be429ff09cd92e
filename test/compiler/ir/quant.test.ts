// ortAddFixedPoint (compiler/ir/quant.ts): an onnxruntime-arithmetic Add goes on Add_QS8's fixed point only with
// constants whose BigInt reference (addQs8Ref) gives addFp32's bytes on all 65 536 code pairs, at int8 MobileNetV2's
// ten residual-Add scales (u8s8 QDQ, zero points as int8); where it declines, addMultipliers' constants do differ.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ADD_FOLD_SHIFT,
  addFoldOk,
  addSplitOk,
  addFp32Constants,
  ortAddFixedPoint,
} from '../../../compiler/ir/quant.ts';
import { addFp32, addMultipliers } from '../../../compiler/ir/requant.ts';
import { addQs8Ref } from '../../../compiler/ir/ops/binary.ts';

type Q = { scale: number; zp: number };
/** MobileNetV2's Adds: features.N, then s_a, zp_a, s_b, zp_b, s_out, zp_out. */
const MOBILENET_V2_ADDS = (
  [
    [3, 0.004095620475709438, -22, 0.001693996600806713, -26, 0.004805310629308224, -15],
    [5, 0.002976182382553816, -10, 0.0025809130165725946, -28, 0.0044616758823394775, -35],
    [6, 0.0044616758823394775, -35, 0.002844566013664007, -24, 0.004499121569097042, -25],
    [8, 0.0029565144795924425, 14, 0.0028561188373714685, -3, 0.005030608735978603, 21],
    [9, 0.005030608735978603, 21, 0.002501626731827855, 6, 0.005145183298736811, 0],
    [10, 0.005145183298736811, 0, 0.0023924256674945354, -27, 0.005330430809408426, 4],
    [12, 0.002831066492944956, -5, 0.00324504217132926, -21, 0.004728370811790228, -9],
    [13, 0.004728370811790228, -9, 0.0030492981895804405, 32, 0.004925996530801058, 15],
    [15, 0.002849219599738717, -2, 0.0031100816559046507, -11, 0.003983787260949612, -17],
    [16, 0.003983787260949612, -17, 0.002792063867673278, 12, 0.00551212765276432, 12],
  ] as const
).map(([id, sA, zA, sB, zB, sO, zO]): [number, Q, Q, Q] => [
  id,
  { scale: sA, zp: zA },
  { scale: sB, zp: zB },
  { scale: sO, zp: zO },
]);

/** Every code pair (a, b) as two [1, 65536] int8 rows. */
const A = Int8Array.from({ length: 65536 }, (_, i) => (i >> 8) - 128);
const B = Int8Array.from({ length: 65536 }, (_, i) => (i & 255) - 128);
const SHAPE = [1, 65536];

/** Pairs where Add_QS8's BigInt reference with constants m differs from onnxruntime's QLinearAdd (addFp32). */
function misses(a: Q, b: Q, o: Q, m: { multA: number; multB: number; shift: number }, lo = -128, hi = 127): number {
  const got = addQs8Ref(A, SHAPE, B, SHAPE, SHAPE, a.zp, b.zp, o.zp, m, lo, hi);
  const k = addFp32Constants(a.scale, b.scale, o.scale, o.zp);
  let n = 0;
  for (let i = 0; i < 65536; i++) if (got[i] !== addFp32(A[i]!, B[i]!, a.zp, b.zp, o.zp, k, lo, hi)) n++;
  return n;
}

const ideal = (a: Q, b: Q, o: Q) =>
  addMultipliers(Math.fround(a.scale) / Math.fround(o.scale), Math.fround(b.scale) / Math.fround(o.scale));

test("ortAddFixedPoint on MobileNetV2's 10 Adds: 8 proven at the constant shift 30, exact by BigInt; 2 declined", () => {
  const proven: number[] = [],
    searched: [number, number, number][] = [];
  for (const [id, a, b, o] of MOBILENET_V2_ADDS) {
    const m = ortAddFixedPoint(a, b, o, -128, 127);
    const before = misses(a, b, o, ideal(a, b, o));
    if (m) {
      proven.push(id);
      assert.ok(addSplitOk(m), `features.${id}: ${JSON.stringify(m)} misses the kernel's fast path`);
      assert.is(misses(a, b, o, m), 0, `features.${id}: ${JSON.stringify(m)}`);
      // the kernel's constant-shift row (addFoldOk), nearest addMultipliers' real multipliers at shift 30
      assert.ok(m.shift === ADD_FOLD_SHIFT && addFoldOk(m, a.zp, b.zp, o.zp), `features.${id}: ${JSON.stringify(m)}`);
      const m0 = ideal(a, b, o),
        f = 2 ** (ADD_FOLD_SHIFT - m0.shift);
      searched.push([id, m.multA - Math.round(m0.multA * f), m.multB - Math.round(m0.multB * f)]);
    } else assert.ok(before > 0, `features.${id}: addMultipliers' constants give every byte, yet declined`);
  }
  assert.equal(proven, [3, 5, 6, 8, 10, 12, 13, 15]);
  // the nearest multipliers that give every byte with K a multiple of 2^8 (least |Δmult_a| + |Δmult_b|) from
  // addMultipliers' (shift 31) halved
  assert.equal(searched, [
    [3, 28, 66],
    [5, 71, 3],
    [6, 1, -3],
    [8, 7, 2],
    [10, 0, 101],
    [12, 0, 0],
    [13, -1, 40],
    [15, -4, -5],
  ]);
});

test('ortAddFixedPoint with a ReLU clamp (q_min = zp_out) and at the clamp bounds: exact, or declined for a reason', () => {
  for (const [id, a, b, o] of MOBILENET_V2_ADDS.slice(0, 4)) {
    for (const [lo, hi] of [
      [o.zp, 127],
      [-100, 90],
    ] as const) {
      const m = ortAddFixedPoint(a, b, o, lo, hi);
      if (m) assert.is(misses(a, b, o, m, lo, hi), 0, `features.${id} [${lo}, ${hi}]`);
      else assert.ok(misses(a, b, o, ideal(a, b, o), lo, hi) > 0, `features.${id} [${lo}, ${hi}] declined`);
    }
  }
});

test('ortAddFixedPoint at small ratios (shifts 30 and 36–39, the search box capped): exact, or declined for a reason', () => {
  const o = { scale: 0.05, zp: 1 };
  for (const s of [0.0001, 0.001, 0.01]) {
    const a = { scale: s, zp: 3 },
      b = { scale: 1.3 * s, zp: -7 };
    const m = ortAddFixedPoint(a, b, o, -128, 127);
    if (m) assert.is(misses(a, b, o, m), 0, `s_a ${s}`);
    else assert.ok(misses(a, b, o, ideal(a, b, o)) > 0, `s_a ${s} declined`);
    // proven on the constant-shift row's constants (2^30·r ≈ 2^21 here), not at addMultipliers' shift 39
    if (s === 0.0001) assert.is(m?.shift, ADD_FOLD_SHIFT);
  }
});

test("addSplitOk: the kernel's fast-path conditions (shift in [17, 46], high halves ≤ 2^15 − 1)", () => {
  assert.ok(addSplitOk({ multA: 2 ** 30, multB: 2 ** 31 - 2 ** 15 - 1, shift: 31 }));
  // 2^31 − 2^15 + 2^15 − 1: its low half is −1 as int16, so the high half is 2^15
  assert.not.ok(addSplitOk({ multA: 2 ** 30, multB: 2 ** 31 - 1, shift: 31 }));
  assert.not.ok(addSplitOk({ multA: 2 ** 30, multB: 2 ** 30, shift: 16 }));
  assert.not.ok(addSplitOk({ multA: 2 ** 30, multB: 2 ** 30, shift: 47 }));
  assert.ok(addSplitOk({ multA: 2 ** 30, multB: 2 ** 30, shift: 46 }));
});

test.run();
