// Observers on known distributions: min-max exact, percentile and entropy on constructed histograms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Histogram,
  MinMaxObserver,
  entropyRange,
  entropyThresholdBins,
  klDivergence,
  percentileRange,
} from '../../../compiler/quantize/observers.ts';

test('minmax: exact over several samples, widened to contain 0', () => {
  const o = new MinMaxObserver();
  o.observe(Float32Array.of(0.5, 2.25, 1));
  o.observe(Float32Array.of(3.75, 0.125));
  assert.equal(o.range(), { min: 0, max: 3.75 });
  o.observe(Float32Array.of(-1.5));
  assert.equal(o.range(), { min: -1.5, max: 3.75 });
  assert.equal(new MinMaxObserver().range(), { min: 0, max: 0 });
});

test('histogram: bins of width (hi − lo)/bins, outside values clamp into the end bins', () => {
  const h = new Histogram(0, 8, 8);
  h.observe(Float32Array.of(0, 0.99, 1, 7.5, 8, 100, -3));
  assert.equal([...h.counts], [3, 1, 0, 0, 0, 0, 0, 3]);
  assert.is(h.total(), 7);
});

test('percentile: 1 outlier in 100000 is clipped, the bulk is kept (bin-edge precision)', () => {
  const h = new Histogram(0, 1000, 1000);
  const bulk = new Float32Array(99999);
  for (let i = 0; i < bulk.length; i++) bulk[i] = (i % 100) / 10; // uniform on [0, 9.9]
  h.observe(bulk);
  h.observe(Float32Array.of(999.5));
  const r = percentileRange(h, 1e-4);
  assert.is(r.min, 0);
  assert.is(r.max, 10); // end of the bin holding 9.9
});

test('percentile: symmetric tails clipped on both sides', () => {
  const h = new Histogram(-100, 100, 200);
  const v: number[] = [];
  for (let i = 0; i < 20000; i++) v.push(((i % 21) - 10) * 0.5); // [-5, 5]
  v.push(-99.5, 99.5); // 1 each side out of 20002: under 1e-4
  h.observe(Float32Array.from(v));
  assert.equal(percentileRange(h, 1e-4), { min: -5, max: 6 }); // bins [-5,-4) and [5,6) hold the ends
});

test('KL divergence: 0 for equal distributions, positive otherwise', () => {
  assert.is(klDivergence([1, 2, 3], [2, 4, 6]), 0);
  const d = klDivergence([1, 1], [3, 1]);
  assert.ok(Math.abs(d - (0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25))) < 1e-12);
});

test('entropy: a histogram with at most `levels` occupied bins keeps all of them', () => {
  const c = new Float64Array(2048);
  for (let i = 0; i < 100; i++) c[i] = 1 + (i % 7);
  assert.is(entropyThresholdBins(c, 128), 100);
});

test('entropy: a far, tiny outlier is clipped (threshold well below it)', () => {
  const c = new Float64Array(2048);
  for (let i = 0; i < 512; i++) c[i] = Math.round(10000 * Math.exp(-i / 64)) + 1; // dense decaying bulk
  c[2047] = 1; // one outlier at the far end
  const t = entropyThresholdBins(c, 128);
  assert.ok(t >= 128 && t <= 600, `threshold ${t}`);
});

test('entropy: a spike of exact zeros (post-ReLU) does not pull the threshold down', () => {
  const c = new Float64Array(2048).fill(10); // uniform: every bin matters
  c[0] = 1e6;
  assert.ok(entropyThresholdBins(c, 256) >= 2000, `${entropyThresholdBins(c, 256)}`);
});

test('entropy range: one-sided (post-ReLU) uses [0, T]; two-sided is symmetric and within [lo, hi]', () => {
  const one = new Histogram(0, 100, 2048);
  const v: number[] = [];
  for (let i = 0; i < 50000; i++) v.push(Math.abs(Math.sin(i)) * 4); // [0, 4]
  v.push(100);
  one.observe(Float32Array.from(v));
  const r1 = entropyRange(one);
  assert.is(r1.min, 0);
  // at least `levels` = 256 bins of 100/2048 are kept: the threshold lands in [4, 12.5]
  assert.ok(r1.max >= 3.9 && r1.max <= 12.5, `max ${r1.max}`);
  const two = new Histogram(-100, 50, 2048);
  two.observe(Float32Array.from(v.map((x, i) => (i % 2 ? -x : x))));
  const r2 = entropyRange(two);
  assert.ok(r2.min === -r2.max || r2.max === 50, `${r2.min} ${r2.max}`);
  assert.ok(r2.max >= 3.9 && r2.max <= (128 * 150) / 2048 + 1e-9, `max ${r2.max}`);
});

test.run();
