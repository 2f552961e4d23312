// Differential suite, part 1: the emulator over loopback. Every stream is read twice, by a stock
// SageMakerRuntimeClient and by one created with `eventStreamSerdeProvider:
// fastEventStreamSerdeProvider`, and everything a caller can observe must be identical: send()'s
// outcome, every event (member names, byte content, Uint8Array type), and how the Body ends
// (error class, name, message and every field). Each test also checks that the fast path really
// decoded frames (otherwise the comparison would be stock against stock).
import type { SageMakerRuntimeClient, SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { lastValueFrom, take, toArray } from 'rxjs';
import { fastEventStreamStats, type FastEventStreamStats } from '../../src/eventstream/index.js';
import { invoke$, SageMakerStreamError, tokens } from '../../src/index.js';
import { CONTAINER_FORMATS, startEmulator, type Emulator, type EmulatorEndpoint } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';
import { FAST, trace, type Trace, type TraceOptions } from './support.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

const tgi = (t: string): string => `data:${JSON.stringify({ token: { text: t, special: false } })}\n\n`;
const TOKENS = ['Hello', ',', ' 日本', ' 🦙', ' €', ' and', ' done', '.'];

interface Pair {
  readonly stock: Trace;
  readonly fast: Trace;
  readonly stats: FastEventStreamStats | undefined;
  readonly stockClosed: boolean;
  readonly fastClosed: boolean;
}

/** Waits (up to 2 s) until the emulator has seen every response end, by completion or disconnect. */
const settled = (): Promise<void> => emulator.waitFor(() => emulator.openRequests === 0, 2000).catch(() => undefined);

/** Plays `endpoint` to a stock client, then (fresh attempt counter) to a fast one. */
async function both(
  endpoint: EmulatorEndpoint,
  config: Partial<SageMakerRuntimeClientConfig> = {},
  options: TraceOptions = {},
): Promise<Pair> {
  emulator.setEndpoint('ep', endpoint);
  emulator.clearRequests();
  const stock = await trace(clientFor(emulator, config), undefined, options);
  await settled();
  const stockRequests = [...emulator.requests];
  emulator.setEndpoint('ep', endpoint);
  emulator.clearRequests();
  const client: SageMakerRuntimeClient = clientFor(emulator, { ...config, ...FAST });
  const fast = await trace(client, undefined, options);
  await settled();
  const fastRequests = [...emulator.requests];
  return {
    stock,
    fast,
    stats: fastEventStreamStats(client),
    stockClosed: stockRequests.some((r) => r.clientClosed),
    fastClosed: fastRequests.some((r) => r.clientClosed),
  };
}

const parts = (t: Trace): string[] =>
  t.events.map((e) => (e['PayloadPart'] as { Bytes: { content: string } } | undefined)?.Bytes.content ?? '?');
const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const thrown = (t: Trace): Record<string, unknown> | undefined => (typeof t.end === 'object' ? t.end.threw : undefined);
const rejected = (t: Trace): Record<string, unknown> | undefined =>
  typeof t.send === 'object' && 'rejected' in t.send ? t.send.rejected : undefined;

describe('fast decoder vs stock SDK, emulator over loopback: payloads', () => {
  test('a few TGI parts give identical events, and all but the first (the self-check) are decoded by the fast path', async () => {
    const { stock, fast, stats } = await both({ parts: TOKENS.map(tgi) });
    expect(fast).toEqual(stock);
    expect(stock.end).toBe('complete');
    expect(parts(stock)).toEqual(TOKENS.map((t) => hex(tgi(t))));
    expect(stats).toMatchObject({ state: 'active', fastFrames: TOKENS.length - 1, sdkFrames: 1, sdkStreams: 0 });
  });

  test.each([1, 2, 3, 5, 7, 13, 64, 4096])('frames cut into HTTP writes of %i bytes give identical events', async (writeSize) => {
    const { stock, fast, stats } = await both({ parts: [...TOKENS.map(tgi), '', 'x'.repeat(700), 'é'], writeSize });
    expect(fast).toEqual(stock);
    expect(stock.events).toHaveLength(TOKENS.length + 3);
    expect(stats?.fastFrames).toBe(TOKENS.length + 2);
  });

  test('very large frames (1 MiB and 9 MiB, read in many socket chunks) give identical bytes', async () => {
    const big = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * seed + (i >> 7)) & 0xff);
    const { stock, fast, stats } = await both({ parts: ['head', big(1 << 20, 31), 'middle', big(9 << 20, 7), 'tail'] });
    expect(fast).toEqual(stock);
    expect(stock.events.map((e) => (e['PayloadPart'] as { Bytes: { length: number } }).Bytes.length)).toEqual([4, 1 << 20, 6, 9 << 20, 4]);
    expect(stats?.fastFrames).toBe(4);
  });

  test('5000 tiny frames (0 to 3 bytes each) give identical events', async () => {
    const tiny = Array.from({ length: 5000 }, (_, i) => 'abc'.slice(0, i % 4));
    const { stock, fast, stats } = await both({ parts: tiny });
    expect(fast).toEqual(stock);
    expect(stock.events).toHaveLength(5000);
    expect(stats?.fastFrames).toBe(4999);
  });

  test('an empty stream (200, then no frame) resolves and yields nothing on both', async () => {
    const { stock, fast, stats } = await both({ parts: [] });
    expect(fast).toEqual(stock);
    expect(stock).toMatchObject({ events: [], end: 'complete' });
    expect(stats).toMatchObject({ fastFrames: 0, sdkFrames: 0, state: 'checking' });
  });

  test('the response metadata from send() is identical', async () => {
    const { stock, fast } = await both({
      parts: ['a'],
      contentType: 'text/event-stream',
      invokedProductionVariant: 'v2',
      customAttributes: 'k=v',
    });
    expect(fast.send).toEqual(stock.send);
    expect(stock.send).toMatchObject({
      resolved: { ContentType: 'text/event-stream', InvokedProductionVariant: 'v2', CustomAttributes: 'k=v' },
    });
  });
});

describe('fast decoder vs stock SDK, emulator over loopback: every fault', () => {
  test.each([0, 1, 3])(
    'a ModelStreamError after %i parts: identical events and the same ModelStreamError (ErrorCode, $fault, message)',
    async (afterParts) => {
      const { stock, fast, stats } = await both({
        parts: TOKENS.map(tgi),
        fault: { type: 'model-stream-error', afterParts, errorCode: 'StreamBroken', message: 'The model stream broke' },
      });
      expect(fast).toEqual(stock);
      const error = afterParts === 0 ? rejected(stock) : thrown(stock);
      expect(error).toMatchObject({
        class: 'ModelStreamError',
        sdkServiceException: true,
        name: 'ModelStreamError',
        message: 'The model stream broke',
        fields: { $fault: 'client', ErrorCode: 'StreamBroken', Message: 'The model stream broke' },
      });
      expect(stock.events).toHaveLength(afterParts);
      expect(stats?.fastFrames).toBe(Math.max(0, afterParts - 1));
      expect(stats?.sdkFrames).toBe(afterParts === 0 ? 1 : 2);
    },
  );

  test.each([0, 2])('an InternalStreamFailure after %i parts: identical events and the same InternalStreamFailure', async (afterParts) => {
    const { stock, fast } = await both({ parts: TOKENS.map(tgi), fault: { type: 'internal-stream-failure', afterParts, message: 'Oops' } });
    expect(fast).toEqual(stock);
    expect(afterParts === 0 ? rejected(stock) : thrown(stock)).toMatchObject({
      class: 'InternalStreamFailure',
      message: 'Oops',
      fields: { $fault: 'server', Message: 'Oops' },
    });
  });

  test('a ModelStreamError after parts cut into 1-byte writes: identical', async () => {
    const { stock, fast, stats } = await both({
      parts: TOKENS.map(tgi),
      writeSize: 1,
      fault: { type: 'model-stream-error', afterParts: 4 },
    });
    expect(fast).toEqual(stock);
    expect(thrown(stock)).toMatchObject({ class: 'ModelStreamError', fields: { ErrorCode: 'ModelInvocationTimeExceeded' } });
    expect(stats?.fastFrames).toBe(3);
  });

  test('a connection reset mid-stream: identical events, then the same Error("aborted") with code ECONNRESET', async () => {
    const { stock, fast, stats } = await both({ parts: TOKENS.map(tgi), partDelayMs: 2, fault: { type: 'reset', afterParts: 3 } });
    expect(fast).toEqual(stock);
    expect(thrown(stock)).toMatchObject({ class: 'Error', message: 'aborted', fields: { code: 'ECONNRESET' } });
    expect(stats?.fastFrames).toBe(2);
  });

  test('a connection reset before the first part: send() is retried 3 times and rejects the same way on both', async () => {
    const { stock, fast } = await both({ parts: TOKENS.map(tgi), fault: { type: 'reset', afterParts: 0 } });
    expect(fast).toEqual(stock);
    // (Inside Jest's sandbox the SDK wraps Node's error: "AWS SDK error wrapper for Error: aborted".)
    expect(rejected(stock)).toMatchObject({ message: expect.stringContaining('aborted'), fields: { $metadata: { attempts: 3 } } });
  });

  test('a stall ended by the socket timeout: identical events, then the same TimeoutError', async () => {
    const { stock, fast, stats } = await both(
      { parts: TOKENS.map(tgi), fault: { type: 'stall', afterParts: 2 } },
      { requestHandler: { socketTimeout: 150 } },
    );
    expect(fast).toEqual(stock);
    expect(thrown(stock)).toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('timed out after 150 ms') });
    expect(stats?.fastFrames).toBe(1);
  });

  test.each([
    [{ type: 'model-error', originalStatusCode: 400, originalMessage: 'bad prompt' }],
    [{ type: 'validation', message: 'Bad input' }],
    [{ type: 'throttling' }],
    [{ type: 'model-not-ready' }],
    [{ type: 'internal-failure' }],
    [{ type: 'service-unavailable' }],
  ] as const)('a pre-stream %o answer: the same error on both', async (error) => {
    const { stock, fast } = await both({ error }, { maxAttempts: 1 });
    expect(fast).toEqual(stock);
    expect(rejected(stock)).toMatchObject({ sdkServiceException: true, fields: { $metadata: { attempts: 1 } } });
  });

  test('ServiceUnavailable twice, then a stream: the SDK retries and both end with identical events', async () => {
    const { stock, fast, stats } = await both([
      { error: { type: 'service-unavailable' } },
      { error: { type: 'service-unavailable' } },
      { parts: ['a', 'b', 'c'] },
    ]);
    expect(fast).toEqual(stock);
    expect(stock.send).toMatchObject({ resolved: { $metadata: { attempts: 3 } } });
    expect(stats?.fastFrames).toBe(2);
  });
});

describe('fast decoder vs stock SDK, emulator over loopback: abort', () => {
  test('aborting the signal mid-stream: identical events, the same Error("aborted"), and the server sees the disconnect on both', async () => {
    // Parts 20 ms apart: the abort after part 2 happens before part 3 is written, on both runs.
    const pair = await both({ parts: TOKENS.map(tgi), partDelayMs: 20 }, {}, { abortAfterEvents: 2 });
    expect(pair.fast).toEqual(pair.stock);
    expect(thrown(pair.stock)).toMatchObject({ class: 'Error', message: 'aborted', fields: { code: 'ECONNRESET' } });
    expect(pair.stock.events).toHaveLength(2);
    expect(pair.stockClosed).toBe(true);
    expect(pair.fastClosed).toBe(true);
    expect(pair.stats?.fastFrames).toBe(1);
  });

  test('aborting while send() waits for the first part: the same rejection on both, and the server sees the disconnect', async () => {
    const pair = await both({ parts: ['a'], fault: { type: 'stall', afterParts: 0 } }, {}, { abortAfterMs: 100 });
    expect(pair.fast).toEqual(pair.stock);
    expect(rejected(pair.stock)).toMatchObject({ message: expect.stringContaining('aborted'), fields: { $metadata: { attempts: 1 } } });
    expect(pair.stockClosed).toBe(true);
    expect(pair.fastClosed).toBe(true);
  });

  test('unsubscribing from invoke$ on a fast client closes the connection while the server stalls', async () => {
    emulator.setEndpoint('ep', { parts: [tgi('a'), tgi('b'), tgi('c')], fault: { type: 'stall', afterParts: 3 } });
    const client = clientFor(emulator, FAST);
    const out = await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(tokens(), take(3), toArray()));
    expect(out).toEqual(['a', 'b', 'c']);
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
    expect(fastEventStreamStats(client)?.fastFrames).toBe(2);
  });
});

describe('fast decoder vs stock SDK: invoke$ and tokens() on every container format', () => {
  /** What an rx-sagemaker subscriber sees, with the request id (random per request) masked. */
  const outcome = (r: { values: unknown[]; error?: unknown; completed: boolean }) => {
    const e = r.error;
    const error = SageMakerStreamError.isInstance(e)
      ? {
          kind: e.kind,
          errorCode: e.errorCode,
          statusCode: e.statusCode,
          retryable: e.retryable,
          afterFirstByte: e.afterFirstByte,
          message: e.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'ID'),
        }
      : e;
    return { values: r.values, completed: r.completed, error };
  };

  test.each(CONTAINER_FORMATS.map((f) => [f]))('%s, cut every 3 bytes, gives the same tokens and the same ending', async (format) => {
    emulator.setEndpoint('ep', { stream: { format, tokens: TOKENS, partSize: 3 } });
    const stock = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    const client = clientFor(emulator, FAST);
    const fast = await collect(invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    expect(outcome(fast)).toEqual(outcome(stock));
    expect(stock.values.join('')).toContain('日本');
    expect(fastEventStreamStats(client)?.fastFrames).toBeGreaterThan(0);
  });

  test('invoke$ maps a ModelStreamError from the fast client to the same SageMakerStreamError', async () => {
    const endpoint = { parts: TOKENS.map(tgi), fault: { type: 'model-stream-error' as const, afterParts: 2, errorCode: 'StreamBroken' } };
    emulator.setEndpoint('ep', endpoint);
    const stock = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    emulator.setEndpoint('ep', endpoint);
    const fast = await collect(invoke$(clientFor(emulator, FAST), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
    expect(outcome(fast)).toEqual(outcome(stock));
    expect(outcome(stock)).toMatchObject({ values: ['Hello', ','], error: { kind: 'model-stream', errorCode: 'StreamBroken' } });
  });
});
