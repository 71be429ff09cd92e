// The op table of the IR and model.json v1: input/output counts and typed attrs with defaults.
// validateNodeAttrs checks one node against it and fills missing attrs with their defaults in
// place, so passes, lowering and the reference evaluator read attrs without fallbacks.

import { ModelError } from './graph.ts';
import type { AttrValue, Attrs, Node, OpType } from './graph.ts';

/** 'padding' = 'valid' | 'same' | [top, left, bottom, right] with ints ≥ 0. */
export type AttrKind = 'int' | 'float' | 'string' | 'bool' | 'ints' | 'floats' | 'padding';

export interface AttrSchema {
  kind: AttrKind;
  /** Filled in when the attr is missing. No default and no `derive` = the attr is required. */
  default?: AttrValue;
  /** Allowed values of a 'string' attr. */
  values?: readonly string[];
  /** Exact element count of an 'ints'/'floats' attr. */
  length?: number;
  /** Lower bound of an 'int' value or of every element of an 'ints' attr. */
  min?: number;
  /** Default computed from the other (already checked) attrs, e.g. pool strides = kernel. */
  derive?: (attrs: Attrs) => AttrValue;
  /** What the default is, for docs and messages when `derive` is set. */
  deriveDoc?: string;
}

export interface OpSchema {
  /** [min, max] input count; optional inputs may also be given as '' (absent). */
  inputs: [min: number, max: number];
  outputs: number;
  attrs: Record<string, AttrSchema>;
  /** Cross-attr checks after defaults are filled: returns "attr 'x': expected … found …" or undefined. */
  check?: (attrs: Attrs) => string | undefined;
}

/** Largest finite float32: Clip's open-ended default (JSON has no Infinity). */
export const FLOAT32_MAX = 3.4028234663852886e38;

const FUSED_ACTIVATION: Record<string, AttrSchema> = {
  activation: { kind: 'string', values: ['none', 'relu', 'clip'], default: 'none' },
  clip: { kind: 'floats', length: 2, default: [0, 6] },
};

const checkClipRange = (attrs: Attrs): string | undefined => {
  const [lo, hi] = attrs.clip as number[];
  return lo <= hi ? undefined : `attr 'clip': expected min ≤ max, found [${lo}, ${hi}]`;
};

const noAttrs = (inputs: [number, number]): OpSchema => ({ inputs, outputs: 1, attrs: {} });

const pool = (extra: Record<string, AttrSchema>): OpSchema => ({
  inputs: [1, 1],
  outputs: 1,
  attrs: {
    kernel: { kind: 'ints', length: 2, min: 1 },
    strides: {
      kind: 'ints', length: 2, min: 1,
      derive: (a) => [...(a.kernel as number[])], deriveDoc: 'kernel',
    },
    padding: { kind: 'padding', default: 'valid' },
    ...extra,
  },
});

export const OP_SCHEMAS: Record<OpType, OpSchema> = {
  Conv2D: {
    inputs: [2, 3],
    outputs: 1,
    attrs: {
      strides: { kind: 'ints', length: 2, min: 1, default: [1, 1] },
      dilations: { kind: 'ints', length: 2, min: 1, default: [1, 1] },
      padding: { kind: 'padding', default: 'valid' },
      groups: { kind: 'int', min: 1, default: 1 },
      ...FUSED_ACTIVATION,
    },
    check: checkClipRange,
  },
  Dense: { inputs: [2, 3], outputs: 1, attrs: { ...FUSED_ACTIVATION }, check: checkClipRange },
  BatchNorm: { inputs: [5, 5], outputs: 1, attrs: { epsilon: { kind: 'float', default: 1e-5 } } },

  Add: { inputs: [2, 2], outputs: 1, attrs: { ...FUSED_ACTIVATION }, check: checkClipRange },
  Sub: noAttrs([2, 2]),
  Mul: noAttrs([2, 2]),
  Div: noAttrs([2, 2]),
  Max: noAttrs([2, 2]),
  Min: noAttrs([2, 2]),
  PRelu: noAttrs([2, 2]),

  Relu: noAttrs([1, 1]),
  Relu6: noAttrs([1, 1]),
  Clip: {
    inputs: [1, 1],
    outputs: 1,
    attrs: {
      min: { kind: 'float', default: -FLOAT32_MAX },
      max: { kind: 'float', default: FLOAT32_MAX },
    },
    check: (a) => ((a.min as number) <= (a.max as number)
      ? undefined
      : `attr 'min': expected min ≤ max, found min ${a.min} > max ${a.max}`),
  },
  LeakyRelu: { inputs: [1, 1], outputs: 1, attrs: { alpha: { kind: 'float', default: 0.01 } } },
  Sigmoid: noAttrs([1, 1]),
  Tanh: noAttrs([1, 1]),
  Exp: noAttrs([1, 1]),

  MaxPool: pool({}),
  AvgPool: pool({ countIncludePad: { kind: 'bool', default: false } }),
  GlobalAvgPool: noAttrs([1, 1]),
  // int8 (docs/quantization.md): the output tensor's quant gives the scale and zero point
  Quantize: noAttrs([1, 1]),
  Dequantize: noAttrs([1, 1]),
  Requantize: noAttrs([1, 1]),

  Reshape: {
    inputs: [1, 1],
    outputs: 1,
    attrs: { shape: { kind: 'ints', min: -1 } },
    check: (a) => {
      const shape = a.shape as number[];
      return shape.filter((d) => d === -1).length <= 1
        ? undefined
        : `attr 'shape': expected at most one -1, found ${JSON.stringify(shape)}`;
    },
  },
  Flatten: { inputs: [1, 1], outputs: 1, attrs: { axis: { kind: 'int', default: 1 } } },
  Transpose: {
    inputs: [1, 1],
    outputs: 1,
    attrs: { perm: { kind: 'ints', min: 0 } },
    check: (a) => {
      const perm = a.perm as number[];
      const sorted = [...perm].sort((x, y) => x - y);
      return sorted.every((v, i) => v === i)
        ? undefined
        : `attr 'perm': expected a permutation of 0..${perm.length - 1}, found ${JSON.stringify(perm)}`;
    },
  },
  Concat: { inputs: [1, Infinity], outputs: 1, attrs: { axis: { kind: 'int' } } },
  Softmax: { inputs: [1, 1], outputs: 1, attrs: { axis: { kind: 'int', default: -1 } } },
  Pad: {
    inputs: [1, 1],
    outputs: 1,
    attrs: { pads: { kind: 'ints', min: 0 }, value: { kind: 'float', default: 0 } },
    check: (a) => ((a.pads as number[]).length % 2 === 0
      ? undefined
      : `attr 'pads': expected an even count [b0..bn-1, e0..en-1], found ${(a.pads as number[]).length} values`),
  },
  Slice: {
    inputs: [1, 1],
    outputs: 1,
    attrs: {
      starts: { kind: 'ints' },
      ends: { kind: 'ints' },
      axes: {
        kind: 'ints',
        derive: (a) => (a.starts as number[]).map((_, i) => i), deriveDoc: '[0, 1, …, len(starts)-1]',
      },
      steps: { kind: 'ints', derive: (a) => (a.starts as number[]).map(() => 1), deriveDoc: 'all 1' },
    },
    check: (a) => {
      const n = (a.starts as number[]).length;
      for (const k of ['ends', 'axes', 'steps']) {
        const len = (a[k] as number[]).length;
        if (len !== n) return `attr '${k}': expected ${n} values (as many as starts), found ${len}`;
      }
      if ((a.steps as number[]).includes(0)) {
        return `attr 'steps': expected non-zero steps, found ${JSON.stringify(a.steps)}`;
      }
      return undefined;
    },
  },
};

export function isOpType(op: unknown): op is OpType {
  return typeof op === 'string' && Object.prototype.hasOwnProperty.call(OP_SCHEMAS, op);
}

/** Short JSON rendering of a found value for messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  if (s.length > 60) s = `${s.slice(0, 57)}...`;
  const type = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
  return `${type} ${s}`;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Returns the expected-description when `v` does not match `spec`, else undefined. */
function checkAttrValue(spec: AttrSchema, v: unknown): string | undefined {
  const min = spec.min;
  const len = spec.length;
  const lenText = len === undefined ? '' : ` of ${len}`;
  const minText = min === undefined ? '' : ` ≥ ${min}`;
  switch (spec.kind) {
    case 'int':
      return isInt(v) && (min === undefined || v >= min) ? undefined : `an integer${minText}`;
    case 'float':
      return isFiniteNumber(v) ? undefined : 'a finite number';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'string':
      if (typeof v !== 'string') {
        return spec.values ? `one of ${spec.values.map((s) => `'${s}'`).join(', ')}` : 'a string';
      }
      return !spec.values || spec.values.includes(v)
        ? undefined
        : `one of ${spec.values.map((s) => `'${s}'`).join(', ')}`;
    case 'ints':
      return Array.isArray(v) && (len === undefined || v.length === len)
        && v.every((x) => isInt(x) && (min === undefined || x >= min))
        ? undefined
        : `an array${lenText || " of"} integers${minText}`;
    case 'floats':
      return Array.isArray(v) && (len === undefined || v.length === len) && v.every(isFiniteNumber)
        ? undefined
        : `an array${lenText || " of"} finite numbers`;
    case 'padding':
      if (v === 'valid' || v === 'same') return undefined;
      return Array.isArray(v) && v.length === 4 && v.every((x) => isInt(x) && x >= 0)
        ? undefined
        : `'valid', 'same' or [top, left, bottom, right] integers ≥ 0`;
  }
}

/** Array attrs are copied so a filled default never aliases the schema's own array. */
function copyValue(v: AttrValue): AttrValue {
  return Array.isArray(v) ? ([...v] as AttrValue) : v;
}

/**
 * Checks op, input/output counts and attrs of `node` against OP_SCHEMAS and fills every missing
 * attr with its default in place. Throws ModelError(file, "node '<name>'", "…: expected … found …").
 */
export function validateNodeAttrs(node: Node, file: string): void {
  const where = `node '${node.name}'`;
  if (!isOpType(node.op)) {
    throw new ModelError(file, where, `op: expected a known op type, found ${describeValue(node.op)}`);
  }
  const schema = OP_SCHEMAS[node.op];
  const [minIn, maxIn] = schema.inputs;
  const range = minIn === maxIn ? `${minIn}` : maxIn === Infinity ? `at least ${minIn}` : `${minIn} to ${maxIn}`;
  // Trailing '' entries are absent optional inputs and do not count.
  let given = node.inputs.length;
  while (given > 0 && node.inputs[given - 1] === '') given--;
  if (given < minIn || given > maxIn) {
    throw new ModelError(file, where, `inputs: ${node.op} expected ${range} inputs, found ${given}`);
  }
  if (node.inputs.length > maxIn) {
    throw new ModelError(file, where,
      `inputs: ${node.op} expected at most ${maxIn} entries, found ${node.inputs.length}`);
  }
  for (let i = 0; i < minIn; i++) {
    if (node.inputs[i] === '') {
      throw new ModelError(file, where, `inputs[${i}]: expected a tensor name (input ${i} of ${node.op} is required), found ''`);
    }
  }
  if (node.outputs.length !== schema.outputs) {
    throw new ModelError(file, where,
      `outputs: ${node.op} expected ${schema.outputs} output(s), found ${node.outputs.length}`);
  }
  if (node.attrs === null || typeof node.attrs !== 'object' || Array.isArray(node.attrs)) {
    throw new ModelError(file, where, `attrs: expected an object, found ${describeValue(node.attrs)}`);
  }
  const known = Object.keys(schema.attrs);
  for (const name of Object.keys(node.attrs)) {
    if (!Object.prototype.hasOwnProperty.call(schema.attrs, name)) {
      const expected = known.length === 0
        ? `${node.op} takes no attrs`
        : `one of ${known.map((k) => `'${k}'`).join(', ')}`;
      throw new ModelError(file, where, `attr '${name}': unknown attr of ${node.op}, expected ${expected}`);
    }
  }
  // Plain defaults and given values first, derived defaults second: they read the others.
  for (const [name, spec] of Object.entries(schema.attrs)) {
    const v = node.attrs[name];
    if (v === undefined) {
      if (spec.default !== undefined) node.attrs[name] = copyValue(spec.default);
      else if (spec.derive === undefined) {
        throw new ModelError(file, where,
          `attr '${name}': required by ${node.op}, expected ${checkAttrValue(spec, undefined)}, found nothing`);
      }
      continue;
    }
    const expected = checkAttrValue(spec, v);
    if (expected !== undefined) {
      throw new ModelError(file, where, `attr '${name}': expected ${expected}, found ${describeValue(v)}`);
    }
  }
  for (const [name, spec] of Object.entries(schema.attrs)) {
    if (node.attrs[name] === undefined && spec.derive) node.attrs[name] = spec.derive(node.attrs);
  }
  const problem = schema.check?.(node.attrs);
  if (problem !== undefined) throw new ModelError(file, where, problem);
}
