// The runtime's one error type (its own file so that the plain readers, bundle-info.ts and
// flat-view.ts, can throw it without importing index.ts).

/** A bundle the executor refused, a bad input, or a failure inside the wasm. */
export class BundleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BundleError';
  }
}
