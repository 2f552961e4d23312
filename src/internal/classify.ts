import { SageMakerStreamError, type SageMakerStreamErrorKind } from '../errors/SageMakerStreamError.js';

/** What the caller of {@link toStreamError} knows about the request that failed. @internal */
export interface ErrorContext {
  readonly endpointName?: string | undefined;
  readonly requestId?: string | undefined;
  readonly afterFirstByte?: boolean | undefined;
  /** The request body as text, so that a server message echoing it can be redacted. */
  readonly requestBody?: string | undefined;
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

/** Node/undici socket error codes: transient ones are retryable. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const NETWORK_CODES = new Set([...TRANSIENT_CODES, 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const MAX_DETAIL = 300;

interface Fields {
  name: string;
  message: string;
  code: string | undefined;
  httpStatusCode: number | undefined;
  requestId: string | undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/**
 * Where Node's own errors fail `instanceof Error` (inside Jest's sandbox, for one), the SDK's retry
 * code wraps them as `Error('AWS SDK error wrapper for Error: aborted')` and drops their `code`.
 */
const SDK_WRAPPER = /^AWS SDK error wrapper for (?:\w*Error: )?/;

function fieldsOf(error: unknown): Fields {
  const o = rec(error) ?? {};
  const meta = rec(o['$metadata']);
  let message = str(o['message']) ?? str(o['Message']) ?? (typeof error === 'string' ? error : '');
  let code = str(o['code']);
  if (SDK_WRAPPER.test(message)) {
    message = message.replace(SDK_WRAPPER, '');
    code ??= /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+)\b/.exec(message)?.[1];
  }
  return {
    name: str(o['name']) ?? (error instanceof Error ? error.constructor.name : typeof error),
    message,
    code,
    httpStatusCode: num(meta?.['httpStatusCode']),
    requestId: str(meta?.['requestId']),
  };
}

/** The string values (and keys) of a JSON document, longest first; none when it is not JSON. */
function jsonStrings(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'object' && v !== null && depth < 32) {
      for (const item of Array.isArray(v) ? v : Object.values(v)) walk(item, depth + 1);
    }
  };
  walk(value, 0);
  return out.sort((a, b) => b.length - a.length);
}

/** Replaces the request body in `text`: whole, each longer line, each longer JSON string. */
function redactBody(text: string, requestBody: string | undefined): string {
  if (requestBody === undefined || requestBody.length < 8) return text;
  // The whole body first, then each of its longer lines (an echo may hold only part of it).
  let s = text.split(requestBody).join('[request body]');
  for (const line of requestBody.split(/\r?\n/)) {
    const t = line.trim();
    if (t.length >= 8) s = s.split(t).join('[request body]');
  }
  // A JSON body: each longer string in it (the prompt), as the server may quote just that.
  for (const value of jsonStrings(requestBody)) {
    if (value.length >= 8) s = s.split(value).join('[request body]');
  }
  return s;
}

/**
 * Makes a server or container message safe to put into `Error.message`: keeps the first line,
 * cuts it to 300 characters, removes anything that looks like an AWS credential or signature,
 * and replaces the request body if the server echoed it.
 *
 * @internal
 */
export function safeDetail(text: string, requestBody?: string): string {
  let s = redactBody(text, requestBody);
  s = s.split('\n', 1)[0] ?? '';
  s = s
    .replace(/\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g, '[redacted]')
    .replace(/(Signature|Credential|X-Amz-Security-Token|X-Amz-Signature|Authorization)=?[:=]\s*[^\s,;]+/gi, '$1=[redacted]');
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s;
}

function describe(kind: SageMakerStreamErrorKind): string {
  switch (kind) {
    case 'model-stream':
      return 'the model stream failed (ModelStreamError)';
    case 'internal-stream-failure':
      return 'SageMaker broke the stream (InternalStreamFailure); it can be retried';
    case 'model':
      return 'the model container returned an error';
    case 'validation':
      return 'the request was rejected as invalid; check the endpoint name, region and input';
    case 'throttling':
      return 'the request was throttled; slow down and retry';
    case 'service-unavailable':
      return 'SageMaker is unavailable; retry later';
    case 'internal-failure':
      return 'SageMaker failed internally; retry later';
    case 'model-not-ready':
      return 'the model is not ready yet; retry later';
    case 'network':
      return 'the connection to SageMaker failed';
    case 'timeout':
      return 'the stream timed out';
    case 'decode':
      return 'the response could not be decoded';
    case 'aborted':
      return 'the request was aborted';
    case 'unknown':
      return 'the request failed';
  }
}

/**
 * Builds the end-user-safe message of an error: `SageMaker endpoint "x": <what happened> (<code>): <detail>`.
 *
 * @internal
 */
export function buildMessage(
  kind: SageMakerStreamErrorKind,
  parts: { endpointName?: string | undefined; code?: string | undefined; detail?: string | undefined },
): string {
  const where = parts.endpointName === undefined ? 'SageMaker' : `SageMaker endpoint "${parts.endpointName}"`;
  const code = parts.code === undefined ? '' : ` [${parts.code}]`;
  const detail = parts.detail === undefined || parts.detail === '' ? '' : `: ${parts.detail}`;
  return `${where}: ${describe(kind)}${code}${detail}`;
}

function classify(f: Fields, o: Record<string, unknown>): { kind: SageMakerStreamErrorKind; retryable: boolean } {
  switch (f.name) {
    case 'ModelStreamError':
      return { kind: 'model-stream', retryable: false };
    case 'InternalStreamFailure':
      return { kind: 'internal-stream-failure', retryable: true };
    case 'ModelError':
      return { kind: 'model', retryable: false };
    case 'ValidationError':
    case 'ValidationException':
      return { kind: 'validation', retryable: false };
    case 'ModelNotReadyException':
      return { kind: 'model-not-ready', retryable: true };
    case 'ServiceUnavailable':
    case 'ServiceUnavailableException':
      return { kind: 'service-unavailable', retryable: true };
    case 'InternalFailure':
    case 'InternalServerError':
    case 'InternalServerException':
    case 'InternalDependencyException':
      return { kind: 'internal-failure', retryable: true };
    case 'TimeoutError':
    case 'RequestTimeout':
    case 'RequestTimeoutException':
      return { kind: 'timeout', retryable: false };
    case 'AbortError':
      return { kind: 'aborted', retryable: false };
    case 'SyntaxError':
      return { kind: 'decode', retryable: false };
    default:
      break;
  }
  if (THROTTLING_NAMES.has(f.name)) return { kind: 'throttling', retryable: true };
  // fetch (browsers, the SDK's FetchHttpHandler) reports a failed connection as a TypeError.
  if (
    f.name === 'TypeError' &&
    /^(Failed to fetch|NetworkError when attempting to fetch|Load failed|fetch failed|network error)/i.test(f.message)
  ) {
    return { kind: 'network', retryable: true };
  }
  if (f.code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return { kind: 'decode', retryable: false };
  const code = f.code ?? str(rec(o['cause'])?.['code']);
  if (code !== undefined && NETWORK_CODES.has(code)) return { kind: 'network', retryable: TRANSIENT_CODES.has(code) };
  // What the event-stream decoder throws when the body ends mid-frame or a CRC is wrong.
  if (/^(aborted|socket hang up|Truncated event message received|The (message|prelude) checksum)/.test(f.message)) {
    return { kind: 'network', retryable: true };
  }
  if (f.httpStatusCode === 429) return { kind: 'throttling', retryable: true };
  if (f.httpStatusCode === 503) return { kind: 'service-unavailable', retryable: true };
  if (f.httpStatusCode !== undefined && f.httpStatusCode >= 500) return { kind: 'internal-failure', retryable: true };
  return { kind: 'unknown', retryable: false };
}

/**
 * Maps anything thrown while streaming from SageMaker (an SDK exception, a stream exception, a
 * Node network error, a `SyntaxError`, anything) to a {@link SageMakerStreamError}. Errors that
 * already are one are returned unchanged, so mapping twice is harmless.
 *
 * Errors are recognised by `name` and `code`, never by `instanceof`, so that any copy of the
 * SDK works.
 *
 * @internal
 */
export function toStreamError(error: unknown, context: ErrorContext = {}): SageMakerStreamError {
  if (SageMakerStreamError.isInstance(error)) return error;
  const o = rec(error) ?? {};
  const f = fieldsOf(error);
  const { kind, retryable } = classify(f, o);
  const errorCode = str(o['ErrorCode']) ?? (kind === 'unknown' || kind === 'network' ? (f.code ?? f.name) : undefined);
  // Only service and container messages are shown; those of local errors (network, decode,
  // unknown) can carry hostnames or fragments of data and are kept in `cause`.
  const showDetail = kind !== 'unknown' && kind !== 'network' && kind !== 'decode' && kind !== 'aborted';
  const detail = showDetail ? safeDetail(f.message.replace(/\n\s*Deserialization error:.*$/s, ''), context.requestBody) : undefined;
  return new SageMakerStreamError({
    kind,
    retryable,
    message: buildMessage(kind, { endpointName: context.endpointName, code: errorCode, detail }),
    endpointName: context.endpointName,
    requestId: f.requestId ?? context.requestId,
    afterFirstByte: context.afterFirstByte,
    errorCode,
    statusCode: num(o['OriginalStatusCode']),
    httpStatusCode: f.httpStatusCode,
    logStreamArn: str(o['LogStreamArn']),
    cause: error,
  });
}

/**
 * The same error with the request body (or any longer string of a JSON body) replaced in its
 * message, for errors built where the body was not known (in-band container errors).
 *
 * @internal
 */
export function redactRequestBody(error: SageMakerStreamError, requestBody: string | undefined): SageMakerStreamError {
  const message = redactBody(error.message, requestBody);
  if (message === error.message) return error;
  return new SageMakerStreamError({
    kind: error.kind,
    message,
    retryable: error.retryable,
    endpointName: error.endpointName,
    requestId: error.requestId,
    afterFirstByte: error.afterFirstByte,
    errorCode: error.errorCode,
    statusCode: error.statusCode,
    httpStatusCode: error.httpStatusCode,
    logStreamArn: error.logStreamArn,
    lineNumber: error.lineNumber,
    cause: error.cause,
  });
}
