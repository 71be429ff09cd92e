// Shared by the ONNX oracle tests: the fixture models with their real sample inputs (NCHW, as
// onnxruntime takes them) and an onnxruntime (wasm CPU kernels, test/ort-oracle.ts) runner. Not a test file itself.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ort, ortSession } from '../../../ort-oracle.ts';
import { loadNpy } from '../../../../compiler/io/npy.ts';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'onnx');

export interface OracleCase {
  model: string;
  input: string;
  /** Shape of one sample as the model takes it (batch 1). */
  shape: number[];
  samples: Float32Array[];
  labels?: Uint8Array;
}

function read(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

function images(name: string, per: number, f: (q: number) => number): Float32Array[] {
  const raw = read(name);
  const out: Float32Array[] = [];
  for (let s = 0; s * per < raw.length; s++) out.push(Float32Array.from(raw.subarray(s * per, (s + 1) * per), f));
  return out;
}

export function oracleCases(): OracleCase[] {
  const kwsRaw = new Int8Array(read('kws20_i8.bin').buffer.slice(0));
  const kws: Float32Array[] = [];
  for (let s = 0; s < 20; s++)
    kws.push(Float32Array.from(kwsRaw.subarray(s * 490, (s + 1) * 490), (q) => (q - 83) * 0.5847029089927673));
  const iris = new Float32Array(read('iris20_f32.bin').slice().buffer);
  const npy = (n: string) => loadNpy(join(FIXTURES, n)).data as Float32Array;
  return [
    {
      model: 'mnist-8.onnx',
      input: 'Input3',
      shape: [1, 1, 28, 28],
      samples: images('mnist_test20_u8.bin', 784, (q) => q / 255),
      labels: read('mnist_test20_labels_u8.bin'),
    },
    {
      model: 'fashion_cnn.onnx',
      input: 'input',
      shape: [1, 1, 28, 28],
      samples: images('fashion_test20_u8.bin', 784, (q) => q / 255),
      labels: read('fashion_test20_labels_u8.bin'),
    },
    {
      model: 'kws_dscnn.onnx',
      input: 'input_1',
      shape: [1, 1, 49, 10],
      samples: kws,
      labels: read('kws20_labels_u8.bin'),
    },
    {
      model: 'iris_mlp.onnx',
      input: 'input',
      shape: [1, 4],
      samples: Array.from({ length: 20 }, (_, i) => iris.slice(i * 4, i * 4 + 4)),
    },
    { model: 'cnn_small.onnx', input: 'input', shape: [1, 1, 28, 28], samples: [npy('cnn_small.input.npy')] },
    { model: 'mlp.onnx', input: 'input', shape: [1, 784], samples: [npy('mlp.input.npy')] },
  ];
}

/** Runs every sample through onnxruntime (wasm CPU kernels, test/ort-oracle.ts) (CPU), one at a time; returns the first output of each. */
export async function ortOutputs(c: OracleCase): Promise<Float32Array[]> {
  const session = await ortSession(join(FIXTURES, c.model));
  const out: Float32Array[] = [];
  for (const s of c.samples) {
    const r = await session.run({ [c.input]: new ort.Tensor('float32', s, c.shape) });
    out.push(Float32Array.from(r[session.outputNames[0]].data as Float32Array));
  }
  await session.release();
  return out;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Largest |a − b| / max(1, |b|): absolute near zero, relative for large logits. */
export function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return Number.isNaN(m) ? Infinity : m;
}
