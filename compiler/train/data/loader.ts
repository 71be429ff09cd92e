// Batches of a Dataset for training: a seeded shuffle per epoch, fixed-size batches, optional image
// augmentation. Every batch is a pure function of (seed, epoch, batch index), so a resumed run or a
// worker that takes every k-th batch sees exactly the bytes an uninterrupted single thread sees.
// Streams (PCG32 sequence selectors; initial state = the seed): the shuffle of epoch e uses sequence
// e·2^34, the augmentation of sample row r in epoch e uses e·2^34 + 2r + 1 — all distinct for r < 2^33.
//
// Last partial batch: training drops it (`dropLast`, the default): the training plan has one static
// batch shape and the reshuffle gives every sample its turn across epochs. Validation keeps it.
import { UsageError } from '../../cli/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { augmentImage, augments, imageDims, NO_AUGMENT, type AugmentOptions, type ImageLayout } from './augment.ts';
import type { Dataset } from './dataset.ts';
import { Pcg32, permutation } from './pcg32.ts';

export interface LoaderOptions {
  batch: number;
  seed: number;
  /** Reshuffle every epoch (default true); false keeps file order. */
  shuffle?: boolean;
  /** Drop the last batch when it would be smaller than `batch` (default true). */
  dropLast?: boolean;
  augment?: AugmentOptions;
  /** Where H, W and C sit in a sample (needed when augmenting; see inputLayout). */
  layout?: ImageLayout;
}

export interface Batch {
  epoch: number;
  index: number;
  /** Dataset rows of the samples, in batch order. */
  rows: Uint32Array;
  /** [rows.length, ...sampleShape] float32, row-major. */
  x: Float32Array;
  y: Int32Array;
}

/** The serialisable position of a loader: the next batch to produce (the seed is the run's). */
export interface LoaderPosition {
  epoch: number;
  batch: number;
}

const EPOCH_STRIDE = 1n << 34n;

export class BatchLoader {
  readonly batchesPerEpoch: number;
  private readonly opts: Required<LoaderOptions>;
  private cached: { epoch: number; order: Uint32Array } | undefined;

  constructor(
    readonly data: Dataset,
    opts: LoaderOptions,
  ) {
    if (!Number.isInteger(opts.batch) || opts.batch < 1)
      throw new RangeError(`batch size must be an integer ≥ 1, got ${opts.batch}`);
    if (!Number.isSafeInteger(opts.seed) || opts.seed < 0)
      throw new RangeError(`seed must be an integer ≥ 0, got ${opts.seed}`);
    this.opts = { shuffle: true, dropLast: true, augment: NO_AUGMENT, layout: 'nhwc', ...opts };
    if (augments(this.opts.augment)) imageDims(data.sampleShape, this.opts.layout);
    const full = Math.floor(data.size / opts.batch);
    this.batchesPerEpoch = this.opts.dropLast ? full : Math.ceil(data.size / opts.batch);
    if (this.batchesPerEpoch === 0) {
      throw new RangeError(`${data.size} samples make no full batch of ${opts.batch} (lower the batch size)`);
    }
  }

  /** The order in which epoch `epoch` visits the dataset rows. */
  order(epoch: number): Uint32Array {
    if (this.cached?.epoch === epoch) return this.cached.order;
    const n = this.data.size;
    const order = this.opts.shuffle
      ? permutation(n, new Pcg32(this.opts.seed, BigInt(epoch) * EPOCH_STRIDE))
      : Uint32Array.from({ length: n }, (_, i) => i);
    this.cached = { epoch, order };
    return order;
  }

  /** Batch `index` (0-based) of epoch `epoch`. */
  batch(epoch: number, index: number): Batch {
    if (!Number.isInteger(index) || index < 0 || index >= this.batchesPerEpoch) {
      throw new RangeError(`batch ${index} outside [0, ${this.batchesPerEpoch})`);
    }
    const order = this.order(epoch);
    const b = this.opts.batch;
    const rows = order.slice(index * b, Math.min((index + 1) * b, order.length));
    const x = this.data.readSamples(rows);
    const y = Int32Array.from(rows, (r) => this.data.labels[r]!);
    const aug = this.opts.augment;
    if (augments(aug)) {
      const dims = imageDims(this.data.sampleShape, this.opts.layout);
      const per = this.data.sampleElements;
      const src = new Float32Array(per);
      for (let i = 0; i < rows.length; i++) {
        const rng = new Pcg32(this.opts.seed, BigInt(epoch) * EPOCH_STRIDE + 2n * BigInt(rows[i]!) + 1n);
        const dst = x.subarray(i * per, (i + 1) * per);
        src.set(dst);
        augmentImage(src, dst, dims, this.opts.layout, aug, rng);
      }
    }
    return { epoch, index, rows, x, y };
  }

  /** The batches from `from` (inclusive) to the end of the epoch it names, in order. */
  *epoch(from: LoaderPosition): Generator<Batch> {
    for (let k = from.batch; k < this.batchesPerEpoch; k++) yield this.batch(from.epoch, k);
  }
}

/**
 * The layout of a model's image input as the data files hold it: 'nchw' when the graph turns it
 * into NHWC first (a Transpose with perm [0,2,3,1], or a Reshape of [N,1,H,W] to [N,H,W,1] — the ONNX
 * importer's boundary), else 'nhwc' (model.json's own layout, read by Conv2D directly).
 */
export function inputLayout(graph: Graph, input: string): ImageLayout {
  const shape = graph.tensors.get(input)?.shape ?? [];
  if (shape.length !== 4) return 'nhwc';
  for (const n of graph.nodes) {
    if (n.inputs[0] !== input) continue;
    const perm = n.attrs.perm;
    if (n.op === 'Transpose' && Array.isArray(perm) && perm.join(',') === '0,2,3,1') return 'nchw';
    const to = n.attrs.shape;
    if (
      n.op === 'Reshape' &&
      shape[1] === 1 &&
      Array.isArray(to) &&
      to.length === 4 &&
      to[1] === shape[2] &&
      to[2] === shape[3] &&
      to[3] === 1
    )
      return 'nchw';
  }
  return 'nhwc';
}

/** `--augment crop,flip` / `crop=4,flip` → AugmentOptions (crop pads 4 pixels unless given). */
export function parseAugment(text: string, command = 'train'): AugmentOptions {
  const out: AugmentOptions = { cropPad: 0, flip: false };
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const m = /^crop(?:=(\d+))?$/.exec(part);
    if (m) {
      out.cropPad = m[1] === undefined ? 4 : Number(m[1]);
      if (out.cropPad < 1) throw new UsageError(`--augment crop=N needs N ≥ 1, got '${part}'`, command);
    } else if (part === 'flip') out.flip = true;
    else throw new UsageError(`--augment: unknown augmentation '${part}' (expected crop, crop=N, flip)`, command);
  }
  return out;
}
