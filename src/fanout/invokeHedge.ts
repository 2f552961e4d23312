import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Observable } from 'rxjs';
import type { InvokeInput } from '../invoke.js';
import { firstToByte$ } from './firstToByte.js';
import type { FanOutBaseConfig, FanOutInputs, FanOutValue } from './types.js';

/**
 * Options of {@link invokeHedge$}.
 *
 * @example
 * ```ts
 * import { invokeHedge$, tokens, type InvokeHedgeConfig } from 'rx-sagemaker';
 *
 * // start the backup if the primary has sent no byte after 800 ms
 * const hedge: InvokeHedgeConfig<number, string> = { delay: 800, each: (bytes$) => bytes$.pipe(tokens()) };
 * const body = { inputs: 'Hi', stream: true };
 * invokeHedge$(client, [{ EndpointName: 'llm-primary', Body: body }, { EndpointName: 'llm-backup', Body: body }], hedge)
 *   .subscribe(({ key, value }) => console.log(key === 0 ? 'primary' : 'backup', value));
 * ```
 * @public
 */
export interface InvokeHedgeConfig<K, R> extends FanOutBaseConfig<K, R> {
  /**
   * How long to wait for a first payload byte before starting the next request, in ms.
   *
   * @defaultValue `1000`
   */
  readonly delay?: number | undefined;
}

/**
 * Hedged requests: starts the first input; if it has produced no payload byte after `delay` ms,
 * starts the next as well, and so on. The first to produce a byte wins and every other request
 * is aborted at that moment. A request that fails before anyone wins starts the next one at
 * once; if all fail, the first error is reported.
 *
 * ```
 * a:        ^-------------------!      (no byte within the delay; aborted when b wins)
 * b:        -----(delay)^--x--y--|
 * result:   -----------------{b,x}--{b,y}--|
 * ```
 *
 * @example
 * ```ts
 * import { invokeHedge$, tokens } from 'rx-sagemaker';
 *
 * const body = { inputs: 'Hi', stream: true };
 * invokeHedge$(client, [{ EndpointName: 'llm-primary', Body: body }, { EndpointName: 'llm-backup', Body: body }], {
 *   delay: 800,
 *   each: (bytes$) => bytes$.pipe(tokens()),
 * }).subscribe(({ key, value }) => process.stdout.write(value));
 * ```
 * @param client - the `SageMakerRuntimeClient` all requests share.
 * @param inputs - the inputs in the order to try them: an array or a record.
 * @param config - see {@link InvokeHedgeConfig}.
 * @returns a cold Observable of the winner's tagged values.
 * @public
 */
export function invokeHedge$<R = Uint8Array>(
  client: SageMakerRuntimeClient,
  inputs: readonly InvokeInput[],
  config?: InvokeHedgeConfig<number, R>,
): Observable<FanOutValue<number, R>>;
export function invokeHedge$<K extends string, R = Uint8Array>(
  client: SageMakerRuntimeClient,
  inputs: Readonly<Record<K, InvokeInput>>,
  config?: InvokeHedgeConfig<K, R>,
): Observable<FanOutValue<K, R>>;
export function invokeHedge$<K, R>(
  client: SageMakerRuntimeClient,
  inputs: FanOutInputs,
  config: InvokeHedgeConfig<K, R> = {},
): Observable<FanOutValue<K, R>> {
  return firstToByte$<K, R>(client, inputs, config, config.delay ?? 1000);
}
