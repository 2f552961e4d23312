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
 * Wraps a `TextDecoder` in `{ stream: true }` mode, which carries the bytes of a code point
 * split across chunks over to the next chunk and drops one leading BOM.
 *
 * @internal
 */
export function createUtf8Decoder(fatal = false): Utf8Decoder {
  const decoder = new TextDecoder('utf-8', { fatal });
  let offset = 0;
  const fail = (cause: unknown, at: number): never => {
    throw new SageMakerStreamError({
      kind: 'decode',
      message: buildMessage('decode', { detail: `invalid UTF-8 in the response near byte ${at}` }),
      cause,
    });
  };
  return {
    decode(bytes) {
      try {
        const text = decoder.decode(bytes, { stream: true });
        offset += bytes.length;
        return text;
      } catch (e) {
        return fail(e, offset);
      }
    },
    end() {
      try {
        return decoder.decode();
      } catch (e) {
        return fail(e, offset);
      }
    },
  };
}
