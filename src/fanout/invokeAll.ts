import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { catchError, concat, defer, from, map, mergeMap, of, type Observable } from 'rxjs';
import { toStreamError } from '../internal/classify.js';
import { mapStreamErrors } from '../operators/mapStreamErrors.js';
import { invoke$, type InvokeInput } from '../invoke.js';
import { checkSocketLimit } from './sockets.js';
import type { FanOutBaseConfig, FanOutEvent, FanOutInputs } from './types.js';

/**
 * Options of {@link invokeAll$}.
 *
 * @example
 * ```ts
 * import { collectText, invokeAll$, tokens, type InvokeAllConfig } from 'rx-sagemaker';
 *
 * const config: InvokeAllConfig<number, string> = {
 *   concurrency: 32, // size the client's maxSockets to at least this
 *   failurePolicy: 'isolate',
 *   each: (bytes$) => bytes$.pipe(tokens(), collectText()),
 * };
 * invokeAll$(client, prompts.map((p) => ({ EndpointName: 'my-llm', Body: { inputs: p, stream: true } })), config)
 *   .subscribe((e) => (e.type === 'error' ? console.error(e.key, e.error.kind) : e.type === 'value' && save(e.key, e.value)));
 * ```
 * @public
 */
export interface InvokeAllConfig<K, R> extends FanOutBaseConfig<K, R> {
  /**
   * The most streams open at the same time. A stream counts from its request until its last
   * byte (or its error); the next input is sent only when one ends. Size the client's
   * `maxSockets` to at least this (see the README).
   *
   * @defaultValue `8`
   */
  readonly concurrency?: number | undefined;
  /**
   * `'fail-fast'`: the first error aborts every other stream and errors the whole Observable.
   * `'isolate'`: a failed stream becomes an `{ type: 'error', key, error }` event and the others
   * go on.
   *
   * @defaultValue `'fail-fast'`
   */
  readonly failurePolicy?: 'fail-fast' | 'isolate' | undefined;
}

/** The entries of an array (numeric keys) or a record (string keys). @internal */
export function entriesOf<K>(inputs: FanOutInputs): [K, InvokeInput][] {
  return (Array.isArray(inputs) ? inputs.map((input, i) => [i, input]) : Object.entries(inputs)) as [K, InvokeInput][];
}

/**
 * Fans a list or record of inputs out to SageMaker with a bound on **simultaneously open
 * streams**, and merges the results into one Observable of values tagged with the key of the
 * input they came from, plus a `complete` (or, isolated, `error`) event per stream.
 *
 * Cold and without hidden sharing: each subscription starts its own streams. Unsubscribing aborts
 * every open stream. Inputs may name different endpoints, variants, inference components or
 * sessions; `each` applies any operator chain per stream. Warns once per client (see
 * `onSocketLimit`) when `concurrency` exceeds the client's `maxSockets`.
 *
 * ```
 * inputs:   { a, b }            concurrency: 2
 * result:   -{a,'x'}-{b,'y'}-{a,complete}-{b,'z'}-{b,complete}-|
 * ```
 *
 * @example
 * ```ts
 * import { invokeAll$, tokens } from 'rx-sagemaker';
 *
 * const prompt = { inputs: 'Explain RxJS in one sentence.', stream: true };
 * invokeAll$(
 *   client,
 *   { llama: { EndpointName: 'llama-3', Body: prompt }, mistral: { EndpointName: 'mistral-7b', Body: prompt } },
 *   { each: (bytes$) => bytes$.pipe(tokens()), concurrency: 2, failurePolicy: 'isolate' },
 * ).subscribe((e) => {
 *   if (e.type === 'value') console.log(`[${e.key}] ${e.value}`);
 *   if (e.type === 'error') console.error(`[${e.key}] ${e.error.kind}`);
 * });
 * ```
 * @param client - the `SageMakerRuntimeClient` all streams share.
 * @param inputs - an array (keys: indexes) or record (keys: names) of `invoke$` inputs.
 * @param config - see {@link InvokeAllConfig}.
 * @returns a cold Observable of {@link FanOutEvent}s.
 * @public
 */
export function invokeAll$<R = Uint8Array>(
  client: SageMakerRuntimeClient,
  inputs: readonly InvokeInput[],
  config?: InvokeAllConfig<number, R>,
): Observable<FanOutEvent<number, R>>;
export function invokeAll$<K extends string, R = Uint8Array>(
  client: SageMakerRuntimeClient,
  inputs: Readonly<Record<K, InvokeInput>>,
  config?: InvokeAllConfig<K, R>,
): Observable<FanOutEvent<K, R>>;
export function invokeAll$<K extends string | number, R>(
  client: SageMakerRuntimeClient,
  inputs: FanOutInputs,
  config: InvokeAllConfig<K, R> = {},
): Observable<FanOutEvent<K, R>> {
  const concurrency = config.concurrency ?? 8;
  const isolate = config.failurePolicy === 'isolate';
  const each = config.each;
  return defer(() => {
    const entries = entriesOf<K>(inputs);
    checkSocketLimit(client, Math.min(concurrency, entries.length), config.onSocketLimit);
    return from(entries).pipe(
      mergeMap(([key, input]) => {
        const bytes$ = invoke$(client, input, config.invoke);
        const out$ = (each === undefined ? bytes$ : each(bytes$, key)) as Observable<R>;
        const stream$: Observable<FanOutEvent<K, R>> = concat(
          out$.pipe(map((value): FanOutEvent<K, R> => ({ type: 'value', key, value }))),
          of<FanOutEvent<K, R>>({ type: 'complete', key }),
        );
        if (!isolate) return stream$.pipe(mapStreamErrors());
        return stream$.pipe(catchError((err: unknown) => of<FanOutEvent<K, R>>({ type: 'error', key, error: toStreamError(err) })));
      }, concurrency),
    );
  });
}
