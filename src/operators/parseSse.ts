import { Observable, type OperatorFunction } from 'rxjs';
import { createSseParser, type SseEvent } from '../internal/sse.js';
import { operate } from '../internal/operate.js';

export type { SseEvent } from '../internal/sse.js';

/**
 * Interprets lines as a server-sent event stream (WHATWG rules): `data:` with or without one
 * space, several `data:` lines joined with `\n`, `:` comments (keep-alives) and `retry:` ignored,
 * `event:` and `id:` reported. An event is dispatched at a blank line, and an unterminated last
 * event at completion.
 *
 * ```
 * source:   --'data:{"a":1}'--''--': ping'--'data: x'--|
 * result:   ------------------{data:'{"a":1}'}-----------({data:'x'}|)
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, decodeUtf8, splitLines, parseSse } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'tgi', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(decodeUtf8(), splitLines(), parseSse())
 *   .subscribe((event) => console.log(event.data));
 * ```
 * @returns an operator from lines to {@link SseEvent}s.
 * @public
 */
export function parseSse(): OperatorFunction<string, SseEvent> {
  return (source) =>
    new Observable<SseEvent>((subscriber) => {
      const parser = createSseParser((event) => subscriber.next(event));
      operate(source, subscriber, {
        next(line) {
          parser.line(line);
        },
        error(err: unknown) {
          subscriber.error(err);
        },
        complete() {
          parser.end();
          subscriber.complete();
        },
      });
    });
}
