import { defer, Observable, retry, tap, throwError, timer, type MonoTypeOperatorFunction } from 'rxjs';
import type { SageMakerStreamError, SageMakerStreamErrorKind } from '../errors/SageMakerStreamError.js';
import { toStreamError } from '../internal/classify.js';
import { activeRecorder, withRecorder } from '../internal/recorder.js';

/**
 * What {@link RetryOnStreamFailureConfig.onRetry} is told before each retry.
 *
 * @example
 * ```ts
 * import { invoke$, retryOnStreamFailure, tokens, type RetryNotice } from 'rx-sagemaker';
 *
 * function logRetry({ error, attempt, retriesLeft, delay }: RetryNotice): void {
 *   console.warn(`retry ${attempt} in ${delay} ms (${retriesLeft} left) after ${error.kind}: ${error.message}`);
 * }
 * invoke$(client, input)
 *   .pipe(tokens(), retryOnStreamFailure({ onRetry: logRetry }))
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @public
 */
export interface RetryNotice {
  /** The error that caused the retry. */
  readonly error: SageMakerStreamError;
  /** 1 for the first retry, 2 for the second, ... */
  readonly attempt: number;
  /** Retries still allowed after this one. */
  readonly retriesLeft: number;
  /** The wait before re-subscribing, in ms. */
  readonly delay: number;
}

/**
 * Options of {@link retryOnStreamFailure}.
 *
 * @example
 * ```ts
 * import { invoke$, retryOnStreamFailure, tokens, type RetryOnStreamFailureConfig } from 'rx-sagemaker';
 *
 * const config: RetryOnStreamFailureConfig = {
 *   count: 5,
 *   delay: (attempt, error) => (error.kind === 'throttling' ? 1000 * attempt : 200), // ms before retry `attempt`
 *   onRetry: ({ attempt, error }) => console.warn(`retry ${attempt}: ${error.kind}`),
 * };
 * invoke$(client, input)
 *   .pipe(tokens(), retryOnStreamFailure(config))
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @public
 */
export interface RetryOnStreamFailureConfig {
  /**
   * The most retries per subscription.
   *
   * @defaultValue `3`
   */
  readonly count?: number | undefined;
  /**
   * The wait before retry `attempt` (1-based), in ms. A number is the base of an exponential
   * backoff with full jitter: a random wait in `[0, min(delay * 2^(attempt-1), maxDelay))`.
   * A function returns the wait itself.
   *
   * @defaultValue `100`
   */
  readonly delay?: number | ((attempt: number, error: SageMakerStreamError) => number) | undefined;
  /**
   * The cap on one exponential wait, in ms.
   *
   * @defaultValue `5000`
   */
  readonly maxDelay?: number | undefined;
  /**
   * Also retry after values have been emitted downstream. The retried stream starts again from
   * the beginning, so downstream sees the output of the failed attempt followed by the whole
   * output of the next one: only for consumers that handle that themselves.
   *
   * @defaultValue `false`
   */
  readonly afterOutput?: boolean | undefined;
  /** Called before each retry (logging, metrics). */
  readonly onRetry?: ((notice: RetryNotice) => void) | undefined;
}

/** Kinds that are never retried, whatever an error's `retryable` says. */
const NEVER_RETRIED: ReadonlySet<SageMakerStreamErrorKind> = new Set([
  'validation',
  'model',
  'model-stream',
  'decode',
  'timeout',
  'aborted',
]);

/**
 * Re-subscribes upstream (which, for `invoke$`, sends the request again) when it errors with a
 * retryable failure: `internal-stream-failure`, `network` (connection reset), `throttling`,
 * `service-unavailable`, `internal-failure`, `model-not-ready`. Validation, model, model-stream,
 * decode, timeout and aborted errors pass through at once, as does any error once a value has
 * been emitted downstream of this operator in this subscription (unless `afterOutput`), so output
 * is never duplicated silently. Unsubscribing cancels a pending retry.
 *
 * Place it after `tokens()` to allow a retry until the first *token* (role chunks and keep-alives
 * before it do not count), or before it to allow a retry until the first byte.
 *
 * ```
 * source:   --#  (InternalStreamFailure), then on retry --a--b--|
 * result:   -----(wait)--a--b--|
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, tokens, retryOnStreamFailure } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(tokens(), retryOnStreamFailure({ count: 3, delay: 200 }))
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @param config - see {@link RetryOnStreamFailureConfig}.
 * @returns an operator that retries the source on retryable errors.
 * @public
 */
export function retryOnStreamFailure<T>(config: RetryOnStreamFailureConfig = {}): MonoTypeOperatorFunction<T> {
  const count = config.count ?? 3;
  const base = config.delay ?? 100;
  const maxDelay = config.maxDelay ?? 5000;
  const waitFor = (attempt: number, error: SageMakerStreamError): number =>
    typeof base === 'function' ? base(attempt, error) : Math.floor(Math.random() * Math.min(base * 2 ** (attempt - 1), maxDelay));

  return (source: Observable<T>) =>
    defer(() => {
      let emitted = false;
      // Re-subscriptions happen later, from a timer: keep a streamMetrics() below informed.
      const recorder = activeRecorder();
      const upstream = recorder === undefined ? source : new Observable<T>((sub) => withRecorder(recorder, () => source.subscribe(sub)));
      return upstream.pipe(
        tap(() => {
          emitted = true;
        }),
        retry({
          count,
          delay: (err: unknown, attempt: number) => {
            const error = toStreamError(err);
            if (!error.retryable || NEVER_RETRIED.has(error.kind) || (emitted && config.afterOutput !== true)) return throwError(() => err);
            const delay = waitFor(attempt, error);
            config.onRetry?.({ error, attempt, retriesLeft: count - attempt, delay });
            recorder?.retry();
            return timer(delay);
          },
        }),
      );
    });
}
