// The TF.js oracle of the tests: tfjs itself (tfjs-layers / tfjs-converter on the CPU backend, plain JS, no
// native binary) loads a model.json + shards from a folder and runs it on the same inputs edgec gets.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

let ready: Promise<boolean> | undefined;

/** A tfjs IOHandler reading `path` (model.json) and its shards from disk. */
export function fileHandler(path: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(path, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const parts = manifest.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(dirname(path), p)))));
        const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
        let o = 0;
        for (const p of parts) (all.set(p, o), (o += p.length));
        return [specs, all.buffer];
      });
    },
  };
}

/** Runs the TF.js model at `path` on `inputs` (name → data of the model's input shape); outputs in model order. */
export async function tfjsRun(
  path: string,
  inputs: { data: Float32Array; shape: number[] }[],
): Promise<Float32Array[]> {
  // PROD only silences tfjs's console advice to install tfjs-node (a native binary this project avoids)
  tf.env().set('PROD', true);
  ready ??= tf.setBackend('cpu');
  await ready;
  const json = JSON.parse(readFileSync(path, 'utf8')) as { format?: string; modelTopology: { node?: unknown } };
  const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
  try {
    if (json.format === 'graph-model' || Array.isArray(json.modelTopology.node)) {
      const m = await loadGraphModel(fileHandler(path));
      const ys = m.execute(xs.length === 1 ? xs[0]! : xs);
      const list = Array.isArray(ys) ? ys : [ys];
      const out = await Promise.all(list.map(async (y) => (await y.data()) as Float32Array));
      list.forEach((y) => y.dispose());
      m.dispose();
      return out;
    }
    const m = await loadLayersModel(fileHandler(path));
    const ys = m.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(ys) ? ys : [ys];
    const out = await Promise.all(list.map(async (y) => (await y.data()) as Float32Array));
    list.forEach((y) => y.dispose());
    m.dispose();
    return out;
  } finally {
    xs.forEach((x) => x.dispose());
  }
}
