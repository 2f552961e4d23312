// The fast event-stream decoder itself: that it is opt-in, that the SDK really runs it (a future
// SDK that ignored `eventStreamSerdeProvider` must fail here, not fall back silently), that it
// decodes in place, its self-check, and its pure parts (CRC-32, the PayloadPart recogniser).
import { PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import * as fc from 'fast-check';
import { eventStreamSerdeProvider as sdkProvider } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { lastValueFrom, toArray } from 'rxjs';
import { crc32Js, nativeCrc32, NATIVE_CRC_MIN_BYTES } from '../../src/eventstream/crc32.js';
import { fastEventStreamSerdeProvider, fastEventStreamStats } from '../../src/eventstream/index.js';
import { decodePayloadPart, readUint32 } from '../../src/eventstream/payloadFrame.js';
import { invoke$ } from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor } from '../support/client.js';
import {
  asyncChunks,
  corrupt,
  eventFrame,
  exceptionFrame,
  FAST,
  header,
  memoryClient,
  PAYLOAD_PART_HEADERS,
  payloadFrame,
  rawFrame,
  referenceCrc32,
  trace,
  type MemoryBody,
} from './support.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

describe('fastEventStreamSerdeProvider: opt-in, and really used by the SDK', () => {
  test('a client created without the option keeps the SDK decoder, and invoke$ never installs ours', async () => {
    emulator.setEndpoint('ep', { parts: ['a', 'b'] });
    const client = clientFor(emulator);
    expect(fastEventStreamStats(client)).toBeUndefined();
    await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: 'x' }).pipe(toArray()));
    expect(fastEventStreamStats(client)).toBeUndefined();
    expect(client.config.eventStreamSerdeProvider).not.toBe(fastEventStreamSerdeProvider);
  });

  test('the SDK calls the provider it is given and streams through it: every PayloadPart after the first is decoded by the fast path', async () => {
    emulator.setEndpoint('ep', { parts: Array.from({ length: 20 }, (_, i) => `part ${i}`) });
    const client = clientFor(emulator, FAST);
    expect(fastEventStreamStats(client)).toMatchObject({ state: 'checking', fastFrames: 0, sdkFrames: 0, sdkStreams: 0 });
    const out = await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: 'x' }).pipe(toArray()));
    expect(out.map((b) => toUtf8(b))).toEqual(Array.from({ length: 20 }, (_, i) => `part ${i}`));
    expect(fastEventStreamStats(client)).toMatchObject({ state: 'active', fastFrames: 19, sdkFrames: 1, sdkStreams: 0 });
  });

  test('fastEventStreamStats reports the native CRC-32 where Node has zlib.crc32', () => {
    const stats = fastEventStreamStats(clientFor(emulator, FAST));
    expect(stats?.crc32).toBe(typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? 'native' : 'js');
  });

  test('fastEventStreamStats is undefined for an object whose config holds no fast marshaller', () => {
    expect(fastEventStreamStats({ config: {} })).toBeUndefined();
    expect(
      fastEventStreamStats({ config: { eventStreamMarshaller: sdkProvider({ utf8Encoder: toUtf8, utf8Decoder: fromUtf8 }) } }),
    ).toBeUndefined();
  });

  test('PayloadParts that arrive in one HTTP chunk are views into that chunk; the SDK copies each into its own buffer', async () => {
    const frames = ['one', 'two', 'three', 'four'].map((p) => payloadFrame(p));
    const body = (): MemoryBody => ({ chunks: [Buffer.concat(frames)] });
    const collectParts = async (fast: boolean): Promise<Uint8Array[]> => {
      const client = memoryClient(body, fast ? FAST : {});
      const { InvokeEndpointWithResponseStreamCommand } = await import('@aws-sdk/client-sagemaker-runtime');
      const output = await client.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'ep', Body: fromUtf8('{}') }));
      const parts: Uint8Array[] = [];
      for await (const event of output.Body ?? []) if (event.PayloadPart?.Bytes !== undefined) parts.push(event.PayloadPart.Bytes);
      return parts;
    };
    const stock = await collectParts(false);
    const fast = await collectParts(true);
    expect(fast.map((b) => toUtf8(b))).toEqual(['one', 'two', 'three', 'four']);
    expect(stock.map((b) => b.buffer.byteLength)).toEqual(frames.map((f) => f.length));
    // The first part is the self-check (decoded by the SDK); the others share the chunk's memory.
    const chunkSize = frames.reduce((n, f) => n + f.length, 0);
    for (const part of fast.slice(1)) {
      expect(part.buffer).toBe(fast[1]?.buffer);
      expect(part.buffer.byteLength).toBeGreaterThanOrEqual(chunkSize);
      expect(Object.getPrototypeOf(part)).toBe(Uint8Array.prototype);
    }
  });

  test('twenty concurrent streams on one fast client each get exactly their own parts', async () => {
    emulator.setEndpoint('ep', (request) => {
      const id = toUtf8(request.body);
      return { parts: Array.from({ length: 30 }, (_, i) => `${id}:${i}`), partDelayMs: 1, writeSize: 17 };
    });
    const client = clientFor(emulator, FAST);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, s) => lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: `s${s}` }).pipe(toArray()))),
    );
    results.forEach((parts, s) => expect(parts.map((b) => toUtf8(b))).toEqual(Array.from({ length: 30 }, (_, i) => `s${s}:${i}`)));
    expect(fastEventStreamStats(client)?.fastFrames).toBeGreaterThan(500);
  });
});

describe('fastEventStreamSerdeProvider: the self-check', () => {
  interface Message {
    headers: Record<string, { value: unknown }>;
    body: Uint8Array;
  }
  const options = { utf8Encoder: toUtf8, utf8Decoder: fromUtf8 };
  const bodyOf = (frames: Uint8Array[]): AsyncIterable<Uint8Array> => asyncChunks([Buffer.concat(frames)]);
  const read = async (iterable: AsyncIterable<unknown>): Promise<unknown[]> => {
    const out: unknown[] = [];
    for await (const e of iterable) out.push(e);
    return out;
  };

  test('when the SDK makes a PayloadPart into something other than { PayloadPart: { Bytes } }, the fast path turns itself off and the SDK decodes every frame', async () => {
    const marshaller = fastEventStreamSerdeProvider(options);
    const client = { config: { eventStreamMarshaller: marshaller } };
    // A "future SDK" whose PayloadPart event has one more member.
    const deserializer = (event: Record<string, Message>) => {
      const [type, message] = Object.entries(event)[0] ?? [];
      return Promise.resolve(
        type === 'PayloadPart' && message !== undefined ? { PayloadPart: { Bytes: message.body, Sequence: 1 } } : { $unknown: event },
      );
    };
    const frames = ['a', 'b', 'c'].map((p) => payloadFrame(p));
    const events = await read(marshaller.deserialize(bodyOf(frames), deserializer));
    expect(events).toEqual(['a', 'b', 'c'].map((p) => ({ PayloadPart: { Bytes: fromUtf8(p), Sequence: 1 } })));
    expect(fastEventStreamStats(client)).toMatchObject({ state: 'disabled', fastFrames: 0, sdkFrames: 3 });
    // Later streams go to the SDK whole.
    const again = await read(marshaller.deserialize(bodyOf(frames), deserializer));
    expect(again).toHaveLength(3);
    expect(fastEventStreamStats(client)).toMatchObject({ state: 'disabled', fastFrames: 0, sdkStreams: 1 });
  });

  test('the self-check waits for a PayloadPart: exceptions and other events before it leave the state at checking', async () => {
    const marshaller = fastEventStreamSerdeProvider(options);
    const client = { config: { eventStreamMarshaller: marshaller } };
    const deserializer = (event: Record<string, Message>) => {
      const [type, message] = Object.entries(event)[0] ?? [];
      return Promise.resolve(
        type === 'PayloadPart' && message !== undefined ? { PayloadPart: { Bytes: message.body } } : { $unknown: event },
      );
    };
    await read(marshaller.deserialize(bodyOf([eventFrame('Other', '{}')]), deserializer));
    expect(fastEventStreamStats(client)).toMatchObject({ state: 'checking', sdkFrames: 1 });
    const events = await read(marshaller.deserialize(bodyOf([payloadFrame('x'), payloadFrame('y')]), deserializer));
    expect(events).toEqual([{ PayloadPart: { Bytes: fromUtf8('x') } }, { PayloadPart: { Bytes: fromUtf8('y') } }]);
    expect(fastEventStreamStats(client)).toMatchObject({ state: 'active', fastFrames: 1, sdkFrames: 2 });
  });

  test('a body that is not an async iterable (a bare Readable) is handed whole to the SDK, which reads it its own way', async () => {
    const marshaller = fastEventStreamSerdeProvider(options);
    const stream = new PassThrough();
    Object.defineProperty(stream, Symbol.asyncIterator, { value: undefined });
    stream.end(Buffer.concat([payloadFrame('p'), payloadFrame('q')]));
    const deserializer = (event: Record<string, Message>) => Promise.resolve({ PayloadPart: { Bytes: event['PayloadPart']?.body } });
    const events = await read(marshaller.deserialize(stream, deserializer));
    expect(events).toEqual([{ PayloadPart: { Bytes: fromUtf8('p') } }, { PayloadPart: { Bytes: fromUtf8('q') } }]);
    expect(fastEventStreamStats({ config: { eventStreamMarshaller: marshaller } })).toMatchObject({ sdkStreams: 1, fastFrames: 0 });
  });

  test('a chunk that is not bytes is left to the SDK together with the frame begun before it: the same outcome as the SDK alone', async () => {
    const frame = payloadFrame('first');
    const body = (): AsyncIterable<unknown> =>
      asyncChunks<unknown>([Buffer.concat([payloadFrame('zero'), frame.subarray(0, 10)]), 'not bytes']);
    const deserializer = (event: Record<string, Message>) => Promise.resolve({ PayloadPart: { Bytes: event['PayloadPart']?.body } });
    const outcome = async (iterable: AsyncIterable<unknown>) => {
      const events: unknown[] = [];
      try {
        for await (const e of iterable) events.push(e);
        return { events, end: 'complete' };
      } catch (error) {
        return { events, end: String(error) };
      }
    };
    const marshaller = fastEventStreamSerdeProvider(options);
    const ours = await outcome(marshaller.deserialize(body(), deserializer));
    const sdk = await outcome(sdkProvider(options).deserialize(body(), deserializer));
    expect(ours).toEqual(sdk);
    expect(ours.events).toHaveLength(1);
    expect(fastEventStreamStats({ config: { eventStreamMarshaller: marshaller } })).toMatchObject({ sdkStreams: 1 });
  });

  test('serialize is the SDK marshaller’s: the same bytes for the same input events', async () => {
    const input = () => asyncChunks([{ text: 'hello' }]);
    const serializer = (event: { text: string }) => ({
      headers: { ':event-type': { type: 'string' as const, value: 'Chunk' } },
      body: fromUtf8(event.text),
    });
    const collectBytes = async (readable: unknown): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const c of readable as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks);
    };
    const ours = await collectBytes(fastEventStreamSerdeProvider(options).serialize(input(), serializer));
    const sdk = await collectBytes(sdkProvider(options).serialize(input(), serializer));
    expect(ours.length).toBeGreaterThan(16);
    expect(ours).toEqual(sdk);
  });

  test('a stream on a fresh client whose first frame is an exception throws the SDK’s own error class', async () => {
    const client = memoryClient(
      () => ({ chunks: [exceptionFrame('ModelStreamError', { Message: 'No', ErrorCode: 'StreamBroken' })] }),
      FAST,
    );
    const { send } = await trace(client);
    expect(send).toMatchObject({
      rejected: { class: 'ModelStreamError', sdkServiceException: true, fields: { ErrorCode: 'StreamBroken', $fault: 'client' } },
    });
  });
});

describe('CRC-32', () => {
  test('crc32Js agrees with a bit-by-bit CRC-32 on random data, offsets and continuations', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % data.length;
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
        const mid = Math.floor((start + end) / 2);
        const expected = referenceCrc32(data.subarray(start, end));
        expect(crc32Js(data, start, end, 0)).toBe(expected);
        expect(crc32Js(data, mid, end, crc32Js(data, start, mid, 0))).toBe(expected);
      }),
    );
  });

  test('the native CRC-32 is used where zlib.crc32 exists, and agrees, continuation included', () => {
    const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
    if (typeof native !== 'function') {
      expect(nativeCrc32).toBeUndefined();
      return;
    }
    expect(nativeCrc32).toBeDefined();
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 37) & 0xff);
    expect(nativeCrc32?.(data.subarray(100), crc32Js(data, 0, 100, 0))).toBe(referenceCrc32(data));
  });
});

describe('decodePayloadPart', () => {
  const FRAMES = {
    small: payloadFrame('data:{"token":{"text":"日本"}}\n\n'),
    empty: payloadFrame(''),
    large: payloadFrame(Uint8Array.from({ length: NATIVE_CRC_MIN_BYTES * 3 }, (_, i) => i & 0xff)),
  };

  test.each(Object.entries(FRAMES))('returns a view of the %s payload in place (same memory, no copy)', (_name, frame) => {
    const chunk = Buffer.concat([Buffer.from('junk'), frame, Buffer.from('more')]);
    const payload = decodePayloadPart(chunk, 4, readUint32(chunk, 4));
    expect(payload).toBeDefined();
    expect(payload?.buffer).toBe(chunk.buffer);
    expect(payload?.byteOffset).toBe(chunk.byteOffset + 4 + 12 + PAYLOAD_PART_HEADERS.length);
    expect(Buffer.from(payload ?? []).equals(Buffer.from(frame.subarray(12 + PAYLOAD_PART_HEADERS.length, frame.length - 4)))).toBe(true);
  });

  test.each(Object.entries(FRAMES))('rejects the %s frame with any one byte changed anywhere', (_name, frame) => {
    for (let i = 4; i < frame.length; i++) {
      // (Bytes 0–3, total_len, are the caller's: it frames by them.)
      expect({ i, decoded: decodePayloadPart(corrupt(frame, i, 0x20), 0, frame.length) }).toEqual({ i, decoded: undefined });
    }
  });

  test('accepts exactly the header blocks the SDK turns into { PayloadPart: { Bytes } }', () => {
    const ok = (headers: Uint8Array) => decodePayloadPart(rawFrame(headers, 'p'), 0, rawFrame(headers, 'p').length) !== undefined;
    const et = header(':event-type', 7, 'PayloadPart');
    const mt = header(':message-type', 7, 'event');
    const ct = header(':content-type', 7, 'text/plain');
    expect(ok(Buffer.concat([et, mt]))).toBe(true);
    expect(ok(Buffer.concat([mt, ct, et]))).toBe(true);
    expect(ok(Buffer.concat([header(':event-type', 7, 'Other'), mt, et]))).toBe(true);
    expect(ok(Buffer.concat([et, mt, header(':event-type', 7, 'Other')]))).toBe(false);
    expect(ok(Buffer.concat([et]))).toBe(false);
    expect(ok(Buffer.concat([mt]))).toBe(false);
    expect(ok(Buffer.concat([et, header(':message-type', 7, 'exception')]))).toBe(false);
    expect(ok(Buffer.concat([header(':event-type', 6, 'PayloadPart'), mt]))).toBe(false);
    expect(ok(Buffer.concat([et, mt, header('x-other', 7, 'v')]))).toBe(false);
    expect(ok(Buffer.concat([et, mt, Buffer.from([1, 0x78, 7, 0, 9])]))).toBe(false);
    expect(ok(Buffer.concat([et, header(':message-type', 7, 'events')]))).toBe(false);
    expect(ok(Buffer.concat([header(':event-type', 7, 'PayloadPar'), mt]))).toBe(false);
  });

  test('rejects a headers_len that leaves no room for the message checksum', () => {
    const frame = rawFrame(PAYLOAD_PART_HEADERS, 'abc', { headersLength: PAYLOAD_PART_HEADERS.length + 4 });
    expect(decodePayloadPart(frame, 0, frame.length)).toBeUndefined();
  });
});
