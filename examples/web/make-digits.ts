// Writes examples/web/digits.json: the first MNIST test image of each class 0-9 from
// examples/mnist/images_u8.npy (uint8, 28x28, base64) for the demo's "pick a digit" buttons.
// Run: node --import tsx examples/web/make-digits.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { readNpy } from '../../compiler/io/npy.ts';

const images = readNpy(new Uint8Array(readFileSync('examples/mnist/images_u8.npy')), 'images_u8.npy');
const labels = readNpy(new Uint8Array(readFileSync('examples/mnist/labels_u8.npy')), 'labels_u8.npy')
  .data as Uint8Array;
const digits: { label: number; index: number; pixels: string }[] = [];
for (let d = 0; d < 10; d++) {
  const i = Array.from(labels).indexOf(d);
  const px = (images.data as Uint8Array).subarray(i * 784, (i + 1) * 784);
  digits.push({ label: d, index: i, pixels: Buffer.from(px).toString('base64') });
}
writeFileSync(
  'examples/web/digits.json',
  JSON.stringify({ source: 'MNIST t10k via examples/mnist/images_u8.npy', digits }, null, 1) + '\n',
);
