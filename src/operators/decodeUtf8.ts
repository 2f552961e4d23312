import { Observable, type OperatorFunction } from 'rxjs';
import { createUtf8Decoder } from '../internal/utf8.js';
import { toStreamError } from '../internal/classify.js';
import { operate } from '../internal/operate.js';

/**
 * Options of {@link decodeUtf8}.
 *
 * @example
 * ```ts
 * import { decodeUtf8, invoke$, type DecodeUtf8Config } from 'rx-sagemaker';
 *
 * const strict: DecodeUtf8Config = { fatal: true }; // invalid UTF-8 errors with kind 'decode' instead of U+FFFD
 * invoke$(client, { EndpointName: 'my-llm', Body: 'Hello' })
 *   .pipe(decodeUtf8(strict))
 *   .subscribe({ next: (text) => process.stdout.write(text), error: (err) => console.error(err.kind, err.message) });
 * ```
 * @public
 */
export interface DecodeUtf8Config {
  /**
   * `true`: invalid UTF-8 (including a code point left unfinished at the end of the stream)
   * errors with a `decode` {@link SageMakerStreamError}. `false`: it becomes U+FFFD.
   *
   * @defaultValue `false`
   */
  readonly fatal?: boolean | undefined;
}

/**
 * Decodes a stream of UTF-8 byte chunks to strings. A code point split across chunks (an emoji
 * in two `PayloadPart`s) decodes intact; one leading BOM is dropped; empty results are not
 * emitted. The decoder lives per subscription and is flushed at completion.
 *
 * ```
 * source:   --[F0 9F]--[A6 99 21]--|
 * result:   -----------"🦙!"-------|
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, decodeUtf8 } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'my-llm', Body: 'Hello' })
 *   .pipe(decodeUtf8())
 *   .subscribe((text) => process.stdout.write(text));
 * ```
 * @param config - see {@link DecodeUtf8Config}.
 * @returns an operator from `Uint8Array` chunks to strings.
 * @public
 */
export function decodeUtf8(config: DecodeUtf8Config = {}): OperatorFunction<Uint8Array, string> {
  return (source) =>
    new Observable<string>((subscriber) => {
      const decoder = createUtf8Decoder(config.fatal ?? false);
      operate(source, subscriber, {
        next(bytes) {
          let text: string;
          try {
            text = decoder.decode(bytes);
          } catch (e) {
            subscriber.error(toStreamError(e));
            return;
          }
          if (text !== '') subscriber.next(text);
        },
        error(err: unknown) {
          subscriber.error(err);
        },
        complete() {
          let text: string;
          try {
            text = decoder.end();
          } catch (e) {
            subscriber.error(toStreamError(e));
            return;
          }
          if (text !== '') subscriber.next(text);
          subscriber.complete();
        },
      });
    });
}
