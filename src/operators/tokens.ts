import { Observable, type OperatorFunction } from 'rxjs';
import { createTokenParser } from '../internal/tokenParser.js';
import { createUtf8Decoder } from '../internal/utf8.js';
import { toStreamError } from '../internal/classify.js';

/**
 * Options of {@link tokens}.
 *
 * @public
 */
export interface TokensConfig {
  /**
   * Emit tokens the container flags as special (`"special": true`, `"special_token": true`,
   * e.g. `</s>`).
   *
   * @defaultValue `false`
   */
  readonly includeSpecial?: boolean | undefined;
  /**
   * Which choice to follow when an OpenAI-style stream carries several (`n > 1`).
   *
   * @defaultValue `0`
   */
  readonly choiceIndex?: number | undefined;
  /**
   * Invalid UTF-8 errors (`decode`) instead of becoming U+FFFD.
   *
   * @defaultValue `false`
   */
  readonly fatal?: boolean | undefined;
  /**
   * The longest line accepted, in UTF-16 code units (see {@link SplitLinesConfig}).
   *
   * @defaultValue `16777216` (16 Mi)
   */
  readonly maxLineLength?: number | undefined;
}

/**
 * The one-call path from response bytes to text tokens: `invoke$(...).pipe(tokens())`.
 *
 * The framing is detected once per stream from the first non-blank characters: `data:`, `event:`,
 * `id:`, `retry:` or `:` → server-sent events; `{` or `[` → JSON lines; anything else → plain text,
 * passed through as decoded. In each JSON value (a line, or an SSE `data`):
 * - `token.text` (TGI `generate_stream`, LMI jsonlines and sse), skipping `special`/`special_token`
 *   tokens and empty texts; the final `generated_text` is never emitted;
 * - `choices[i].delta.content` (OpenAI chat chunks) or `choices[i].text` (completions); usage-only
 *   chunks (`choices: []`) and role-only deltas emit nothing; `[DONE]` ends the stream;
 * - an error object the container wrote into the stream (`{"error": ...}`) ends the Observable
 *   with a `model` {@link SageMakerStreamError} carrying its message, type and code.
 *
 * Decoding is streaming (split code points survive) and state is per subscription. Tokens parsed
 * before a failure are always emitted before the error.
 *
 * ```
 * source:   --'data:{"token":{"text":"Hi"'--'}}\n\ndata:[DONE]\n\n'--|
 * result:   -----------------------------------"Hi"-------------------|
 * ```
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { invoke$, tokens } from 'rx-sagemaker';
 *
 * const client = new SageMakerRuntimeClient({});
 * invoke$(client, { EndpointName: 'my-tgi', Body: { inputs: 'Why is the sky blue?', stream: true } })
 *   .pipe(tokens())
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 * @param config - see {@link TokensConfig}.
 * @returns an operator from `PayloadPart` bytes to text tokens.
 * @public
 */
export function tokens(config: TokensConfig = {}): OperatorFunction<Uint8Array, string> {
  const options = {
    includeSpecial: config.includeSpecial ?? false,
    choiceIndex: config.choiceIndex ?? 0,
    maxLineLength: config.maxLineLength,
  };
  return (source) =>
    new Observable<string>((subscriber) => {
      const decoder = createUtf8Decoder(config.fatal ?? false);
      const parser = createTokenParser(options, (token) => subscriber.next(token));
      return source.subscribe({
        next(bytes) {
          if (subscriber.closed) return;
          try {
            parser.feed(decoder.decode(bytes));
          } catch (e) {
            subscriber.error(toStreamError(e));
          }
        },
        error(err: unknown) {
          // Deliver what is complete in the buffer (e.g. a last line with no newline), then the
          // upstream error, which is the real story; a flush failure is secondary and dropped.
          try {
            parser.feed(decoder.end());
            parser.end();
          } catch {
            // the upstream error below wins
          }
          subscriber.error(err);
        },
        complete() {
          try {
            parser.feed(decoder.end());
            parser.end();
          } catch (e) {
            subscriber.error(toStreamError(e));
            return;
          }
          subscriber.complete();
        },
      });
    });
}
