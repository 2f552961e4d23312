import type { OperatorFunction } from 'rxjs';
import type { TokenFormat } from '../formats/schemas.js';
import { tokenStream, visibleText } from './tokenStream.js';

/**
 * Options of {@link tokens} and {@link tokenEvents}.
 *
 * @example
 * ```ts
 * import { invoke$, tokens, type TokensConfig } from 'rx-sagemaker';
 *
 * // follow the second of two choices, and fail on invalid UTF-8 or lines over 1 MB
 * const config: TokensConfig = { format: 'openai-chat', choiceIndex: 1, fatal: true, maxLineLength: 1_000_000 };
 * invoke$(client, { EndpointName: 'my-vllm', Body: { messages: [{ role: 'user', content: 'Hi' }], n: 2, stream: true } })
 *   .pipe(tokens(config))
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @public
 */
export interface TokensConfig {
  /**
   * Force a payload format instead of detecting it (see {@link TokenFormat}). `'text'` passes the
   * decoded bytes through as they come.
   *
   * @defaultValue detected from the first bytes
   */
  readonly format?: TokenFormat | undefined;
  /**
   * A custom extractor for formats rx-sagemaker does not know: called with each parsed JSON value
   * (each JSON line, each SSE `data` that is JSON) or, for text, the raw string; returns the
   * token text, or `null`/`undefined` for none. Throwing ends the stream with that error (mapped
   * to a {@link SageMakerStreamError}; throw one yourself to choose its kind).
   *
   * @defaultValue none
   */
  readonly extract?: ((value: unknown) => string | null | undefined) | undefined;
  /**
   * Emit tokens the container flags as special (`"special": true`, `"special_token": true`,
   * e.g. `</s>`) and empty texts.
   *
   * @defaultValue `false`
   */
  readonly includeSpecial?: boolean | undefined;
  /**
   * Which choice to follow when a stream carries several (`n > 1`, or a batch of prompts).
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
  /**
   * The response `ContentType`, a detection hint. With `invoke$` it is picked up automatically.
   * It decides one ambiguous case: a first line that starts like JSON but does not parse is a
   * `decode` error under a JSON content type, and plain text otherwise.
   *
   * @defaultValue the `ContentType` of the `invoke$` response
   */
  readonly contentType?: string | undefined;
}

/**
 * The one-call path from response bytes to text tokens: `invoke$(...).pipe(tokens())`, for every
 * common SageMaker LLM container with no configuration.
 *
 * The framing is detected once per stream from the first non-blank characters (`data:`,
 * `event:`, `id:`, `retry:` or `:` → server-sent events; `{` or `[` → JSON values, one per line or
 * back to back; anything else → plain text, passed through as decoded), and the payload format
 * from the first JSON value that proves one (see {@link TokenFormat}). Then:
 * - special tokens and empty texts are skipped (unless `includeSpecial`); a final or cumulative
 *   full text (`generated_text`, SGLang's `text`) is never emitted twice;
 * - usage-only chunks, role-only deltas and keep-alive comments emit nothing; `[DONE]` ends;
 * - an error the container writes into the stream ends the Observable with a `model`
 *   {@link SageMakerStreamError} (the container's message, error type and status code), after
 *   every token before it; it wins over a `[DONE]` that follows.
 *
 * Decoding is streaming (split code points survive), state is per subscription, and tokens parsed
 * before any failure are emitted before the error. `tokens()` is the text-only view of
 * {@link tokenEvents}.
 *
 * The first subscription of `tokens()` or `tokenEvents()` in a process also starts one idle
 * internal stream that never ends (about 5 KB, no timer, no handle, nothing of yours): it keeps
 * the parser's optimised code alive between requests (see BENCHMARKS.md, round 3).
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
 *
 * // a container rx-sagemaker does not know:
 * invoke$(client, { EndpointName: 'custom', Body: { prompt: 'Hi' } })
 *   .pipe(tokens({ extract: (v) => (v as { delta?: string }).delta }))
 *   .subscribe((token) => process.stdout.write(token));
 * ```
 * @param config - see {@link TokensConfig}.
 * @returns an operator from `PayloadPart` bytes to text tokens.
 * @public
 */
export function tokens(config: TokensConfig = {}): OperatorFunction<Uint8Array, string> {
  const includeSpecial = config.includeSpecial ?? false;
  return (source) =>
    tokenStream<string>(
      source,
      config,
      (subscriber) => (f) => {
        const text = visibleText(f, includeSpecial);
        if (text !== undefined) subscriber.next(text);
      },
      true,
    );
}
