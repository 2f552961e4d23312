/**
 * What went wrong, as a string-literal union that callers `switch` on.
 *
 * @example
 * ```ts
 * import type { SageMakerStreamErrorKind } from 'rx-sagemaker';
 *
 * function userMessage(kind: SageMakerStreamErrorKind): string {
 *   switch (kind) {
 *     case 'throttling': case 'service-unavailable': case 'model-not-ready': return 'Busy, try again in a moment.';
 *     case 'timeout': return 'The model took too long to answer.';
 *     case 'aborted': return 'Stopped.';
 *     default: return 'Something went wrong.';
 *   }
 * }
 * ```
 * @public
 */
export type SageMakerStreamErrorKind =
  /** SageMaker `ModelStreamError` in the stream; `errorCode` holds its `ErrorCode`. */
  | 'model-stream'
  /** SageMaker `InternalStreamFailure` in the stream. Retryable. */
  | 'internal-stream-failure'
  /** `ModelError` (the container answered 4xx/5xx before streaming) or an error the container wrote into the stream. */
  | 'model'
  /** `ValidationError`: bad endpoint name, region, input or parameters. */
  | 'validation'
  /** Throttling (`ThrottlingException`, HTTP 429). Retryable. */
  | 'throttling'
  /** `ServiceUnavailable` (HTTP 503). Retryable. */
  | 'service-unavailable'
  /** `InternalFailure` or another SageMaker 5xx. Retryable. */
  | 'internal-failure'
  /** `ModelNotReadyException`: the model is still loading. Retryable. */
  | 'model-not-ready'
  /** The connection failed or broke (reset, refused, truncated frame). Retryable when transient. */
  | 'network'
  /** `firstByteTimeout` or `idleTimeout` elapsed, or the SDK's socket timeout fired. */
  | 'timeout'
  /** The bytes could not be decoded: invalid UTF-8 with `fatal`, malformed JSON, a line over `maxLineLength`. */
  | 'decode'
  /** The caller's `AbortSignal` aborted the request. */
  | 'aborted'
  /** Anything else (credentials, permissions, an unmodelled service error, a bug in a callback). */
  | 'unknown';

const MARKER = Symbol.for('rx-sagemaker.SageMakerStreamError');

/**
 * The fields a {@link SageMakerStreamError} is built from.
 *
 * @example
 * ```ts
 * import { invoke$, tokens, SageMakerStreamError, type SageMakerStreamErrorInit } from 'rx-sagemaker';
 *
 * // a custom extractor that ends the stream with an error of its own kind
 * const refused: SageMakerStreamErrorInit = { kind: 'model', message: 'The model declined to answer.', errorCode: 'refusal' };
 * const extract = (value: unknown): string | undefined => {
 *   const chunk = value as { delta?: string; refusal?: boolean };
 *   if (chunk.refusal === true) throw new SageMakerStreamError(refused);
 *   return chunk.delta;
 * };
 * invoke$(client, { EndpointName: 'custom', Body: { prompt: 'Hi' } }).pipe(tokens({ extract })).subscribe(console.log);
 * ```
 * @public
 */
export interface SageMakerStreamErrorInit {
  /** What went wrong. */
  readonly kind: SageMakerStreamErrorKind;
  /** A message safe to show an end user (no credentials, no request body). */
  readonly message: string;
  /** Whether sending the same request again may succeed. @defaultValue `false` */
  readonly retryable?: boolean | undefined;
  /** The SageMaker endpoint, when known. */
  readonly endpointName?: string | undefined;
  /** SageMaker's request id (`x-amzn-RequestId`), when known. */
  readonly requestId?: string | undefined;
  /** Whether the failure happened after the first payload byte was received. @defaultValue `false` */
  readonly afterFirstByte?: boolean | undefined;
  /** SageMaker's own error code, e.g. `ModelInvocationTimeExceeded` or `StreamBroken`, or the container's error type. */
  readonly errorCode?: string | undefined;
  /** The model's own status: `ModelError`'s `OriginalStatusCode` or an in-stream error's code. */
  readonly statusCode?: number | undefined;
  /** SageMaker's HTTP status, for errors raised before the stream started. */
  readonly httpStatusCode?: number | undefined;
  /** The CloudWatch log stream of the model container (`ModelError.LogStreamArn`). */
  readonly logStreamArn?: string | undefined;
  /** The 1-based line number of the input that failed to decode. */
  readonly lineNumber?: number | undefined;
  /** The original error. */
  readonly cause?: unknown;
}

/**
 * The one error type every rx-sagemaker Observable errors with.
 *
 * Switch on {@link SageMakerStreamError.kind}; check {@link SageMakerStreamError.retryable} to
 * decide whether to try again. The `message` is safe to show an end user (NestJS sends
 * `err.message` to the client): it never holds credentials, signatures or the request body.
 * The original error is kept in `cause`.
 *
 * @example
 * ```ts
 * import { invoke$, tokens, SageMakerStreamError } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(tokens())
 *   .subscribe({
 *     next: (t) => process.stdout.write(t),
 *     error: (err: unknown) => {
 *       if (SageMakerStreamError.isInstance(err) && err.kind === 'model-stream') {
 *         console.error(`model stopped: ${err.errorCode}`);
 *       }
 *     },
 *   });
 * ```
 * @public
 */
export class SageMakerStreamError extends Error {
  /** Always `'SageMakerStreamError'`. */
  override readonly name = 'SageMakerStreamError';
  /** What went wrong. */
  readonly kind: SageMakerStreamErrorKind;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
  /** The SageMaker endpoint, when known. */
  readonly endpointName: string | undefined;
  /** SageMaker's request id, when known. */
  readonly requestId: string | undefined;
  /** Whether the failure happened after the first payload byte was received. */
  readonly afterFirstByte: boolean;
  /** SageMaker's own error code (`ModelStreamError.ErrorCode`, `ModelError.ErrorCode`) or the container's error type. */
  readonly errorCode: string | undefined;
  /** The model's own status code (`OriginalStatusCode`, or the code of an in-stream error). */
  readonly statusCode: number | undefined;
  /** SageMaker's HTTP status, for errors raised before the stream started. */
  readonly httpStatusCode: number | undefined;
  /** The model container's CloudWatch log stream, where SageMaker gives it. */
  readonly logStreamArn: string | undefined;
  /** For `decode` errors from line-based parsers: the 1-based line number. */
  readonly lineNumber: number | undefined;

  /**
   * @param init - the error's fields; `message` must already be safe for end users.
   */
  constructor(init: SageMakerStreamErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.retryable = init.retryable ?? false;
    this.endpointName = init.endpointName;
    this.requestId = init.requestId;
    this.afterFirstByte = init.afterFirstByte ?? false;
    this.errorCode = init.errorCode;
    this.statusCode = init.statusCode;
    this.httpStatusCode = init.httpStatusCode;
    this.logStreamArn = init.logStreamArn;
    this.lineNumber = init.lineNumber;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /**
   * Type guard that also recognises errors created by another copy of rx-sagemaker (two
   * versions in one `node_modules`), where `instanceof` fails.
   *
   * @example
   * ```ts
   * import { SageMakerStreamError } from 'rx-sagemaker';
   *
   * function describe(err: unknown): string {
   *   return SageMakerStreamError.isInstance(err) ? `${err.kind}: ${err.message}` : String(err);
   * }
   * ```
   * @param value - anything.
   * @returns `true` when `value` is a `SageMakerStreamError` from any copy of the package.
   */
  static isInstance(value: unknown): value is SageMakerStreamError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
