import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { buildMessage } from './classify.js';

/** A streaming UTF-8 decoder: a code point split across chunks decodes intact. @internal */
export interface Utf8Decoder {
  /** Decodes one chunk; bytes of an unfinished code point are kept for the next call. */
  decode(bytes: Uint8Array): string;
  /** Flushes a kept, unfinished code point (U+FFFD, or a `decode` error when `fatal`). */
  end(): string;
}

/**
 * The length of the unfinished code point at the end of `bytes` that a streaming decoder would
 * wait for: a lead byte in the last three bytes, followed only by the continuation bytes the
 * WHATWG UTF-8 decoder accepts after it (`E0` → `A0..BF`, `ED` → `80..9F`, `F0` → `90..BF`,
 * `F4` → `80..8F`, otherwise `80..BF`), fewer than the code point needs. `0` when the bytes end
 * on a complete code point, or on bytes that are invalid already (those decode to U+FFFD now, as
 * in a streaming decoder).
 */
function unfinishedTail(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n === 0 || (bytes[n - 1] as number) < 0x80) return 0; // ends on ASCII (a newline, mostly)
  // The lead byte: the last byte that is not a continuation byte (10xxxxxx), within 3 bytes.
  let lead = n - 1;
  while (lead >= 0 && lead >= n - 3 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
  if (lead < 0 || lead < n - 3) return 0;
  const b = bytes[lead] ?? 0;
  const have = n - lead;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 3;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 4;
    if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
  } else return 0; // ASCII, or a byte that can never start a code point
  if (have >= need) return 0;
  if (have >= 2) {
    const second = bytes[lead + 1] ?? 0;
    if (second < lo || second > hi) return 0;
    // A third byte, when present, is a plain continuation byte: checked by the loop above.
  }
  return have;
}

/**
 * A streaming UTF-8 decoder built on one-shot decoding: each chunk is decoded up to its last
 * complete code point, and the bytes of a code point split across chunks (at most 3) are carried
 * over and decoded with the next chunk. On Node 20, `TextDecoder.decode(bytes, { stream: true })`
 * takes a slower path than decoding complete code points in one shot; the result is the same:
 * - a code point split across chunks decodes intact;
 * - invalid bytes become U+FFFD exactly where a streaming decoder puts them (only a valid,
 *   unfinished prefix is carried; anything else is decoded at once), and with `fatal` the error
 *   is raised on the same chunk;
 * - one BOM is dropped at the start of the stream only (one-shot decoding would drop one at the
 *   start of every chunk, so the decoder ignores BOMs and the first code point is checked here).
 *
 * @internal
 */
export function createUtf8Decoder(fatal = false): Utf8Decoder {
  return new StreamUtf8Decoder(fatal ? FATAL : LENIENT);
}

// One-shot decoding keeps no state between calls, so every stream shares these two.
const LENIENT = new TextDecoder('utf-8', { ignoreBOM: true });
const FATAL = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** {@link createUtf8Decoder}'s decoder: its state in the fields of one object. */
class StreamUtf8Decoder implements Utf8Decoder {
  private offset = 0;
  private tail: Uint8Array | undefined = undefined;
  private atStart = true; // no code point decoded yet: a leading U+FEFF is a BOM

  constructor(private readonly decoder: TextDecoder) {}

  decode(chunk: Uint8Array): string {
    const at = this.offset;
    this.offset += chunk.length;
    let bytes = chunk;
    const tail = this.tail;
    if (tail !== undefined) {
      bytes = new Uint8Array(tail.length + chunk.length);
      bytes.set(tail);
      bytes.set(chunk, tail.length);
      this.tail = undefined;
    }
    const keep = unfinishedTail(bytes);
    if (keep === 0) return this.decodeComplete(bytes, at);
    const end = bytes.length - keep;
    this.tail = bytes.slice(end);
    return end === 0 ? '' : this.decodeComplete(bytes.subarray(0, end), at);
  }

  end(): string {
    const rest = this.tail;
    if (rest === undefined) return '';
    this.tail = undefined;
    return this.decodeComplete(rest, this.offset);
  }

  private decodeComplete(bytes: Uint8Array, at: number): string {
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch (e) {
      throw new SageMakerStreamError({
        kind: 'decode',
        message: buildMessage('decode', { detail: `invalid UTF-8 in the response near byte ${at}` }),
        cause: e,
      });
    }
    if (this.atStart && text.length > 0) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) return text.slice(1);
    }
    return text;
  }
}
