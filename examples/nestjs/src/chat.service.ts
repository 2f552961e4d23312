import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Inject, Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { invoke$, retryOnStreamFailure, toMessageEvent, tokens, type JsonBody, type SseMessageEvent } from 'rx-sagemaker';
import { CHAT_OPTIONS, type ChatModuleOptions } from './chat.options';

const tgiBody = (prompt: string): JsonBody => ({ inputs: prompt, parameters: { max_new_tokens: 512 }, stream: true });

/** Streams answers from the SageMaker endpoint, through the one client the module provides. */
@Injectable()
export class ChatService {
  constructor(
    private readonly client: SageMakerRuntimeClient,
    @Inject(CHAT_OPTIONS) private readonly options: ChatModuleOptions,
  ) {}

  /**
   * The answer to `prompt` as server-sent events: one event per token (`data` is the token,
   * `id` counts from 0), then `{ type: 'done' }`, or `{ type: 'error', data: { kind, message,
   * retryable } }` if SageMaker fails. Cold: each subscription (each HTTP request) sends one
   * SageMaker request, and unsubscribing (the HTTP client left) aborts it.
   */
  answer$(prompt: string): Observable<SseMessageEvent> {
    const { endpointName, body = tgiBody, firstByteTimeout = 60_000, idleTimeout = 15_000 } = this.options;
    return invoke$(this.client, { EndpointName: endpointName, Body: body(prompt) }, { firstByteTimeout, idleTimeout }).pipe(
      tokens(),
      retryOnStreamFailure({ count: 2 }), // only before the first token: nothing is sent twice
      toMessageEvent({ ids: true, errorEvent: true, doneEvent: true }),
    );
  }
}
