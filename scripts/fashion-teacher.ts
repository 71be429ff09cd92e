// Writes the initial (He-uniform) Fashion-MNIST teacher of docs/distillation.md as model.json (+ .bin) for
// `edgec train` (scripts/distill-students.ts fashionTeacher: conv c1 → pool → conv c2 → pool → dense hidden → 10).
// Usage: node --import tsx scripts/fashion-teacher.ts -o teacher.json [--c1 32] [--c2 64] [--hidden 128] [--seed 1]
// The teacher of docs/distillation.md (defaults: 421,642 parameters, 4,241,152 MACs) was then trained with
//   edgec train teacher.json --data train_x.npy --labels train_y.npy --epochs 6 --batch 32 --optimizer adam
//     --lr 0.002 --schedule cosine --augment flip --seed 1 --threads 2 -o fashion-teacher.json
import { writeModelJson } from '../compiler/frontend/model-json/index.ts';
import { graphMacs } from '../compiler/compress/prune.ts';
import { fashionTeacher } from './distill-students.ts';

const args = process.argv.slice(2);
const opt = (name: string, def?: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : def;
};
const out = opt('-o');
if (!out) {
  console.error(
    'usage: node --import tsx scripts/fashion-teacher.ts -o teacher.json [--c1 32] [--c2 64] [--hidden 128] [--seed 1]',
  );
  process.exit(2);
}
const g = fashionTeacher(
  Number(opt('--seed', '1')),
  Number(opt('--c1', '32')),
  Number(opt('--c2', '64')),
  Number(opt('--hidden', '128')),
);
writeModelJson(g, out);
let params = 0;
for (const t of g.tensors.values()) if (t.data) params += t.data.length;
console.log(`${out}: ${params} parameters, ${graphMacs(g)} MACs`);
