// Training data: the real examples/mnist images and labels through openDataset (whole and streamed
// by batch give the same bytes), the bad-input errors, the batch loader (seeded shuffles, drop-last
// policy, batches as pure functions of seed/epoch/index) and crop/flip augmentation against an
// obvious padded-array reference, in both layouts. All values exact (copies and permutations only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpy, saveNpy, NpyError } from '../../../../compiler/io/npy.ts';
import { openDataset, type Dataset } from '../../../../compiler/train/data/dataset.ts';
import { BatchLoader, inputLayout, parseAugment } from '../../../../compiler/train/data/loader.ts';
import { augmentImage } from '../../../../compiler/train/data/augment.ts';
import { Pcg32 } from '../../../../compiler/train/data/pcg32.ts';
import { loadModelJson } from '../../../../compiler/frontend/model-json/index.ts';
import { loadOnnx } from '../../../../compiler/frontend/onnx/index.ts';

const ROOT = join(import.meta.dirname, '../../../..');
const IMAGES = join(ROOT, 'examples/mnist/images.npy');
const LABELS = join(ROOT, 'examples/mnist/labels_u8.npy');
const INPUT = { name: 'Input3', shape: [1, 1, 28, 28] };
const tmp = mkdtempSync(join(tmpdir(), 'edgec-data-'));
const at = (f: string) => join(tmp, f);
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const images = loadNpy(IMAGES).data as Float32Array;
const labels = loadNpy(LABELS).data as Uint8Array;
const PER = 784;

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

test('mnist 500: resident and streamed datasets read the same samples and labels', () => {
  const whole = openDataset({ data: IMAGES, labels: LABELS, input: INPUT, classes: 10 });
  const streamed = openDataset({ data: IMAGES, labels: LABELS, input: INPUT, classes: 10, residentBytes: 0 });
  assert.is(whole.streamed, false);
  assert.is(streamed.streamed, true);
  for (const d of [whole, streamed]) {
    assert.is(d.size, 500);
    assert.equal(d.sampleShape, [1, 28, 28]);
    assert.equal(Array.from(d.labels), Array.from(labels));
    const rows = [499, 3, 4, 5, 0, 3];
    const x = d.readSamples(rows);
    rows.forEach((r, i) =>
      assert.equal(x.subarray(i * PER, (i + 1) * PER), images.subarray(r * PER, (r + 1) * PER), `row ${r}`),
    );
  }
  whole.close();
  streamed.close();
});

test('bad input: labels out of range, shape mismatch, label count, float labels, int data — naming the file', () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => openDataset({ data: IMAGES, labels: LABELS, input: INPUT, classes: 5 }),
      new RegExp(
        `labels_u8\\.npy: label ${Array.from(labels).findIndex((v) => v >= 5)} is ${labels.find((v) => v >= 5)}, outside the model's 5 classes \\[0, 4\\]`,
      ),
    ],
    [
      () => openDataset({ data: IMAGES, labels: LABELS, input: { name: 'image', shape: [1, 28, 28, 1] }, classes: 10 }),
      /images\.npy: shape \[500,1,28,28\] does not fit input 'image' \[1,28,28,1\]: expected \[N,28,28,1\]/,
    ],
    [
      () => {
        saveNpy(at('y499.npy'), { shape: [499], data: labels.slice(0, 499) });
        return openDataset({ data: IMAGES, labels: at('y499.npy'), input: INPUT, classes: 10 });
      },
      /y499\.npy: holds 499 labels, .*images\.npy holds 500 samples/,
    ],
    [
      () => {
        saveNpy(at('yf.npy'), { shape: [500], data: Float32Array.from(labels) });
        return openDataset({ data: IMAGES, labels: at('yf.npy'), input: INPUT, classes: 10 });
      },
      /yf\.npy: labels must be integer class indices .* found float32/,
    ],
    [
      () => {
        saveNpy(at('y2.npy'), { shape: [250, 2], data: labels });
        return openDataset({ data: IMAGES, labels: at('y2.npy'), input: INPUT, classes: 10 });
      },
      /y2\.npy: labels must have shape \[N\] or \[N,1\], found \[250,2\]/,
    ],
    [
      () => {
        saveNpy(at('yneg.npy'), { shape: [500, 1], data: Int32Array.from(labels, (v, i) => (i === 7 ? -1 : v)) });
        return openDataset({ data: IMAGES, labels: at('yneg.npy'), input: INPUT, classes: 10 });
      },
      /yneg\.npy: label 7 is -1, outside the model's 10 classes/,
    ],
    [
      () =>
        openDataset({ data: join(ROOT, 'examples/mnist/images_u8.npy'), labels: LABELS, input: INPUT, classes: 10 }),
      /images_u8\.npy: dtype uint8 does not match input 'Input3' float32/,
    ],
  ];
  for (const [f, re] of cases) {
    const e = errorOf(f);
    assert.instance(e, NpyError, e.message);
    assert.match(e.message, re);
  }
});

/** A dataset of n samples [h,w,c] whose values say where they came from: row·1000 + element. */
function synthetic(n: number, shape: number[]): Dataset {
  const per = shape.reduce((a, b) => a * b, 1);
  return {
    size: n,
    sampleShape: shape,
    sampleElements: per,
    streamed: false,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    readSamples: (idx) =>
      Float32Array.from({ length: idx.length * per }, (_, k) => idx[Math.floor(k / per)]! * 1000 + (k % per)),
    close() {},
  };
}

test('loader: seeded shuffle per epoch, drop-last policy, batches are pure functions of (seed, epoch, index)', () => {
  const d = synthetic(103, [2]);
  const a = new BatchLoader(d, { batch: 10, seed: 7 });
  assert.is(a.batchesPerEpoch, 10);
  const seen = new Set<number>();
  for (const b of a.epoch({ epoch: 0, batch: 0 })) {
    assert.is(b.rows.length, 10);
    b.rows.forEach((r, i) => {
      seen.add(r);
      assert.is(b.y[i], r % 3);
      assert.is(b.x[2 * i], r * 1000);
    });
  }
  assert.is(seen.size, 100);
  const o0 = Array.from(a.order(0));
  const o1 = Array.from(a.order(1));
  assert.not.equal(o0, o1);
  assert.equal(
    [...o0].sort((x, y) => x - y),
    Array.from({ length: 103 }, (_, i) => i),
  );
  // Another loader, same seed, batches asked for out of order (as a resumed run does): same bytes.
  const b = new BatchLoader(d, { batch: 10, seed: 7 });
  assert.equal(b.batch(1, 4), a.batch(1, 4));
  assert.equal(b.batch(0, 9), a.batch(0, 9));
  assert.not.equal(Array.from(new BatchLoader(d, { batch: 10, seed: 8 }).order(0)), o0);
  const keep = new BatchLoader(d, { batch: 10, seed: 7, dropLast: false, shuffle: false });
  assert.is(keep.batchesPerEpoch, 11);
  assert.equal(Array.from(keep.batch(0, 10).rows), [100, 101, 102]);
  assert.throws(() => a.batch(0, 10), /batch 10 outside \[0, 10\)/);
  assert.throws(() => new BatchLoader(d, { batch: 200, seed: 1 }), /103 samples make no full batch of 200/);
});

/** The obvious reference: a zero-padded copy, an H×W window at (dy + pad, dx + pad), then mirrored. */
function referenceAugment(
  src: Float32Array,
  h: number,
  w: number,
  c: number,
  pad: number,
  dy: number,
  dx: number,
  flip: boolean,
): Float32Array {
  const ph = h + 2 * pad,
    pw = w + 2 * pad;
  const padded = new Float32Array(ph * pw * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) padded[((y + pad) * pw + x + pad) * c + k] = src[(y * w + x) * c + k]!;
  const crop = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) crop[(y * w + x) * c + k] = padded[((y + dy + pad) * pw + x + dx + pad) * c + k]!;
  if (!flip) return crop;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = crop[(y * w + w - 1 - x) * c + k]!;
  return out;
}

const toNchw = (a: Float32Array, h: number, w: number, c: number) =>
  Float32Array.from({ length: a.length }, (_, i) => {
    const k = Math.floor(i / (h * w)),
      y = Math.floor(i / w) % h,
      x = i % w;
    return a[(y * w + x) * c + k]!;
  });

test('crop 2 + flip on 5×7×3 images: the padded-array reference, NHWC and NCHW, 200 seeds', () => {
  const [h, w, c, pad] = [5, 7, 3, 2];
  const src = Float32Array.from({ length: h * w * c }, (_, i) => i + 1);
  const flips = new Set<boolean>();
  const offsets = new Set<string>();
  for (let s = 0; s < 200; s++) {
    // The draws the contract names, from a twin generator: dy, dx, flip.
    const twin = new Pcg32(s, 5);
    const dy = twin.bounded(2 * pad + 1) - pad,
      dx = twin.bounded(2 * pad + 1) - pad,
      flip = twin.bounded(2) === 1;
    flips.add(flip);
    offsets.add(`${dy},${dx}`);
    const want = referenceAugment(src, h, w, c, pad, dy, dx, flip);
    const nhwc = new Float32Array(src.length);
    augmentImage(src, nhwc, { h, w, c }, 'nhwc', { cropPad: pad, flip: true }, new Pcg32(s, 5));
    assert.equal(nhwc, want, `seed ${s} nhwc`);
    const nchw = new Float32Array(src.length);
    augmentImage(toNchw(src, h, w, c), nchw, { h, w, c }, 'nchw', { cropPad: pad, flip: true }, new Pcg32(s, 5));
    assert.equal(nchw, toNchw(want, h, w, c), `seed ${s} nchw`);
  }
  assert.is(flips.size, 2);
  assert.is(offsets.size, 25);
});

test('loader augmentation: deterministic per (seed, epoch, row), changes across epochs, layout from the graph', () => {
  const d = synthetic(40, [3, 4, 4]);
  const opts = { batch: 8, seed: 3, augment: parseAugment('crop=1,flip'), layout: 'nchw' as const };
  const a = new BatchLoader(d, opts).batch(2, 1);
  const b = new BatchLoader(d, opts).batch(2, 1);
  assert.equal(a.x, b.x);
  const plain = new BatchLoader(d, { batch: 8, seed: 3 }).batch(2, 1);
  assert.equal(a.rows, plain.rows);
  assert.not.equal(a.x, plain.x);
  // Each augmented sample is the reference applied to its plain sample with the row's own stream.
  for (let i = 0; i < a.rows.length; i++) {
    const rng = new Pcg32(3, 2n * (1n << 34n) + 2n * BigInt(a.rows[i]!) + 1n);
    const dy = rng.bounded(3) - 1,
      dx = rng.bounded(3) - 1,
      flip = rng.bounded(2) === 1;
    const srcNchw = plain.x.subarray(i * 48, (i + 1) * 48);
    const srcNhwc = Float32Array.from({ length: 48 }, (_, j) => srcNchw[(j % 3) * 16 + Math.floor(j / 3)]!);
    assert.equal(
      a.x.subarray(i * 48, (i + 1) * 48),
      toNchw(referenceAugment(srcNhwc, 4, 4, 3, 1, dy, dx, flip), 4, 4, 3),
      `sample ${i}`,
    );
  }
  assert.equal(parseAugment('crop,flip'), { cropPad: 4, flip: true });
  assert.throws(() => parseAugment('rotate'), /unknown augmentation 'rotate'/);
  assert.throws(() => new BatchLoader(synthetic(8, [4]), { ...opts, batch: 2 }), /augmentation needs images/);
  assert.is(inputLayout(loadModelJson(join(ROOT, 'examples/mnist/model.json')), 'Input3'), 'nchw');
  const fashion = loadOnnx(join(ROOT, 'test/fixtures/onnx/fashion_cnn.onnx'));
  assert.is(inputLayout(fashion, fashion.inputs[0]!), 'nchw');
  assert.is(inputLayout(loadModelJson(join(ROOT, 'test/fixtures/cli/tiny/model.json')), 'x'), 'nhwc');
});

test.run();
