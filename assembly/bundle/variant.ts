// Which model variant decodeBundle reads (schema Variant: same field slots as Bundle): 0 = the
// Bundle's own fields, k > 0 = Bundle.variants[k]. Set only around one load (assembly/variants.ts).
import { fieldRef, vectorLength, vectorTable } from './flatbuffers';
import { setError, failed } from '../error';
import * as S from './slots';

export let selectedVariant: i32 = 0;

export function setSelectedVariant(k: i32): void {
  selectedVariant = k;
}

/** The table holding tensors/steps/inputs/outputs/arena_size for the selected variant. */
export function variantTable(root: u32): u32 {
  const k = selectedVariant;
  if (k == 0) return root;
  const vv = fieldRef(root, S.Bundle_variants);
  const n: u32 = vv == 0 ? 0 : vectorLength(vv, 4);
  if (failed) return root;
  if (k < 0 || <u32>k >= n) {
    setError('bundle: variant ' + k.toString() + ' requested, the bundle has ' + (n == 0 ? 1 : n).toString());
    return root;
  }
  return vectorTable(vv, <u32>k);
}
