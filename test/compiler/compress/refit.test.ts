// ThiNet's least-squares refit (compiler/compress/refit.ts) against its closed form and the float64 reference:
// the solver equals the explicit 2×2 normal-equation inverse (1e-9 of the largest scale: the ridge), recovers exact scales from a
// noiseless system, leaves a residual orthogonal to every column (the defining LS property) and sends an
// unobserved (dead) column to scale 1; on residualConcat with every output position sampled, each
// consumer's recorded error after the refit equals its float64 reference output with the refit, pruned
// weights (removed columns zeroed) against the original, and is never above the unrefit error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { consumerColumns } from '../../../compiler/compress/columns.ts';
import { dependencyGroups } from '../../../compiler/compress/groups.ts';
import { refitKept, ridgeLeastSquares } from '../../../compiler/compress/refit.ts';
import { consumerActivations } from '../../../compiler/compress/thinet.ts';
import { randomValues } from '../ir/build-graph.ts';
import { residualConcat } from './models.ts';

const f64 = (n: number, seed: number) => Float64Array.from(randomValues(n, seed, -1, 1));
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

test('ridgeLeastSquares = the explicit 2×2 normal-equation solution', () => {
  const x = [f64(40, 1), f64(40, 2)],
    y = f64(40, 3);
  const a = dot(x[0]!, x[0]!),
    b = dot(x[0]!, x[1]!),
    d = dot(x[1]!, x[1]!);
  const r0 = dot(x[0]!, y),
    r1 = dot(x[1]!, y);
  const det = a * d - b * b;
  const want = [(d * r0 - b * r1) / det, (a * r1 - b * r0) / det];
  const got = ridgeLeastSquares(x, y);
  const scale = Math.max(...want.map(Math.abs));
  for (let k = 0; k < 2; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-9 * scale, `${got[k]} vs ${want[k]}`);
});

test('ridgeLeastSquares: exact scales back, orthogonal residual, a dead column goes to 1', () => {
  const x = Array.from({ length: 6 }, (_, u) => f64(100, 10 + u));
  const truth = [0.5, -1.25, 2, 1, 0.75, -0.3];
  const y = new Float64Array(100);
  x.forEach((c, u) => c.forEach((v, i) => (y[i]! += truth[u]! * v)));
  const s = ridgeLeastSquares(x, y);
  truth.forEach((t, u) => assert.ok(Math.abs(s[u]! - t) < 1e-8, `unit ${u}: ${s[u]} vs ${t}`));
  const noisy = Float64Array.from(y, (v, i) => v + 0.3 * Math.sin(7 * i));
  const sn = ridgeLeastSquares(x, noisy);
  const res = Float64Array.from(noisy, (v, i) => v - x.reduce((acc, c, u) => acc + sn[u]! * c[i]!, 0));
  for (const c of x) assert.ok(Math.abs(dot(c, res)) < 1e-8 * Math.sqrt(dot(noisy, noisy) * dot(c, c)));
  const dead = [...x.slice(0, 3), new Float64Array(100)];
  const sd = ridgeLeastSquares(dead, y);
  assert.ok(Math.abs(sd[3]! - 1) < 1e-12, `dead column scale ${sd[3]}`);
});

/** Each consumer's output with its weights taken from `from` (the other nodes as in `g`), per sample. */
function consumerOut(g: Graph, from: Graph, consumer: string, weight: string, xs: Float32Array[]): Float64Array[] {
  const node = from.nodes.find((n) => n.name === consumer)!;
  const own = node.inputs.find((i) => i === weight || i === `${weight}.${consumer}`)!;
  const h: Graph = { ...g, tensors: new Map(g.tensors) };
  h.tensors.set(weight, { ...from.tensors.get(own)!, name: weight });
  return xs.map((x) => evaluate(h, { x }, { all: true })[node.outputs[0]!]!);
}

test('refitKept: recorded errors = float64 reference of the refit, pruned consumer; never worse', () => {
  const g = residualConcat();
  const dep = dependencyGroups(g);
  const xs = Array.from({ length: 3 }, (_, i) => randomValues(32, 900 + i, 0, 1));
  for (const grp of dep.groups.filter((x) => x.fixed === undefined)) {
    const kept = grp.units.map((_, i) => i).filter((i) => i % 2 === 0);
    const acts = consumerActivations(g, dep, [grp], xs);
    const { graph, records } = refitKept(g, dep, new Map([[grp, kept]]), acts, { positions: Infinity });
    const cols = consumerColumns(g, dep, grp);
    assert.is(records.length, cols.length);
    for (const c of cols) {
      const rec = records.find((r) => r.consumer === c.node.name)!;
      assert.ok(rec.errorAfter <= rec.errorBefore, `${grp.name} → ${c.node.name}: ${JSON.stringify(rec)}`);
      // zero the removed units' columns in the refit weights: the pruned consumer, on the original's inputs
      const pruned: Graph = { ...graph, tensors: new Map(graph.tensors), nodes: graph.nodes };
      const own = graph.nodes
        .find((n) => n.name === c.node.name)!
        .inputs.find((i) => i === c.weight || i === `${c.weight}.${c.node.name}`)!;
      const t = graph.tensors.get(own)!;
      const data = Float32Array.from(t.data as Float32Array);
      grp.units.forEach((_, u) => {
        if (kept.includes(u)) return;
        for (const p of c.positions[u]!) {
          const blk = Math.floor(p / c.cols);
          for (let r = blk * c.rowsPerBlock; r < (blk + 1) * c.rowsPerBlock; r++)
            for (let m = 0; m < c.mid; m++) data[(r * c.mid + m) * c.cols + (p % c.cols)] = 0;
        }
      });
      pruned.tensors.set(own, { ...t, data });
      const base = consumerOut(g, g, c.node.name, c.weight, xs);
      const after = consumerOut(g, pruned, c.node.name, c.weight, xs);
      // the group's whole contribution: every unit's columns zeroed
      const none: Graph = { ...g, tensors: new Map(g.tensors) };
      const w0 = Float32Array.from(g.tensors.get(c.weight)!.data as Float32Array);
      for (const pos of c.positions)
        for (const p of pos) {
          const blk = Math.floor(p / c.cols);
          for (let r = blk * c.rowsPerBlock; r < (blk + 1) * c.rowsPerBlock; r++)
            for (let m = 0; m < c.mid; m++) w0[(r * c.mid + m) * c.cols + (p % c.cols)] = 0;
        }
      none.tensors.set(c.weight, { ...g.tensors.get(c.weight)!, data: w0 });
      const empty = consumerOut(g, none, c.node.name, c.weight, xs);
      let num = 0,
        den = 0;
      base.forEach((b, s) =>
        b.forEach((v, i) => {
          num += (v - after[s]![i]!) ** 2;
          den += (v - empty[s]![i]!) ** 2;
        }),
      );
      // float32 storage of the scaled weights: ~1e-7 relative on the outputs
      const want = num / den;
      assert.ok(Math.abs(rec.errorAfter - want) <= 1e-5 * want + 1e-9, `${c.node.name}: ${rec.errorAfter} vs ${want}`);
    }
  }
});

test.run();
