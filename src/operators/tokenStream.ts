import { Observable, type Subscriber } from 'rxjs';
import type { Fields } from '../formats/schemas.js';
import { redactRequestBody, toStreamError } from '../internal/classify.js';
import { contentTypeHints, requestBodyHints } from '../internal/responseHints.js';
import { createTokenParser, type TokenParser, type TokenParserOptions, type TokenSink } from '../internal/tokenParser.js';
import { createUtf8Decoder } from '../internal/utf8.js';
import type { TokensConfig } from './tokens.js';
import { operate } from '../internal/operate.js';
import { activeRecorder } from '../internal/recorder.js';

/**
 * The text of a value as `tokens()` and `tokenEvents()` show it: `undefined` when it has none,
 * is empty, or is a special token, unless `includeSpecial`.
 *
 * @internal
 */
export function visibleText(fields: Readonly<Fields>, includeSpecial: boolean): string | undefined {
  const text = fields.text;
  if (text === undefined) return undefined;
  return includeSpecial || (text !== '' && !fields.special) ? text : undefined;
}

/**
 * The one adapter from bytes to tokens shared by `tokens()` and `tokenEvents()`: a streaming UTF-8
 * decoder, the token parser and a sink (from `createSink`) per subscription; the sink turns the
 * parser's fields into values and hands them to the subscriber itself (one call per token, no
 * adapter in between). With `textOnly`, the sink reads only `text` and `special`.
 *
 * @internal
 */
export function tokenStream<R>(
  source: Observable<Uint8Array>,
  config: TokensConfig,
  createSink: (subscriber: Subscriber<R>) => TokenSink,
  textOnly = false,
): Observable<R> {
  return new Observable<R>((subscriber) => {
    const sink = createSink(subscriber);
    const recorder = activeRecorder(); // a streamMetrics() below, if any (see src/internal/recorder.ts)
    const decoder = createUtf8Decoder(config.fatal ?? false);
    let parser: TokenParser | undefined;
    let requestBody: string | undefined; // from invoke$: kept out of in-band error messages
    const open = (first: Uint8Array | undefined): TokenParser => {
      if (first !== undefined) requestBody = requestBodyHints.get(first);
      const options: TokenParserOptions = {
        includeSpecial: config.includeSpecial ?? false,
        textOnly,
        choiceIndex: config.choiceIndex ?? 0,
        maxLineLength: config.maxLineLength,
        format: config.format,
        extract: config.extract,
        contentType: config.contentType ?? (first === undefined ? undefined : contentTypeHints.get(first)),
      };
      if (recorder === undefined) return createTokenParser(options, sink);
      let recorded = false;
      return createTokenParser(options, (fields, format) => {
        if (!recorded) {
          recorded = true;
          recorder.format(format);
        }
        sink(fields, format);
      });
    };
    const flush = (upstreamFailed: boolean): void => {
      parser ??= open(undefined);
      parser.feed(decoder.end());
      parser.end(upstreamFailed);
    };
    operate(source, subscriber, {
      next(bytes) {
        try {
          parser ??= open(bytes);
          parser.feed(decoder.decode(bytes));
        } catch (e) {
          subscriber.error(redactRequestBody(toStreamError(e), requestBody));
        }
      },
      error(err: unknown) {
        // Deliver what is complete in the buffer (e.g. a last line with no newline), then the
        // upstream error, which is the real story; a failure of that flush is secondary.
        try {
          flush(true);
        } catch {
          // the upstream error below wins
        }
        if (!subscriber.closed) subscriber.error(err);
      },
      complete() {
        try {
          flush(false);
        } catch (e) {
          subscriber.error(redactRequestBody(toStreamError(e), requestBody));
          return;
        }
        subscriber.complete();
      },
    });
  });
}
