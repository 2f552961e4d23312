import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { renderStream, type ContainerFormat, type RenderOptions } from './render.js';
import { splitBytes } from './split.js';

/**
 * A failure injected into a running stream, after `afterParts` payload parts have been sent.
 *
 * - `model-stream-error`: a `ModelStreamError` exception frame (`ErrorCode` defaults to
 *   `ModelInvocationTimeExceeded`);
 * - `internal-stream-failure`: an `InternalStreamFailure` exception frame;
 * - `reset`: the connection is cut without ending the chunked body (the SDK throws
 *   `Error('aborted')`, code `ECONNRESET`);
 * - `stall`: nothing more is sent; the connection stays open until the client leaves or the
 *   emulator closes.
 *
 * @example
 * ```ts
 * import { startEmulator, type EmulatorFault } from 'rx-sagemaker/testing';
 *
 * // invoke$ errors with kind 'model-stream', 'network', and (with an idleTimeout) 'timeout'
 * const faults: Record<string, EmulatorFault> = {
 *   'times-out': { type: 'model-stream-error', afterParts: 2, errorCode: 'ModelInvocationTimeExceeded' },
 *   resets: { type: 'reset', afterParts: 1 },
 *   stalls: { type: 'stall', afterParts: 3 },
 * };
 * const endpoints = Object.fromEntries(Object.entries(faults).map(([name, fault]) => [name, { parts: ['a', 'b', 'c', 'd'], fault }]));
 * const emulator = await startEmulator({ endpoints });
 * ```
 * @public
 */
export type EmulatorFault =
  | { readonly type: 'model-stream-error'; readonly afterParts: number; readonly errorCode?: string; readonly message?: string }
  | { readonly type: 'internal-stream-failure'; readonly afterParts: number; readonly message?: string }
  | { readonly type: 'reset'; readonly afterParts: number }
  | { readonly type: 'stall'; readonly afterParts: number };

/**
 * An error answered before the stream starts, with SageMaker's status, `x-amzn-ErrorType` and
 * JSON body: `model-error` 424 `ModelError` (with `OriginalStatusCode`, `OriginalMessage`,
 * `LogStreamArn`, `ErrorCode`), `validation` 400 `ValidationError`, `throttling` 429
 * `ThrottlingException`, `model-not-ready` 429 `ModelNotReadyException`, `internal-failure` 500
 * `InternalFailure`, `service-unavailable` 503 `ServiceUnavailable`.
 *
 * @example
 * ```ts
 * import { startEmulator, type EmulatorError } from 'rx-sagemaker/testing';
 *
 * // the container answered 400 before streaming: invoke$ errors with kind 'model', statusCode 400
 * const modelError: EmulatorError = { type: 'model-error', originalStatusCode: 400, originalMessage: 'Input is too long' };
 * const emulator = await startEmulator({
 *   endpoints: { 'my-llm': { error: modelError }, busy: { error: { type: 'throttling', message: 'Rate exceeded' } } },
 * });
 * ```
 * @public
 */
export type EmulatorError =
  | {
      readonly type: 'model-error';
      readonly originalStatusCode?: number;
      readonly originalMessage?: string;
      readonly logStreamArn?: string;
      readonly errorCode?: string;
    }
  | {
      readonly type: 'validation' | 'throttling' | 'model-not-ready' | 'internal-failure' | 'service-unavailable';
      readonly message?: string;
    };

/**
 * What the emulator plays for one request.
 *
 * @example
 * ```ts
 * import { splitBytes, startEmulator, type EmulatorResponse } from 'rx-sagemaker/testing';
 *
 * // the answer cut every 4 bytes, 10 ms apart, then a ModelStreamError after 3 parts
 * const response: EmulatorResponse = {
 *   parts: splitBytes('data:{"token":{"text":"Hi"}}\n\ndata:{"token":{"text":"!"}}\n\n', 4),
 *   partDelayMs: 10,
 *   contentType: 'text/event-stream',
 *   fault: { type: 'model-stream-error', afterParts: 3, errorCode: 'ModelInvocationTimeExceeded' },
 * };
 * const emulator = await startEmulator({ endpoints: { 'my-llm': response } });
 * ```
 * @public
 */
export interface EmulatorResponse {
  /** The payload parts, in order: each becomes one `PayloadPart` frame. Strings are sent as UTF-8. */
  readonly parts?: readonly (string | Uint8Array)[];
  /**
   * Instead of `parts`: tokens rendered as a given container streams them (see
   * {@link renderStream}), one part per event the container writes, or cut every `partSize`
   * bytes. `contentType` then defaults to that container's.
   */
  readonly stream?: EmulatorTokenStream;
  /** The wait before each part, in ms. @defaultValue `0` */
  readonly partDelayMs?: number;
  /** The wait before the first part, in ms (instead of `partDelayMs`). */
  readonly firstPartDelayMs?: number;
  /** `X-Amzn-SageMaker-Content-Type`: the container's output type. @defaultValue `'application/octet-stream'` */
  readonly contentType?: string;
  /** `x-Amzn-Invoked-Production-Variant`. @defaultValue `'AllTraffic'` */
  readonly invokedProductionVariant?: string;
  /** `X-Amzn-SageMaker-Custom-Attributes`, when set. */
  readonly customAttributes?: string;
  /** A failure injected mid-stream. */
  readonly fault?: EmulatorFault;
  /** An error answered instead of the stream. */
  readonly error?: EmulatorError;
  /**
   * Cut the HTTP body into writes of at most this many bytes, so event-stream frames arrive
   * split across chunks. @defaultValue one write per frame
   */
  readonly writeSize?: number;
}

/**
 * Tokens for the emulator to play in a container's format.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'rx-sagemaker/testing';
 *
 * const emulator = await startEmulator({
 *   endpoints: { tgi: { stream: { format: 'tgi-sse', tokens: ['Hello', ' 🦙'], partSize: 5 }, partDelayMs: 20 } },
 * });
 * ```
 * @public
 */
export interface EmulatorTokenStream {
  /** The container format. */
  readonly format: ContainerFormat;
  /** The token texts. */
  readonly tokens: readonly string[];
  /** Prompt, in-band error, usage and special tokens; see {@link RenderOptions}. */
  readonly options?: RenderOptions | undefined;
  /** Cut the rendered bytes every `partSize` bytes instead of one part per event. */
  readonly partSize?: number | undefined;
}

/**
 * One request the emulator received, updated while its response runs.
 *
 * @example
 * ```ts
 * import { startEmulator, type RecordedRequest } from 'rx-sagemaker/testing';
 *
 * // an endpoint that streams back the request body it received
 * const echo = (request: RecordedRequest) => ({ parts: [request.body] });
 * const emulator = await startEmulator({ endpoints: { echo } });
 * // ... after the code under test has called 'echo':
 * const last: RecordedRequest | undefined = emulator.requests.at(-1);
 * expect(last?.headers['content-type']).toBe('application/json');
 * expect([last?.outcome, last?.partsSent]).toEqual(['complete', 1]);
 * ```
 * @public
 */
export interface RecordedRequest {
  /** The order of arrival, from 0, across all endpoints. */
  readonly index: number;
  /** The endpoint name from the path. */
  readonly endpointName: string;
  readonly method: string;
  readonly path: string;
  /** The request headers, lower-cased by Node. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request body. */
  readonly body: Uint8Array;
  /** `performance.now()` when the request arrived. */
  readonly receivedAt: number;
  /** Payload parts written so far. */
  partsSent: number;
  /** Whether the response is still running. */
  open: boolean;
  /** `true` once the client disconnected before the response was complete. */
  clientClosed: boolean;
  /** `performance.now()` when the client disconnected, if it did. */
  clientClosedAt: number | undefined;
  /** How the response ended: still `running`, `complete`, `error` (pre-stream), `fault` (injected), or `client-closed`. */
  outcome: 'running' | 'complete' | 'error' | 'fault' | 'client-closed';
}

/**
 * What to play per endpoint: one response for every request, a sequence (request `i` gets
 * element `min(i, length - 1)`, e.g. fail twice, then succeed), or a function of the request.
 *
 * @example
 * ```ts
 * import { startEmulator, type EmulatorEndpoint } from 'rx-sagemaker/testing';
 *
 * // throttled once, then streams
 * const flaky: EmulatorEndpoint = [{ error: { type: 'throttling' } }, { parts: ['ok'] }];
 * // answers by the requested variant (TargetVariant)
 * const byVariant: EmulatorEndpoint = (request) =>
 *   request.headers['x-amzn-sagemaker-target-variant'] === 'canary' ? { parts: ['new'], invokedProductionVariant: 'canary' } : { parts: ['old'] };
 * const emulator = await startEmulator({ endpoints: { flaky, 'my-llm': byVariant } });
 * ```
 * @public
 */
export type EmulatorEndpoint =
  EmulatorResponse | readonly EmulatorResponse[] | ((request: RecordedRequest, attempt: number) => EmulatorResponse);

/**
 * Options of {@link startEmulator}.
 *
 * @example
 * ```ts
 * import { startEmulator, type EmulatorConfig } from 'rx-sagemaker/testing';
 *
 * const config: EmulatorConfig = {
 *   endpoints: { 'local-llm': { stream: { format: 'tgi-sse', tokens: ['Hello', ' world'] }, partDelayMs: 30 } },
 *   port: 8080,
 *   cors: 'http://127.0.0.1:5173', // a page served from there may call it
 * };
 * const emulator = await startEmulator(config);
 * console.log(`endpoint for the SageMakerRuntimeClient: ${emulator.url}`);
 * ```
 * @public
 */
export interface EmulatorConfig {
  /** The endpoints, by name. Requests to other names get SageMaker's 400 `ValidationError`. */
  readonly endpoints?: Readonly<Record<string, EmulatorEndpoint>>;
  /** The port. @defaultValue `0` (an ephemeral port) */
  readonly port?: number;
  /** The address to bind. Only loopback unless `allowRemote` is set. @defaultValue `'127.0.0.1'` */
  readonly host?: string;
  /** Allow binding a non-loopback address. @defaultValue `false` */
  readonly allowRemote?: boolean;
  /**
   * Answer browsers: `true` allows any origin (`*`), a string allows that one origin (e.g.
   * `'http://127.0.0.1:5173'`). Then `OPTIONS` preflights get a 204 allowing `POST` and the
   * headers the browser asks for, and every response carries `Access-Control-Allow-Origin` and
   * exposes SageMaker's response headers to the page. Off by default: a browser's request then
   * fails its preflight.
   *
   * @defaultValue `false`
   */
  readonly cors?: boolean | string;
}

/**
 * A running emulator.
 *
 * @example
 * ```ts
 * import { take } from 'rxjs';
 * import { invoke$ } from 'rx-sagemaker';
 * import { startEmulator, type Emulator } from 'rx-sagemaker/testing';
 *
 * const emulator: Emulator = await startEmulator({ endpoints: { slow: { parts: ['a', 'b', 'c'], partDelayMs: 100 } } });
 * // client: a SageMakerRuntimeClient with `endpoint: emulator.url` (see startEmulator)
 * invoke$(client, { EndpointName: 'slow', Body: '{}' }).pipe(take(1)).subscribe();
 * await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true); // take(1) aborted the request
 * console.log(emulator.requests[0]?.outcome, emulator.openRequests); // 'client-closed' 0
 * await emulator.close();
 * ```
 * @public
 */
export interface Emulator {
  /** The base URL to pass as the client's `endpoint`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request received, in order of arrival. */
  readonly requests: readonly RecordedRequest[];
  /** The requests whose response is running now. */
  readonly openRequests: number;
  /** The most responses that ran at the same time. */
  readonly maxOpenRequests: number;
  /** The TCP connections open now (including idle keep-alive ones). */
  readonly openConnections: number;
  /** Sets or replaces what an endpoint plays. */
  setEndpoint(name: string, endpoint: EmulatorEndpoint): void;
  /** Forgets the recorded requests and the peak count. */
  clearRequests(): void;
  /**
   * Polls `condition` every 5 ms until it is true; rejects after `timeoutMs` (default 5000).
   * For tests: waits for an effect without a fixed sleep.
   */
  waitFor(condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const SAGEMAKER_ERROR = ':http://internal.amazon.com/coral/com.amazonaws.sagemaker/';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function str(value: string) {
  return { type: 'string' as const, value };
}

/** Encodes one `PayloadPart` event frame. */
function payloadFrame(bytes: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': str('PayloadPart'),
      ':content-type': str('application/octet-stream'),
      ':message-type': str('event'),
    },
    body: bytes,
  });
}

/** Encodes one exception frame (`ModelStreamError`, `InternalStreamFailure`). */
function exceptionFrame(type: string, payload: Record<string, string>): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': str(type),
      ':content-type': str('application/json'),
      ':message-type': str('exception'),
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function preStreamError(error: EmulatorError, endpointName: string): { status: number; type: string; body: Record<string, unknown> } {
  switch (error.type) {
    case 'model-error': {
      const original = error.originalStatusCode ?? 400;
      const originalMessage = error.originalMessage ?? 'Bad request';
      return {
        status: 424,
        type: 'ModelError',
        body: {
          ErrorCode: error.errorCode ?? (original >= 500 ? 'SERVER_ERROR_FROM_MODEL' : 'CLIENT_ERROR_FROM_MODEL'),
          LogStreamArn: error.logStreamArn ?? `arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/${endpointName}`,
          Message: `Received client error (${original}) from primary with message "${originalMessage}". See the model's log stream for more information.`,
          OriginalMessage: originalMessage,
          OriginalStatusCode: original,
        },
      };
    }
    case 'validation':
      return { status: 400, type: 'ValidationError', body: { Message: error.message ?? 'Validation error' } };
    case 'throttling':
      return { status: 429, type: 'ThrottlingException', body: { message: error.message ?? 'Rate exceeded' } };
    case 'model-not-ready':
      return { status: 429, type: 'ModelNotReadyException', body: { Message: error.message ?? 'Model is not ready' } };
    case 'internal-failure':
      return { status: 500, type: 'InternalFailure', body: { Message: error.message ?? 'Internal failure' } };
    case 'service-unavailable':
      return { status: 503, type: 'ServiceUnavailable', body: { Message: error.message ?? 'Service unavailable' } };
  }
}

function pick(endpoint: EmulatorEndpoint, request: RecordedRequest, attempt: number): EmulatorResponse {
  if (typeof endpoint === 'function') return endpoint(request, attempt);
  if (Array.isArray(endpoint)) {
    const list = endpoint as readonly EmulatorResponse[];
    return list[Math.min(attempt, list.length - 1)] ?? {};
  }
  return endpoint as EmulatorResponse;
}

const PATH = /^\/endpoints\/([^/]+)\/invocations-response-stream\/?$/;

// CORS (EmulatorConfig.cors): what a browser running the SDK's browser build needs.
const CORS_ALLOW_HEADERS =
  'authorization, content-type, x-amz-date, x-amz-content-sha256, x-amz-security-token, x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request, ' +
  'x-amzn-sagemaker-accept, x-amzn-sagemaker-custom-attributes, x-amzn-sagemaker-target-variant, x-amzn-sagemaker-target-container-hostname, ' +
  'x-amzn-sagemaker-inference-id, x-amzn-sagemaker-inference-component, x-amzn-sagemaker-session-id, x-amzn-sagemaker-prefix-aware-id';
const HEADER_LIST = /^[\w!#$%&'*+.^`|~-]+(?:\s*,\s*[\w!#$%&'*+.^`|~-]+)*$/;
const CORS_EXPOSE_HEADERS =
  'x-amzn-requestid, x-amzn-sagemaker-content-type, x-amzn-invoked-production-variant, x-amzn-sagemaker-custom-attributes, x-amzn-errortype';

/**
 * Adds the CORS response headers and answers a preflight. Returns `true` when the request was a
 * preflight (answered here), `false` when it goes on to the normal handler.
 */
function applyCors(cors: boolean | string | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (cors === undefined || cors === false) return false;
  res.setHeader('access-control-allow-origin', cors === true ? '*' : cors);
  if (req.method !== 'OPTIONS') {
    res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    return false;
  }
  const asked = req.headers['access-control-request-headers'];
  res.writeHead(204, {
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': typeof asked === 'string' && HEADER_LIST.test(asked) ? asked : CORS_ALLOW_HEADERS,
    'access-control-max-age': '60',
    'content-length': '0',
  });
  res.end();
  return true;
}

/**
 * Starts a local SageMaker Runtime streaming emulator: a real HTTP server (on `127.0.0.1` and an
 * ephemeral port by default) that answers `POST /endpoints/{name}/invocations-response-stream`
 * with real `application/vnd.amazon.eventstream` frames (encoded with
 * `@smithy/eventstream-codec`) and SageMaker's response headers, so an unmodified
 * `SageMakerRuntimeClient` streams from it. Per endpoint it plays payload parts with delays and
 * arbitrary chunking, stream exceptions, resets, stalls and pre-stream errors, and it records
 * every request and whether the client disconnected.
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { lastValueFrom, toArray } from 'rxjs';
 * import { invoke$, tokens } from 'rx-sagemaker';
 * import { startEmulator } from 'rx-sagemaker/testing';
 *
 * const emulator = await startEmulator({
 *   endpoints: { 'my-llm': { parts: ['data:{"token":{"text":"Hi"}}\n\n'], contentType: 'text/event-stream' } },
 * });
 * const client = new SageMakerRuntimeClient({
 *   endpoint: emulator.url,
 *   region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
 * });
 * const result = await lastValueFrom(invoke$(client, { EndpointName: 'my-llm', Body: '{}' }).pipe(tokens(), toArray()));
 * // result: ['Hi']; emulator.requests[0].body holds what was sent
 * await emulator.close();
 * ```
 * @param config - endpoints, port, host and CORS; see {@link EmulatorConfig}.
 * @returns the running {@link Emulator}.
 * @public
 */
export async function startEmulator(config: EmulatorConfig = {}): Promise<Emulator> {
  const host = config.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && config.allowRemote !== true) {
    throw new Error(`startEmulator: refusing to bind ${host}; pass allowRemote: true to listen beyond loopback`);
  }
  if (typeof config.cors === 'string' && !/^[\x21-\x7e]+$/.test(config.cors)) {
    throw new Error(`startEmulator: cors must be true or an origin such as 'http://127.0.0.1:8080'`);
  }
  const endpoints = new Map<string, EmulatorEndpoint>(Object.entries(config.endpoints ?? {}));
  const attempts = new Map<string, number>();
  let requests: RecordedRequest[] = [];
  let open = 0;
  let maxOpen = 0;
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = PATH.exec((req.url ?? '').split('?')[0] ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || match === null) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not found"}');
      return;
    }
    const endpointName = decodeURIComponent(match[1] ?? '');
    const record: RecordedRequest = {
      index: requests.length,
      endpointName,
      method: req.method,
      path: req.url ?? '',
      headers: { ...req.headers },
      body: new Uint8Array(Buffer.concat(chunks)),
      receivedAt: performance.now(),
      partsSent: 0,
      open: true,
      clientClosed: false,
      clientClosedAt: undefined,
      outcome: 'running',
    };
    requests.push(record);
    open++;
    maxOpen = Math.max(maxOpen, open);
    let finished = false;
    // Read through a function: `finished` is set by the 'close' listener while this handler awaits.
    const isFinished = (): boolean => finished;
    const finish = (outcome: RecordedRequest['outcome']): void => {
      if (finished) return;
      finished = true;
      record.open = false;
      record.outcome = outcome;
      open--;
    };
    res.on('close', () => {
      if (!finished) {
        record.clientClosed = true;
        record.clientClosedAt = performance.now();
        finish('client-closed');
      }
    });

    const endpoint = endpoints.get(endpointName);
    const requestId = randomUUID();
    if (endpoint === undefined) {
      const body = JSON.stringify({ Message: `Endpoint ${endpointName} of account 123456789012 not found.` });
      res.writeHead(400, {
        'content-type': 'application/json',
        'x-amzn-RequestId': requestId,
        'x-amzn-ErrorType': `ValidationError${SAGEMAKER_ERROR}`,
      });
      res.end(body, () => finish('error'));
      return;
    }
    const attempt = attempts.get(endpointName) ?? 0;
    attempts.set(endpointName, attempt + 1);
    const plan = pick(endpoint, record, attempt);

    if (plan.error !== undefined) {
      const e = preStreamError(plan.error, endpointName);
      res.writeHead(e.status, {
        'content-type': 'application/json',
        'x-amzn-RequestId': requestId,
        'x-amzn-ErrorType': `${e.type}${SAGEMAKER_ERROR}`,
      });
      res.end(JSON.stringify(e.body), () => finish('error'));
      return;
    }

    let parts: readonly (string | Uint8Array)[] = plan.parts ?? [];
    let contentType = plan.contentType;
    if (plan.stream !== undefined) {
      const rendered = renderStream(plan.stream.format, plan.stream.tokens, plan.stream.options);
      parts = plan.stream.partSize === undefined ? rendered.events : splitBytes(rendered.body, plan.stream.partSize);
      contentType ??= rendered.contentType;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-RequestId': requestId,
      'X-Amzn-SageMaker-Content-Type': contentType ?? 'application/octet-stream',
      'x-Amzn-Invoked-Production-Variant': plan.invokedProductionVariant ?? 'AllTraffic',
    };
    if (plan.customAttributes !== undefined) headers['X-Amzn-SageMaker-Custom-Attributes'] = plan.customAttributes;
    res.writeHead(200, headers);
    res.flushHeaders();

    const write = (frame: Uint8Array): Promise<void> => {
      const size = plan.writeSize ?? frame.length;
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < frame.length; i += size) {
        const piece = frame.subarray(i, i + size);
        last = new Promise<void>((resolve) => res.write(piece, () => resolve()));
      }
      return last;
    };
    const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

    const fault = plan.fault;
    for (let i = 0; i <= parts.length; i++) {
      if (isFinished()) return;
      if (fault?.afterParts === i) {
        switch (fault.type) {
          case 'model-stream-error':
            await write(
              exceptionFrame('ModelStreamError', {
                Message: fault.message ?? 'Model invocation time exceeded',
                ErrorCode: fault.errorCode ?? 'ModelInvocationTimeExceeded',
              }),
            );
            res.end(() => finish('fault'));
            return;
          case 'internal-stream-failure':
            await write(exceptionFrame('InternalStreamFailure', { Message: fault.message ?? 'Internal stream failure' }));
            res.end(() => finish('fault'));
            return;
          case 'reset':
            finish('fault');
            res.socket?.destroy();
            return;
          case 'stall':
            return; // the 'close' listener records the client leaving
        }
      }
      const part = parts[i];
      if (part === undefined) break;
      await sleep(i === 0 ? (plan.firstPartDelayMs ?? plan.partDelayMs ?? 0) : (plan.partDelayMs ?? 0));
      if (isFinished()) return;
      await write(payloadFrame(typeof part === 'string' ? fromUtf8(part) : part));
      record.partsSent++;
    }
    if (!isFinished()) res.end(() => finish('complete'));
  };

  const server: Server = createServer((req, res) => {
    if (applyCors(config.cors, req, res)) return;
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    get requests() {
      return requests;
    },
    get openRequests() {
      return open;
    },
    get maxOpenRequests() {
      return maxOpen;
    },
    get openConnections() {
      return sockets.size;
    },
    setEndpoint(name, endpoint) {
      endpoints.set(name, endpoint);
      attempts.delete(name);
    },
    clearRequests() {
      requests = [];
      maxOpen = open;
    },
    async waitFor(condition, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      while (!condition()) {
        if (performance.now() > deadline) throw new Error(`emulator.waitFor: condition not met within ${timeoutMs} ms`);
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
