// Fault matrix (issue 8, part 2): the real SDK client against the emulator, with a fault injected
// after every part k of a stream. The promise: the tokens of the parts before k all arrive, then
// exactly one typed error of the right kind, and the request is released; with
// retryOnStreamFailure() and a retryable fault before any output, the whole output exactly once.
//
// The matrix client has `maxAttempts: 1`: the SDK itself retries a reset before the first event
// (sdk-facts §5), which would make the request count depend on the SDK, not on us. The last two
// tests show that SDK retry on its own, with default clients.
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { lastValueFrom, type Observable } from 'rxjs';
import {
  invoke$,
  retryOnStreamFailure,
  SageMakerStreamError,
  tokens,
  type InvokeConfig,
  type SageMakerStreamErrorKind,
} from '../../src/index.js';
import {
  renderStream,
  splitBytes,
  startEmulator,
  type Emulator,
  type EmulatorFault,
  type EmulatorResponse,
} from '../../src/testing/index.js';
import { clientFor } from '../support/client.js';

let emulator: Emulator;
/** One client for the matrix (`maxAttempts: 1`: no SDK retry quota is involved), warmed up once. */
let client: SageMakerRuntimeClient;
beforeAll(async () => {
  emulator = await startEmulator({ endpoints: { warm: { parts: ['x'] } } });
  client = clientFor(emulator, { maxAttempts: 1 });
  // The first request of a process loads the SDK's lazy parts (~80 ms under jest): not inside a
  // timed test with a 100 ms idleTimeout.
  await lastValueFrom(invoke$(client, { EndpointName: 'warm', Body: {} }));
});
afterAll(async () => {
  client.destroy();
  await emulator.close();
});
beforeEach(() => {
  emulator.clearRequests();
});

const TOKENS = ['Hello', ' 日本', ' 🦙', ' é', '!', ' ok'];
/** TGI generate_stream: one event (one part) per token, the last one with generated_text. */
const TGI_PARTS = renderStream('tgi-sse', TOKENS).events;

type FaultType = EmulatorFault['type'];

interface FaultCase {
  readonly name: string;
  readonly type: FaultType;
  readonly kind: SageMakerStreamErrorKind;
  readonly invoke: InvokeConfig;
}

const STALL_MS = 100;
const FAULTS: readonly FaultCase[] = [
  { name: 'ModelStreamError', type: 'model-stream-error', kind: 'model-stream', invoke: {} },
  { name: 'InternalStreamFailure', type: 'internal-stream-failure', kind: 'internal-stream-failure', invoke: {} },
  { name: 'a socket reset', type: 'reset', kind: 'network', invoke: {} },
  { name: 'a stall, ended by idleTimeout', type: 'stall', kind: 'timeout', invoke: { idleTimeout: STALL_MS } },
  {
    name: 'a stall, ended by firstByteTimeout or idleTimeout',
    type: 'stall',
    kind: 'timeout',
    invoke: { firstByteTimeout: STALL_MS, idleTimeout: STALL_MS },
  },
];

function fault(type: FaultType, afterParts: number): EmulatorFault {
  return type === 'model-stream-error'
    ? { type, afterParts, errorCode: 'StreamBroken', message: 'The stream broke' }
    : { type, afterParts };
}

type Notification = { next: string } | { error: unknown } | 'complete';

/** Every notification of an Observable, in order, until it ends (and one macrotask after). */
function notifications(source: Observable<string>): Promise<Notification[]> {
  return new Promise((resolve) => {
    const seen: Notification[] = [];
    const settle = (): void => {
      setImmediate(() => resolve(seen));
    };
    source.subscribe({
      next: (v) => seen.push({ next: v }),
      error: (error: unknown) => {
        seen.push({ error });
        settle();
      },
      complete: () => {
        seen.push('complete');
        settle();
      },
    });
  });
}

/** The notifications, with the error reduced to what the matrix asserts. */
function summary(seen: readonly Notification[]): unknown[] {
  return seen.map((n) => {
    if (n === 'complete' || 'next' in n) return n;
    const e = n.error;
    if (!SageMakerStreamError.isInstance(e)) return { error: 'not a SageMakerStreamError', value: e };
    return { error: e.kind, afterFirstByte: e.afterFirstByte, endpointName: e.endpointName };
  });
}

const nexts = (list: readonly string[]): Notification[] => list.map((next) => ({ next }));

/** Waits until the emulator has no response running and every request has ended. */
async function released(): Promise<void> {
  await emulator.waitFor(() => emulator.openRequests === 0 && emulator.requests.every((r) => r.outcome !== 'running'), 3000);
}

describe.each(FAULTS.map((f) => [f.name, f] as const))('fault matrix: %s after part k of a 6-token stream', (_name, f) => {
  test.each([0, 1, 2, 3, 4, 5, 6])(
    'k = %i: the tokens of the parts before k, then exactly one typed error, and the request is released',
    async (k) => {
      const ep = `m-${f.type}-${k}`;
      emulator.setEndpoint(ep, { parts: TGI_PARTS, fault: fault(f.type, k) });
      const seen = await notifications(invoke$(client, { EndpointName: ep, Body: { inputs: 'hi' } }, f.invoke).pipe(tokens()));
      expect(summary(seen)).toEqual([...nexts(TOKENS.slice(0, k)), { error: f.kind, afterFirstByte: k > 0, endpointName: ep }]);
      const error = (seen[seen.length - 1] as { error: SageMakerStreamError }).error;
      if (f.type === 'model-stream-error') expect(error.errorCode).toBe('StreamBroken');
      if (f.type === 'stall')
        expect(error.message).toContain(k === 0 && f.invoke.firstByteTimeout !== undefined ? 'firstByteTimeout' : 'idleTimeout');
      await released();
      expect(emulator.requests).toHaveLength(1);
      // A stall is ended by the client (the timeout aborts the request); the others by the server.
      expect(emulator.requests[0]?.outcome).toBe(f.type === 'stall' ? 'client-closed' : 'fault');
    },
  );
});

describe('fault matrix at byte level: the stream cut every 9 bytes, a fault after every part', () => {
  // Compact events, so that the 9-byte cuts fall everywhere: inside `data:`, inside a JSON
  // string, inside a multi-byte character, between the two newlines.
  const event = (t: string): string => `data:${JSON.stringify({ token: { text: t, special: false } })}\n\n`;
  const body = TOKENS.map(event).join('');
  const bytes = new TextEncoder().encode(body);
  const parts = splitBytes(bytes, 9);
  /** Token i is complete once the bytes up to the end of its JSON have arrived. */
  const jsonEnds = TOKENS.map(
    (_, i) =>
      new TextEncoder().encode(
        TOKENS.slice(0, i + 1)
          .map(event)
          .join(''),
      ).length - 2,
  );
  const tokensAfter = (k: number): string[] => TOKENS.filter((_, i) => (jsonEnds[i] ?? Infinity) <= Math.min(k * 9, bytes.length));

  test.each(FAULTS.slice(0, 4).map((f) => [f.name, f] as const))(
    '%s: every token whose bytes arrived complete, then exactly one typed error',
    async (_name, f) => {
      const actual: Record<number, unknown[]> = {};
      const wanted: Record<number, unknown[]> = {};
      for (let k = 0; k <= parts.length; k++) {
        const ep = `b-${f.type}-${k}`;
        emulator.setEndpoint(ep, { parts, fault: fault(f.type, k) });
        actual[k] = summary(await notifications(invoke$(client, { EndpointName: ep, Body: {} }, f.invoke).pipe(tokens())));
        wanted[k] = [...nexts(tokensAfter(k)), { error: f.kind, afterFirstByte: k > 0, endpointName: ep }];
      }
      expect(actual).toEqual(wanted);
      await released();
      expect(emulator.requests).toHaveLength(parts.length + 1);
    },
  );
});

describe('fault matrix at byte level for JSON values written back to back (Bedrock Titan style, no newline)', () => {
  const events = renderStream('bedrock-titan', TOKENS).events; // one JSON object per token
  const body = events.join('');
  const bytes = new TextEncoder().encode(body);
  const parts = splitBytes(bytes, 9);
  /** Token i is complete once the bytes up to its closing brace have arrived. */
  const valueEnds = TOKENS.map((_, i) => new TextEncoder().encode(events.slice(0, i + 1).join('')).length);
  const tokensAfter = (k: number): string[] => TOKENS.filter((_, i) => (valueEnds[i] ?? Infinity) <= Math.min(k * 9, bytes.length));

  test('InternalStreamFailure after every part: every token whose value arrived complete, then exactly one typed error', async () => {
    const actual: Record<number, unknown[]> = {};
    const wanted: Record<number, unknown[]> = {};
    for (let k = 0; k <= parts.length; k++) {
      const ep = `titan-${k}`;
      emulator.setEndpoint(ep, { parts, fault: fault('internal-stream-failure', k), contentType: 'application/json' });
      actual[k] = summary(await notifications(invoke$(client, { EndpointName: ep, Body: {} }).pipe(tokens())));
      wanted[k] = [...nexts(tokensAfter(k)), { error: 'internal-stream-failure', afterFirstByte: k > 0, endpointName: ep }];
    }
    expect(actual).toEqual(wanted);
  });
});

describe('fault matrix with retryOnStreamFailure()', () => {
  // A keep-alive comment and vLLM's role chunk carry no token: parts 0 and 1. Tokens are in
  // parts 2..7, then the finishing chunk and [DONE].
  const PARTS = [':\n\n', ...renderStream('openai-chat-sse', TOKENS).events];
  const FIRST_TOKEN_PART = 2;
  const tokensBefore = (k: number): string[] => TOKENS.slice(0, Math.max(0, Math.min(k - FIRST_TOKEN_PART, TOKENS.length)));
  const ks = Array.from({ length: PARTS.length + 1 }, (_, k) => k);
  const RETRYABLE: readonly FaultType[] = ['internal-stream-failure', 'reset'];

  async function play(
    f: FaultCase,
    k: number,
    placement: 'after tokens()' | 'before tokens()',
  ): Promise<{ seen: unknown[]; requests: number }> {
    const ep = `r-${f.type}-${k}-${placement === 'after tokens()' ? 'a' : 'b'}`;
    const faulty: EmulatorResponse = { parts: PARTS, fault: fault(f.type, k) };
    emulator.setEndpoint(ep, [faulty, { parts: PARTS }]);
    emulator.clearRequests();
    const bytes$ = invoke$(client, { EndpointName: ep, Body: {} }, f.invoke);
    const out$ =
      placement === 'after tokens()'
        ? bytes$.pipe(tokens(), retryOnStreamFailure({ count: 2, delay: 1 }))
        : bytes$.pipe(retryOnStreamFailure<Uint8Array>({ count: 2, delay: 1 }), tokens());
    const seen = summary(await notifications(out$));
    await released();
    return { seen, requests: emulator.requests.length };
  }

  test.each(FAULTS.slice(0, 4).map((f) => [f.name, f] as const))(
    'placed after tokens(), %s at every k: retried only while no token was emitted, so output is complete exactly once or ends with the error',
    async (_name, f) => {
      const actual: Record<number, unknown> = {};
      const wanted: Record<number, unknown> = {};
      for (const k of ks) {
        actual[k] = await play(f, k, 'after tokens()');
        const retried = RETRYABLE.includes(f.type) && k <= FIRST_TOKEN_PART;
        wanted[k] = retried
          ? { seen: [...nexts(TOKENS), 'complete'], requests: 2 }
          : {
              seen: [...nexts(tokensBefore(k)), { error: f.kind, afterFirstByte: k > 0, endpointName: `r-${f.type}-${k}-a` }],
              requests: 1,
            };
      }
      expect(actual).toEqual(wanted);
    },
  );

  test.each(FAULTS.slice(0, 4).map((f) => [f.name, f] as const))(
    'placed before tokens(), %s at every k: retried only before the first byte',
    async (_name, f) => {
      const actual: Record<number, unknown> = {};
      const wanted: Record<number, unknown> = {};
      for (const k of ks) {
        actual[k] = await play(f, k, 'before tokens()');
        const retried = RETRYABLE.includes(f.type) && k === 0;
        wanted[k] = retried
          ? { seen: [...nexts(TOKENS), 'complete'], requests: 2 }
          : {
              seen: [...nexts(tokensBefore(k)), { error: f.kind, afterFirstByte: k > 0, endpointName: `r-${f.type}-${k}-b` }],
              requests: 1,
            };
      }
      expect(actual).toEqual(wanted);
    },
  );
});

describe('the SDK’s own retry before the first event', () => {
  test('with the default client (maxAttempts 3), a reset before the first part is retried by the SDK and the output arrives exactly once', async () => {
    emulator.setEndpoint('sdk-retry', [{ parts: TGI_PARTS, fault: { type: 'reset', afterParts: 0 } }, { parts: TGI_PARTS }]);
    const seen = await notifications(invoke$(clientFor(emulator), { EndpointName: 'sdk-retry', Body: {} }).pipe(tokens()));
    expect(summary(seen)).toEqual([...nexts(TOKENS), 'complete']);
    expect(emulator.requests).toHaveLength(2);
  });

  test('with the default client, a reset before the first part on every attempt gives 3 requests and exactly one network error', async () => {
    emulator.setEndpoint('sdk-retry-all', { parts: TGI_PARTS, fault: { type: 'reset', afterParts: 0 } });
    const seen = await notifications(invoke$(clientFor(emulator), { EndpointName: 'sdk-retry-all', Body: {} }).pipe(tokens()));
    expect(summary(seen)).toEqual([{ error: 'network', afterFirstByte: false, endpointName: 'sdk-retry-all' }]);
    await released();
    expect(emulator.requests).toHaveLength(3);
  });
});
