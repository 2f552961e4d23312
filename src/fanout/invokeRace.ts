import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Observable } from 'rxjs';
import type { InvokeInput } from '../invoke.js';
import { firstToByte$ } from './firstToByte.js';
import type { FanOutBaseConfig, FanOutInputs, FanOutValue } from './types.js';

/**
 * Races several requests: starts them all, keeps the first to produce a payload byte and aborts
 * every other request at that moment; the winner's values are emitted tagged with its key. A
 * request that fails before anyone wins drops out of the race; if all fail, the first error is
 * reported.
 *
 * ```
 * a:        ------x--y--|
 * b:        ---p--q--|             (b's first byte comes first: a is aborted)
 * result:   ---{b,p}--{b,q}--|
 * ```
 *
 * @example
 * ```ts
 * import { invokeRace$, tokens } from 'rx-sagemaker';
 *
 * const body = { inputs: 'Hi', stream: true };
 * invokeRace$(client, { east: { EndpointName: 'llm-a', Body: body }, west: { EndpointName: 'llm-b', Body: body } }, {
 *   each: (bytes$) => bytes$.pipe(tokens()),
 * }).subscribe(({ key, value }) => process.stdout.write(value));
 * ```
 * @param client - the `SageMakerRuntimeClient` all requests share.
 * @param inputs - an array (keys: indexes) or record (keys: names) of `invoke$` inputs.
 * @param config - see {@link FanOutBaseConfig}.
 * @returns a cold Observable of the winner's tagged values.
 * @public
 */
export function invokeRace$<R = Uint8Array>(
  client: SageMakerRuntimeClient,
  inputs: readonly InvokeInput[],
  config?: FanOutBaseConfig<number, R>,
): Observable<FanOutValue<number, R>>;
export function invokeRace$<K extends string, R = Uint8Array>(
  client: SageMakerRuntimeClient,
  inputs: Readonly<Record<K, InvokeInput>>,
  config?: FanOutBaseConfig<K, R>,
): Observable<FanOutValue<K, R>>;
export function invokeRace$<K, R>(
  client: SageMakerRuntimeClient,
  inputs: FanOutInputs,
  config: FanOutBaseConfig<K, R> = {},
): Observable<FanOutValue<K, R>> {
  return firstToByte$<K, R>(client, inputs, config, undefined);
}
