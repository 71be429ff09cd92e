// Model variants in one instance (edgec_load_variant / edgec_use_variant): each variant of the bundle
// is decoded and validated once, with its own arena, and kept; switching is a pointer swap, so the
// host changes precision at run time without reloading the wasm or the bundle.
import { Model } from './bundle/model';
import { setSelectedVariant } from './bundle/variant';
import { loadBundle } from './executor';
import * as executor from './executor';
import { resetError, setError } from './error';

let cache = new Array<Model | null>(0);
let cachedPtr: usize = 0;
let cachedLen: u32 = 0;

/** Loads variant k (0 = default) of the bundle at [ptr, ptr+len) and makes it current; 0 = ok, 1 =
 *  refused (message in the error buffer; the previous current model stays). A different bundle
 *  address forgets the variants loaded before. */
export function edgec_load_variant(ptr: usize, len: u32, k: i32): i32 {
  if (ptr != cachedPtr || len != cachedLen) {
    cache = new Array<Model | null>(0);
    cachedPtr = ptr;
    cachedLen = len;
  }
  const prev = executor.model;
  setSelectedVariant(k);
  const rc = loadBundle(ptr, len);
  setSelectedVariant(0);
  if (rc != 0) {
    executor.model = prev;
    return rc;
  }
  while (cache.length <= k) cache.push(null);
  cache[k] = executor.model;
  return 0;
}

/** Makes the already loaded variant k current; 0 = ok, 1 = not loaded. */
export function edgec_use_variant(k: i32): i32 {
  if (k < 0 || k >= cache.length || cache[k] === null) {
    resetError();
    setError('edgec_use_variant: variant ' + k.toString() + ' is not loaded');
    return 1;
  }
  executor.model = cache[k];
  return 0;
}
