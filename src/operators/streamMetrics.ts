import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { SageMakerStreamErrorKind } from '../errors/SageMakerStreamError.js';
import type { TokenFormat } from '../formats/schemas.js';
import { toStreamError } from '../internal/classify.js';
import { operate } from '../internal/operate.js';
import { withRecorder, type Recorder } from '../internal/recorder.js';

/**
 * What {@link streamMetrics} reports for one stream (one subscription), once, when it ends.
 * Times are in milliseconds, measured with `performance.now()` from the subscription.
 *
 * @example
 * ```ts
 * import type { StreamMetrics } from 'rx-sagemaker';
 *
 * const line = (m: StreamMetrics) =>
 *   `${m.endpointName}/${m.variant} ttft=${m.timeToFirstToken?.toFixed(0)}ms itl95=${m.interTokenLatency?.p95.toFixed(1)}ms ${m.outcome}`;
 * ```
 * @public
 */
export interface StreamMetrics {
  /** The endpoint, when an `invoke$` is in the chain. */
  readonly endpointName: string | undefined;
  /** The production variant that served the request, when known. */
  readonly variant: string | undefined;
  /** SageMaker's request id of the last attempt, when known. */
  readonly requestId: string | undefined;
  /** The payload format `tokens()`/`tokenEvents()` detected, when one is in the chain. */
  readonly format: TokenFormat | 'custom' | undefined;
  /** `Date.now()` at subscription. */
  readonly startedAt: number;
  /** From subscription to the first payload byte (needs `invoke$` in the chain). */
  readonly timeToFirstByte: number | undefined;
  /** From subscription to the first value with text reaching this operator. */
  readonly timeToFirstToken: number | undefined;
  /** Median and 95th percentile of the gaps between consecutive tokens (from 2 tokens on). */
  readonly interTokenLatency: { readonly p50: number; readonly p95: number } | undefined;
  /** Values with text that reached this operator. */
  readonly tokens: number;
  /** Payload bytes received (all attempts). */
  readonly bytes: number;
  /** Payload parts received (all attempts). */
  readonly parts: number;
  /** Retries made by `retryOnStreamFailure()` in the chain. */
  readonly retries: number;
  /** How the stream ended. */
  readonly outcome: 'complete' | 'error' | 'unsubscribed';
  /** The error's kind, when `outcome` is `error`. */
  readonly errorKind: SageMakerStreamErrorKind | undefined;
  /** From subscription to the end. */
  readonly duration: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}

function hasText(value: unknown): boolean {
  if (typeof value === 'string') return value !== '';
  if (typeof value === 'object' && value !== null && 'text' in value) return value.text !== '';
  return true;
}

/**
 * Measures a stream without touching it: values, errors and completion pass through unchanged,
 * and `onMetrics` is called once per subscription when it ends — completed, errored or
 * unsubscribed — with a {@link StreamMetrics} record: endpoint, variant, time to first byte and
 * first token, inter-token latency (p50/p95), tokens, bytes, parts, retries, outcome, duration.
 *
 * Place it last: it counts the values reaching it as tokens (strings, or objects with a non-empty
 * `text`), and picks up what `invoke$` (bytes, parts, variant, first byte), `tokens()` (format) and
 * `retryOnStreamFailure()` (retries) see when they are subscribed as part of its chain. A chain
 * without it pays nothing.
 *
 * ```
 * source:   --a--b--c--|
 * result:   --a--b--c--|   onMetrics({ tokens: 3, outcome: 'complete', ... })
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, tokens, retryOnStreamFailure, streamMetrics } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(
 *     tokens(),
 *     retryOnStreamFailure(),
 *     streamMetrics((m) => console.log(`${m.endpointName} ${m.variant}: ttft ${m.timeToFirstToken} ms, p95 ${m.interTokenLatency?.p95} ms`)),
 *   )
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @param onMetrics - called once per subscription with the record; an exception it throws is
 *   logged with `console.error` and does not affect the stream.
 * @returns an operator that passes everything through.
 * @public
 */
export function streamMetrics<T>(onMetrics: (metrics: StreamMetrics) => void): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const start = performance.now();
      const startedAt = Date.now();
      let endpointName: string | undefined;
      let variant: string | undefined;
      let requestId: string | undefined;
      let format: TokenFormat | 'custom' | undefined;
      let firstByteAt: number | undefined;
      let bytes = 0;
      let parts = 0;
      let retries = 0;
      let tokens = 0;
      let firstTokenAt: number | undefined;
      let lastTokenAt = 0;
      const gaps: number[] = [];
      let reported = false;

      const recorder: Recorder = {
        request: (name) => {
          endpointName = name;
        },
        response: (v, id) => {
          variant = v;
          requestId = id;
        },
        part: (n) => {
          firstByteAt ??= performance.now();
          bytes += n;
          parts++;
        },
        format: (f) => {
          format = f;
        },
        retry: () => {
          retries++;
        },
      };

      const report = (outcome: StreamMetrics['outcome'], error?: unknown): void => {
        if (reported) return;
        reported = true;
        const end = performance.now();
        const sorted = gaps.length > 0 ? [...gaps].sort((a, b) => a - b) : undefined;
        const metrics: StreamMetrics = {
          endpointName,
          variant,
          requestId,
          format,
          startedAt,
          timeToFirstByte: firstByteAt === undefined ? undefined : firstByteAt - start,
          timeToFirstToken: firstTokenAt === undefined ? undefined : firstTokenAt - start,
          interTokenLatency: sorted === undefined ? undefined : { p50: percentile(sorted, 50), p95: percentile(sorted, 95) },
          tokens,
          bytes,
          parts,
          retries,
          outcome,
          errorKind: outcome === 'error' ? toStreamError(error).kind : undefined,
          duration: end - start,
        };
        try {
          onMetrics(metrics);
        } catch (e) {
          console.error('rx-sagemaker: the streamMetrics callback threw', e);
        }
      };

      withRecorder(recorder, () =>
        operate(source, subscriber, {
          next(value) {
            if (hasText(value)) {
              const now = performance.now();
              if (firstTokenAt === undefined) firstTokenAt = now;
              else gaps.push(now - lastTokenAt);
              lastTokenAt = now;
              tokens++;
            }
            subscriber.next(value);
          },
          error(err: unknown) {
            report('error', err);
            subscriber.error(err);
          },
          complete() {
            report('complete');
            subscriber.complete();
          },
        }),
      );
      return () => report('unsubscribed');
    });
}
