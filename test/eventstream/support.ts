// Helpers of the fast event-stream decoder's differential suite: a trace of everything a caller
// of the real SDK client can observe (send() outcome, every event, the end of the Body iterator),
// frames built by hand (to corrupt them), a raw HTTP server that writes exactly the bytes given,
// and clients whose HTTP exchange is answered from memory (to control every chunk boundary).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { types } from 'node:util';
import {
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  type InvokeEndpointWithResponseStreamCommandInput,
  type SageMakerRuntimeClientConfig,
} from '@aws-sdk/client-sagemaker-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { fastEventStreamSerdeProvider } from '../../src/eventstream/index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export const FAST: Partial<SageMakerRuntimeClientConfig> = { eventStreamSerdeProvider: fastEventStreamSerdeProvider };

/** A real, unmodified client (plus `extra`) pointed at a local server. */
export function clientAt(url: string, extra: Partial<SageMakerRuntimeClientConfig> = {}): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------
// Traces

export type ErrorShape = Readonly<Record<string, unknown>>;
export type EventShape = Readonly<Record<string, unknown>>;

export interface Trace {
  /** How `send()` ended: the output's metadata, or the error. */
  send: { resolved: unknown } | { rejected: ErrorShape } | 'pending';
  /** Every event the Body iterator yielded, described. */
  events: EventShape[];
  /** How the Body iterator ended. */
  end: 'complete' | { threw: ErrorShape } | 'not reached';
}

const VOLATILE_METADATA = new Set(['requestId', 'extendedRequestId', 'cfId', 'totalRetryDelay']);

/** An Error of any realm (Node's own errors are not `instanceof Error` inside Jest's sandbox). */
const isError = (value: unknown): value is Error => value instanceof Error || types.isNativeError(value);

function describeValue(key: string, value: unknown): unknown {
  if (isError(value)) return describeError(value);
  if (key === '$metadata' && typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, VOLATILE_METADATA.has(k) ? typeof v : v]));
  }
  if (key === '$response') return value === undefined ? undefined : 'present';
  if (value instanceof Uint8Array) return describeBytes(value);
  return value;
}

/** The class, name, message and every own enumerable field of an error (request ids and retry delays by type only). */
export function describeError(error: unknown): ErrorShape {
  if (!isError(error)) return { notAnError: typeof error, value: String(error) };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) fields[key] = describeValue(key, (error as unknown as Record<string, unknown>)[key]);
  return {
    class: Object.getPrototypeOf(error).constructor.name,
    sdkServiceException: error instanceof SageMakerRuntimeServiceException,
    name: error.name,
    message: error.message,
    fields,
  };
}

function describeBytes(bytes: Uint8Array): unknown {
  const proto: unknown = Object.getPrototypeOf(bytes);
  return {
    type: proto === Uint8Array.prototype ? 'Uint8Array' : proto === Buffer.prototype ? 'Buffer' : 'other',
    length: bytes.length,
    content: bytes.length <= 64 ? Buffer.from(bytes).toString('hex') : createHash('sha256').update(bytes).digest('hex'),
  };
}

function describeEvent(event: unknown): EventShape {
  if (typeof event !== 'object' || event === null) return { notAnObject: typeof event, value: String(event) };
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(event) as [string, unknown][]) {
    if (isError(member)) out[key] = describeError(member);
    else if (typeof member === 'object' && member !== null) {
      out[key] = Object.fromEntries(Object.entries(member).map(([k, v]) => [k, describeValue(k, v)]));
    } else out[key] = member;
  }
  return out;
}

export interface TraceOptions {
  /** Abort the request (the `abortSignal` passed to `send()`) once this many events have arrived. */
  readonly abortAfterEvents?: number;
  /** Abort the request this many ms after send() was called. */
  readonly abortAfterMs?: number;
}

/** Sends one request with `client` and reads the whole Body, recording everything observable. */
export async function trace(
  client: SageMakerRuntimeClient,
  input: InvokeEndpointWithResponseStreamCommandInput = { EndpointName: 'ep', Body: fromUtf8('{}') },
  options: TraceOptions = {},
): Promise<Trace> {
  const controller = new AbortController();
  const result: Trace = { send: 'pending', events: [], end: 'not reached' };
  const timer = options.abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), options.abortAfterMs);
  try {
    await read(client, input, controller, options, result);
  } finally {
    clearTimeout(timer);
  }
  return result;
}

async function read(
  client: SageMakerRuntimeClient,
  input: InvokeEndpointWithResponseStreamCommandInput,
  controller: AbortController,
  options: TraceOptions,
  result: Trace,
): Promise<void> {
  let body: AsyncIterable<unknown> | undefined;
  try {
    const output = await client.send(new InvokeEndpointWithResponseStreamCommand(input), { abortSignal: controller.signal });
    const { Body, $metadata, ...rest } = output;
    result.send = { resolved: { ...rest, $metadata: describeValue('$metadata', $metadata) } };
    body = Body;
  } catch (error) {
    result.send = { rejected: describeError(error) };
    return;
  }
  try {
    if (body !== undefined) {
      for await (const event of body) {
        result.events.push(describeEvent(event));
        if (options.abortAfterEvents === result.events.length) controller.abort();
      }
    }
    result.end = 'complete';
  } catch (error) {
    result.end = { threw: describeError(error) };
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });

/** A PayloadPart frame, exactly as SageMaker (and the emulator) encode it. */
export function payloadFrame(payload: string | Uint8Array): Uint8Array {
  return codec.encode({
    headers: { ':event-type': str('PayloadPart'), ':content-type': str('application/octet-stream'), ':message-type': str('event') },
    body: typeof payload === 'string' ? fromUtf8(payload) : payload,
  });
}

/** An exception frame (`ModelStreamError`, `InternalStreamFailure`, or an unmodelled type). */
export function exceptionFrame(type: string, payload: Record<string, string> | string): Uint8Array {
  return codec.encode({
    headers: { ':exception-type': str(type), ':content-type': str('application/json'), ':message-type': str('exception') },
    body: fromUtf8(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  });
}

/** An event frame of any `:event-type`. */
export function eventFrame(type: string, payload: string | Uint8Array, contentType = 'application/json'): Uint8Array {
  return codec.encode({
    headers: { ':event-type': str(type), ':content-type': str(contentType), ':message-type': str('event') },
    body: typeof payload === 'string' ? fromUtf8(payload) : payload,
  });
}

/** An error frame (`:message-type` `error`). */
export function errorFrame(code: string, message: string): Uint8Array {
  return codec.encode({
    headers: { ':error-code': str(code), ':error-message': str(message), ':message-type': str('error') },
    body: new Uint8Array(0),
  });
}

/** One encoded header: name, type tag, and for strings/bytes a u16 length then the value. */
export function header(name: string, type: number, value: Uint8Array | string): Uint8Array {
  const n = Buffer.from(name, 'utf8');
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const withLength = type === 6 || type === 7;
  const out = Buffer.alloc(1 + n.length + 1 + (withLength ? 2 : 0) + v.length);
  out[0] = n.length;
  n.copy(out, 1);
  out[1 + n.length] = type;
  if (withLength) out.writeUInt16BE(v.length, 2 + n.length);
  v.copy(out, out.length - v.length);
  return out;
}

/** A PayloadPart header block, as the SDK encodes it. */
export const PAYLOAD_PART_HEADERS = Buffer.concat([
  header(':event-type', 7, 'PayloadPart'),
  header(':content-type', 7, 'application/octet-stream'),
  header(':message-type', 7, 'event'),
]);

export interface RawFrameOptions {
  /** Write this `total_len` instead of the real one (the CRCs are computed over what is written). */
  readonly totalLength?: number;
  /** Write this `headers_len` instead of the real one. */
  readonly headersLength?: number;
}

/** CRC-32, bit by bit: independent of the CRC code under test. */
export function referenceCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A frame built byte by byte from a header block and a payload, with correct checksums. */
export function rawFrame(headers: Uint8Array, payload: Uint8Array | string, options: RawFrameOptions = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const total = 16 + headers.length + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(options.totalLength ?? total, 0);
  out.writeUInt32BE(options.headersLength ?? headers.length, 4);
  out.writeUInt32BE(referenceCrc32(out.subarray(0, 8)), 8);
  Buffer.from(headers).copy(out, 12);
  body.copy(out, 12 + headers.length);
  out.writeUInt32BE(referenceCrc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

/** A copy of `frame` with the byte at `index` XOR-ed with `mask` (checksums left as they were). */
export function corrupt(frame: Uint8Array, index: number, mask = 0x01): Buffer {
  const out = Buffer.from(frame);
  out[index] = out[index]! ^ mask;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Clients answered from memory: every chunk boundary is chosen by the test

const RESPONSE_HEADERS = {
  'content-type': 'application/vnd.amazon.eventstream',
  'x-amzn-requestid': 'memory-request',
  'x-amzn-sagemaker-content-type': 'application/octet-stream',
  'x-amzn-invoked-production-variant': 'AllTraffic',
};

/** What a memory client's response body does: yields `chunks` (each a separate read), then ends or throws `error`. */
export interface MemoryBody {
  readonly chunks: readonly Uint8Array[];
  readonly error?: Error;
}

/** A real SageMakerRuntimeClient whose requestHandler answers with `body()` (a Buffer per read, as Node's sockets give). */
export function memoryClient(body: () => MemoryBody, extra: Partial<SageMakerRuntimeClientConfig> = {}): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
    requestHandler: {
      handle: () => {
        const { chunks, error } = body();
        return Promise.resolve({
          response: {
            statusCode: 200,
            headers: { ...RESPONSE_HEADERS },
            body: asyncChunks(
              chunks.map((c) => Buffer.from(c)),
              error,
            ),
          },
        });
      },
    },
    ...extra,
  });
}

/** An async iterable of `items`, one per `next()`, then throwing `error` if there is one. */
export function asyncChunks<T>(items: readonly T[], error?: Error): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: (): Promise<IteratorResult<T, undefined>> => {
          if (i < items.length) return Promise.resolve({ value: items[i++] as T, done: false });
          if (error !== undefined && i++ === items.length) return Promise.reject(error);
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}

/** `bytes` cut at the given offsets. */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let previous = 0;
  for (const offset of [...offsets].sort((a, b) => a - b)) {
    out.push(bytes.subarray(previous, offset));
    previous = offset;
  }
  out.push(bytes.subarray(previous));
  return out;
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP server: a 200 event-stream response made of exactly the bytes given

export interface RawPlan {
  /** The body, written piece by piece (`gapMs` apart, so that they tend to arrive as separate reads). */
  readonly writes: readonly Uint8Array[];
  /** After the writes: end the chunked body, cut the connection, or keep it open. @defaultValue `'end'` */
  readonly then?: 'end' | 'destroy' | 'stall';
  readonly gapMs?: number;
}

export interface RawServer {
  readonly url: string;
  /** What each request gets (in order; the last one repeats). */
  play(...plans: RawPlan[]): void;
  /** Per request: whether the client disconnected before the response was done. */
  readonly requests: { clientClosed: boolean; done: boolean }[];
  waitFor(condition: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRawServer(): Promise<RawServer> {
  let plans: RawPlan[] = [{ writes: [] }];
  const requests: { clientClosed: boolean; done: boolean }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    const record = { clientClosed: false, done: false };
    const plan = plans[Math.min(requests.length, plans.length - 1)] ?? { writes: [] };
    requests.push(record);
    res.on('close', () => {
      if (!record.done) record.clientClosed = true;
    });
    res.writeHead(200, { ...RESPONSE_HEADERS, 'x-amzn-requestid': `raw-${requests.length}` });
    res.flushHeaders();
    void (async () => {
      for (const piece of plan.writes) {
        if (record.clientClosed) return;
        await new Promise<void>((resolve) => res.write(piece, () => resolve()));
        await new Promise((resolve) => setTimeout(resolve, plan.gapMs ?? 1));
      }
      const then = plan.then ?? 'end';
      if (then === 'end') res.end(() => (record.done = true));
      else if (then === 'destroy') {
        record.done = true;
        res.socket?.destroy();
      }
    })();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    play(...next) {
      plans = next;
      requests.length = 0;
    },
    requests,
    async waitFor(condition, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      while (!condition()) {
        if (performance.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
