import type { Observable } from 'rxjs';
import type { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import type { InvokeConfig, InvokeInput } from '../invoke.js';

/**
 * A value from one of the streams of a fan-out, tagged with the key of its input (the index in
 * an array of inputs, the property name in a record).
 *
 * @example
 * ```ts
 * import type { FanOutValue } from 'rx-sagemaker';
 *
 * const v: FanOutValue<'llama' | 'mistral', string> = { type: 'value', key: 'llama', value: 'Hi' };
 * ```
 * @public
 */
export interface FanOutValue<K, R> {
  readonly type: 'value';
  /** The key of the input this value came from. */
  readonly key: K;
  /** The value (payload bytes, or what the `each` chain made of them). */
  readonly value: R;
}

/**
 * The end of one stream of a fan-out: `complete`, or (with `failurePolicy: 'isolate'`) `error`.
 *
 * @example
 * ```ts
 * import type { FanOutEnd } from 'rx-sagemaker';
 *
 * function describe(e: FanOutEnd<string>): string {
 *   return e.type === 'error' ? `${e.key} failed: ${e.error.kind}` : `${e.key} done`;
 * }
 * ```
 * @public
 */
export type FanOutEnd<K> =
  { readonly type: 'complete'; readonly key: K } | { readonly type: 'error'; readonly key: K; readonly error: SageMakerStreamError };

/**
 * What a fan-out emits: tagged values, and the end of each stream.
 *
 * @example
 * ```ts
 * import { invokeAll$, tokens, type FanOutEvent } from 'rx-sagemaker';
 *
 * const onEvent = (e: FanOutEvent<string, string>) => {
 *   if (e.type === 'value') console.log(e.key, e.value);
 * };
 * ```
 * @public
 */
export type FanOutEvent<K, R> = FanOutValue<K, R> | FanOutEnd<K>;

/**
 * The inputs of a fan-out: an array (keys are indexes) or a record (keys are property names).
 * Each input may name a different endpoint, variant, inference component or session.
 *
 * @example
 * ```ts
 * import type { FanOutInputs } from 'rx-sagemaker';
 *
 * const inputs: FanOutInputs = {
 *   llama: { EndpointName: 'llama-3', Body: { inputs: 'Hi', stream: true } },
 *   mistral: { EndpointName: 'mistral-7b', Body: { inputs: 'Hi', stream: true } },
 * };
 * ```
 * @public
 */
export type FanOutInputs = readonly InvokeInput[] | Readonly<Record<string, InvokeInput>>;

/**
 * What the fan-out functions warn about once per client: the planned number of simultaneously
 * open streams is above the client's socket limit, so the extra requests will queue.
 *
 * @example
 * ```ts
 * import type { SocketLimitWarning } from 'rx-sagemaker';
 *
 * const log = (w: SocketLimitWarning) => console.warn(`${w.concurrency} streams > ${w.maxSockets} sockets`);
 * ```
 * @public
 */
export interface SocketLimitWarning {
  /** The human-readable warning. */
  readonly message: string;
  /** Streams the fan-out may open at once. */
  readonly concurrency: number;
  /** The client's `maxSockets` for the endpoint's protocol. */
  readonly maxSockets: number;
}

/**
 * Options shared by {@link invokeAll$}, {@link invokeRace$} and {@link invokeHedge$}.
 *
 * @example
 * ```ts
 * import { invokeRace$, tokens, type FanOutBaseConfig } from 'rx-sagemaker';
 *
 * const config: FanOutBaseConfig<'east' | 'west', string> = {
 *   each: (bytes$) => bytes$.pipe(tokens()),
 *   invoke: { firstByteTimeout: 10_000 },
 *   onSocketLimit: (warning) => console.warn(warning.message),
 * };
 * const body = { inputs: 'Hi', stream: true };
 * invokeRace$(client, { east: { EndpointName: 'llm-east', Body: body }, west: { EndpointName: 'llm-west', Body: body } }, config)
 *   .subscribe(({ key, value }) => console.log(`[${key}] ${value}`));
 * ```
 * @public
 */
export interface FanOutBaseConfig<K, R> {
  /**
   * The operator chain applied to each stream's bytes, e.g. `(bytes$) => bytes$.pipe(tokens())`.
   *
   * @defaultValue the bytes unchanged
   */
  readonly each?: ((bytes$: Observable<Uint8Array>, key: K) => Observable<R>) | undefined;
  /** Options passed to every `invoke$` (timeouts, `onResponse`, an `AbortSignal`). */
  readonly invoke?: InvokeConfig | undefined;
  /**
   * Called once per client when the fan-out may open more streams than the client has sockets;
   * `false` silences the warning.
   *
   * @defaultValue `console.warn`
   */
  readonly onSocketLimit?: ((warning: SocketLimitWarning) => void) | false | undefined;
}
