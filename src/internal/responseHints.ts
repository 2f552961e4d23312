/**
 * The response `ContentType` of a stream, keyed by the first payload chunk `invoke$` emitted for
 * it. `tokens()` reads it as a detection hint without any configuration; a chunk that did not
 * come from `invoke$` (or from another copy of the package) simply has no hint.
 *
 * @internal
 */
export const contentTypeHints = new WeakMap<Uint8Array, string>();

/**
 * The request body (as text) of a stream, keyed the same way, so that `tokens()` can keep it out
 * of the messages of errors the container writes into the stream (which often quote the input).
 *
 * @internal
 */
export const requestBodyHints = new WeakMap<Uint8Array, string>();
