import { Injectable, InjectionToken, inject, makeEnvironmentProviders, type EnvironmentProviders } from '@angular/core';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { defer, from, throwError, type Observable, type ReadableStreamLike } from 'rxjs';
import { fromFetch } from 'rxjs/fetch';
import { invoke$, tokens, type JsonBody, type TokensConfig } from 'rx-sagemaker';

/**
 * Opens the stream of one answer and emits the response bytes. It must be cold (nothing is sent
 * before subscribe) and abort the request on unsubscribe: `invoke$`, `fromFetch` and the
 * {@link relayBytes} below all are.
 */
export type LlmByteSource = (prompt: string) => Observable<Uint8Array>;

/**
 * The URL of your server-side relay (AWS credentials stay on the server). It is POSTed
 * `{"prompt": "..."}` and streams the answer back:
 * - best, the endpoint's bytes passed through as they come: `tokens()` then reads every container
 *   format and the errors a container writes into the stream;
 * - or server-sent events (e.g. a NestJS `@Sse()` route) whose `data` is JSON such as
 *   `{"text": "..."}`, read with `provideLlmRelay(url, { extract: (v) => (v as { text?: string }).text })`.
 *   Prefer JSON to bare text in `data`: a token that is only whitespace (a line break) would be
 *   indistinguishable from an empty event.
 */
export const LLM_RELAY_URL = new InjectionToken<string>('LLM_RELAY_URL');

/**
 * Where the bytes of an answer come from. By default, a POST to {@link LLM_RELAY_URL}; replace it
 * with {@link provideSageMakerEndpoint} or a source of your own.
 */
export const LLM_BYTE_SOURCE = new InjectionToken<LlmByteSource>('LLM_BYTE_SOURCE', {
  providedIn: 'root',
  factory: () => relayBytes(inject(LLM_RELAY_URL)),
});

/** Options of `tokens()` for the answer, e.g. `extract` for a relay that sends its own JSON. */
export const LLM_TOKENS_CONFIG = new InjectionToken<TokensConfig>('LLM_TOKENS_CONFIG', {
  providedIn: 'root',
  factory: () => ({}),
});

/** The client `invoke$` uses when the browser calls SageMaker itself (see {@link provideSageMakerEndpoint}). */
export const SAGEMAKER_CLIENT = new InjectionToken<SageMakerRuntimeClient>('SAGEMAKER_CLIENT');

/**
 * A byte source that POSTs the prompt as JSON to `url` with `fetch` and emits the response body.
 * Unsubscribing aborts the request, also in the middle of the body, so the relay sees the
 * connection close and can stop the model call.
 */
export function relayBytes(url: string): LlmByteSource {
  return (prompt) =>
    fromFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt }),
      selector: (response): Observable<Uint8Array> =>
        response.ok && response.body !== null
          ? // (rxjs 7's ReadableStreamLike predates the DOM typings' getReader() overloads)
            from(response.body as ReadableStreamLike<Uint8Array>)
          : throwError(() => new Error(`The answer service is unavailable (HTTP ${response.status}).`)),
    });
}

/** Streams answers from your relay at `url` (the usual setup). */
export function provideLlmRelay(url: string, tokensConfig: TokensConfig = {}): EnvironmentProviders {
  return makeEnvironmentProviders([
    { provide: LLM_RELAY_URL, useValue: url },
    { provide: LLM_TOKENS_CONFIG, useValue: tokensConfig },
  ]);
}

/**
 * Streams answers straight from a SageMaker endpoint with `invoke$`, for apps whose browser holds
 * AWS credentials (e.g. from a Cognito identity pool). Provide {@link SAGEMAKER_CLIENT} as well.
 */
export function provideSageMakerEndpoint(
  endpointName: string,
  body: (prompt: string) => JsonBody = (prompt) => ({ inputs: prompt, parameters: { max_new_tokens: 512 }, stream: true }),
): EnvironmentProviders {
  return makeEnvironmentProviders([
    {
      provide: LLM_BYTE_SOURCE,
      useFactory: (): LlmByteSource => {
        const client = inject(SAGEMAKER_CLIENT);
        return (prompt) => invoke$(client, { EndpointName: endpointName, Body: body(prompt) });
      },
    },
  ]);
}

/** Streams an LLM's answer as text tokens. */
@Injectable({ providedIn: 'root' })
export class LlmStreamService {
  private readonly bytes = inject(LLM_BYTE_SOURCE);
  private readonly tokensConfig = inject(LLM_TOKENS_CONFIG);

  /**
   * The answer to `prompt`, token by token. Cold: each subscription sends one request, and
   * unsubscribing (`takeUntilDestroyed`, a stop button, `switchMap`) aborts it. Ends with a
   * `SageMakerStreamError` when the model or the stream fails, after every token before it.
   */
  stream(prompt: string): Observable<string> {
    return defer(() => this.bytes(prompt)).pipe(tokens(this.tokensConfig));
  }
}
