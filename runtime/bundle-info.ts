// Reads the few bundle fields the host reports in Model.info (graph input/output names, shapes, dtypes, int8
// scale and zero point, step count) straight from the FlatBuffers bytes, after the wasm executor has validated
// the whole file. Dependency-free so the browser bundle stays small; slots as in schema/bundle.fbs.
import { flatView } from './flat-view.ts';

export type RuntimeDType = 'float32' | 'int8' | 'uint8' | 'int32';

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: RuntimeDType;
  /** int8 tensors (a bundle compiled with --io int8): real value = (q − zeroPoint) · scale, as the bundle records it. */
  scale?: number;
  zeroPoint?: number;
}

export interface BundleInfo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  steps: number;
  /** Names of the model variants (Bundle.variants), [] for a bundle without them. */
  variants: string[];
  /** Training state tensors (Tensor.variable) with their tensor ids. */
  variables: (TensorInfo & { id: number })[];
}

const DTYPES: RuntimeDType[] = ['float32', 'int8', 'uint8', 'int32'];

/** Info of variant `variant` (0 = the Bundle's own fields; k > 0 = Bundle.variants[k], same slots). */
export function readBundleInfo(bytes: Uint8Array, variant = 0): BundleInfo {
  const { u32, i32, f32, field, ref, ints, text, variantTable, variantCount, root: rootOf } = flatView(bytes);
  const variants: string[] = [];
  for (let k = 0; k < variantCount; k++) variants.push(text(ref(variantTable(k), 6)));
  const root = rootOf(variant);
  const tensorsVec = ref(root, 1);
  const tensor = (id: number): TensorInfo => {
    const e = tensorsVec + 4 + 4 * id;
    const t = e + u32(e);
    const dt = field(t, 1);
    const info: TensorInfo = {
      name: text(ref(t, 0)),
      shape: ints(ref(t, 2)),
      dtype: DTYPES[dt === 0 ? 0 : bytes[dt]!]!,
    };
    const scale = field(t, 6),
      zp = field(t, 7);
    if (info.dtype === 'int8' && scale !== 0) {
      info.scale = f32(scale);
      info.zeroPoint = zp === 0 ? 0 : i32(zp);
    }
    return info;
  };
  const stepsVec = ref(root, 2);
  const variables: (TensorInfo & { id: number })[] = [];
  const nt = tensorsVec === 0 ? 0 : u32(tensorsVec);
  for (let id = 0; id < nt; id++) {
    const e = tensorsVec + 4 + 4 * id;
    const v = field(e + u32(e), 8);
    if (v !== 0 && bytes[v] !== 0) variables.push({ ...tensor(id), id });
  }
  return {
    inputs: ints(ref(root, 3)).map(tensor),
    outputs: ints(ref(root, 4)).map(tensor),
    steps: stepsVec === 0 ? 0 : u32(stepsVec),
    variants,
    variables,
  };
}
