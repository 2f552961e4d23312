// Hostile and bad input (issue 8, part 4). Every test names its outcome: what comes out, and
// how the stream ends. In memory where the transport does not matter; through the real SDK
// client and the emulator (or a raw event-stream server for frames the emulator cannot send)
// where it does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import * as fc from 'fast-check';
import { concat, from, Observable, Subject, takeUntil, throwError } from 'rxjs';
import { decodeUtf8, invoke$, SageMakerStreamError, tokens, type TokensConfig } from '../../src/index.js';
import { splitBytes, startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';
import { bytes, concatBytes, utf8 } from '../support/chunks.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = (): number => process.memoryUsage().heapUsed;
const MiB = 1024 * 1024;

const tgi = (t: string): string => `data:${JSON.stringify({ token: { text: t, special: false } })}\n\n`;

/** The outcome of tokens() over synchronous parts. */
function run(parts: readonly (Uint8Array | string)[], config: TokensConfig = {}): { values: string[]; error?: string; completed: boolean } {
  const values: string[] = [];
  let error: string | undefined;
  let completed = false;
  from(parts.map((p) => (typeof p === 'string' ? utf8(p) : p)))
    .pipe(tokens(config))
    .subscribe({
      next: (v) => values.push(v),
      error: (e: unknown) => (error = SageMakerStreamError.isInstance(e) ? e.kind : `not a SageMakerStreamError: ${String(e)}`),
      complete: () => (completed = true),
    });
  return error === undefined ? { values, completed } : { values, error, completed };
}

function streamError(error: unknown): SageMakerStreamError {
  expect(SageMakerStreamError.isInstance(error)).toBe(true);
  return error as SageMakerStreamError;
}

// ---------------------------------------------------------------------------------------------

describe('invalid UTF-8', () => {
  test('by default, invalid bytes in plain text become U+FFFD and the stream completes', () => {
    const out = run([utf8('ab'), bytes(0xff, 0xfe), utf8('cd')]);
    expect({ text: out.values.join(''), completed: out.completed }).toEqual({ text: 'ab\uFFFD\uFFFDcd', completed: true });
  });

  test('by default, an invalid sequence inside a JSON token becomes U+FFFD in that token', () => {
    const event = concatBytes(utf8('data:{"token":{"text":"a'), bytes(0xc3, 0x28), utf8('"}}\n\n'));
    expect(run([utf8(tgi('ok')), event])).toEqual({ values: ['ok', 'a\uFFFD('], completed: true });
  });

  test('by default, overlong and surrogate encodings become U+FFFD (WHATWG), never the characters they spell', () => {
    const out = run([utf8('x'), bytes(0xc0, 0xaf), bytes(0xed, 0xa0, 0x80), utf8('y')]);
    expect(out.values.join('')).toBe('x\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDy');
    expect(out.completed).toBe(true);
  });

  test('with fatal, invalid UTF-8 is a decode error after the tokens before it', () => {
    const event = concatBytes(utf8('data:{"token":{"text":"a'), bytes(0xff), utf8('"}}\n\n'));
    expect(run([utf8(tgi('ok')), event, utf8(tgi('never'))], { fatal: true })).toEqual({
      values: ['ok'],
      error: 'decode',
      completed: false,
    });
  });

  test('decodeUtf8({ fatal: true }) errors with kind decode on the chunk that holds the invalid byte, after the text before it', async () => {
    const result = await collect(from([utf8('fine '), bytes(0x61, 0xff)]).pipe(decodeUtf8({ fatal: true })));
    expect(result.values).toEqual(['fine ']);
    expect(streamError(result.error).kind).toBe('decode');
  });
});

describe('a multi-byte sequence truncated at the end of the stream', () => {
  const llama = utf8('🦙');

  test('by default, plain text ending in 3 of the 4 bytes of 🦙 ends with one U+FFFD and completes', () => {
    const out = run([utf8('ok '), llama.subarray(0, 3)]);
    expect({ text: out.values.join(''), completed: out.completed }).toEqual({ text: 'ok \uFFFD', completed: true });
  });

  test('with fatal, the same stream delivers the text, then a decode error at the end', () => {
    const out = run([utf8('ok '), llama.subarray(0, 3)], { fatal: true });
    expect({ text: out.values.join(''), error: out.error }).toEqual({ text: 'ok ', error: 'decode' });
  });

  test('by default, an SSE stream with 2 stray bytes after its last event gives its tokens and completes', () => {
    expect(run([utf8(tgi('日本') + tgi('🦙')), llama.subarray(0, 2)])).toEqual({ values: ['日本', '🦙'], completed: true });
  });

  test('with fatal, the same SSE stream gives its tokens, then a decode error', () => {
    expect(run([utf8(tgi('日本') + tgi('🦙')), llama.subarray(0, 2)], { fatal: true })).toEqual({
      values: ['日本', '🦙'],
      error: 'decode',
      completed: false,
    });
  });

  test('through the real client: the last PayloadPart ending mid code point gives U+FFFD at the end and a completed stream', async () => {
    const emulator = await startEmulator({ endpoints: { ep: { parts: [utf8('日本'), llama.subarray(0, 2)], contentType: 'text/plain' } } });
    try {
      const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: 'x' }).pipe(tokens()));
      expect({ text: result.values.join(''), completed: result.completed }).toEqual({ text: '日本\uFFFD', completed: true });
    } finally {
      await emulator.close();
    }
  });
});

describe('malformed JSON', () => {
  test('a malformed line in a JSON-lines stream is a decode error naming line 2, after the token of line 1', async () => {
    const source = from([
      utf8('{"token": {"text": "a", "log_prob": -0.1}}\n{"token": {"te\n{"token": {"text": "never", "log_prob": -0.1}}\n'),
    ]);
    const result = await collect(source.pipe(tokens({ contentType: 'application/jsonlines' })));
    expect(result.values).toEqual(['a']);
    expect(streamError(result.error)).toMatchObject({ kind: 'decode', lineNumber: 2 });
  });

  test('malformed JSON in an SSE data field is a decode error after the tokens before it', () => {
    expect(run([tgi('a'), 'data:{"token":{"text":"b"}\n\n', tgi('never')])).toEqual({ values: ['a'], error: 'decode', completed: false });
  });

  test('JSON values back to back (Bedrock style) cut off mid-value by the end of the stream: the complete values, then a decode error', () => {
    const body = '{"outputText":"a","completionReason":null}{"outputText":"b","completionReason":null}{"outputText":"c';
    expect(run([body], { contentType: 'application/json' })).toEqual({ values: ['a', 'b'], error: 'decode', completed: false });
  });

  test('a first line that only looks like JSON is plain text when the content type is not JSON', () => {
    const out = run(['{not json} just text'], { contentType: 'text/plain' });
    expect({ text: out.values.join(''), completed: out.completed }).toEqual({ text: '{not json} just text', completed: true });
  });

  test('valid JSON of an unknown shape is a decode error naming its keys, never silence', async () => {
    const result = await collect(from([utf8('{"foo": 1, "bar": 2}\n')]).pipe(tokens()));
    expect(streamError(result.error).kind).toBe('decode');
    expect((result.error as Error).message).toContain('foo, bar');
  });
});

describe('an undecided start, then a fault', () => {
  // Until the first characters decide the framing (or, without a JSON content type, the first
  // JSON-looking line parses), the buffered start is neither known text nor a known event. When
  // the stream fails right there, that start is a fragment of a truncated event: it must not
  // reach the consumer as a token (which would also stop retryOnStreamFailure() after tokens()
  // from retrying).
  test.each([
    ['the first 3 bytes of an event stream (`dat`)', 'dat', {}],
    ['the first line of a JSON-lines stream cut mid-value, without a JSON content type', '{"token": {"id": 7, "te', {}],
  ] as const)('%s: no token, then the upstream error', async (_name, start, config: TokensConfig) => {
    const fault = new Error('connection reset');
    const result = await collect(
      concat(
        from([utf8(start)]),
        throwError(() => fault),
      ).pipe(tokens(config)),
    );
    expect({ values: result.values, error: result.error === fault ? 'the upstream error' : result.error }).toEqual({
      values: [],
      error: 'the upstream error',
    });
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * A lazily generated body: `prefix`, then `fill` in chunks of `chunkSize` bytes until `total`
 * bytes or `budgetMs` have passed. Nothing is held: the source stops as soon as the consumer
 * unsubscribes (after an error). Records how much was fed and the retained heap (after a GC) at
 * the moment the stream ended.
 */
function hugeBody(prefix: string, fill: string, total: number, chunkSize: number, budgetMs = Infinity) {
  const state = { fed: 0, elapsedMs: 0, outOfTime: false };
  const source = new Observable<Uint8Array>((subscriber) => {
    const started = performance.now();
    const chunk = utf8(fill.repeat(Math.ceil(chunkSize / fill.length)).slice(0, chunkSize));
    subscriber.next(utf8(prefix));
    state.fed = prefix.length;
    while (state.fed < total && !subscriber.closed) {
      if (performance.now() - started > budgetMs) {
        state.outOfTime = true;
        break;
      }
      subscriber.next(chunk);
      state.fed += chunk.length;
    }
    state.elapsedMs = performance.now() - started;
    subscriber.complete();
  });
  return { source, state };
}

interface HugeOutcome {
  error: SageMakerStreamError | undefined;
  completed: boolean;
  emittedChars: number;
  retainedAtEnd: number;
}

/** Subscribes with tokens(config); measures the heap retained (after GC) when the stream ends. */
function consume(source: Observable<Uint8Array>, config: TokensConfig): HugeOutcome {
  gc();
  const before = heapUsed();
  const outcome: HugeOutcome = { error: undefined, completed: false, emittedChars: 0, retainedAtEnd: 0 };
  source.pipe(tokens(config)).subscribe({
    next: (t) => (outcome.emittedChars += t.length),
    error: (e: unknown) => {
      outcome.error = streamError(e);
      gc();
      outcome.retainedAtEnd = heapUsed() - before;
    },
    complete: () => {
      outcome.completed = true;
      gc();
      outcome.retainedAtEnd = heapUsed() - before;
    },
  });
  return outcome;
}

describe('a 100 MiB line', () => {
  const limit = 1 * MiB;
  const chunk = 64 * 1024;

  test.each([
    ['a JSON line', '{"token": {"text": "'],
    ['an SSE data line', 'data:{"token":{"text":"'],
  ])('%s is a decode error naming maxLineLength once 1 MiB is buffered: never read to the end, memory bounded', (_name, prefix) => {
    const body = hugeBody(prefix, 'a', 100 * MiB, chunk);
    const outcome = consume(body.source, { maxLineLength: limit });
    expect(outcome.error?.kind).toBe('decode');
    expect(outcome.error?.message).toContain('maxLineLength');
    expect(body.state.fed).toBeLessThanOrEqual(limit + 2 * chunk);
    expect(outcome.retainedAtEnd).toBeLessThan(16 * MiB);
  });

  test('with the default maxLineLength (16 Mi) in 4 KiB parts, the decode error comes within seconds, before 17 MiB is read', () => {
    const body = hugeBody('{"token": {"text": "', 'a', 100 * MiB, 4096, 5000);
    const outcome = consume(body.source, {});
    expect({
      error: outcome.error?.message.includes('maxLineLength') === true ? 'decode: maxLineLength' : (outcome.error?.message ?? 'none'),
      readWithinBound: body.state.fed <= 17 * MiB,
      outOfTime: body.state.outOfTime,
    }).toEqual({ error: 'decode: maxLineLength', readWithinBound: true, outOfTime: false });
    expect(outcome.retainedAtEnd).toBeLessThan(80 * MiB);
  });

  test('100 MiB of blank space before any content takes bounded time and memory (a decode error at maxLineLength, or passed through as text), not a buffer that grows without bound', () => {
    const body = hugeBody('', ' ', 100 * MiB, chunk, 3000);
    const outcome = consume(body.source, { maxLineLength: limit });
    const decodeError = outcome.error?.kind === 'decode';
    const passedThrough = outcome.completed && outcome.emittedChars === body.state.fed;
    expect({
      outcome: decodeError || passedThrough ? 'decode error or passed through' : (outcome.error?.message ?? 'neither'),
      outOfTime: body.state.outOfTime,
      retainedBelow16MiB: outcome.retainedAtEnd < 16 * MiB,
    }).toEqual({ outcome: 'decode error or passed through', outOfTime: false, retainedBelow16MiB: true });
  });

  test('plain text has no lines to bound: a 100 MiB body without a newline streams through chunk by chunk and memory stays bounded', () => {
    const body = hugeBody('Once upon a time ', 'a', 100 * MiB, chunk);
    const outcome = consume(body.source, {});
    expect({ completed: outcome.completed, emitted: outcome.emittedChars }).toEqual({ completed: true, emitted: body.state.fed });
    expect(outcome.retainedAtEnd).toBeLessThan(16 * MiB);
  });
});

// ---------------------------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so junk is the same on every run. */
function junk(length: number, seed: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

describe('binary junk', () => {
  test('64 KiB of random bytes that do not start like JSON or SSE come through as text, invalid bytes as U+FFFD, and the stream completes', () => {
    const body = junk(64 * 1024, 8);
    body[0] = 0x80; // a continuation byte: not `{`, `[`, `:` or an SSE field name
    const out = run(splitBytes(body, 7));
    expect({ text: out.values.join(''), completed: out.completed }).toEqual({ text: new TextDecoder().decode(body), completed: true });
  });

  test('random bytes after a `{` are a decode error under a JSON content type', () => {
    const out = run([utf8('{'), ...splitBytes(junk(4096, 9), 13)], { contentType: 'application/json' });
    expect(out).toEqual({ values: [], error: 'decode', completed: false });
  });

  test('with fatal, random bytes are a decode error', () => {
    const out = run(splitBytes(concatBytes(utf8('text '), junk(4096, 10)), 13), { fatal: true });
    expect({ error: out.error, completed: out.completed }).toEqual({ error: 'decode', completed: false });
  });

  test('any bytes, after any framing prefix and in any chunking, end in completion or a decode/model SageMakerStreamError, never anything else', () => {
    const runs = Number(process.env['PROPERTY_RUNS'] ?? 100) * 3;
    fc.assert(
      fc.property(
        fc.constantFrom('', '{', '[', 'data:', ':', 'data: {"token":', '{"choices":[', '\uFEFF'),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (prefix, body, size, fatal) => {
          let outcome: string | undefined;
          let thrown: unknown;
          try {
            from(splitBytes(concatBytes(utf8(prefix), body), size))
              .pipe(tokens({ fatal }))
              .subscribe({
                error: (e: unknown) => (outcome = SageMakerStreamError.isInstance(e) ? `error ${e.kind}` : `foreign error ${String(e)}`),
                complete: () => (outcome = 'complete'),
              });
          } catch (e) {
            thrown = e;
          }
          expect({
            thrown,
            ended: outcome === 'complete' || outcome === 'error decode' || outcome === 'error model' ? 'ok' : outcome,
          }).toEqual({ thrown: undefined, ended: 'ok' });
        },
      ),
      { numRuns: runs, verbose: fc.VerbosityLevel.Verbose, includeErrorInReport: true },
    );
  });
});

describe('NUL bytes', () => {
  test('NUL bytes in plain text are passed through as U+0000', () => {
    const out = run(['a\0b', '\0\0c']);
    expect({ text: out.values.join(''), completed: out.completed }).toEqual({ text: 'a\0b\0\0c', completed: true });
  });

  test('an escaped NUL (\\u0000) inside a JSON token is delivered as U+0000 in the token', () => {
    expect(run(['data:{"token":{"text":"a\\u0000b","special":false}}\n\n'])).toEqual({ values: ['a\0b'], completed: true });
  });

  test('a raw NUL byte inside a JSON string is a decode error (JSON forbids raw control characters), after the tokens before it', () => {
    expect(run([tgi('ok'), 'data:{"token":{"text":"a\0b"}}\n\n'])).toEqual({ values: ['ok'], error: 'decode', completed: false });
  });

  test('a body of only NUL bytes is plain text of NULs', () => {
    const out = run([bytes(0, 0, 0, 0)]);
    expect({ text: out.values.join(''), completed: out.completed }).toEqual({ text: '\0\0\0\0', completed: true });
  });
});

// ---------------------------------------------------------------------------------------------

describe('event-stream frames the emulator cannot send (a raw event-stream server)', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const header = (value: string) => ({ type: 'string' as const, value });
  const payload = (text: string): Uint8Array =>
    codec.encode({
      headers: {
        ':event-type': header('PayloadPart'),
        ':content-type': header('application/octet-stream'),
        ':message-type': header('event'),
      },
      body: fromUtf8(tgi(text)),
    });
  const unknownEvent = codec.encode({
    headers: { ':event-type': header('FutureEvent'), ':content-type': header('application/json'), ':message-type': header('event') },
    body: fromUtf8('{"Hint":"added in a future API version"}'),
  });
  const unknownException = codec.encode({
    headers: {
      ':exception-type': header('FutureException'),
      ':content-type': header('application/json'),
      ':message-type': header('exception'),
    },
    body: fromUtf8('{"Message":"from the future"}'),
  });
  const errorFrame = codec.encode({
    headers: { ':error-code': header('ThrottlingException'), ':error-message': header('Rate exceeded'), ':message-type': header('error') },
    body: new Uint8Array(0),
  });
  const corrupted = (() => {
    const frame = payload('b').slice();
    frame[frame.length - 6] = (frame[frame.length - 6] ?? 0) ^ 0xff; // a payload byte: the message CRC no longer matches
    return frame;
  })();

  const scripts: Record<string, readonly Uint8Array[]> = {
    'unknown-event': [payload('a'), unknownEvent, payload('b')],
    'unknown-exception': [payload('a'), unknownException, payload('never')],
    'error-frame': [payload('a'), errorFrame, payload('never')],
    'bad-checksum': [payload('a'), corrupted, payload('never')],
    'truncated-frame': [payload('a'), payload('b').subarray(0, 20)],
    'not-an-event-stream': [fromUtf8('{"message":"a JSON answer where an event stream was expected"}')],
  };

  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const name = /^\/endpoints\/([^/]+)\//.exec(req.url ?? '')?.[1] ?? '';
        res.writeHead(200, {
          'content-type': 'application/vnd.amazon.eventstream',
          'x-amzn-requestid': `req-${name}`,
          'x-amzn-sagemaker-content-type': 'text/event-stream',
        });
        for (const frame of scripts[name] ?? []) res.write(frame);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const play = (name: string) => {
    const client = clientFor({ url } as Emulator, { maxAttempts: 1 });
    return collect(invoke$(client, { EndpointName: name, Body: {} }).pipe(tokens())).finally(() => client.destroy());
  };

  test('an unknown event type between two PayloadParts is skipped: both tokens arrive and the stream completes', async () => {
    expect(await play('unknown-event')).toEqual({ values: ['a', 'b'], completed: true });
  });

  test('an unknown exception type is one typed error of kind unknown, after the token before it', async () => {
    const result = await play('unknown-exception');
    expect(result.values).toEqual(['a']);
    expect(streamError(result.error)).toMatchObject({ kind: 'unknown', errorCode: 'FutureException', afterFirstByte: true });
  });

  test('an error frame (`:message-type error`) with a throttling code is one typed throttling error, after the token before it', async () => {
    const result = await play('error-frame');
    expect(result.values).toEqual(['a']);
    expect(streamError(result.error)).toMatchObject({ kind: 'throttling', retryable: true });
  });

  test('a frame with a corrupted checksum is one network error, after the token before it', async () => {
    const result = await play('bad-checksum');
    expect(result.values).toEqual(['a']);
    expect(streamError(result.error)).toMatchObject({ kind: 'network', afterFirstByte: true });
  });

  test('a body that ends in the middle of a frame is one network error, after the token before it', async () => {
    const result = await play('truncated-frame');
    expect(result.values).toEqual(['a']);
    expect(streamError(result.error)).toMatchObject({ kind: 'network', afterFirstByte: true });
  });

  test('a 200 answer that is not an event stream at all is one network error and no token', async () => {
    const result = await play('not-an-event-stream');
    expect(result.values).toEqual([]);
    expect(streamError(result.error)).toMatchObject({ kind: 'network', afterFirstByte: false });
  });
});

// ---------------------------------------------------------------------------------------------

describe('through the real client and the emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  test('an empty stream (200, no frame) completes with no bytes and no token', async () => {
    emulator.setEndpoint('empty', { parts: [] });
    const client = clientFor(emulator);
    expect(await collect(invoke$(client, { EndpointName: 'empty', Body: {} }))).toEqual({ values: [], completed: true });
    expect(await collect(invoke$(client, { EndpointName: 'empty', Body: {} }).pipe(tokens()))).toEqual({ values: [], completed: true });
  });

  test('a stream of empty PayloadParts completes with no token', async () => {
    emulator.setEndpoint('empty-parts', { parts: ['', '', ''] });
    expect(await collect(invoke$(clientFor(emulator), { EndpointName: 'empty-parts', Body: {} }).pipe(tokens()))).toEqual({
      values: [],
      completed: true,
    });
  });

  test('a body that never ends (stalled mid-event) is ended by idleTimeout: the complete tokens, one timeout error, and the request is released', async () => {
    // 4 parts of 20 bytes: the first event (48 bytes) whole, the second cut in its JSON.
    emulator.setEndpoint('never-ends', {
      parts: splitBytes(tgi('one') + tgi('two') + tgi('three'), 20),
      fault: { type: 'stall', afterParts: 4 },
    });
    const started = performance.now();
    const result = await collect(
      invoke$(clientFor(emulator), { EndpointName: 'never-ends', Body: {} }, { firstByteTimeout: 5000, idleTimeout: 150 }).pipe(tokens()),
    );
    expect(result.values).toEqual(['one']);
    expect(streamError(result.error)).toMatchObject({ kind: 'timeout', afterFirstByte: true });
    expect(performance.now() - started).toBeLessThan(5000);
    await emulator.waitFor(() => emulator.requests.at(-1)?.clientClosed === true, 2000);
  });

  test('a body that never ends but keeps sending keep-alives is not ended by idleTimeout (parts keep coming); unsubscribing releases it', async () => {
    emulator.setEndpoint('keep-alive', { parts: Array.from({ length: 10_000 }, () => ':\n\n'), partDelayMs: 10 });
    const stop = new Subject<void>();
    const seen: unknown[] = [];
    invoke$(clientFor(emulator), { EndpointName: 'keep-alive', Body: {} }, { idleTimeout: 250 })
      .pipe(tokens(), takeUntil(stop))
      .subscribe({ next: (t) => seen.push(t), error: (e: unknown) => seen.push(e), complete: () => seen.push('complete') });
    await new Promise((r) => setTimeout(r, 750));
    const request = emulator.requests.at(-1);
    expect({ seen, partsSent: (request?.partsSent ?? 0) > 25, clientClosed: request?.clientClosed }).toEqual({
      seen: [],
      partsSent: true,
      clientClosed: false,
    });
    stop.next();
    await emulator.waitFor(() => request?.clientClosed === true, 2000);
    expect(seen).toEqual(['complete']);
  });

  test('20,000 one-byte PayloadParts give exactly the tokens, in order', async () => {
    const words: string[] = [];
    let size = 0;
    for (let i = 0; size < 20_000; i++) {
      const word = [` 日本${i}`, ` 🦙${i}`, ` é${i}`][i % 3]!;
      words.push(word);
      size += utf8(tgi(word)).length;
    }
    const parts = splitBytes(words.map(tgi).join(''), 1);
    emulator.setEndpoint('tiny', { parts });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'tiny', Body: {} }).pipe(tokens()));
    expect(parts.length).toBeGreaterThanOrEqual(20_000);
    expect(result).toEqual({ values: words, completed: true });
    expect(emulator.requests.at(-1)?.partsSent).toBe(parts.length);
  });
});
