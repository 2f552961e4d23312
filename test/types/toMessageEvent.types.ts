// Compile-time checks of toMessageEvent: checked by `tsc --noEmit` (npm run typecheck), never run.
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { invoke$, tokenEvents, tokens } from '../../src/index.js';
import { toMessageEvent, type SseMessageEvent } from '../../src/operators/toMessageEvent.js';

declare const client: SageMakerRuntimeClient;

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

const bytes$ = invoke$(client, { EndpointName: 'e', Body: { inputs: 'Hi', stream: true } });

// Tokens and token events both become SseMessageEvents.
const fromTokens$ = bytes$.pipe(tokens(), toMessageEvent({ ids: true, errorEvent: true, doneEvent: true }));
assertType<Equals<typeof fromTokens$, Observable<SseMessageEvent>>>(true);
const fromEvents$ = bytes$.pipe(tokenEvents(), toMessageEvent({ type: 'token' }));
assertType<Equals<typeof fromEvents$, Observable<SseMessageEvent>>>(true);

// What @Sse() handlers declare: NestJS's own MessageEvent (exactOptionalPropertyTypes included).
const forNest$: Observable<MessageEvent> = fromTokens$;
forNest$;

// The data callback gets the element type from the pipe.
bytes$.pipe(tokenEvents(), toMessageEvent({ data: (e) => ({ text: e.text, finish: e.finishReason ?? null }) }));
bytes$.pipe(tokens(), toMessageEvent({ data: (t) => t.toUpperCase() }));

// Custom error and done events.
bytes$.pipe(
  tokens(),
  toMessageEvent({
    errorEvent: (err) => ({ type: 'failure', data: { retry: err.retryable, kind: err.kind } }),
    doneEvent: { data: '[DONE]' },
  }),
);

// @ts-expect-error raw bytes are not tokens
bytes$.pipe(toMessageEvent());
// @ts-expect-error an error event needs data
toMessageEvent({ errorEvent: () => ({ type: 'error' }) });
// @ts-expect-error an event id is a string
toMessageEvent({ doneEvent: { data: 'x', id: 3 } });
