import type { Agent } from 'node:http';
import { concatMap, from, lastValueFrom, Subject, takeUntil, toArray } from 'rxjs';
import {
  collectText,
  invoke$,
  invokeAll$,
  invokeHedge$,
  invokeRace$,
  SageMakerStreamError,
  socketLimitOf,
  tokens,
  type FanOutEvent,
  type InvokeInput,
  type SocketLimitWarning,
} from '../../src/index.js';
import { startEmulator, type Emulator, type EmulatorResponse, type RecordedRequest } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

const bodyOf = (req: RecordedRequest): { id: string } => JSON.parse(Buffer.from(req.body).toString('utf8')) as { id: string };
/** An endpoint that answers each request with tokens derived from its body, so results can be checked per key. */
const echo =
  (extra: Partial<EmulatorResponse> = {}) =>
  (req: RecordedRequest): EmulatorResponse => ({
    stream: { format: 'tgi-sse', tokens: ['<', bodyOf(req).id, ' 🦙', '>'] },
    partDelayMs: 2,
    ...extra,
  });
const tokensOf = <K>(events: readonly FanOutEvent<K, string>[], key: K): string =>
  events
    .filter((e) => e.type === 'value' && e.key === key)
    .map((e) => (e.type === 'value' ? e.value : ''))
    .join('');

async function agentOf(client: ReturnType<typeof clientFor>): Promise<Agent> {
  const handler = client.config.requestHandler as unknown as { configProvider: Promise<{ httpAgentProvider: () => Promise<Agent> }> };
  return (await handler.configProvider).httpAgentProvider();
}

describe('invokeAll$', () => {
  test('200 streams from one client: all complete with their own tokens, never more open than the bound, no socket left busy', async () => {
    emulator.setEndpoint('ep', echo());
    const client = clientFor(emulator);
    const inputs: InvokeInput[] = Array.from({ length: 200 }, (_, i) => ({ EndpointName: 'ep', Body: { id: `s${i}` } }));
    const events = await lastValueFrom(
      invokeAll$(client, inputs, { concurrency: 20, each: (bytes$) => bytes$.pipe(tokens()), onSocketLimit: false }).pipe(toArray()),
    );
    for (let i = 0; i < 200; i++) expect(tokensOf(events, i)).toBe(`<s${i} 🦙>`);
    expect(events.filter((e) => e.type === 'complete')).toHaveLength(200);
    expect(emulator.requests).toHaveLength(200);
    expect(emulator.maxOpenRequests).toBeLessThanOrEqual(20);
    expect(emulator.maxOpenRequests).toBeGreaterThan(1);
    expect(emulator.openRequests).toBe(0);
    const agent = await agentOf(client);
    const busy = Object.values(agent.sockets).reduce((n, list) => n + (list?.length ?? 0), 0);
    const idle = Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
    expect(busy).toBe(0);
    expect(idle).toBeLessThanOrEqual(20);
    expect(emulator.openConnections).toBeLessThanOrEqual(20);
  });

  test('tags values with record keys, and each stream may target a different endpoint', async () => {
    emulator.setEndpoint('llama', { stream: { format: 'tgi-sse', tokens: ['L1', 'L2'] } });
    emulator.setEndpoint('qwen', { stream: { format: 'openai-chat-sse', tokens: ['Q1', 'Q2'] } });
    const events = await lastValueFrom(
      invokeAll$(
        clientFor(emulator),
        { a: { EndpointName: 'llama', Body: {} }, b: { EndpointName: 'qwen', Body: {}, TargetVariant: 'v2' } },
        { each: (bytes$) => bytes$.pipe(tokens()) },
      ).pipe(toArray()),
    );
    expect(tokensOf(events, 'a')).toBe('L1L2');
    expect(tokensOf(events, 'b')).toBe('Q1Q2');
    expect(emulator.requests.find((r) => r.endpointName === 'qwen')?.headers['x-amzn-sagemaker-target-variant']).toBe('v2');
  });

  test('fail-fast: one endpoint failing mid-stream errors the whole fan-out and aborts the others', async () => {
    emulator.setEndpoint('ok', { stream: { format: 'tgi-sse', tokens: ['a', 'b', 'c'] }, fault: { type: 'stall', afterParts: 1 } });
    emulator.setEndpoint('bad', {
      stream: { format: 'tgi-sse', tokens: ['x', 'y', 'z'] },
      partDelayMs: 30,
      fault: { type: 'model-stream-error', afterParts: 2, errorCode: 'StreamBroken' },
    });
    const result = await collect(
      invokeAll$(
        clientFor(emulator),
        { ok1: { EndpointName: 'ok', Body: {} }, bad: { EndpointName: 'bad', Body: {} }, ok2: { EndpointName: 'ok', Body: {} } },
        {
          each: (bytes$) => bytes$.pipe(tokens()),
        },
      ),
    );
    expect(SageMakerStreamError.isInstance(result.error)).toBe(true);
    expect(result.error).toMatchObject({ kind: 'model-stream', errorCode: 'StreamBroken' });
    expect(tokensOf(result.values as FanOutEvent<string, string>[], 'bad')).toBe('xy');
    const okRequests = emulator.requests.filter((r) => r.endpointName === 'ok');
    expect(okRequests).toHaveLength(2);
    await emulator.waitFor(() => okRequests.every((r) => r.clientClosed), 2000);
  });

  test('isolate: a stream failing mid-stream becomes a tagged error and the others complete', async () => {
    emulator.setEndpoint('ok', { stream: { format: 'lmi-jsonlines', tokens: ['a', 'b', 'c'] }, partDelayMs: 10 });
    emulator.setEndpoint('bad', {
      stream: { format: 'tgi-sse', tokens: ['x', 'y', 'z'] },
      fault: { type: 'internal-stream-failure', afterParts: 2 },
    });
    const events = await lastValueFrom(
      invokeAll$(
        clientFor(emulator),
        [
          { EndpointName: 'ok', Body: {} },
          { EndpointName: 'bad', Body: {} },
          { EndpointName: 'ok', Body: {} },
        ],
        {
          each: (bytes$) => bytes$.pipe(tokens()),
          failurePolicy: 'isolate',
        },
      ).pipe(toArray()),
    );
    expect(tokensOf(events, 0)).toBe('abc');
    expect(tokensOf(events, 1)).toBe('xy');
    expect(tokensOf(events, 2)).toBe('abc');
    const ends = events.filter((e) => e.type !== 'value');
    expect(ends).toEqual(
      expect.arrayContaining([
        { type: 'complete', key: 0 },
        { type: 'complete', key: 2 },
        { type: 'error', key: 1, error: expect.objectContaining({ kind: 'internal-stream-failure' }) },
      ]),
    );
    expect(ends).toHaveLength(3);
  });

  test('unsubscribing from the fan-out aborts every open stream', async () => {
    emulator.setEndpoint('ep', { parts: ['data:{"token":{"text":"a","special":false}}\n\n'], fault: { type: 'stall', afterParts: 1 } });
    const stop = new Subject<void>();
    const seen: unknown[] = [];
    invokeAll$(
      clientFor(emulator),
      Array.from({ length: 5 }, () => ({ EndpointName: 'ep', Body: {} })),
      { concurrency: 5 },
    )
      .pipe(takeUntil(stop))
      .subscribe((e) => seen.push(e));
    await emulator.waitFor(() => emulator.requests.length === 5 && emulator.requests.every((r) => r.partsSent === 1));
    await emulator.waitFor(() => seen.length === 5);
    stop.next();
    await emulator.waitFor(() => emulator.requests.every((r) => r.clientClosed), 2000);
    expect(emulator.openRequests).toBe(0);
  });

  test('warns once per client when the concurrency exceeds its socket limit, through the hook', async () => {
    emulator.setEndpoint('ep', { parts: ['x'] });
    const client = clientFor(emulator, { requestHandler: { httpAgent: { maxSockets: 4 } } });
    expect(await socketLimitOf(client)).toBe(4);
    const warnings: SocketLimitWarning[] = [];
    const inputs = Array.from({ length: 10 }, () => ({ EndpointName: 'ep', Body: {} }));
    await lastValueFrom(invokeAll$(client, inputs, { concurrency: 10, onSocketLimit: (w) => warnings.push(w) }).pipe(toArray()));
    await lastValueFrom(invokeAll$(client, inputs, { concurrency: 10, onSocketLimit: (w) => warnings.push(w) }).pipe(toArray()));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ concurrency: 10, maxSockets: 4 });
    expect(warnings[0]?.message).toContain('maxSockets');
  });

  test('does not warn within the socket limit, and onSocketLimit: false silences console.warn', async () => {
    emulator.setEndpoint('ep', { parts: ['x'] });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const small = clientFor(emulator, { requestHandler: { httpAgent: { maxSockets: 4 } } });
      const inputs = Array.from({ length: 10 }, () => ({ EndpointName: 'ep', Body: {} }));
      await lastValueFrom(invokeAll$(small, inputs, { concurrency: 10, onSocketLimit: false }).pipe(toArray()));
      await lastValueFrom(invokeAll$(clientFor(emulator), inputs, { concurrency: 10 }).pipe(toArray()));
      const noisy = clientFor(emulator, { requestHandler: { httpAgent: { maxSockets: 2 } } });
      await lastValueFrom(invokeAll$(noisy, inputs, { concurrency: 3 }).pipe(toArray()));
      await new Promise((r) => setTimeout(r, 20));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('allows 2 sockets');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('invokeRace$', () => {
  test('keeps the first stream to produce a byte, aborts the others at once, and delivers the winner complete', async () => {
    emulator.setEndpoint('slow', { stream: { format: 'tgi-sse', tokens: ['s1', 's2'] }, firstPartDelayMs: 2000 });
    emulator.setEndpoint('fast', { stream: { format: 'tgi-sse', tokens: ['f1', ' 日本', ' 🦙'] }, firstPartDelayMs: 30, partDelayMs: 5 });
    const out = await lastValueFrom(
      invokeRace$(
        clientFor(emulator),
        { slow: { EndpointName: 'slow', Body: {} }, fast: { EndpointName: 'fast', Body: {} } },
        {
          each: (bytes$) => bytes$.pipe(tokens()),
        },
      ).pipe(toArray()),
    );
    expect(out).toEqual([
      { type: 'value', key: 'fast', value: 'f1' },
      { type: 'value', key: 'fast', value: ' 日本' },
      { type: 'value', key: 'fast', value: ' 🦙' },
    ]);
    const slow = emulator.requests.find((r) => r.endpointName === 'slow');
    await emulator.waitFor(() => slow?.clientClosed === true, 2000);
    expect(slow?.partsSent).toBe(0);
  });

  test('a racer that fails before anyone wins drops out; if all fail, the first error is reported', async () => {
    emulator.setEndpoint('bad', { error: { type: 'validation' } });
    emulator.setEndpoint('good', { stream: { format: 'tgi-sse', tokens: ['ok'] }, firstPartDelayMs: 50 });
    const out = await lastValueFrom(
      invokeRace$(clientFor(emulator), [
        { EndpointName: 'bad', Body: {} },
        { EndpointName: 'good', Body: {} },
      ]).pipe(toArray()),
    );
    expect(out.every((v) => v.key === 1)).toBe(true);
    const all = await collect(
      invokeRace$(clientFor(emulator), [
        { EndpointName: 'bad', Body: {} },
        { EndpointName: 'bad', Body: {} },
      ]),
    );
    expect(all.error).toMatchObject({ kind: 'validation' });
  });
});

describe('invokeHedge$', () => {
  test('starts the backup after the delay when the primary is silent, keeps the backup and aborts the primary', async () => {
    emulator.setEndpoint('primary', { fault: { type: 'stall', afterParts: 0 } });
    emulator.setEndpoint('backup', { stream: { format: 'openai-chat-sse', tokens: ['b1', 'b2'] } });
    const started = performance.now();
    const out = await lastValueFrom(
      invokeHedge$(
        clientFor(emulator),
        { primary: { EndpointName: 'primary', Body: {} }, backup: { EndpointName: 'backup', Body: {} } },
        {
          delay: 100,
          each: (bytes$) => bytes$.pipe(tokens()),
        },
      ).pipe(toArray()),
    );
    expect(out.map((v) => `${v.key}:${v.value}`)).toEqual(['backup:b1', 'backup:b2']);
    const backup = emulator.requests.find((r) => r.endpointName === 'backup');
    const primary = emulator.requests.find((r) => r.endpointName === 'primary');
    expect((backup?.receivedAt ?? 0) - (primary?.receivedAt ?? 0)).toBeGreaterThanOrEqual(90);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    await emulator.waitFor(() => primary?.clientClosed === true, 2000);
  });

  test('never starts the backup when the primary answers within the delay', async () => {
    emulator.setEndpoint('primary', { stream: { format: 'tgi-sse', tokens: ['p1', 'p2'] }, partDelayMs: 100 });
    emulator.setEndpoint('backup', { stream: { format: 'tgi-sse', tokens: ['b1'] } });
    const out = await lastValueFrom(
      invokeHedge$(
        clientFor(emulator),
        [
          { EndpointName: 'primary', Body: {} },
          { EndpointName: 'backup', Body: {} },
        ],
        {
          delay: 1000,
          each: (bytes$) => bytes$.pipe(tokens()),
        },
      ).pipe(toArray()),
    );
    expect(out.map((v) => v.value)).toEqual(['p1', 'p2']);
    await new Promise((r) => setTimeout(r, 20));
    expect(emulator.requests.map((r) => r.endpointName)).toEqual(['primary']);
  });

  test('a primary that fails before any byte starts the backup at once, without waiting for the delay', async () => {
    emulator.setEndpoint('primary', { error: { type: 'model-error' } });
    emulator.setEndpoint('backup', { stream: { format: 'tgi-sse', tokens: ['b'] } });
    const started = performance.now();
    const out = await lastValueFrom(
      invokeHedge$(
        clientFor(emulator),
        [
          { EndpointName: 'primary', Body: {} },
          { EndpointName: 'backup', Body: {} },
        ],
        { delay: 5000 },
      ).pipe(toArray()),
    );
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((v) => v.key === 1)).toBe(true);
    expect(performance.now() - started).toBeLessThan(4000);
  });
});

describe('stateful sessions', () => {
  test('several turns stream in order with the same SessionId, each request carrying it', async () => {
    const turns = new Map<string, number>();
    emulator.setEndpoint('chat', (req) => {
      const session = String(req.headers['x-amzn-sagemaker-session-id']);
      const turn = (turns.get(session) ?? 0) + 1;
      turns.set(session, turn);
      return { stream: { format: 'openai-chat-sse', tokens: [`turn ${turn}`, ` of ${session}`] } };
    });
    const client = clientFor(emulator);
    const prompts = ['Hi', 'And then?', 'Thanks'];
    const answers = await lastValueFrom(
      from(prompts).pipe(
        concatMap((content) =>
          invoke$(client, {
            EndpointName: 'chat',
            SessionId: 'sess-42',
            Body: { messages: [{ role: 'user', content }], stream: true },
          }).pipe(tokens(), collectText()),
        ),
        toArray(),
      ),
    );
    expect(answers).toEqual(['turn 1 of sess-42', 'turn 2 of sess-42', 'turn 3 of sess-42']);
    expect(emulator.requests.map((r) => r.headers['x-amzn-sagemaker-session-id'])).toEqual(['sess-42', 'sess-42', 'sess-42']);
  });
});
