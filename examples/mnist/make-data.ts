// Makes the example's data from the raw MNIST t10k files (28×28 uint8 images, uint8 labels, no
// header): the first 500 images as images_u8.npy (uint8 [500,1,28,28], NCHW like the ONNX model's
// input), images.npy (float32 x/255, what the model expects) and labels_u8.npy (uint8 [500]).
// Usage: node --import tsx examples/mnist/make-data.ts <dir with test_images_u8.bin, test_labels_u8.bin>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveNpy } from '../../compiler/io/npy.ts';

const N = 500;
const PIXELS = 28 * 28;
const src = process.argv[2];
if (!src) {
  console.error('usage: make-data.ts <dir with test_images_u8.bin and test_labels_u8.bin>');
  process.exit(2);
}
const images = new Uint8Array(readFileSync(join(src, 'test_images_u8.bin')));
const labels = new Uint8Array(readFileSync(join(src, 'test_labels_u8.bin')));
if (images.length !== 10000 * PIXELS || labels.length !== 10000) {
  throw new Error(`expected 10000 images of 28x28 and 10000 labels, got ${images.length} and ${labels.length} bytes`);
}
const out = import.meta.dirname;
const u8 = images.slice(0, N * PIXELS);
saveNpy(join(out, 'images_u8.npy'), { shape: [N, 1, 28, 28], data: u8 });
saveNpy(join(out, 'images.npy'), { shape: [N, 1, 28, 28], data: Float32Array.from(u8, (v) => v / 255) });
saveNpy(join(out, 'labels_u8.npy'), { shape: [N], data: labels.slice(0, N) });
console.log(`wrote ${N} images and labels to ${out}`);
