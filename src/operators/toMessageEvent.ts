import { Observable, type OperatorFunction } from 'rxjs';
import { SageMakerStreamError, type SageMakerStreamErrorKind } from '../errors/SageMakerStreamError.js';
import { operate } from '../internal/operate.js';
import type { TokenEvent } from './tokenEvents.js';

/**
 * One server-sent event, in the shape NestJS's `@Sse()` expects: structurally the same as
 * `MessageEvent` from `@nestjs/common` (`data`, `id`, `type`, `retry`), so an
 * `Observable<SseMessageEvent>` can be returned where `Observable<MessageEvent>` is declared.
 * NestJS writes `type` as the `event:` field, `id` as `id:`, and `data` as `data:` lines: a string
 * as it is, an object as JSON.
 *
 * @example
 * ```ts
 * import type { Observable } from 'rxjs';
 * import { invoke$, tokens, toMessageEvent, type SseMessageEvent } from 'rx-sagemaker';
 *
 * // What a NestJS @Sse() handler returns (SseMessageEvent is structurally its MessageEvent):
 * function chat(prompt: string): Observable<SseMessageEvent> {
 *   const done: SseMessageEvent = { data: '[DONE]' }; // as OpenAI-style clients expect
 *   return invoke$(client, { EndpointName: 'my-llm', Body: { inputs: prompt, stream: true } })
 *     .pipe(tokens(), toMessageEvent({ doneEvent: done }));
 * }
 * ```
 * @public
 */
export interface SseMessageEvent {
  /** The payload: a string is sent as it is, an object as JSON. */
  readonly data: string | object;
  /** The event id (`id:`); a reconnecting `EventSource` sends the last one as `Last-Event-ID`. */
  readonly id?: string;
  /** The event type (`event:`); untyped events reach the browser's `onmessage`. */
  readonly type?: string;
  /** The reconnection delay to ask the client for, in ms (`retry:`). */
  readonly retry?: number;
}

/**
 * The `data` of the error event {@link toMessageEvent} sends with `errorEvent: true`: only fields
 * that are safe to show an end user.
 *
 * @example
 * ```ts
 * import type { SseErrorData } from 'rx-sagemaker';
 *
 * // In the page, reading a NestJS route that uses toMessageEvent({ errorEvent: true }):
 * const source = new EventSource('/api/chat?prompt=Hi');
 * source.addEventListener('error', (event) => {
 *   if (!('data' in event)) return; // the connection ended: not an error event
 *   const { kind, message, retryable } = JSON.parse((event as MessageEvent<string>).data) as SseErrorData;
 *   output.append(retryable ? `${message} Try again.` : `${message} (${kind})`);
 *   source.close();
 * });
 * ```
 * @public
 */
export interface SseErrorData {
  /** What went wrong (see {@link SageMakerStreamErrorKind}). */
  readonly kind: SageMakerStreamErrorKind;
  /** The error's message, which is safe for end users (no credentials, no request body). */
  readonly message: string;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
}

/**
 * Options of {@link toMessageEvent}.
 *
 * @example
 * ```ts
 * import { invoke$, tokenEvents, toMessageEvent, type TokenEvent, type ToMessageEventConfig } from 'rx-sagemaker';
 *
 * const config: ToMessageEventConfig<TokenEvent> = {
 *   ids: true,
 *   errorEvent: (err) => ({ type: 'error', data: { kind: err.kind, message: err.retryable ? 'Busy, try again.' : 'The answer failed.' } }),
 *   doneEvent: true,
 * };
 * // the Observable a NestJS @Sse() handler returns:
 * const events$ = invoke$(client, { EndpointName: 'my-llm', Body: { inputs: prompt, stream: true } }).pipe(tokenEvents(), toMessageEvent(config));
 * ```
 * @public
 */
export interface ToMessageEventConfig<T> {
  /**
   * The event type (the SSE `event:` field) of every token's event. A browser `EventSource`
   * delivers typed events only to `addEventListener(type, ...)`, untyped ones to `onmessage`.
   *
   * @defaultValue none (the browser's `message` event)
   */
  readonly type?: string | undefined;
  /**
   * Give every event of a subscription an `id`: `'0'`, `'1'`, `'2'`, ... in order, the error and
   * done events included, so the client can check order and completeness (for a `tokenEvents()`
   * stream the id of a token's event equals its `index`). Each subscription counts from `'0'`.
   * Without it NestJS numbers the events itself, from `'1'`.
   *
   * @defaultValue `false`
   */
  readonly ids?: boolean | undefined;
  /**
   * How a value becomes the event's `data`. Throwing ends the Observable with that error.
   *
   * The default sends a token string as `{ text }` and an object (a {@link TokenEvent}) as it is;
   * NestJS sends both as JSON. JSON carries every token exactly (the SSE wire format itself
   * cannot: an empty token gives an event a browser does not dispatch, `\r\n` arrives as `\n`, and
   * a token such as `{` or `[DONE]` would be misread), and `tokens()` reads these events back in
   * the page (format `relay`). `(t) => t` sends the bare strings instead.
   *
   * @defaultValue strings as `{ text }`, objects as they are (JSON on the wire)
   */
  readonly data?: ((value: T) => string | object) | undefined;
  /**
   * Turn a {@link SageMakerStreamError} into a last event and complete, instead of erroring.
   * NestJS cannot report an error once the event stream has started (and a browser `EventSource`
   * cannot read an HTTP error's body anyway), so the client learns why the stream ended only from
   * an event.
   *
   * - `true`: `{ type: 'error', data: { kind, message, retryable } }` ({@link SseErrorData}),
   *   with the error's end-user-safe `message` and nothing else (no request id, no cause);
   * - a function: the event to send, e.g. with your own wording per `kind`; throwing ends the
   *   Observable with that error.
   *
   * Errors that are not a `SageMakerStreamError` (a bug in your own operators) still end the
   * Observable as errors, so NestJS logs them and sends only its generic message. Note that a
   * browser `EventSource` also fires `error` (a plain `Event`, without `data`) when the
   * connection ends; tell them apart with `'data' in event`.
   *
   * @defaultValue `false` (errors pass through)
   */
  readonly errorEvent?: boolean | ((error: SageMakerStreamError) => SseMessageEvent) | undefined;
  /**
   * Send a last event when the source completes: `true` for `{ type: 'done', data: '[DONE]' }`,
   * or the event to send (e.g. `{ data: '[DONE]' }` for clients written for OpenAI's streams).
   * Not sent after an error or an error event, nor on unsubscribe. A browser `EventSource`
   * reconnects, sending the request again, whenever the response ends, so the client should call
   * `close()` when it receives this event (and the error event).
   *
   * @defaultValue `false`
   */
  readonly doneEvent?: boolean | SseMessageEvent | undefined;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const DEFAULT_DONE: SseMessageEvent = { type: 'done', data: '[DONE]' };

function defaultErrorEvent(error: SageMakerStreamError): SseMessageEvent {
  const data: SseErrorData = { kind: error.kind, message: error.message, retryable: error.retryable };
  return { type: 'error', data };
}

/**
 * Turns tokens (strings) or {@link TokenEvent}s into the `{ data, id?, type? }` events that
 * NestJS's `@Sse()` sends as server-sent events: a token's `data` is `{ text }`, a token event's
 * the event (the client gets JSON, which `tokens()` reads back in a page). Optionally numbers the events (`ids`), sets their `type`,
 * turns a {@link SageMakerStreamError} into a last `error` event carrying only its
 * end-user-safe message (`errorEvent`), and ends a complete stream with a `done` event
 * (`doneEvent`). The id counter is per subscription; unsubscribing (the HTTP client left)
 * unsubscribes from the source, which aborts the SageMaker request.
 *
 * ```
 * source:   --'Hi'--' there'--|
 * result:   --{data:{text:'Hi'}}--{data:{text:' there'}}--|
 *
 * toMessageEvent({ ids: true, errorEvent: true, doneEvent: true })
 * source:   --'Hi'--#                       (# a SageMakerStreamError)
 * result:   --{data:{text:'Hi'},id:'0'}--({type:'error',id:'1',data:{kind,message,retryable}}|)
 * source:   --'Hi'--|
 * result:   --{data:{text:'Hi'},id:'0'}--({type:'done',id:'1',data:'[DONE]'}|)
 * ```
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { Controller, Query, Sse, type MessageEvent } from '@nestjs/common';
 * import type { Observable } from 'rxjs';
 * import { invoke$, tokens, toMessageEvent } from 'rx-sagemaker';
 *
 * @Controller()
 * export class ChatController {
 *   constructor(private readonly client: SageMakerRuntimeClient) {} // one client, provided by the module
 *
 *   @Sse('chat')
 *   chat(@Query('prompt') prompt: string): Observable<MessageEvent> {
 *     return invoke$(this.client, { EndpointName: 'my-llm', Body: { inputs: prompt, stream: true } })
 *       .pipe(tokens(), toMessageEvent({ ids: true, errorEvent: true, doneEvent: true }));
 *   }
 * }
 * ```
 * @param config - event type, ids, data encoding, error and done events; see
 * {@link ToMessageEventConfig}.
 * @returns an operator from tokens or token events to {@link SseMessageEvent}s.
 * @public
 */
export function toMessageEvent<T extends string | { readonly text: string } = string | TokenEvent>(
  config: ToMessageEventConfig<T> = {},
): OperatorFunction<T, SseMessageEvent> {
  const { type, ids = false, data, errorEvent = false, doneEvent = false } = config;
  return (source) =>
    new Observable<SseMessageEvent>((subscriber) => {
      let nextId = 0;
      // `event` must be a fresh object: NestJS writes its own `id` into events that have none.
      const emit = (event: Writable<SseMessageEvent>): void => {
        if (ids) event.id = String(nextId++);
        subscriber.next(event);
      };
      operate(source, subscriber, {
        next(value) {
          let payload: string | object;
          try {
            payload = data !== undefined ? data(value) : typeof value === 'string' ? { text: value } : value;
          } catch (err) {
            subscriber.error(err);
            return;
          }
          const event: Writable<SseMessageEvent> = { data: payload };
          if (type !== undefined) event.type = type;
          emit(event);
        },
        error(err: unknown) {
          if (errorEvent === false || !SageMakerStreamError.isInstance(err)) {
            subscriber.error(err);
            return;
          }
          let event: SseMessageEvent;
          try {
            event = errorEvent === true ? defaultErrorEvent(err) : errorEvent(err);
          } catch (thrown) {
            subscriber.error(thrown);
            return;
          }
          emit({ ...event });
          subscriber.complete();
        },
        complete() {
          if (doneEvent !== false) emit({ ...(doneEvent === true ? DEFAULT_DONE : doneEvent) });
          subscriber.complete();
        },
      });
    });
}
