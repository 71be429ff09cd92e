// PCG32 against the published reference: the "Round 1" output of pcg32-demo (pcg-c-basic,
// pcg32_srandom_r(&rng, 42, 54), https://www.pcg-random.org/using-pcg-c-basic.html): six 32-bit
// values, 65 coin flips (bounded 2), 33 dice rolls (bounded 6 + 1) and a 52-card Fisher–Yates deal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pcg32, permutation } from '../../../../compiler/train/data/pcg32.ts';

const ROUND1 = {
  u32: [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e],
  coins: 'HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT',
  rolls: '3 4 1 1 2 2 3 2 4 3 2 4 3 3 5 2 3 1 3 1 5 1 4 1 5 6 4 6 6 2 6 3 3',
  cards:
    'Qd Ks 6d 3s 3d 4c 3h Td Kc 5c Jh Kd Jd As 4s 4h Ad Th Ac Jc 7s Qs 2s 7h Kh 2d 6c Ah 4d Qh 9h 6s 5s 2c 9c Ts 8d 9s 3c 8c Js 5d 2h 6h 7d 8s 9d 5h 8h Qc 7c Tc',
};

test('pcg32-demo round 1: 32-bit outputs, coins, rolls and the card deal', () => {
  const rng = new Pcg32(42, 54);
  assert.equal(
    ROUND1.u32.map(() => rng.nextU32()),
    ROUND1.u32,
  );
  assert.is(Array.from({ length: 65 }, () => (rng.bounded(2) ? 'H' : 'T')).join(''), ROUND1.coins);
  assert.is(Array.from({ length: 33 }, () => rng.bounded(6) + 1).join(' '), ROUND1.rolls);
  // The demo deals cards[i] = i, number[i / 4] suit[i % 4], with its own in-place Fisher–Yates.
  const deck = permutation(52, rng);
  assert.is(Array.from(deck, (c) => 'A23456789TJQK'[c >> 2]! + 'hcds'[c & 3]!).join(' '), ROUND1.cards);
});

test('getState / fromState continue the same sequence; bad states are refused', () => {
  const a = new Pcg32(7, 3);
  for (let i = 0; i < 10; i++) a.nextU32();
  const s = JSON.parse(JSON.stringify(a.getState()));
  const b = Pcg32.fromState(s);
  assert.equal(
    Array.from({ length: 100 }, () => b.nextU32()),
    Array.from({ length: 100 }, () => a.nextU32()),
  );
  assert.throws(() => Pcg32.fromState({ state: 'xyz', inc: '1' }), /not a PCG32 state/);
  assert.throws(() => Pcg32.fromState({ state: '1', inc: '2' }), /inc odd/);
  assert.throws(() => Pcg32.fromState(undefined as never), /not a PCG32 state/);
});

test('bounded stays in range (including 1 and 2^32) and permutation is a permutation', () => {
  const rng = new Pcg32(1, 1);
  for (const b of [1, 3, 10, 1000, 0x80000001, 0x100000000]) {
    for (let i = 0; i < 200; i++) {
      const v = rng.bounded(b);
      assert.ok(Number.isInteger(v) && v >= 0 && v < b, `${v} < ${b}`);
    }
  }
  assert.throws(() => rng.bounded(0), /bound must be/);
  const p = permutation(1000, rng);
  assert.equal(
    Array.from(p).sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.equal(Array.from(permutation(1, rng)), [0]);
  assert.equal(Array.from(permutation(0, rng)), []);
});

test.run();
