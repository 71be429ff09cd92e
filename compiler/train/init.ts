// Weight re-initialisation for training from scratch (`edgec train --init he|xavier --seed N`):
// uniform weights, zero biases, drawn from PCG32 so the same seed gives the same bytes everywhere.
// Stream: one generator Pcg32(seed, 2^63) (the data loader's streams use sequences below 2^63), its
// draws taken by the weights in node order, elements row-major; w = fround((2u − 1)·a), u = u32 / 2^32.
// he: a = sqrt(6 / fanIn) (PyTorch's kaiming_uniform_ with gain √2); xavier: a = sqrt(6 / (fanIn + fanOut)).
// Dense [out,in]: fanIn = in, fanOut = out; Conv2D OHWI [O,KH,KW,I/G]: fanIn = KH·KW·I/G, fanOut = O·KH·KW.
import type { Graph } from '../ir/graph.ts';
import { Pcg32 } from './data/pcg32.ts';

export type InitKind = 'he' | 'xavier';

const INIT_STREAM = 1n << 63n;

/**
 * Re-initialises, in place, the float32 weights and biases of the Dense and Conv2D nodes of `g`
 * that are not `frozen`. Returns the names of the tensors it wrote, in draw order.
 */
export function initWeights(g: Graph, kind: InitKind, seed: number, frozen: readonly string[] = []): string[] {
  const rng = new Pcg32(seed, INIT_STREAM);
  const done = new Set<string>();
  for (const n of g.nodes) {
    if ((n.op !== 'Dense' && n.op !== 'Conv2D') || frozen.includes(n.name)) continue;
    const w = g.tensors.get(n.inputs[1] ?? '');
    if (w?.data instanceof Float32Array && !done.has(w.name)) {
      const s = w.shape;
      const receptive = n.op === 'Conv2D' ? s[1]! * s[2]! : 1;
      const fanIn = n.op === 'Conv2D' ? receptive * s[3]! : s[1]!;
      const fanOut = s[0]! * receptive;
      const a = Math.sqrt(6 / (kind === 'he' ? fanIn : fanIn + fanOut));
      const data = new Float32Array(w.data.length);
      for (let i = 0; i < data.length; i++) data[i] = (2 * rng.nextFloat() - 1) * a;
      w.data = data;
      done.add(w.name);
    }
    const b = g.tensors.get(n.inputs[2] ?? '');
    if (b?.data instanceof Float32Array && !done.has(b.name)) {
      b.data = new Float32Array(b.data.length);
      done.add(b.name);
    }
  }
  return [...done];
}
