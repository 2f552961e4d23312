import { Observable, type Observer, type Subscriber, type Subscription } from 'rxjs';
import type { Fields } from '../formats/schemas.js';
import { redactRequestBody, toStreamError } from '../internal/classify.js';
import { contentTypeHints, requestBodyHints } from '../internal/responseHints.js';
import { createTokenParser, type TokenParser, type TokenParserOptions, type TokenSink } from '../internal/tokenParser.js';
import { createUtf8Decoder, type Utf8Decoder } from '../internal/utf8.js';
import type { TokensConfig } from './tokens.js';
import { operate } from '../internal/operate.js';
import { activeRecorder, withRecorder, type Recorder } from '../internal/recorder.js';

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
    if (warm === undefined) keepWarm();
    operate(source, subscriber, new TokenStreamObserver(subscriber, config, createSink(subscriber), textOnly));
  });
}

/**
 * A `tokens()` subscription of rx-sagemaker's own that is never closed, started by the first
 * subscription of `tokens()` or `tokenEvents()`: it holds no user object, no timer and no handle,
 * and keeps about 5 KB of heap for the life of the process.
 *
 * Why: V8 specialises the optimised parsing code for the hidden classes ("maps") of the objects a
 * stream is made of (its rxjs subscribers, this file's observer, the parser, the line scanner, the
 * SSE reader). A map lives only as long as some object has it, so a full garbage collection while
 * no stream was alive (a server between requests; the end-to-end benchmark's collection before
 * every run) took the maps with it, and V8 threw the code away: the next stream ran on slower
 * code while the parser's loop (20–40 ms of compiling each time) was optimised again. One idle
 * stream keeps those maps alive (the SDK's own per-request objects are not ours to keep). `bench/warm.mjs` checks it; BENCHMARKS.md, round 3, has figures.
 */
let warm: Subscription | 'starting' | undefined;

function keepWarm(): void {
  warm = 'starting'; // the subscription below passes through tokenStream too
  try {
    // One TGI event: enough for the parser to build its line scanner and SSE reader.
    const part = new TextEncoder().encode('data:{"token":{"id":0,"text":"","special":true}}\n\n');
    const source = new Observable<Uint8Array>((s) => s.next(part));
    // Outside any streamMetrics() chain, whose recorder it must not pick up.
    warm = withRecorder(undefined, () => tokenStream<never>(source, {}, () => () => undefined, true).subscribe({ error: () => undefined }));
  } catch {
    // Only an optimisation: whatever happens here must not reach the caller's stream.
  }
}

/**
 * One subscription of {@link tokenStream}: bytes in, the sink's values out. Its state is the
 * fields of one object (not closures), so that a part arriving with cold caches, between the
 * SDK's own work, touches few objects.
 */
class TokenStreamObserver<R> implements Observer<Uint8Array> {
  private readonly decoder: Utf8Decoder;
  private readonly recorder: Recorder | undefined = activeRecorder(); // a streamMetrics() below, if any (see src/internal/recorder.ts)
  private parser: TokenParser | undefined = undefined;
  private requestBody: string | undefined = undefined; // from invoke$: kept out of in-band error messages

  constructor(
    private readonly subscriber: Subscriber<R>,
    private readonly config: TokensConfig,
    private readonly sink: TokenSink,
    private readonly textOnly: boolean,
  ) {
    this.decoder = createUtf8Decoder(config.fatal ?? false);
  }

  next(bytes: Uint8Array): void {
    try {
      (this.parser ??= this.open(bytes)).feed(this.decoder.decode(bytes));
    } catch (e) {
      this.subscriber.error(redactRequestBody(toStreamError(e), this.requestBody));
    }
  }

  error(err: unknown): void {
    // Deliver what is complete in the buffer (e.g. a last line with no newline), then the
    // upstream error, which is the real story; a failure of that flush is secondary.
    try {
      this.flush(true);
    } catch {
      // the upstream error below wins
    }
    if (!this.subscriber.closed) this.subscriber.error(err);
  }

  complete(): void {
    try {
      this.flush(false);
    } catch (e) {
      this.subscriber.error(redactRequestBody(toStreamError(e), this.requestBody));
      return;
    }
    this.subscriber.complete();
  }

  private flush(upstreamFailed: boolean): void {
    const parser = (this.parser ??= this.open(undefined));
    parser.feed(this.decoder.end());
    parser.end(upstreamFailed);
  }

  private open(first: Uint8Array | undefined): TokenParser {
    const config = this.config;
    if (first !== undefined) this.requestBody = requestBodyHints.get(first);
    const options: TokenParserOptions = {
      textOnly: this.textOnly,
      choiceIndex: config.choiceIndex ?? 0,
      maxLineLength: config.maxLineLength,
      format: config.format,
      extract: config.extract,
      contentType: config.contentType ?? (first === undefined ? undefined : contentTypeHints.get(first)),
    };
    const recorder = this.recorder;
    const sink = this.sink;
    if (recorder === undefined) return createTokenParser(options, sink);
    let recorded = false;
    return createTokenParser(options, (fields, format) => {
      if (!recorded) {
        recorded = true;
        recorder.format(format);
      }
      sink(fields, format);
    });
  }
}
