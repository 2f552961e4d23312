import {
  InvokeEndpointWithResponseStreamCommand,
  type InvokeEndpointWithResponseStreamCommandInput,
  type SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { Observable } from 'rxjs';
import { SageMakerStreamError, type SageMakerStreamErrorKind } from './errors/SageMakerStreamError.js';
import { buildMessage, toStreamError } from './internal/classify.js';
import { activeRecorder } from './internal/recorder.js';
import { contentTypeHints, requestBodyHints } from './internal/responseHints.js';

/**
 * A JSON value a request `Body` may be given as; it is sent JSON-encoded.
 *
 * @example
 * ```ts
 * import { invoke$, type JsonBody } from 'rx-sagemaker';
 *
 * function chatBody(content: string): JsonBody {
 *   return { messages: [{ role: 'user', content }], max_tokens: 256, stream: true };
 * }
 * // sent JSON-encoded, with ContentType defaulting to application/json
 * invoke$(client, { EndpointName: 'my-vllm', Body: chatBody('Hi') }).subscribe((bytes) => console.log(bytes.length));
 * ```
 * @public
 */
export type JsonBody = Readonly<Record<string, unknown>> | readonly unknown[];

/**
 * The input of {@link invoke$}: the SDK's `InvokeEndpointWithResponseStreamCommandInput`, except
 * that `Body` may also be a string (sent as UTF-8) or a plain object or array (sent as JSON, with
 * `ContentType` defaulting to `application/json`).
 *
 * @example
 * ```ts
 * import { invoke$, type InvokeInput } from 'rx-sagemaker';
 *
 * const input: InvokeInput = {
 *   EndpointName: 'my-llm',
 *   InferenceComponentName: 'llama-3-ic',
 *   Body: { inputs: 'Why is the sky blue?', parameters: { max_new_tokens: 200 }, stream: true }, // sent as JSON
 * };
 * const raw: InvokeInput = { EndpointName: 'my-llm', Body: 'raw prompt', ContentType: 'text/plain' }; // sent as UTF-8
 * invoke$(client, input).subscribe((bytes) => console.log(bytes.length));
 * ```
 * @public
 */
export type InvokeInput = Omit<InvokeEndpointWithResponseStreamCommandInput, 'Body'> & {
  readonly Body: Uint8Array | string | JsonBody | undefined;
};

/**
 * What SageMaker says about the response, reported once the stream has started.
 *
 * @example
 * ```ts
 * import { invoke$, type StreamResponseMetadata } from 'rx-sagemaker';
 *
 * function logResponse(m: StreamResponseMetadata): void {
 *   console.log(`${m.endpointName} [${m.invokedProductionVariant}] ${m.contentType}, request ${m.requestId}, ${m.attempts} attempt(s)`);
 * }
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } }, { onResponse: logResponse })
 *   .subscribe((bytes) => console.log(bytes.length));
 * ```
 * @public
 */
export interface StreamResponseMetadata {
  /** The endpoint invoked. */
  readonly endpointName: string;
  /** The MIME type of the container's output (`X-Amzn-SageMaker-Content-Type`). */
  readonly contentType: string | undefined;
  /** The production variant that served the request. */
  readonly invokedProductionVariant: string | undefined;
  /** `X-Amzn-SageMaker-Custom-Attributes` from the container. */
  readonly customAttributes: string | undefined;
  /** SageMaker's request id. */
  readonly requestId: string | undefined;
  /** How many HTTP attempts the SDK made before the stream started (its own retries). */
  readonly attempts: number | undefined;
}

/**
 * Options of {@link invoke$}.
 *
 * @example
 * ```ts
 * import { invoke$, tokens, type InvokeConfig } from 'rx-sagemaker';
 *
 * const controller = new AbortController(); // e.g. aborted by a stop button
 * const config: InvokeConfig = {
 *   signal: controller.signal,
 *   firstByteTimeout: 30_000,
 *   idleTimeout: 10_000,
 *   onResponse: (m) => console.log(`served by ${m.invokedProductionVariant}`),
 * };
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } }, config).pipe(tokens()).subscribe(console.log);
 * ```
 * @public
 */
export interface InvokeConfig {
  /** Aborting this signal aborts the request; the Observable errors with kind `aborted`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The longest wait from subscribing to the first payload part, in ms. When it elapses the
   * request is aborted and the Observable errors with kind `timeout`.
   *
   * @defaultValue no limit
   */
  readonly firstByteTimeout?: number | undefined;
  /**
   * The longest silence between two payload parts, in ms (and before the first one when
   * `firstByteTimeout` is not set). When it elapses the request is aborted and the Observable
   * errors with kind `timeout`.
   *
   * @defaultValue no limit
   */
  readonly idleTimeout?: number | undefined;
  /** Called once the stream has started, before the first part is emitted. */
  readonly onResponse?: ((metadata: StreamResponseMetadata) => void) | undefined;
}

function isPlainJson(body: unknown): body is JsonBody {
  if (Array.isArray(body)) return true;
  if (typeof body !== 'object' || body === null) return false;
  const proto: unknown = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}

function validationError(message: string, endpointName: string | undefined): SageMakerStreamError {
  return new SageMakerStreamError({
    kind: 'validation',
    message: buildMessage('validation', { endpointName, detail: message }),
    endpointName,
  });
}

/** The members of `InvokeEndpointWithResponseStreamInput` besides `Body` (all strings). */
const STRING_MEMBERS = new Set([
  'EndpointName',
  'ContentType',
  'Accept',
  'CustomAttributes',
  'TargetVariant',
  'TargetContainerHostname',
  'InferenceId',
  'InferenceComponentName',
  'SessionId',
  'PrefixAwareId',
]);

/** Builds the SDK input; never touches the caller's object. */
function toCommandInput(input: InvokeInput): InvokeEndpointWithResponseStreamCommandInput {
  const body: unknown = input.Body;
  if (typeof input.EndpointName !== 'string' || input.EndpointName === '') {
    throw validationError('EndpointName must be a non-empty string', undefined);
  }
  // The SDK would drop a member the streaming API lacks (e.g. InvokeEndpoint's `TargetModel`)
  // without a word, and the endpoint would answer something else than asked: reject it.
  for (const [key, value] of Object.entries(input)) {
    if (key === 'Body' || value === undefined) continue;
    if (!STRING_MEMBERS.has(key)) {
      throw validationError(`${key} is not a member of InvokeEndpointWithResponseStream's input`, input.EndpointName);
    }
    if (typeof value !== 'string') throw validationError(`${key} must be a string`, input.EndpointName);
  }
  if (body instanceof Uint8Array) return { ...input, Body: body };
  if (typeof body === 'string') return { ...input, Body: fromUtf8(body) };
  if (isPlainJson(body)) {
    return { ...input, Body: fromUtf8(JSON.stringify(body)), ContentType: input.ContentType ?? 'application/json' };
  }
  throw validationError('Body must be a Uint8Array, a string, or a plain object or array', input.EndpointName);
}

function timeoutError(
  which: 'firstByteTimeout' | 'idleTimeout',
  ms: number,
  endpointName: string,
  afterFirstByte: boolean,
  requestId: string | undefined,
): SageMakerStreamError {
  const kind: SageMakerStreamErrorKind = 'timeout';
  const detail = which === 'firstByteTimeout' ? `no payload within ${ms} ms (firstByteTimeout)` : `no payload for ${ms} ms (idleTimeout)`;
  return new SageMakerStreamError({ kind, message: buildMessage(kind, { endpointName, detail }), endpointName, afterFirstByte, requestId });
}

/**
 * Streams a SageMaker endpoint's response (`InvokeEndpointWithResponseStream`) as a cold
 * Observable of the bytes of each `PayloadPart`, in order.
 *
 * - Cold: nothing is sent before subscribing; every subscription sends exactly one request.
 * - Unsubscribing (`take`, `takeUntil`, `switchMap`, `takeUntilDestroyed`, a closed SSE
 *   connection) aborts the HTTP request at once, also while the stream is stalled; the socket is
 *   closed. (Leaving a `for await` over the SDK's `Body` does not do this.)
 * - Every error is a {@link SageMakerStreamError}, whether `send()` rejected (`ModelError`,
 *   `ValidationError`, throttling, ...) or the body iterator threw mid-stream (`ModelStreamError`,
 *   `InternalStreamFailure`, a reset connection); every part received before it has been emitted.
 * - The client is yours (region, credentials, retries, `maxSockets`); the input is never mutated.
 *
 * ```
 * subscribe:   ^-----------------!      (unsubscribe aborts the request)
 * result:      ---[..]--[..]--[..]-
 * ```
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { invoke$, tokens } from 'rx-sagemaker';
 *
 * const client = new SageMakerRuntimeClient({ region: 'us-east-1' });
 * invoke$(
 *   client,
 *   { EndpointName: 'my-llm', Body: { inputs: 'Tell me a story', parameters: { max_new_tokens: 200 }, stream: true } },
 *   { firstByteTimeout: 30_000, idleTimeout: 10_000, onResponse: (m) => console.log(m.invokedProductionVariant) },
 * )
 *   .pipe(tokens())
 *   .subscribe({ next: (t) => process.stdout.write(t), error: (e) => console.error(e.kind, e.message) });
 * ```
 * @param client - your `SageMakerRuntimeClient`.
 * @param input - the command input; `Body` may be bytes, a string or a JSON value.
 * @param config - timeouts, an abort signal and a metadata callback; see {@link InvokeConfig}.
 * @returns a cold Observable of payload bytes.
 * @public
 */
export function invoke$(client: SageMakerRuntimeClient, input: InvokeInput, config: InvokeConfig = {}): Observable<Uint8Array> {
  return new Observable<Uint8Array>((subscriber) => {
    const endpointName = input.EndpointName ?? '';
    let commandInput: InvokeEndpointWithResponseStreamCommandInput;
    try {
      commandInput = toCommandInput(input);
    } catch (e) {
      subscriber.error(toStreamError(e));
      return undefined;
    }
    const controller = new AbortController();
    let finished = false; // the response was read to its end: nothing left to abort
    const { signal, firstByteTimeout, idleTimeout, onResponse } = config;
    const recorder = activeRecorder();
    recorder?.request(endpointName);
    let afterFirstByte = false;
    let requestId: string | undefined;
    let lastPartAt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    // Read through a function: `subscriber.closed` changes under awaits and callbacks, which
    // TypeScript's narrowing of the property cannot see.
    const closed = (): boolean => subscriber.closed;
    const fail = (error: SageMakerStreamError): void => {
      if (!closed()) subscriber.error(error);
    };

    // One timer at a time: for the first byte, then for idleness. The idle timer is not re-armed
    // per part; when it fires it checks the time of the last part and re-arms for the rest.
    const armIdle = (wait: number): void => {
      timer = setTimeout(() => {
        const idle = performance.now() - lastPartAt;
        if (idleTimeout !== undefined && idle < idleTimeout) armIdle(idleTimeout - idle);
        else fail(timeoutError('idleTimeout', idleTimeout ?? 0, endpointName, afterFirstByte, requestId));
      }, wait);
    };
    if (firstByteTimeout !== undefined) {
      timer = setTimeout(() => fail(timeoutError('firstByteTimeout', firstByteTimeout, endpointName, false, requestId)), firstByteTimeout);
    } else if (idleTimeout !== undefined) {
      lastPartAt = performance.now();
      armIdle(idleTimeout);
    }

    const onAbort = (): void => {
      fail(
        new SageMakerStreamError({
          kind: 'aborted',
          message: buildMessage('aborted', { endpointName }),
          endpointName,
          afterFirstByte,
          requestId,
          cause: signal?.reason,
        }),
      );
    };
    if (signal !== undefined) {
      if (signal.aborted) {
        onAbort();
        return undefined;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }

    const run = async (): Promise<void> => {
      const output = await client.send(new InvokeEndpointWithResponseStreamCommand(commandInput), {
        abortSignal: controller.signal,
      });
      if (closed()) return;
      requestId = output.$metadata.requestId;
      recorder?.response(output.InvokedProductionVariant, requestId);
      onResponse?.({
        endpointName,
        contentType: output.ContentType,
        invokedProductionVariant: output.InvokedProductionVariant,
        customAttributes: output.CustomAttributes,
        requestId,
        attempts: output.$metadata.attempts,
      });
      const body = output.Body;
      if (body !== undefined) {
        for await (const event of body) {
          if (closed()) return;
          const bytes = event.PayloadPart?.Bytes;
          if (bytes !== undefined) {
            if (!afterFirstByte) {
              afterFirstByte = true;
              if (output.ContentType !== undefined) contentTypeHints.set(bytes, output.ContentType);
              const sent = bodyText(commandInput.Body);
              if (sent !== undefined) requestBodyHints.set(bytes, sent);
              if (firstByteTimeout !== undefined) {
                clearTimeout(timer);
                if (idleTimeout !== undefined) armIdle(idleTimeout);
              }
            }
            if (idleTimeout !== undefined) lastPartAt = performance.now();
            recorder?.part(bytes.length);
            subscriber.next(bytes);
          } else if (event.ModelStreamError !== undefined) {
            throw event.ModelStreamError; // an exception framed as an event: same meaning
          } else if (event.InternalStreamFailure !== undefined) {
            throw event.InternalStreamFailure;
          }
          // Unknown union members are skipped.
        }
      }
      finished = true;
      if (!closed()) subscriber.complete();
    };

    run().catch((err: unknown) => {
      if (closed()) return; // we aborted it: unsubscribed, timed out or signalled
      fail(toStreamError(err, { endpointName, requestId, afterFirstByte, requestBody: bodyText(commandInput.Body) }));
    });

    return () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Aborting a request already read to its end would only build an AbortError (a DOMException
      // with its stack, measured at about 5% of the client's CPU for short streams).
      if (!finished) controller.abort();
    };
  });
}

function bodyText(body: unknown): string | undefined {
  if (!(body instanceof Uint8Array) || body.length > 1_000_000) return undefined;
  return toUtf8(body);
}
