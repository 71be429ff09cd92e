// Graph editing for the passes: GraphEdit keeps who produces and who reads each tensor, the node names
// and the node order (a linked list) current through every edit, so a pass costs O(graph) however many
// rewrites it makes (rebuilding a producer map per node made passes quadratic: 20,000 nodes took minutes).
import type { Graph, Node, Tensor } from '../ir/graph.ts';

export interface Pass {
  name: string;
  /** Rewrites the graph in place; returns true when anything changed. */
  run(graph: Graph): boolean;
}

/**
 * Work done by GraphEdit (nodes indexed plus reader entries walked), for tests that check a pass's cost
 * grows linearly with the graph; not a timer.
 */
export const editWork = { count: 0 };

/**
 * A pass's editing view of `g`: make one at the start of run(), read and edit through it, end with
 * commit(), which writes the node order back to g.nodes. Between the two g.nodes is the order at the start
 * (the pass's worklist); removed nodes stay in it, so check isLive().
 */
export class GraphEdit {
  readonly outputs: ReadonlySet<string>;
  readonly inputs: ReadonlySet<string>;
  private readonly producerOf = new Map<string, Node>();
  /** Readers of each tensor, one entry per input slot (a node reading it twice is listed twice). */
  private readonly readersOf = new Map<string, Node[]>();
  private readonly names = new Set<string>();
  private readonly next = new Map<Node, Node | undefined>();
  private readonly prev = new Map<Node, Node | undefined>();
  private head: Node | undefined;
  private tail: Node | undefined;

  constructor(readonly g: Graph) {
    this.outputs = new Set(g.outputs);
    this.inputs = new Set(g.inputs);
    for (const n of g.nodes) this.link(n, this.tail);
    editWork.count += g.nodes.length;
  }

  isLive(n: Node): boolean {
    return this.next.has(n);
  }

  producer(t: string): Node | undefined {
    return this.producerOf.get(t);
  }

  /** Distinct nodes reading `t`, in the order they first read it. */
  consumers(t: string): Node[] {
    const r = this.readersOf.get(t) ?? [];
    editWork.count += r.length;
    return r.length < 2 ? [...r] : [...new Set(r)];
  }

  /** Whether anything reads `t` (a node or the graph's outputs). */
  isRead(t: string): boolean {
    return (this.readersOf.get(t)?.length ?? 0) > 0 || this.outputs.has(t);
  }

  /** A tensor another node may be rewired into: read once, by one node, and not a graph output. */
  singleUse(t: string): boolean {
    return this.readersOf.get(t)?.length === 1 && !this.outputs.has(t);
  }

  setInput(n: Node, k: number, t: string): void {
    this.unread(n.inputs[k]!, n);
    n.inputs[k] = t;
    this.read(t, n);
  }

  setInputs(n: Node, ts: string[]): void {
    for (const i of n.inputs) this.unread(i, n);
    n.inputs = ts;
    for (const i of ts) this.read(i, n);
  }

  setOutput(n: Node, k: number, t: string): void {
    if (this.producerOf.get(n.outputs[k]!) === n) this.producerOf.delete(n.outputs[k]!);
    n.outputs[k] = t;
    this.producerOf.set(t, n);
  }

  setOutputs(n: Node, ts: string[]): void {
    for (const o of n.outputs) if (this.producerOf.get(o) === n) this.producerOf.delete(o);
    n.outputs = ts;
    for (const o of ts) this.producerOf.set(o, n);
  }

  /** Takes `n` out of the graph (its name becomes free again, as it would in g.nodes). */
  remove(n: Node): void {
    for (const i of n.inputs) this.unread(i, n);
    for (const o of n.outputs) if (this.producerOf.get(o) === n) this.producerOf.delete(o);
    this.names.delete(n.name);
    const p = this.prev.get(n),
      q = this.next.get(n);
    if (p) this.next.set(p, q);
    else this.head = q;
    if (q) this.prev.set(q, p);
    else this.tail = p;
    this.next.delete(n);
    this.prev.delete(n);
  }

  /** Puts `n` (new, or just removed) right after `anchor`. */
  insertAfter(anchor: Node, n: Node): void {
    this.link(n, anchor);
  }

  /** Puts `n` (new, or just removed) right before `anchor`. */
  insertBefore(anchor: Node, n: Node): void {
    this.link(n, this.prev.get(anchor));
  }

  /** Replaces `n` by `nodes`, in its place. */
  replace(n: Node, nodes: Node[]): void {
    let at = this.prev.get(n);
    this.remove(n);
    for (const m of nodes) {
      this.link(m, at);
      at = m;
    }
  }

  /** `base`, or `base_1`, `base_2`, … : the first name no tensor and no node has. */
  freshName(base: string): string {
    const taken = (s: string) => this.g.tensors.has(s) || this.names.has(s);
    if (!taken(base)) return base;
    for (let i = 1; ; i++) if (!taken(`${base}_${i}`)) return `${base}_${i}`;
  }

  addConstant(base: string, shape: number[], data: Float32Array): string {
    const name = this.freshName(base);
    this.g.tensors.set(name, { name, dtype: 'float32', shape, data });
    return name;
  }

  addTensor(base: string, like: Pick<Tensor, 'shape' | 'dtype'>): string {
    const name = this.freshName(base);
    this.g.tensors.set(name, { name, dtype: like.dtype, shape: [...like.shape] });
    return name;
  }

  /** Every reader of `from` reads `to` instead. */
  renameUses(from: string, to: string): void {
    for (const n of this.consumers(from))
      this.setInputs(
        n,
        n.inputs.map((i) => (i === from ? to : i)),
      );
  }

  /**
   * Removes `node`, whose output `out` holds the same values (and shape) as `inp`. Returns false when
   * that would merge two boundary tensors (graph input/output or constant → graph output).
   */
  bypass(node: Node, inp: string, out: string): boolean {
    if (!this.outputs.has(out)) {
      this.renameUses(out, inp);
    } else {
      const t = this.g.tensors.get(inp)!;
      if (t.data || this.inputs.has(inp) || this.outputs.has(inp)) return false;
      // keep the graph output's name: the producer of `inp` now writes `out`
      const p = this.producerOf.get(inp);
      if (p)
        this.setOutputs(
          p,
          p.outputs.map((o) => (o === inp ? out : o)),
        );
      this.renameUses(inp, out);
      this.g.tensors.delete(inp);
    }
    this.remove(node);
    if (!this.isRead(out)) this.g.tensors.delete(out);
    return true;
  }

  /** Writes the current node order back to g.nodes. */
  commit(): void {
    const nodes: Node[] = [];
    for (let n = this.head; n; n = this.next.get(n)) nodes.push(n);
    editWork.count += nodes.length;
    this.g.nodes = nodes;
  }

  private link(n: Node, after: Node | undefined): void {
    const q = after ? this.next.get(after) : this.head;
    this.prev.set(n, after);
    this.next.set(n, q);
    if (after) this.next.set(after, n);
    else this.head = n;
    if (q) this.prev.set(q, n);
    else this.tail = n;
    this.names.add(n.name);
    for (const i of n.inputs) this.read(i, n);
    for (const o of n.outputs) this.producerOf.set(o, n);
  }

  private read(t: string, n: Node): void {
    if (t === '') return;
    const r = this.readersOf.get(t);
    if (r) r.push(n);
    else this.readersOf.set(t, [n]);
  }

  private unread(t: string, n: Node): void {
    const r = this.readersOf.get(t);
    if (!r) return;
    editWork.count += r.length;
    const k = r.indexOf(n);
    if (k >= 0) r.splice(k, 1);
  }
}

export function constF64(t: Tensor): Float64Array {
  const d = t.data!;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}
