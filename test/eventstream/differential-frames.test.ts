// Differential suite, part 2: hand-made and hand-corrupted frames. The same bytes go to a stock
// SageMakerRuntimeClient and to one with the fast decoder, (a) from a raw HTTP server on loopback
// that writes exactly those bytes, and (b) through clients whose HTTP exchange is answered from
// memory, which lets the tests choose every chunk boundary: one chunk, one byte per chunk, every
// two-chunk split, and random splits of random streams (fast-check). Traces must be identical.
import * as fc from 'fast-check';
import type { SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { fastEventStreamStats } from '../../src/eventstream/index.js';
import {
  clientAt,
  corrupt,
  errorFrame,
  eventFrame,
  exceptionFrame,
  FAST,
  header,
  memoryClient,
  PAYLOAD_PART_HEADERS,
  payloadFrame,
  rawFrame,
  splitAt,
  startRawServer,
  trace,
  type MemoryBody,
  type RawServer,
  type Trace,
} from './support.js';

const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
const A = payloadFrame('first part');
const B = payloadFrame('second part, with 日本 and 🦙');
const C = payloadFrame('third');
const LARGE = payloadFrame('x'.repeat(3000)); // over the size where the native CRC is used
const EMPTY = payloadFrame('');

const endMessage = (t: Trace): string | undefined =>
  typeof t.end === 'object' ? String((t.end.threw as { message?: unknown }).message) : undefined;

/** What the stock client must show for a scenario, so that each scenario tests what it says. */
interface Expect {
  readonly events: number;
  readonly end: 'complete' | RegExp;
}

interface Scenario {
  readonly name: string;
  readonly frames: readonly Uint8Array[];
  readonly expect: Expect;
}

const bad = {
  messageCrc: corrupt(C, C.length - 10), // a payload byte changed
  largeMessageCrc: corrupt(LARGE, 1500),
  messageCrcField: corrupt(C, C.length - 1),
  preludeCrc: corrupt(C, 9),
  headerByte: corrupt(C, 14),
  headersLengthTooLarge: rawFrame(PAYLOAD_PART_HEADERS, 'abc', { headersLength: 500 }),
  totalLengthTooLarge: rawFrame(PAYLOAD_PART_HEADERS, 'abc', { totalLength: 16 + PAYLOAD_PART_HEADERS.length + 3 + 10 }),
};

const tooShort = (total: number): Buffer => {
  const b = Buffer.alloc(Math.max(total, 4));
  b.writeUInt32BE(total, 0);
  return b;
};

const SCENARIOS: readonly Scenario[] = [
  { name: 'three good PayloadParts', frames: [A, B, C], expect: { events: 3, end: 'complete' } },
  { name: 'an empty payload and a 3000-byte payload', frames: [A, EMPTY, LARGE, B], expect: { events: 4, end: 'complete' } },
  {
    name: 'a payload byte changed (bad message checksum)',
    frames: [A, B, bad.messageCrc, C],
    expect: { events: 2, end: /^The message checksum \(\d+\) did not match the expected value of \d+$/ },
  },
  { name: 'a byte changed in a 3000-byte payload', frames: [A, B, bad.largeMessageCrc], expect: { events: 2, end: /message checksum/ } },
  { name: 'the message checksum field changed', frames: [A, B, bad.messageCrcField], expect: { events: 2, end: /message checksum/ } },
  {
    name: 'the prelude checksum changed',
    frames: [A, B, bad.preludeCrc],
    expect: {
      events: 2,
      end: /^The prelude checksum specified in the message \(\d+\) does not match the calculated CRC32 checksum \(\d+\)$/,
    },
  },
  { name: 'a header byte changed', frames: [A, B, bad.headerByte], expect: { events: 2, end: /message checksum/ } },
  { name: 'headers_len larger than the frame', frames: [A, B, bad.headersLengthTooLarge, C], expect: { events: 2, end: /./ } },
  {
    name: 'total_len 10 bytes too large (swallows the next frame)',
    frames: [A, B, bad.totalLengthTooLarge, C, C],
    expect: { events: 2, end: /checksum/ },
  },
  ...[0, 3, 4, 8, 15].map((total): Scenario => ({
    name: `a frame with total_len ${total}`,
    frames: [A, B, tooShort(total), C],
    expect: { events: 2, end: /./ },
  })),
  {
    name: 'a frame declaring 2 GiB, then the body ends',
    frames: [A, B, Buffer.from([0x7f, 0xff, 0xff, 0xf0]), C],
    expect: { events: 2, end: /^Truncated event message received\.$/ },
  },
  {
    name: 'the body ends in the middle of a frame',
    frames: [A, B, C.subarray(0, 20)],
    expect: { events: 2, end: /^Truncated event message received\.$/ },
  },
  {
    name: 'the body ends after exactly 4 bytes of a frame',
    frames: [A, B, C.subarray(0, 4)],
    expect: { events: 2, end: /^Truncated event message received\.$/ },
  },
  ...[1, 2, 3].map((n): Scenario => ({
    name: `the body ends after ${n} byte(s) of a frame (the SDK ends silently)`,
    frames: [A, B, C.subarray(0, n)],
    expect: { events: 2, end: 'complete' },
  })),
  {
    name: 'an unknown event type between parts (skipped)',
    frames: [A, eventFrame('FutureEvent', '{"x":1}'), B],
    expect: { events: 2, end: 'complete' },
  },
  {
    name: 'a ModelStreamError framed as an event (yielded)',
    frames: [A, B, eventFrame('ModelStreamError', '{"Message":"m","ErrorCode":"E"}'), C],
    expect: { events: 4, end: 'complete' },
  },
  { name: 'an error frame', frames: [A, B, errorFrame('SomeCode', 'Something failed')], expect: { events: 2, end: /^Something failed$/ } },
  { name: 'an unmodelled exception', frames: [A, B, exceptionFrame('NewFailure', 'raw text')], expect: { events: 2, end: /^raw text$/ } },
  {
    name: 'a ModelStreamError exception',
    frames: [A, B, exceptionFrame('ModelStreamError', { Message: 'Model stopped', ErrorCode: 'StreamBroken' })],
    expect: { events: 2, end: /^Model stopped$/ },
  },
  {
    name: 'an InternalStreamFailure exception',
    frames: [A, B, exceptionFrame('InternalStreamFailure', { Message: 'Internal' })],
    expect: { events: 2, end: /^Internal$/ },
  },
  {
    name: 'a PayloadPart with an extra string header',
    frames: [A, B, rawFrame(cat(PAYLOAD_PART_HEADERS, header('x-extra', 7, 'v')), 'payload'), C],
    expect: { events: 4, end: 'complete' },
  },
  {
    name: 'a PayloadPart with a timestamp header',
    frames: [A, B, rawFrame(cat(header(':date', 8, Buffer.alloc(8, 1)), PAYLOAD_PART_HEADERS), 'payload'), C],
    expect: { events: 4, end: 'complete' },
  },
  {
    name: 'a PayloadPart without :content-type',
    frames: [A, B, rawFrame(cat(header(':event-type', 7, 'PayloadPart'), header(':message-type', 7, 'event')), 'payload'), C],
    expect: { events: 4, end: 'complete' },
  },
  {
    name: 'a PayloadPart without :message-type',
    frames: [
      A,
      B,
      rawFrame(cat(header(':event-type', 7, 'PayloadPart'), header(':content-type', 7, 'application/octet-stream')), 'payload'),
      C,
    ],
    expect: { events: 2, end: /./ },
  },
  {
    name: 'a PayloadPart whose :event-type is binary, not a string',
    frames: [A, B, rawFrame(cat(header(':event-type', 6, 'PayloadPart'), header(':message-type', 7, 'event')), 'payload'), C],
    expect: { events: 3, end: 'complete' },
  },
  {
    name: ':event-type PayloadPart, then :event-type Other (the last one counts)',
    frames: [
      A,
      B,
      rawFrame(
        cat(header(':event-type', 7, 'PayloadPart'), header(':message-type', 7, 'event'), header(':event-type', 7, 'Other')),
        'payload',
      ),
      C,
    ],
    expect: { events: 3, end: 'complete' },
  },
  {
    name: ':event-type Other, then :event-type PayloadPart (the last one counts)',
    frames: [
      A,
      B,
      rawFrame(
        cat(header(':event-type', 7, 'Other'), header(':message-type', 7, 'event'), header(':event-type', 7, 'PayloadPart')),
        'payload',
      ),
      C,
    ],
    expect: { events: 4, end: 'complete' },
  },
  {
    name: 'a header value running past the header block',
    frames: [A, B, rawFrame(cat(PAYLOAD_PART_HEADERS, Buffer.from([1, 0x78, 7, 0, 9, 0x41])), 'payloadxx'), C],
    expect: { events: 4, end: 'complete' },
  },
  {
    name: 'a header with an unknown type tag',
    frames: [A, B, rawFrame(cat(PAYLOAD_PART_HEADERS, Buffer.from([1, 0x78, 10])), 'payload')],
    expect: { events: 2, end: /^Unrecognized header type tag$/ },
  },
  {
    name: 'a header with an empty name',
    frames: [A, B, rawFrame(cat(PAYLOAD_PART_HEADERS, header('', 7, 'v')), 'payload'), C],
    expect: { events: 4, end: 'complete' },
  },
  {
    name: ':message-type exception with :event-type PayloadPart',
    frames: [A, B, rawFrame(cat(header(':event-type', 7, 'PayloadPart'), header(':message-type', 7, 'exception')), 'payload')],
    expect: { events: 2, end: /./ },
  },
];

function checkExpectation(stock: Trace, expected: Expect): void {
  expect(stock.events.length).toBe(expected.events);
  if (expected.end === 'complete') expect(stock.end).toBe('complete');
  else expect(endMessage(stock) ?? '(no error)').toMatch(expected.end);
}

/** The body as memory chunks, read by a stock and by a fast client. */
async function inMemory(chunks: readonly Uint8Array[], extra: Partial<SageMakerRuntimeClientConfig> = {}) {
  const body = (): MemoryBody => ({ chunks });
  const stock = await trace(memoryClient(body, extra));
  const client = memoryClient(body, { ...extra, ...FAST });
  const fast = await trace(client);
  return { stock, fast, stats: fastEventStreamStats(client) };
}

describe('fast decoder vs stock SDK: hand-made frames from a raw server on loopback', () => {
  let server: RawServer;
  beforeAll(async () => {
    server = await startRawServer();
  });
  afterAll(async () => {
    await server.close();
  });

  test.each(SCENARIOS.map((s) => [s.name, s]))('%s: identical traces', async (_name, scenario) => {
    server.play({ writes: scenario.frames });
    const stock = await trace(clientAt(server.url));
    server.play({ writes: scenario.frames });
    const client = clientAt(server.url, FAST);
    const fast = await trace(client);
    expect(fast).toEqual(stock);
    checkExpectation(stock, scenario.expect);
    // A and B come first: A is the self-check, B takes the fast path.
    expect(fastEventStreamStats(client)?.fastFrames).toBeGreaterThanOrEqual(1);
  });

  test('the connection cut inside a frame: identical traces (Node\'s "aborted", not a truncation)', async () => {
    const plan = { writes: [A, B, C.subarray(0, 20)], then: 'destroy' as const };
    server.play(plan);
    const stock = await trace(clientAt(server.url));
    server.play(plan);
    const fast = await trace(clientAt(server.url, FAST));
    expect(fast).toEqual(stock);
    expect(endMessage(stock)).toContain('aborted');
  });
});

describe('fast decoder vs stock SDK: hand-made frames through a memory body, at every chunking', () => {
  test.each(SCENARIOS.map((s) => [s.name, s]))('%s: identical traces in one chunk and one byte per chunk', async (_name, scenario) => {
    const body = cat(...scenario.frames);
    const whole = await inMemory([body]);
    expect(whole.fast).toEqual(whole.stock);
    checkExpectation(whole.stock, scenario.expect);
    const bytewise = await inMemory(Array.from(body, (b) => Uint8Array.of(b)));
    expect(bytewise.fast).toEqual(bytewise.stock);
    expect(bytewise.stock).toEqual(whole.stock);
    expect(bytewise.stats?.fastFrames).toBeGreaterThanOrEqual(1);
  });

  test('a stream of every kind of frame, cut in two at every byte offset: identical traces', async () => {
    const body = cat(
      A,
      EMPTY,
      eventFrame('FutureEvent', '{}'),
      B,
      eventFrame('ModelStreamError', '{"Message":"m"}'),
      exceptionFrame('ModelStreamError', { Message: 'stop', ErrorCode: 'StreamBroken' }),
    );
    const reference = await inMemory([body]);
    expect(reference.stock.events).toHaveLength(4);
    expect(endMessage(reference.stock)).toBe('stop');
    for (let offset = 0; offset <= body.length; offset++) {
      const { stock, fast } = await inMemory(splitAt(body, [offset]));
      expect({ offset, fast }).toEqual({ offset, fast: stock });
      expect({ offset, stock }).toEqual({ offset, stock: reference.stock });
    }
  }, 60_000);

  test('a corrupted frame and a truncated end, cut in two at every byte offset: identical traces', async () => {
    for (const body of [cat(A, bad.messageCrc), cat(A, C.subarray(0, 30)), cat(A, tooShort(8), C)]) {
      const reference = await inMemory([body]);
      expect(reference.stock.end).not.toBe('complete');
      for (let offset = 0; offset <= body.length; offset++) {
        const { stock, fast } = await inMemory(splitAt(body, [offset]));
        expect({ offset, fast }).toEqual({ offset, fast: stock });
      }
    }
  }, 60_000);

  test('a read that fails mid-frame (a socket error) surfaces the same error on both', async () => {
    const error = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const body = (): MemoryBody => ({ chunks: [cat(A, B, C.subarray(0, 10))], error });
    const stock = await trace(memoryClient(body));
    const fast = await trace(memoryClient(body, FAST));
    expect(fast).toEqual(stock);
    expect(stock.events).toHaveLength(2);
    expect(endMessage(stock)).toBe('aborted');
  });

  test('random streams of frames, cut at random offsets: identical traces (fast-check)', async () => {
    const frame = fc.oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 400 }).map((p) => payloadFrame(p)) },
      { weight: 1, arbitrary: fc.constantFrom(eventFrame('FutureEvent', '{}'), eventFrame('InternalStreamFailure', '{"Message":"x"}')) },
    );
    const ending = fc.constantFrom<'none' | 'exception' | 'error' | 'badCrc' | 'truncated' | 'short'>(
      'none',
      'exception',
      'error',
      'badCrc',
      'truncated',
      'short',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { minLength: 0, maxLength: 12 }),
        ending,
        fc.array(fc.nat(), { maxLength: 6 }),
        async (frames, end, cuts) => {
          const tail =
            end === 'exception'
              ? [exceptionFrame('ModelStreamError', { Message: 'stop', ErrorCode: 'E' })]
              : end === 'error'
                ? [errorFrame('Code', 'failed')]
                : end === 'badCrc'
                  ? [corrupt(A, 20)]
                  : end === 'truncated'
                    ? [A.subarray(0, 7)]
                    : end === 'short'
                      ? [tooShort(9)]
                      : [];
          const body = cat(...frames, ...tail);
          const chunks = splitAt(
            body,
            cuts.map((c) => c % (body.length + 1)),
          );
          const { stock, fast } = await inMemory(chunks);
          expect(fast).toEqual(stock);
        },
      ),
      { numRuns: 150 },
    );
  });
});
