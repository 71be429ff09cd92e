// The state a graph-model node handler works with: the TF node (inputs, attrs decoded from the GraphDef JSON),
// the values computed so far (a Const's data, or the IR tensor of a computed value) and the Builder. Shared by
// graph-model.ts (the op table) and the handler files beside it.
import type { Attrs } from '../../ir/graph.ts';
import type { Builder } from './builder.ts';

export interface GraphNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, Record<string, unknown>>;
}

export interface ConstValue {
  kind: 'const';
  shape: number[];
  data: Float32Array | Int32Array;
}
export interface ActValue {
  kind: 'act';
  ir: string;
}
export type Value = ConstValue | ActValue;

export type Handler = (c: NodeContext) => Value;

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class NodeContext {
  constructor(
    readonly b: Builder,
    readonly n: GraphNode,
    readonly values: Map<string, Value>,
  ) {}

  fail(field: string, detail: string): never {
    return this.b.fail(field, detail);
  }

  /** The value of data input i (`name`, `name:0`; control inputs `^name` are not data). */
  input(i: number): Value {
    const ref = this.n.input.filter((s) => !s.startsWith('^'))[i];
    if (ref === undefined) this.fail(`input[${i}]`, `expected ${i + 1} inputs, found ${i}`);
    const [name, port] = splitRef(ref);
    // output k > 0 of a multi-output node (Split, SplitV) is stored as 'name:k'
    const v = this.values.get(port === 0 ? name : `${name}:${port}`);
    if (!v && port !== 0 && this.values.has(name))
      this.fail(`input[${i}]`, `expected an output of '${name}', found output ${port}`);
    if (!v) this.fail(`input[${i}]`, `expected a node computed earlier, found '${name}'`);
    return v;
  }

  get inputCount(): number {
    return this.n.input.filter((s) => !s.startsWith('^')).length;
  }

  act(i: number): string {
    const v = this.input(i);
    return v.kind === 'act'
      ? v.ir
      : this.b.constant(`${this.n.name}/in${i}`, irShape(v.shape), Float32Array.from(v.data));
  }

  constant(i: number, what: string): ConstValue {
    const v = this.input(i);
    if (v.kind !== 'const')
      this.fail(`input[${i}]`, `expected ${what} as a Const, found the computed tensor '${v.ir}'`);
    return v;
  }

  attr(key: string): Record<string, unknown> | undefined {
    return this.n.attr[key];
  }

  str(key: string, def?: string): string {
    const a = this.attr(key);
    if (a === undefined && def !== undefined) return def;
    if (typeof a?.s !== 'string') this.fail(`attr '${key}'`, 'expected a string');
    return Buffer.from(a.s, 'base64').toString('utf8');
  }

  ints(key: string, def?: number[]): number[] {
    const l = this.attr(key)?.list;
    if (l === undefined && def !== undefined) return def;
    if (!isObject(l)) this.fail(`attr '${key}'`, 'expected a list of ints');
    return ((l.i as unknown[]) ?? []).map(Number);
  }

  strs(key: string): string[] {
    const l = this.attr(key)?.list;
    if (l === undefined) return [];
    if (!isObject(l)) this.fail(`attr '${key}'`, 'expected a list of strings');
    return ((l.s as string[]) ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  float(key: string, def: number): number {
    const f = this.attr(key)?.f;
    return f === undefined ? def : Number(f);
  }

  bool(key: string): boolean {
    return this.attr(key)?.b === true;
  }

  /** The node's output: an IR node of `op` named after the TF node. */
  add(op: Parameters<Builder['add']>[0], inputs: string[], attrs: Attrs = {}, out = this.n.name): ActValue {
    return { kind: 'act', ir: this.b.add(op, inputs, attrs, out) };
  }

  nhwc(): void {
    const f = this.str('data_format', 'NHWC');
    if (f !== 'NHWC') this.fail(`attr 'data_format'`, `expected NHWC, found ${f}`);
  }
}

export function splitRef(ref: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? [m[1]!, Number(m[2])] : [ref, 0];
}

/** Scalars are [1] in the IR. */
export const irShape = (shape: number[]): number[] => (shape.length === 0 ? [1] : shape);

/** Window attrs: [1,h,w,1] strides / dilations and SAME / VALID / EXPLICIT padding. */
export function window(c: NodeContext, key: 'strides' | 'dilations' | 'ksize'): number[] {
  const v = c.ints(key, [1, 1, 1, 1]);
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) c.fail(`attr '${key}'`, `expected [1, h, w, 1], found [${v}]`);
  return [v[1]!, v[2]!];
}

export function padding(c: NodeContext): 'same' | 'valid' | number[] {
  const p = c.str('padding');
  if (p === 'SAME') return 'same';
  if (p === 'VALID') return 'valid';
  if (p !== 'EXPLICIT') c.fail(`attr 'padding'`, `expected SAME, VALID or EXPLICIT, found ${p}`);
  const e = c.ints('explicit_paddings');
  if (e.length !== 8 || e[0] || e[1] || e[6] || e[7])
    c.fail(`attr 'explicit_paddings'`, `expected 8 values padding H and W only, found [${e}]`);
  return [e[2]!, e[4]!, e[3]!, e[5]!];
}
