import { Observable, type OperatorFunction } from 'rxjs';
import { createLineSplitter } from '../internal/lines.js';
import { toStreamError } from '../internal/classify.js';
import { operate } from '../internal/operate.js';

/**
 * Options of {@link splitLines}.
 *
 * @example
 * ```ts
 * import { decodeUtf8, splitLines, type SplitLinesConfig } from 'rx-sagemaker';
 *
 * const config: SplitLinesConfig = { maxLineLength: 1_000_000 }; // a longer line is a `decode` error
 * invoke$(client, input).pipe(decodeUtf8(), splitLines(config)).subscribe((line) => console.log(line));
 * ```
 * @public
 */
export interface SplitLinesConfig {
  /**
   * The longest line accepted, in UTF-16 code units. A longer line errors with a `decode`
   * {@link SageMakerStreamError} as soon as its buffered part passes the bound.
   *
   * @defaultValue `16777216` (16 Mi)
   */
  readonly maxLineLength?: number | undefined;
}

/**
 * Splits string chunks into lines on `\n`, `\r\n` and `\r`, whatever the chunk boundaries. The
 * last, unterminated line is emitted at completion. A `\r` that ends a chunk ends its line at
 * once, and a `\n` that starts the next chunk is taken as the rest of that CRLF (never an extra
 * empty line). Linear time: a long line's fragments are joined once.
 *
 * ```
 * source:   --"a\nb"--"c\r"--"\nd"--|
 * result:   --"a"-----"bc"---------("d"|)
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, decodeUtf8, splitLines } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(decodeUtf8(), splitLines({ maxLineLength: 1_000_000 }))
 *   .subscribe((line) => console.log(line));
 * ```
 * @param config - see {@link SplitLinesConfig}.
 * @returns an operator from string chunks to lines (without their line breaks).
 * @public
 */
export function splitLines(config: SplitLinesConfig = {}): OperatorFunction<string, string> {
  return (source) =>
    new Observable<string>((subscriber) => {
      const splitter = createLineSplitter((line) => subscriber.next(line), config.maxLineLength);
      operate(source, subscriber, {
        next(chunk) {
          try {
            splitter.feed(chunk);
          } catch (e) {
            subscriber.error(toStreamError(e));
          }
        },
        error(err: unknown) {
          subscriber.error(err);
        },
        complete() {
          try {
            splitter.end();
          } catch (e) {
            subscriber.error(toStreamError(e));
            return;
          }
          subscriber.complete();
        },
      });
    });
}
