/**
 * The response `ContentType` of a stream, keyed by the first payload chunk `invoke$` emitted for
 * it. `tokens()` reads it as a detection hint without any configuration; a chunk that did not
 * come from `invoke$` (or from another copy of the package) simply has no hint.
 *
 * @internal
 */
export const contentTypeHints = new WeakMap<Uint8Array, string>();
