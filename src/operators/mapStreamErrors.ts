import { catchError, throwError, type MonoTypeOperatorFunction } from 'rxjs';
import { toStreamError } from '../internal/classify.js';

/**
 * Options of {@link mapStreamErrors}.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
 * import { mapStreamErrors, type MapStreamErrorsConfig } from 'rx-sagemaker';
 *
 * const config: MapStreamErrorsConfig = { endpointName: 'my-llm' }; // recorded on the error, named in its message
 * from(client.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'my-llm', Body: body })))
 *   .pipe(mapStreamErrors(config))
 *   .subscribe({ error: (err) => console.error(err.endpointName, err.kind, err.message) });
 * ```
 * @public
 */
export interface MapStreamErrorsConfig {
  /** The endpoint the stream reads from, recorded on the error and named in its message. */
  readonly endpointName?: string | undefined;
}

/**
 * Maps any error notification (an SDK exception such as `ModelError` or `ThrottlingException`, a
 * stream exception such as `ModelStreamError`, a Node network error, anything) to a
 * {@link SageMakerStreamError}, recognising SDK errors by `name`, never by `instanceof`.
 * Idempotent: an error that already is a `SageMakerStreamError` passes unchanged. `invoke$`
 * applies it itself; use it when you call the SDK on your own.
 *
 * ```
 * source:   --a--#  (ModelStreamError)
 * result:   --a--#  (SageMakerStreamError, kind 'model-stream')
 * ```
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
 * import { mapStreamErrors } from 'rx-sagemaker';
 *
 * from(client.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'x', Body: body })))
 *   .pipe(mapStreamErrors({ endpointName: 'x' }))
 *   .subscribe({ error: (err) => console.error(err.kind, err.message) });
 * ```
 * @param config - see {@link MapStreamErrorsConfig}.
 * @returns an operator that passes values and completion through and maps errors.
 * @public
 */
export function mapStreamErrors<T>(config: MapStreamErrorsConfig = {}): MonoTypeOperatorFunction<T> {
  return catchError((err: unknown) => throwError(() => toStreamError(err, { endpointName: config.endpointName })));
}
