import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Subject, lastValueFrom, switchMap, take, takeUntil, toArray } from 'rxjs';
import { invoke$, retryOnStreamFailure, SageMakerStreamError, tokens, type StreamResponseMetadata } from '../../src/index.js';
import { splitBytes, startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

const tgi = (t: string): string => `data:${JSON.stringify({ token: { text: t, special: false } })}\n\n`;

function expectStreamError(error: unknown): SageMakerStreamError {
  expect(SageMakerStreamError.isInstance(error)).toBe(true);
  return error as SageMakerStreamError;
}

describe('invoke$: requests and responses', () => {
  test('emits the bytes of every PayloadPart in order and completes', async () => {
    emulator.setEndpoint('ep', { parts: ['Hello', ', ', 'world'] });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: 'hi' }));
    expect(result.completed).toBe(true);
    expect(result.values.map((b) => Buffer.from(b).toString())).toEqual(['Hello', ', ', 'world']);
  });

  test('sends nothing before subscribe and exactly one request per subscription', async () => {
    emulator.setEndpoint('ep', { parts: ['x'] });
    const client = clientFor(emulator);
    const stream$ = invoke$(client, { EndpointName: 'ep', Body: 'hi' });
    await new Promise((r) => setTimeout(r, 50));
    expect(emulator.requests).toHaveLength(0);
    await lastValueFrom(stream$.pipe(toArray()));
    expect(emulator.requests).toHaveLength(1);
    await lastValueFrom(stream$.pipe(toArray()));
    expect(emulator.requests).toHaveLength(2);
  });

  test('sends a string Body as UTF-8 and a plain object as JSON with a default ContentType, without mutating the input', async () => {
    emulator.setEndpoint('ep', { parts: ['ok'] });
    const client = clientFor(emulator);
    const objectInput = { EndpointName: 'ep', Body: { inputs: 'Grüß 🦙', stream: true } };
    const snapshot = JSON.parse(JSON.stringify(objectInput)) as unknown;
    await lastValueFrom(invoke$(client, objectInput).pipe(toArray()));
    expect(objectInput).toEqual(snapshot);
    const first = emulator.requests[0];
    expect(first?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(Buffer.from(first?.body ?? []).toString('utf8'))).toEqual({ inputs: 'Grüß 🦙', stream: true });

    await lastValueFrom(
      invoke$(client, { EndpointName: 'ep', Body: 'héllo', ContentType: 'text/plain', Accept: 'text/event-stream' }).pipe(toArray()),
    );
    const second = emulator.requests[1];
    expect(Buffer.from(second?.body ?? []).toString('utf8')).toBe('héllo');
    expect(second?.headers['content-type']).toBe('text/plain');
    expect(second?.headers['x-amzn-sagemaker-accept']).toBe('text/event-stream');
  });

  test('rejects a Body that is neither bytes, string nor plain JSON with a validation error and sends nothing', async () => {
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: new Date() as unknown as string }));
    expect(expectStreamError(result.error).kind).toBe('validation');
    expect(emulator.requests).toHaveLength(0);
  });

  test('reports the response metadata through onResponse before the first part', async () => {
    emulator.setEndpoint('ep', {
      parts: ['a', 'b'],
      contentType: 'text/event-stream',
      invokedProductionVariant: 'variant-b',
      customAttributes: 'trace=1',
    });
    const seen: (StreamResponseMetadata | string)[] = [];
    await lastValueFrom(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: 'x' }, { onResponse: (m) => seen.push(m) }).pipe(toArray()),
    ).then((parts) => seen.push(...parts.map((p) => Buffer.from(p).toString())));
    const meta = seen[0] as StreamResponseMetadata;
    expect(meta).toMatchObject({
      endpointName: 'ep',
      contentType: 'text/event-stream',
      invokedProductionVariant: 'variant-b',
      customAttributes: 'trace=1',
      attempts: 1,
    });
    expect(typeof meta.requestId).toBe('string');
    expect(seen.slice(1)).toEqual(['a', 'b']);
  });

  test('decodes event-stream frames split across HTTP chunks one byte at a time', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('日本'), tgi('🦙')], writeSize: 1 });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['日本', '🦙']);
  });
});

describe('invoke$ + tokens(): chunk boundaries through the real client', () => {
  test('é, 日本 and 🦙 split across parts at every byte offset decode intact', async () => {
    const body = `${tgi('é')}${tgi('日本')}${tgi('🦙')}`;
    const size = Buffer.byteLength(body);
    const client = clientFor(emulator);
    for (let cut = 1; cut < size; cut++) {
      emulator.setEndpoint('ep', { parts: splitBytes(body, [cut]) });
      const out = await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
      expect({ cut, out }).toEqual({ cut, out: ['é', '日本', '🦙'] });
    }
  });

  test('the same characters sent one byte per part decode intact', async () => {
    emulator.setEndpoint('ep', { parts: splitBytes(`${tgi('é')}${tgi('日本')}${tgi('🦙')}`, 1) });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['é', '日本', '🦙']);
  });

  test('a JSON line split across three parts gives one token', async () => {
    emulator.setEndpoint('ep', { parts: ['{"token": {"id": 1, "te', 'xt": "Deep', ' ", "log_prob": -0.05}}\n'] });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['Deep ']);
  });

  test('two events in one part give two tokens', async () => {
    emulator.setEndpoint('ep', { parts: [`${tgi('one')}${tgi(' two')}`, tgi(' three')] });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['one', ' two', ' three']);
  });

  test('an unterminated last line is delivered at the end of the stream', async () => {
    emulator.setEndpoint('ep', { parts: ['{"token": {"text": "a"}}\n', '{"token": {"text": "b"}}'] });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['a', 'b']);
  });
});

describe('invoke$: errors', () => {
  test('a ModelStreamError after 3 parts delivers the 3 tokens, then kind model-stream with its ErrorCode', async () => {
    emulator.setEndpoint('ep', {
      parts: [tgi('a'), tgi('b'), tgi('c'), tgi('never')],
      fault: { type: 'model-stream-error', afterParts: 3, errorCode: 'ModelInvocationTimeExceeded' },
    });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    expect(result.values).toEqual(['a', 'b', 'c']);
    const error = expectStreamError(result.error);
    expect(error).toMatchObject({
      kind: 'model-stream',
      errorCode: 'ModelInvocationTimeExceeded',
      retryable: false,
      endpointName: 'ep',
      afterFirstByte: true,
    });
    expect(typeof error.requestId).toBe('string');
    expect(error.message).toContain('"ep"');
  });

  test('InternalStreamFailure before any output, twice, then success: retryOnStreamFailure({ count: 3 }) gives every token exactly once', async () => {
    const ok = { parts: [tgi('x'), tgi('y'), tgi('z')] };
    const failure = { fault: { type: 'internal-stream-failure' as const, afterParts: 0 } };
    emulator.setEndpoint('ep', [failure, failure, ok]);
    const retries: number[] = [];
    const result = await collect(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(
        tokens(),
        retryOnStreamFailure({ count: 3, delay: 1, onRetry: (n) => retries.push(n.attempt) }),
      ),
    );
    expect(result.completed).toBe(true);
    expect(result.values).toEqual(['x', 'y', 'z']);
    expect(retries).toEqual([1, 2]);
    expect(emulator.requests).toHaveLength(3);
  });

  test('InternalStreamFailure after output: the error arrives, nothing is retried and no token is duplicated', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('x'), tgi('y'), tgi('z')], fault: { type: 'internal-stream-failure', afterParts: 2 } });
    const result = await collect(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), retryOnStreamFailure({ count: 3, delay: 1 })),
    );
    expect(result.values).toEqual(['x', 'y']);
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'internal-stream-failure', retryable: true, afterFirstByte: true });
    expect(emulator.requests).toHaveLength(1);
  });

  test('a connection reset mid-stream delivers the parts before it, then a retryable network error', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b'), tgi('c')], fault: { type: 'reset', afterParts: 2 } });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    expect(result.values).toEqual(['a', 'b']);
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'network', retryable: true, afterFirstByte: true });
  });

  test('a 424 ModelError becomes kind model with the original status code and is not retried', async () => {
    emulator.setEndpoint('ep', { error: { type: 'model-error', originalStatusCode: 400, originalMessage: 'bad prompt' } });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(retryOnStreamFailure({ delay: 1 })));
    const error = expectStreamError(result.error);
    expect(error).toMatchObject({
      kind: 'model',
      statusCode: 400,
      httpStatusCode: 424,
      errorCode: 'CLIENT_ERROR_FROM_MODEL',
      retryable: false,
      afterFirstByte: false,
    });
    expect(error.logStreamArn).toContain('/aws/sagemaker/Endpoints/ep');
    expect(error.message).toContain('bad prompt');
    expect(emulator.requests).toHaveLength(1);
  });

  test('a 400 ValidationError becomes kind validation and is not retried', async () => {
    emulator.setEndpoint('ep', { error: { type: 'validation', message: 'Endpoint ep not found.' } });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(retryOnStreamFailure({ delay: 1 })));
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'validation', httpStatusCode: 400, retryable: false });
    expect(emulator.requests).toHaveLength(1);
  });

  test.each([
    ['throttling', 'throttling', 429],
    ['model-not-ready', 'model-not-ready', 429],
    ['internal-failure', 'internal-failure', 500],
    ['service-unavailable', 'service-unavailable', 503],
  ] as const)('a pre-stream %s answer becomes a retryable kind %s error', async (type, kind, status) => {
    emulator.setEndpoint('ep', { error: { type } });
    const result = await collect(invoke$(clientFor(emulator, { maxAttempts: 1 }), { EndpointName: 'ep', Body: {} }));
    expect(expectStreamError(result.error)).toMatchObject({ kind, httpStatusCode: status, retryable: true });
  });

  test('a service error fixed on retry: ServiceUnavailable twice, then success, with the SDK retries off', async () => {
    emulator.setEndpoint('ep', [
      { error: { type: 'service-unavailable' } },
      { error: { type: 'service-unavailable' } },
      { parts: [tgi('ok')] },
    ]);
    const out = await lastValueFrom(
      invoke$(clientFor(emulator, { maxAttempts: 1 }), { EndpointName: 'ep', Body: {} }).pipe(
        tokens(),
        retryOnStreamFailure({ count: 2, delay: 1 }),
        toArray(),
      ),
    );
    expect(out).toEqual(['ok']);
    expect(emulator.requests).toHaveLength(3);
  });

  test('an unknown endpoint name gives the emulator’s ValidationError', async () => {
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'nope', Body: {} }));
    expect(expectStreamError(result.error).kind).toBe('validation');
  });
});

/** The real client with its real request handler, recording the abort signal of each request. */
function clientRecordingSignals(): { client: SageMakerRuntimeClient; signals: AbortSignal[] } {
  const client = clientFor(emulator);
  const handler = client.config.requestHandler as unknown as {
    handle: (request: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
  };
  const handle = handler.handle.bind(handler);
  const signals: AbortSignal[] = [];
  handler.handle = (request, options) => {
    if (options?.abortSignal !== undefined) signals.push(options.abortSignal);
    return handle(request, options);
  };
  return { client, signals };
}

describe('invoke$: cancellation and timeouts', () => {
  test('does not abort a request whose response was read to its end (no AbortError built for nothing)', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b')] });
    const { client, signals } = clientRecordingSignals();
    const result = await collect(invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    expect(result).toMatchObject({ values: ['a', 'b'], completed: true });
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
  });

  test('aborts the signal it passed to send() when unsubscribed mid-stream', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b')], fault: { type: 'stall', afterParts: 1 } });
    const { client, signals } = clientRecordingSignals();
    const seen: string[] = [];
    const sub = invoke$(client, { EndpointName: 'ep', Body: {} })
      .pipe(tokens())
      .subscribe((t) => seen.push(t));
    await emulator.waitFor(() => seen.length === 1);
    expect(signals[0]?.aborted).toBe(false);
    sub.unsubscribe();
    expect(signals[0]?.aborted).toBe(true);
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
  });

  test('unsubscribing while the server stalls aborts the request and closes the connection', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b')], fault: { type: 'stall', afterParts: 1 } });
    const stop = new Subject<void>();
    const seen: string[] = [];
    invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} })
      .pipe(tokens(), takeUntil(stop))
      .subscribe((t) => seen.push(t));
    await emulator.waitFor(() => seen.length === 1);
    expect(emulator.requests[0]?.clientClosed).toBe(false);
    stop.next();
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
    expect(emulator.requests[0]?.outcome).toBe('client-closed');
    expect(emulator.openRequests).toBe(0);
  });

  test('unsubscribing while send() waits for the first event aborts the request too', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a')], fault: { type: 'stall', afterParts: 0 } });
    const sub = invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).subscribe();
    await emulator.waitFor(() => emulator.requests.length === 1);
    sub.unsubscribe();
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
  });

  test('take(3) ends the stream after 3 tokens and the server sees the disconnect', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => tgi(`t${i}`));
    emulator.setEndpoint('ep', { parts, partDelayMs: 10 });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), take(3), toArray()));
    expect(out).toEqual(['t0', 't1', 't2']);
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
    expect(emulator.requests[0]?.partsSent).toBeLessThan(50);
  });

  test('switchMap to a new prompt aborts the previous stream', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a')], fault: { type: 'stall', afterParts: 1 } });
    const prompts = new Subject<string>();
    const client = clientFor(emulator);
    const sub = prompts.pipe(switchMap((p) => invoke$(client, { EndpointName: 'ep', Body: { inputs: p } }))).subscribe();
    prompts.next('first');
    await emulator.waitFor(() => emulator.requests[0]?.partsSent === 1);
    prompts.next('second');
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
    await emulator.waitFor(() => emulator.requests.length === 2, 2000);
    expect(Buffer.from(emulator.requests[1]?.body ?? []).toString()).toContain('second');
    sub.unsubscribe();
    await emulator.waitFor(() => emulator.requests[1]?.clientClosed === true, 2000);
  });

  test('an AbortSignal aborts the request and errors with kind aborted', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b')], fault: { type: 'stall', afterParts: 1 } });
    const controller = new AbortController();
    const seen: string[] = [];
    let error: unknown;
    invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }, { signal: controller.signal })
      .pipe(tokens())
      .subscribe({ next: (t) => seen.push(t), error: (e: unknown) => (error = e) });
    await emulator.waitFor(() => seen.length === 1);
    controller.abort();
    expect(seen).toEqual(['a']);
    expect(expectStreamError(error)).toMatchObject({ kind: 'aborted', retryable: false, afterFirstByte: true });
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
  });

  test('an already aborted signal sends nothing', async () => {
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }, { signal: AbortSignal.abort() }));
    expect(expectStreamError(result.error).kind).toBe('aborted');
    await new Promise((r) => setTimeout(r, 30));
    expect(emulator.requests).toHaveLength(0);
  });

  test('firstByteTimeout fires when the first part never comes, and the request is aborted', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('late')], fault: { type: 'stall', afterParts: 0 } });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }, { firstByteTimeout: 100 }));
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'timeout', afterFirstByte: false, retryable: false });
    expect((result.error as Error).message).toContain('firstByteTimeout');
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
  });

  test('firstByteTimeout does not fire once the first part has arrived, even when the stream lasts longer', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b'), tgi('c')], firstPartDelayMs: 0, partDelayMs: 150 });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }, { firstByteTimeout: 200 }).pipe(tokens()));
    expect(result).toEqual({ values: ['a', 'b', 'c'], completed: true });
  });

  test('idleTimeout fires when the stream stalls after output, after the parts before it', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b'), tgi('c')], fault: { type: 'stall', afterParts: 2 } });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }, { idleTimeout: 100 }).pipe(tokens()));
    expect(result.values).toEqual(['a', 'b']);
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'timeout', afterFirstByte: true });
    expect((result.error as Error).message).toContain('idleTimeout');
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
  });

  test('idleTimeout does not fire while parts keep arriving within it, even when the whole stream lasts longer', async () => {
    emulator.setEndpoint('ep', { parts: Array.from({ length: 20 }, (_, i) => tgi(String(i))), partDelayMs: 20 });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }, { idleTimeout: 200 }).pipe(tokens()));
    expect(result).toEqual({ values: Array.from({ length: 20 }, (_, i) => String(i)), completed: true });
  });
});

describe('invoke$: independence of subscriptions', () => {
  test('one piped Observable subscribed twice sends two requests with two correct, independent results', async () => {
    emulator.setEndpoint('ep', { parts: splitBytes(`${tgi('日本')}${tgi('🦙')}`, 3), partDelayMs: 2 });
    const piped$ = invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray());
    const [a, b] = await Promise.all([lastValueFrom(piped$), lastValueFrom(piped$)]);
    expect(a).toEqual(['日本', '🦙']);
    expect(b).toEqual(['日本', '🦙']);
    expect(emulator.requests).toHaveLength(2);
  });

  test('the client is used as given: invoke$ never creates one', async () => {
    emulator.setEndpoint('ep', { parts: ['x'] });
    const client = clientFor(emulator);
    const send = jest.spyOn(client, 'send');
    await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: 'x' }).pipe(toArray()));
    expect(send).toHaveBeenCalledTimes(1);
    expect(client).toBeInstanceOf(SageMakerRuntimeClient);
  });
});
