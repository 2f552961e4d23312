import { fromUtf8 } from '@smithy/util-utf8';

/**
 * Cuts text or bytes into parts at the given byte offsets, for emulator scripts that need parts
 * split mid-line or mid-code-point. A number instead of offsets cuts every `n` bytes.
 *
 * @example
 * ```ts
 * import { splitBytes, startEmulator } from 'rx-sagemaker/testing';
 *
 * // "🦙" is 4 bytes: split it after its second byte
 * const parts = splitBytes('data:{"token":{"text":"🦙"}}\n\n', [25]);
 * const emulator = await startEmulator({ endpoints: { llama: { parts } } });
 * ```
 * @param input - a string (UTF-8 encoded) or bytes.
 * @param at - ascending byte offsets to cut at, or a part size.
 * @returns the parts, which concatenate to the input.
 * @public
 */
export function splitBytes(input: string | Uint8Array, at: number | readonly number[]): Uint8Array[] {
  const bytes = typeof input === 'string' ? fromUtf8(input) : input;
  const cuts: number[] = [];
  if (typeof at === 'number') {
    if (!(at >= 1)) throw new RangeError('splitBytes: the part size must be at least 1');
    for (let i = at; i < bytes.length; i += at) cuts.push(i);
  } else {
    cuts.push(...at.filter((c) => c > 0 && c < bytes.length));
  }
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > start) parts.push(bytes.subarray(start, c));
    start = Math.max(start, c);
  }
  return parts;
}
