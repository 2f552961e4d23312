import { Observable, type OperatorFunction } from 'rxjs';
import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { buildMessage } from '../internal/classify.js';
import { operate } from '../internal/operate.js';

/**
 * Parses each line as JSON. Blank lines are skipped (but counted). A malformed line errors with a
 * `decode` {@link SageMakerStreamError} whose `lineNumber` is the 1-based line and whose message
 * quotes the start of the line. The values are not validated: `T` is what you assert them to be.
 *
 * ```
 * source:   --'{"a":1}'--''--'{"a":2}'--|
 * result:   --{a:1}----------{a:2}------|
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, decodeUtf8, splitLines, parseJsonLines } from 'rx-sagemaker';
 *
 * interface LmiLine { token: { text: string } }
 * invoke$(client, { EndpointName: 'lmi', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(decodeUtf8(), splitLines(), parseJsonLines<LmiLine>())
 *   .subscribe((line) => process.stdout.write(line.token.text));
 * ```
 * @returns an operator from lines to parsed values.
 * @public
 */
export function parseJsonLines<T = unknown>(): OperatorFunction<string, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let lineNumber = 0;
      operate(source, subscriber, {
        next(line) {
          lineNumber++;
          if (line.trim() === '') return;
          let value: T;
          try {
            value = JSON.parse(line) as T;
          } catch (cause) {
            subscriber.error(
              new SageMakerStreamError({
                kind: 'decode',
                message: buildMessage('decode', {
                  detail: `malformed JSON on line ${lineNumber}: ${JSON.stringify(line.slice(0, 40))}`,
                }),
                lineNumber,
                cause,
              }),
            );
            return;
          }
          subscriber.next(value);
        },
        error(err: unknown) {
          subscriber.error(err);
        },
        complete() {
          subscriber.complete();
        },
      });
    });
}
