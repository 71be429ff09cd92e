// Reads the few bundle fields the host reports in Model.info (graph input/output names, shapes,
// dtypes, step count) straight from the FlatBuffers bytes, after the wasm executor has validated
// the whole file. Dependency-free so the browser bundle stays small; slots as in schema/bundle.fbs.

export type RuntimeDType = 'float32' | 'int8' | 'uint8' | 'int32';

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: RuntimeDType;
}

export interface BundleInfo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  steps: number;
  /** Names of the model variants (Bundle.variants), [] for a bundle without them. */
  variants: string[];
}

const DTYPES: RuntimeDType[] = ['float32', 'int8', 'uint8', 'int32'];

/** Info of variant `variant` (0 = the Bundle's own fields; k > 0 = Bundle.variants[k], same slots). */
export function readBundleInfo(bytes: Uint8Array, variant = 0): BundleInfo {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (p: number) => dv.getUint32(p, true);
  /** Position of field `slot` of the table at t, or 0 when absent. */
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
    if (v === 0) return [];
    const out: number[] = [];
    for (let i = 0; i < u32(v); i++) out.push(dv.getInt32(v + 4 + 4 * i, true));
    return out;
  };
  const text = (v: number): string => (v === 0 ? '' : new TextDecoder().decode(bytes.subarray(v + 4, v + 4 + u32(v))));

  const bundleRoot = u32(0);
  const variantsVec = ref(bundleRoot, 8);
  const nVariants = variantsVec === 0 ? 0 : u32(variantsVec);
  const variantTable = (k: number) => { const e = variantsVec + 4 + 4 * k; return e + u32(e); };
  const variants: string[] = [];
  for (let k = 0; k < nVariants; k++) variants.push(text(ref(variantTable(k), 6)));
  const root = variant === 0 ? bundleRoot : variantTable(variant);
  const tensorsVec = ref(root, 1);
  const tensor = (id: number): TensorInfo => {
    const e = tensorsVec + 4 + 4 * id;
    const t = e + u32(e);
    const dt = field(t, 1);
    return { name: text(ref(t, 0)), shape: ints(ref(t, 2)), dtype: DTYPES[dt === 0 ? 0 : bytes[dt]!]! };
  };
  const stepsVec = ref(root, 2);
  return {
    inputs: ints(ref(root, 3)).map(tensor),
    outputs: ints(ref(root, 4)).map(tensor),
    steps: stepsVec === 0 ? 0 : u32(stepsVec),
    variants,
  };
}
