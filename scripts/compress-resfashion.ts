// Writes the residual Fashion-MNIST model of scripts/compress-models.ts (width 16: Add over a Concat's
// slices, 2.42 M MACs) as model.json + model.bin, to be trained with `edgec train` (docs/compression.md has
// the run and its numbers). Usage: node --import tsx scripts/compress-resfashion.ts <out.json> [--width W]
import { writeModelJson } from '../compiler/frontend/model-json/index.ts';
import { graphMacs, graphParams } from '../compiler/compress/prune.ts';
import { residualFashion } from './compress-models.ts';

const args = process.argv.slice(2);
const out = args[0];
if (!out || !out.endsWith('.json')) {
  console.error('usage: node --import tsx scripts/compress-resfashion.ts <out.json> [--width W]');
  process.exit(2);
}
const i = args.indexOf('--width');
const g = residualFashion(i >= 0 ? Number(args[i + 1]) : 16);
writeModelJson(g, out);
console.log(
  `${out}: ${graphParams(g).toLocaleString('en-US')} parameters, ${graphMacs(g).toLocaleString('en-US')} MACs`,
);
console.log(
  `train: nice -n 10 edgec train ${out} --init he --seed 1 --data train_x.npy --labels train_y.npy --val-data test_x.npy --val-labels test_y.npy --epochs 3 --batch 64 --optimizer adam --lr 0.003 --schedule cosine --warmup 200 -o trained.json`,
);
