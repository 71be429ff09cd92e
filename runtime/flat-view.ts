// A tiny read-only view of a .edgec FlatBuffers file for the host (no flatbuffers package, so the
// browser bundle stays small): table fields by slot, vectors, strings, and the root table of a variant.
// The wasm validates the bundle before these reads run; they trust its offsets.

export interface FlatView {
  dv: DataView;
  u32(p: number): number;
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

export function flatView(bytes: Uint8Array): FlatView {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (p: number) => dv.getUint32(p, true);
  const field = (t: number, slot: number): number => {
    const vt = t - dv.getInt32(t, true);
    const entry = 4 + 2 * slot;
    if (entry >= dv.getUint16(vt, true)) return 0;
    const fo = dv.getUint16(vt + entry, true);
    return fo === 0 ? 0 : t + fo;
  };
  const ref = (t: number, slot: number): number => {
    const p = field(t, slot);
    return p === 0 ? 0 : p + u32(p);
  };
  const ints = (v: number): number[] => {
    const out: number[] = [];
    if (v !== 0) for (let i = 0; i < u32(v); i++) out.push(dv.getInt32(v + 4 + 4 * i, true));
    return out;
  };
  const text = (v: number): string => (v === 0 ? '' : new TextDecoder().decode(bytes.subarray(v + 4, v + 4 + u32(v))));
  const bundleRoot = u32(0);
  const variantsVec = ref(bundleRoot, VARIANTS_SLOT);
  const variantTable = (k: number): number => {
    if (variantsVec === 0) return 0;
    const e = variantsVec + 4 + 4 * k;
    return e + u32(e);
  };
  return {
    dv, u32, field, ref, ints, text, variantTable,
    variantCount: variantsVec === 0 ? 0 : u32(variantsVec),
    root: (variant) => (variant === 0 ? bundleRoot : variantTable(variant) || bundleRoot),
  };
}
