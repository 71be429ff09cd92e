// A tiny read-only view of a .edgec FlatBuffers file for the host (no flatbuffers package, so the
// browser bundle stays small): table fields by slot, vectors, strings, and the root table of a variant.
// The wasm validates the bundle before these reads run; still, every read is bounds-checked, so a
// file the executor never saw whole (a variant not yet loaded, a skipped checksum) fails with a
// BundleError naming the offset, never a raw RangeError.
import { BundleError } from './bundle-error.ts';

export interface FlatView {
  u16(p: number): number;
  u32(p: number): number;
  u64(p: number): bigint;
  i32(p: number): number;
  f32(p: number): number;
  /** Position of field `slot` of the table at t, or 0 when absent. */
  field(t: number, slot: number): number;
  /** Target of the offset field `slot` (table, vector or string), or 0 when absent. */
  ref(t: number, slot: number): number;
  ints(v: number): number[];
  text(v: number): string;
  /** Table of Bundle.variants[k] (same slots as Bundle), or 0 when the bundle has no variants. */
  variantTable(k: number): number;
  variantCount: number;
  /** Root table of variant `variant`: 0 = the Bundle itself, k > 0 = Bundle.variants[k]. */
  root(variant: number): number;
}

const VARIANTS_SLOT = 8;

function outside(n: number, p: number, size: number): BundleError {
  return new BundleError(
    `bundle: ${n}-byte read at offset ${p} runs past the end of the ${size}-byte file (cut short or damaged)`,
  );
}

export function flatView(bytes: Uint8Array): FlatView {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** Every read goes through here: one naming the offset when it falls outside the file. */
  const at = (p: number, n: number): number => {
    if (!(Number.isInteger(p) && p >= 0 && p + n <= bytes.length)) throw outside(n, p, bytes.length);
    return p;
  };
  const u16 = (p: number) => dv.getUint16(at(p, 2), true);
  const u32 = (p: number) => dv.getUint32(at(p, 4), true);
  const i32 = (p: number) => dv.getInt32(at(p, 4), true);
  const u64 = (p: number) => dv.getBigUint64(at(p, 8), true);
  const f32 = (p: number) => dv.getFloat32(at(p, 4), true);
  const field = (t: number, slot: number): number => {
    const vt = t - i32(t);
    const entry = 4 + 2 * slot;
    if (entry >= u16(vt)) return 0;
    const fo = u16(vt + entry);
    return fo === 0 ? 0 : t + fo;
  };
  const ref = (t: number, slot: number): number => {
    const p = field(t, slot);
    return p === 0 ? 0 : p + u32(p);
  };
  const ints = (v: number): number[] => {
    const out: number[] = [];
    if (v !== 0) for (let i = 0; i < u32(v); i++) out.push(i32(v + 4 + 4 * i));
    return out;
  };
  const text = (v: number): string => {
    if (v === 0) return '';
    const end = v + 4 + u32(v);
    if (end > bytes.length) throw outside(end - v - 4, v + 4, bytes.length);
    // a copy: the bytes may be the threaded build's shared wasm memory, which a browser's TextDecoder refuses
    return new TextDecoder().decode(bytes.slice(v + 4, end));
  };
  const bundleRoot = u32(0);
  const variantsVec = ref(bundleRoot, VARIANTS_SLOT);
  const variantTable = (k: number): number => {
    if (variantsVec === 0) return 0;
    const e = variantsVec + 4 + 4 * k;
    return e + u32(e);
  };
  return {
    u16,
    u32,
    u64,
    i32,
    f32,
    field,
    ref,
    ints,
    text,
    variantTable,
    variantCount: variantsVec === 0 ? 0 : u32(variantsVec),
    root: (variant) => (variant === 0 ? bundleRoot : variantTable(variant) || bundleRoot),
  };
}
