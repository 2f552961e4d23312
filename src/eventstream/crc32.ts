// CRC-32 (IEEE 802.3, the polynomial of zlib and of the event-stream framing), for the fast
// event-stream decoder. Small inputs are hashed in JavaScript (slicing by 8: no call, no view to
// allocate); large ones by Node's native `zlib.crc32` when it exists (Node ≥ 20.15 / 22.2), which is
// what the SDK itself uses (`@smithy/core/checksum`, `Crc32Node`). `zlib` is looked up with
// `process.getBuiltinModule`, never imported, so that browser bundles of the package stay free of
// Node built-ins.

/** `zlib.crc32(data, value)`: the CRC of `data` continuing from the CRC `value`. */
export type NativeCrc32 = (data: Uint8Array, value: number) => number;

const TABLE = new Int32Array(256 * 8);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[i] = c;
}
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    const previous = TABLE[(k - 1) * 256 + i] as number;
    TABLE[k * 256 + i] = (previous >>> 8) ^ (TABLE[previous & 0xff] as number);
  }
}

/**
 * The CRC-32 of `bytes[start, end)`, continuing from `previous` (0 to start a new one), as an
 * unsigned 32-bit integer: `crc32Js(b, 0, n, 0) === zlib.crc32(b.subarray(0, n))`.
 */
export function crc32Js(bytes: Uint8Array, start: number, end: number, previous: number): number {
  // (Indexes are in range: `as number` only tells the compiler so.)
  const t = TABLE;
  let c = ~previous;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a =
      c ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24));
    c =
      (t[1792 + (a & 0xff)] as number) ^
      (t[1536 + ((a >>> 8) & 0xff)] as number) ^
      (t[1280 + ((a >>> 16) & 0xff)] as number) ^
      (t[1024 + (a >>> 24)] as number) ^
      (t[768 + (bytes[i + 4] as number)] as number) ^
      (t[512 + (bytes[i + 5] as number)] as number) ^
      (t[256 + (bytes[i + 6] as number)] as number) ^
      (t[bytes[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (c >>> 8) ^ (t[(c ^ (bytes[i] as number)) & 0xff] as number);
  return ~c >>> 0;
}

function findNativeCrc32(): NativeCrc32 | undefined {
  const proc: unknown = (globalThis as { readonly process?: unknown }).process;
  if (typeof proc !== 'object' || proc === null) return undefined;
  const getBuiltinModule: unknown = (proc as { readonly getBuiltinModule?: unknown }).getBuiltinModule;
  if (typeof getBuiltinModule !== 'function') return undefined;
  try {
    const zlib: unknown = (getBuiltinModule as (id: string) => unknown).call(proc, 'node:zlib');
    const crc32: unknown = typeof zlib === 'object' && zlib !== null ? (zlib as { readonly crc32?: unknown }).crc32 : undefined;
    if (typeof crc32 !== 'function') return undefined;
    const native = crc32 as NativeCrc32;
    // Trust it only if it agrees with the table ("123456789" → 0xCBF43926, the CRC-32 check value).
    const check = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
    return native(check, 0) >>> 0 === 0xcbf43926 && native(check.subarray(4), crc32Js(check, 0, 4, 0)) >>> 0 === 0xcbf43926
      ? native
      : undefined;
  } catch {
    return undefined;
  }
}

/** Node's `zlib.crc32`, or `undefined` (older Node, browsers). */
export const nativeCrc32: NativeCrc32 | undefined = findNativeCrc32();

/**
 * From how many bytes on the native CRC is cheaper than the JavaScript one: below it, the cost
 * of calling into C++ (and of the view it needs) outweighs the hashing.
 */
export const NATIVE_CRC_MIN_BYTES = 256;
