import { lastValueFrom, take, toArray } from 'rxjs';
import { invoke$, invokeAll$, retryOnStreamFailure, streamMetrics, tokenEvents, tokens, type StreamMetrics } from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

const TOKENS = ['a', ' 日本', ' 🦙', ' b', ' c', ' d'];

describe('streamMetrics()', () => {
  test('reports timings that match the emulator script, and counts tokens, bytes, parts and the variant', async () => {
    emulator.setEndpoint('ep', {
      stream: { format: 'openai-chat-sse', tokens: TOKENS },
      firstPartDelayMs: 150,
      partDelayMs: 40,
      invokedProductionVariant: 'blue',
    });
    const reports: StreamMetrics[] = [];
    const out = await lastValueFrom(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(
        tokens(),
        streamMetrics((m) => reports.push(m)),
        toArray(),
      ),
    );
    expect(out).toEqual(TOKENS);
    expect(reports).toHaveLength(1);
    const m = reports[0]!;
    const req = emulator.requests[0];
    expect(m).toMatchObject({
      endpointName: 'ep',
      variant: 'blue',
      format: 'openai-chat',
      tokens: 6,
      retries: 0,
      outcome: 'complete',
      errorKind: undefined,
    });
    expect(m.requestId).toEqual(expect.any(String));
    expect(m.parts).toBe(req?.partsSent);
    expect(m.bytes).toBeGreaterThan(6 * 40);
    // Lower bounds come from the script (timers never fire early by more than a millisecond);
    // upper bounds are loose on purpose: a loaded machine is only ever slower.
    expect(m.timeToFirstByte).toBeGreaterThanOrEqual(148);
    expect(m.timeToFirstToken).toBeGreaterThanOrEqual(m.timeToFirstByte ?? Infinity);
    expect(m.timeToFirstToken).toBeLessThan(10_000);
    // The first part is the role chunk and every token is one part 40 ms after the previous one.
    expect(m.interTokenLatency?.p50).toBeGreaterThanOrEqual(30);
    expect(m.interTokenLatency?.p95).toBeGreaterThanOrEqual(m.interTokenLatency?.p50 ?? Infinity);
    expect(m.interTokenLatency?.p95).toBeLessThan(10_000);
    expect(m.duration).toBeGreaterThanOrEqual(148 + 40 * (TOKENS.length - 1));
    expect(Math.abs(m.startedAt - Date.now())).toBeLessThan(60_000);
  });

  test('reports outcome error with the kind after a ModelStreamError', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'tgi-sse', tokens: TOKENS }, fault: { type: 'model-stream-error', afterParts: 2 } });
    const reports: StreamMetrics[] = [];
    const result = await collect(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(
        tokens(),
        streamMetrics((m) => reports.push(m)),
      ),
    );
    expect(result.values).toEqual(['a', ' 日本']);
    expect(reports).toEqual([expect.objectContaining({ outcome: 'error', errorKind: 'model-stream', tokens: 2, parts: 2 })]);
  });

  test('reports outcome unsubscribed when the consumer stops early', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'tgi-sse', tokens: TOKENS }, partDelayMs: 20 });
    const reports: StreamMetrics[] = [];
    await lastValueFrom(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(
        tokens(),
        streamMetrics((m) => reports.push(m)),
        take(2),
        toArray(),
      ),
    );
    expect(reports).toEqual([expect.objectContaining({ outcome: 'unsubscribed', tokens: 2 })]);
  });

  test('counts the retries of retryOnStreamFailure and the parts of every attempt', async () => {
    const failure = {
      parts: ['data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'],
      fault: { type: 'internal-stream-failure' as const, afterParts: 1 },
    };
    emulator.setEndpoint('ep', [failure, failure, { stream: { format: 'openai-chat-sse', tokens: ['x', 'y'] } }]);
    const reports: StreamMetrics[] = [];
    const out = await lastValueFrom(
      invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(
        tokens(),
        retryOnStreamFailure({ delay: 1 }),
        streamMetrics((m) => reports.push(m)),
        toArray(),
      ),
    );
    expect(out).toEqual(['x', 'y']);
    const parts = emulator.requests.reduce((n, r) => n + r.partsSent, 0);
    expect(reports).toEqual([expect.objectContaining({ retries: 2, outcome: 'complete', tokens: 2, parts })]);
  });

  test('does not change the data: the same values with and without it, and token events without text are not counted', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'openai-chat-sse', tokens: TOKENS, options: { usage: true } } });
    const client = clientFor(emulator);
    const plain = await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(tokenEvents(), toArray()));
    const reports: StreamMetrics[] = [];
    const measured = await lastValueFrom(
      invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(
        tokenEvents(),
        streamMetrics((m) => reports.push(m)),
        toArray(),
      ),
    );
    expect(measured).toEqual(plain);
    expect(plain.some((e) => e.text === '')).toBe(true);
    expect(reports[0]?.tokens).toBe(TOKENS.length);
  });

  test('a throwing callback is logged and does not affect the stream', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'tgi-sse', tokens: ['x'] } });
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const result = await collect(
        invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(
          tokens(),
          streamMetrics(() => {
            throw new Error('logger down');
          }),
        ),
      );
      expect(result).toEqual({ values: ['x'], completed: true });
      expect(log).toHaveBeenCalledTimes(1);
    } finally {
      log.mockRestore();
    }
  });

  test('each stream of a fan-out gets its own record', async () => {
    emulator.setEndpoint('one', { stream: { format: 'tgi-sse', tokens: ['1'] }, invokedProductionVariant: 'v1' });
    emulator.setEndpoint('two', { stream: { format: 'lmi-jsonlines', tokens: ['2', '2'] }, invokedProductionVariant: 'v2' });
    const reports: StreamMetrics[] = [];
    await lastValueFrom(
      invokeAll$(
        clientFor(emulator),
        { a: { EndpointName: 'one', Body: {} }, b: { EndpointName: 'two', Body: {} } },
        {
          each: (bytes$) =>
            bytes$.pipe(
              tokens(),
              streamMetrics((m) => reports.push(m)),
            ),
        },
      ).pipe(toArray()),
    );
    const byEndpoint = Object.fromEntries(reports.map((m) => [m.endpointName, m]));
    expect(byEndpoint.one).toMatchObject({ variant: 'v1', format: 'tgi', tokens: 1 });
    expect(byEndpoint.two).toMatchObject({ variant: 'v2', format: 'lmi', tokens: 2 });
  });
});
