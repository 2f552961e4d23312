// The fast path of the event-stream decoder: recognise, in place, a well-formed SageMaker
// `PayloadPart` event frame and return a view of its payload. Anything else (another event or
// exception, an error frame, a header the SDK might read, a bad checksum, an inconsistent length)
// is "not recognised" and goes to the SDK's own decoder, which then behaves exactly as it always
// does (its own errors, its own messages). So this file never has to reproduce an SDK error.
//
// Frame layout (application/vnd.amazon.eventstream):
//   total_len u32 BE | headers_len u32 BE | prelude_crc u32 BE (CRC-32 of bytes 0..8)
//   headers (headers_len bytes) | payload | message_crc u32 BE (CRC-32 of bytes 0..total_len-4)
// Header: name_len u8 | name | type u8 (7 = string) | value_len u16 BE | value.

import { crc32Js, nativeCrc32, NATIVE_CRC_MIN_BYTES } from './crc32.js';

/** The smallest possible frame: prelude (8), prelude CRC (4), message CRC (4). */
export const MIN_FRAME_LENGTH = 16;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const EVENT_TYPE = ascii(':event-type');
const MESSAGE_TYPE = ascii(':message-type');
const CONTENT_TYPE = ascii(':content-type');
const PAYLOAD_PART = ascii('PayloadPart');
const EVENT = ascii('event');
const STRING_TYPE = 7;

/** The big-endian u32 at `i`. */
export function readUint32(b: Uint8Array, i: number): number {
  return (((b[i] as number) << 24) | ((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number)) >>> 0;
}

function equalsAt(b: Uint8Array, at: number, length: number, expected: Uint8Array): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) if (b[at + i] !== expected[i]) return false;
  return true;
}

/**
 * Whether the header block `b[start, end)` holds only string headers named `:event-type`,
 * `:message-type` and `:content-type` (each may repeat; as in the SDK the last one counts), with
 * `:event-type` = `PayloadPart` and `:message-type` = `event`. These are the only headers the SDK
 * reads for a `PayloadPart` (its one member, `Bytes`, is the payload), so for such a block the SDK's
 * result depends on the payload alone.
 */
function isPayloadPartHeaderBlock(b: Uint8Array, start: number, end: number): boolean {
  let isPayloadPart = false;
  let isEvent = false;
  let p = start;
  while (p < end) {
    const nameLength = b[p] as number;
    const name = p + 1;
    const valueAt = name + nameLength + 3;
    if (valueAt > end || b[valueAt - 3] !== STRING_TYPE) return false;
    const valueLength = ((b[valueAt - 2] as number) << 8) | (b[valueAt - 1] as number);
    if (valueAt + valueLength > end) return false;
    if (equalsAt(b, name, nameLength, EVENT_TYPE)) isPayloadPart = equalsAt(b, valueAt, valueLength, PAYLOAD_PART);
    else if (equalsAt(b, name, nameLength, MESSAGE_TYPE)) isEvent = equalsAt(b, valueAt, valueLength, EVENT);
    else if (!equalsAt(b, name, nameLength, CONTENT_TYPE)) return false;
    p = valueAt + valueLength;
  }
  return isPayloadPart && isEvent;
}

/**
 * Decodes the frame `b[offset, offset + total)` (`total` is its `total_len`, at least
 * {@link MIN_FRAME_LENGTH}) when it is a well-formed `PayloadPart` event with both checksums
 * right: returns its payload as a view into `b` (no copy). Returns `undefined` for every other
 * frame, which the caller hands to the SDK's decoder.
 */
export function decodePayloadPart(b: Uint8Array, offset: number, total: number): Uint8Array | undefined {
  const headersLength = readUint32(b, offset + 4);
  if (headersLength > total - MIN_FRAME_LENGTH) return undefined;
  let crc = crc32Js(b, offset, offset + 8, 0);
  if (crc !== readUint32(b, offset + 8)) return undefined;
  const payloadStart = offset + 12 + headersLength;
  const end = offset + total - 4;
  if (!isPayloadPartHeaderBlock(b, offset + 12, payloadStart)) return undefined;
  const payload = new Uint8Array(b.buffer, b.byteOffset + payloadStart, end - payloadStart);
  if (nativeCrc32 !== undefined && payload.length >= NATIVE_CRC_MIN_BYTES) {
    crc = nativeCrc32(payload, crc32Js(b, offset + 8, payloadStart, crc)) >>> 0;
  } else {
    crc = crc32Js(b, offset + 8, end, crc);
  }
  return crc === readUint32(b, end) ? payload : undefined;
}
