import { Observable } from 'rxjs';
import { SageMakerStreamError, type SageMakerStreamErrorKind } from './errors/SageMakerStreamError.js';
import { toStreamError } from './internal/classify.js';
import { contentTypeHints } from './internal/responseHints.js';

/**
 * Options of {@link fetchBytes$}.
 *
 * @example
 * ```ts
 * import { fetchBytes$, tokens, type FetchBytesConfig } from 'rx-sagemaker';
 *
 * const config: FetchBytesConfig = {
 *   fetch: (request) => {
 *     request.headers.set('authorization', `Bearer ${accessToken}`);
 *     return fetch(request);
 *   },
 *   onResponse: (response) => console.log('relay request id:', response.headers.get('x-request-id')),
 * };
 * fetchBytes$('/api/chat?prompt=Hi', {}, config).pipe(tokens()).subscribe((token) => output.append(token));
 * ```
 * @public
 */
export interface FetchBytesConfig {
  /**
   * The `fetch` to call (a wrapper that adds an auth header, a polyfill, a test double). It is
   * called with one `Request`.
   *
   * @defaultValue `globalThis.fetch`
   */
  readonly fetch?: ((request: Request) => Promise<Response>) | undefined;
  /**
   * Called with the response once its status is 2xx, before the first chunk is emitted (e.g. to
   * read a header). Throwing ends the Observable with that error (mapped to a
   * {@link SageMakerStreamError}) and aborts the request.
   *
   * @defaultValue none
   */
  readonly onResponse?: ((response: Response) => void) | undefined;
}

/** Kind, retryability and wording of an HTTP status that is not 2xx. */
function statusKind(status: number): { kind: SageMakerStreamErrorKind; retryable: boolean; what: string } {
  if (status === 429) return { kind: 'throttling', retryable: true, what: 'the request was throttled; slow down and retry' };
  if (status === 503) return { kind: 'service-unavailable', retryable: true, what: 'the server is unavailable; retry later' };
  if (status >= 500) return { kind: 'internal-failure', retryable: true, what: 'the server failed; retry later' };
  if (status === 424) return { kind: 'model', retryable: false, what: 'the model returned an error' };
  if (status === 408) return { kind: 'timeout', retryable: false, what: 'the server timed out waiting for the request' };
  if (
    status === 400 ||
    status === 404 ||
    status === 405 ||
    status === 409 ||
    status === 413 ||
    status === 414 ||
    status === 415 ||
    status === 422
  ) {
    return { kind: 'validation', retryable: false, what: 'the request was rejected; check the URL and input' };
  }
  return { kind: 'unknown', retryable: false, what: 'the request failed' };
}

function isTimeoutReason(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/**
 * Streams the body of an HTTP response as a cold Observable of its chunks, over `fetch`: the
 * browser-side half of an app that keeps its AWS credentials on its own server and relays the
 * SageMaker stream (e.g. a NestJS `@Sse()` route writing `data: <token>` lines). Piped into
 * `tokens()`, it reads the relay with the same parser as `invoke$`. Works in browsers and in
 * Node.js ≥ 20 (global `fetch`).
 *
 * - Cold: nothing is fetched before subscribing; every subscription sends exactly one request.
 * - Emits each chunk of the body in order and completes at its end.
 * - Unsubscribing aborts the fetch (its own `AbortController`, chained to any `init.signal`), also
 *   while the body is stalled; the server sees the connection close.
 * - Every error is a {@link SageMakerStreamError} whose `message` is safe to show (it never holds
 *   the URL, headers or body), after every chunk received before it:
 *   - a status that is not 2xx: `throttling` (429), `service-unavailable` (503),
 *     `internal-failure` (other 5xx), `model` (424), `timeout` (408), `validation` (400, 404, 405,
 *     409, 413, 414, 415, 422), `unknown` (any other, e.g. 401 and 403), with `httpStatusCode`;
 *     the `Response` is the `cause`, its body cancelled;
 *   - the connection failing or breaking before or during the body: `network` (retryable);
 *   - `init.signal` aborting: `aborted`, or `timeout` when its reason is a `TimeoutError`
 *     (`AbortSignal.timeout(ms)`);
 *   - an invalid URL or init: `validation`, with nothing sent.
 *
 * ```
 * subscribe:   ^-----------------!      (unsubscribe aborts the fetch)
 * result:      ---[..]--[..]--[..]-
 * ```
 *
 * @example
 * ```ts
 * import { fetchBytes$, tokens, SageMakerStreamError } from 'rx-sagemaker';
 *
 * // In the browser: the server relays the SageMaker stream as `data: <token>` events.
 * const subscription = fetchBytes$(`/api/chat?prompt=${encodeURIComponent('Hi')}`, { headers: { accept: 'text/event-stream' } })
 *   .pipe(tokens())
 *   .subscribe({
 *     next: (token) => output.append(token),
 *     error: (err: unknown) => {
 *       if (SageMakerStreamError.isInstance(err)) output.append(`\n[${err.kind}] ${err.message}`);
 *     },
 *   });
 * stopButton.onclick = () => subscription.unsubscribe(); // aborts the fetch
 * ```
 * @param url - the URL to fetch; relative URLs resolve against the page in a browser.
 * @param init - the `fetch` options (method, headers, body, credentials, signal). Not mutated.
 * @param config - a custom `fetch` and a response callback; see {@link FetchBytesConfig}.
 * @returns a cold Observable of the body's chunks.
 * @public
 */
export function fetchBytes$(url: string | URL, init: RequestInit = {}, config: FetchBytesConfig = {}): Observable<Uint8Array> {
  return new Observable<Uint8Array>((subscriber) => {
    const controller = new AbortController();
    const outer = init.signal ?? undefined;
    let afterFirstByte = false;

    // Read through a function: `subscriber.closed` changes under awaits, which TypeScript's
    // narrowing of the property cannot see.
    const isClosed = (): boolean => subscriber.closed;
    const fail = (error: SageMakerStreamError): void => {
      if (!isClosed()) subscriber.error(error);
    };
    const streamError = (
      kind: SageMakerStreamErrorKind,
      what: string,
      extra: { retryable?: boolean; httpStatusCode?: number; cause?: unknown } = {},
    ): SageMakerStreamError => new SageMakerStreamError({ kind, message: `Stream request: ${what}`, afterFirstByte, ...extra });

    const onAbort = (): void => {
      const reason: unknown = outer?.reason;
      fail(
        isTimeoutReason(reason)
          ? streamError('timeout', 'timed out (the signal aborted with a TimeoutError)', { cause: reason })
          : streamError('aborted', 'aborted', { cause: reason }),
      );
    };
    if (outer !== undefined) {
      if (outer.aborted) {
        onAbort();
        return undefined;
      }
      outer.addEventListener('abort', onAbort, { once: true });
    }

    let request: Request;
    try {
      request = new Request(url, { ...init, signal: controller.signal });
    } catch (cause) {
      fail(streamError('validation', 'invalid URL or request options; nothing was sent', { cause }));
      return () => outer?.removeEventListener('abort', onAbort);
    }

    const run = async (): Promise<void> => {
      const doFetch = config.fetch ?? globalThis.fetch;
      let response: Response;
      try {
        response = await doFetch(request);
      } catch (cause) {
        fail(streamError('network', 'the connection to the server failed', { retryable: true, cause }));
        return;
      }
      if (subscriber.closed) {
        response.body?.cancel().catch(() => undefined);
        return;
      }
      if (!response.ok) {
        response.body?.cancel().catch(() => undefined);
        const { kind, retryable, what } = statusKind(response.status);
        fail(streamError(kind, `HTTP ${response.status}: ${what}`, { retryable, httpStatusCode: response.status, cause: response }));
        return;
      }
      if (config.onResponse !== undefined) {
        try {
          config.onResponse(response);
        } catch (e) {
          fail(toStreamError(e));
          return;
        }
      }
      const body = response.body;
      if (body === null) {
        subscriber.complete();
        return;
      }
      const contentType = response.headers.get('content-type') ?? undefined;
      const reader = body.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (cause) {
          fail(
            streamError(
              'network',
              afterFirstByte ? 'the connection broke during the response' : 'the connection broke before the first byte of the body',
              { retryable: true, cause },
            ),
          );
          return;
        }
        if (isClosed()) return;
        if (chunk.done) break;
        const bytes = chunk.value;
        if (bytes.byteLength === 0) continue;
        if (!afterFirstByte) {
          afterFirstByte = true;
          if (contentType !== undefined) contentTypeHints.set(bytes, contentType);
        }
        subscriber.next(bytes);
      }
      subscriber.complete();
    };

    run().catch((e: unknown) => fail(toStreamError(e, { afterFirstByte })));

    return () => {
      outer?.removeEventListener('abort', onAbort);
      controller.abort();
    };
  });
}
