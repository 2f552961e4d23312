import type { TokenFormat } from '../formats/schemas.js';

/**
 * Where `invoke$`, `tokens()` and `retryOnStreamFailure()` report what only they see (bytes,
 * parts, the variant, the detected format, retries) to a `streamMetrics()` operator further down
 * the same chain. The operator makes its recorder "active" while it subscribes upstream; the
 * subscriptions above it run synchronously inside that call and pick the recorder up. Nothing is
 * recorded, and nothing costs more than one variable read per subscription, when no
 * `streamMetrics()` is in the chain.
 *
 * @internal
 */
export interface Recorder {
  request(endpointName: string): void;
  response(variant: string | undefined, requestId: string | undefined): void;
  part(bytes: number): void;
  format(format: TokenFormat | 'custom'): void;
  retry(): void;
}

let active: Recorder | undefined;

/** The recorder of the `streamMetrics()` currently subscribing, if any. @internal */
export function activeRecorder(): Recorder | undefined {
  return active;
}

/** Runs `fn` (a subscription upstream) with `recorder` active. @internal */
export function withRecorder<T>(recorder: Recorder | undefined, fn: () => T): T {
  const previous = active;
  active = recorder;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
