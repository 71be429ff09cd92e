// Attr validation against the op table: input/output counts and typed attrs with defaults (each op's
// schema lives in its file, compiler/ir/ops/<op>.ts). validateNodeAttrs checks one node and fills missing
// attrs with their defaults in place, so passes, lowering and the reference evaluator read attrs without fallbacks.

import { ModelError } from './graph.ts';
import type { AttrValue, Node, OpType } from './graph.ts';
import { OPS } from './ops/index.ts';
import type { AttrSchema, OpDef, OpSchema } from './ops/op-def.ts';

/** Every op's schema, from its op file. */
/** Every model-file op's schema, from its op file (training-only ops are not model-file ops). */
export const OP_SCHEMAS = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, def]: [string, OpDef]) => (def.trainingOnly ? [] : [[op, def.schema]])),
) as Record<OpType, OpSchema>;

export function isOpType(op: unknown): op is OpType {
  return typeof op === 'string' && Object.prototype.hasOwnProperty.call(OP_SCHEMAS, op);
}

/** Short JSON rendering of a found value for messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
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
      return Array.isArray(v) &&
        (len === undefined || v.length === len) &&
        v.every((x) => isInt(x) && (min === undefined || x >= min))
        ? undefined
        : `an array${lenText || ' of'} integers${minText}`;
    case 'floats':
      return Array.isArray(v) && (len === undefined || v.length === len) && v.every(isFiniteNumber)
        ? undefined
        : `an array${lenText || ' of'} finite numbers`;
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
    throw new ModelError(
      file,
      where,
      `inputs: ${node.op} expected at most ${maxIn} entries, found ${node.inputs.length}`,
    );
  }
  for (let i = 0; i < minIn; i++) {
    if (node.inputs[i] === '') {
      throw new ModelError(
        file,
        where,
        `inputs[${i}]: expected a tensor name (input ${i} of ${node.op} is required), found ''`,
      );
    }
  }
  if (node.outputs.length !== schema.outputs) {
    throw new ModelError(
      file,
      where,
      `outputs: ${node.op} expected ${schema.outputs} output(s), found ${node.outputs.length}`,
    );
  }
  if (node.attrs === null || typeof node.attrs !== 'object' || Array.isArray(node.attrs)) {
    throw new ModelError(file, where, `attrs: expected an object, found ${describeValue(node.attrs)}`);
  }
  const known = Object.keys(schema.attrs);
  for (const name of Object.keys(node.attrs)) {
    if (!Object.prototype.hasOwnProperty.call(schema.attrs, name)) {
      const expected =
        known.length === 0 ? `${node.op} takes no attrs` : `one of ${known.map((k) => `'${k}'`).join(', ')}`;
      throw new ModelError(file, where, `attr '${name}': unknown attr of ${node.op}, expected ${expected}`);
    }
  }
  // Plain defaults and given values first, derived defaults second: they read the others.
  for (const [name, spec] of Object.entries(schema.attrs)) {
    const v = node.attrs[name];
    if (v === undefined) {
      if (spec.default !== undefined) node.attrs[name] = copyValue(spec.default);
      else if (spec.derive === undefined) {
        throw new ModelError(
          file,
          where,
          `attr '${name}': required by ${node.op}, expected ${checkAttrValue(spec, undefined)}, found nothing`,
        );
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
