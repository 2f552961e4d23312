import { reduce, type OperatorFunction } from 'rxjs';

/**
 * Reduces a stream of tokens (strings, or {@link TokenEvent}s) to the full text, emitted once
 * when the source completes. An empty stream gives `''`. Errors pass through (the partial text is
 * not emitted; use `scan` for a running text).
 *
 * ```
 * source:   --"Hel"--"lo"--"!"--|
 * result:   --------------------("Hello!"|)
 * ```
 *
 * @example
 * ```ts
 * import { lastValueFrom } from 'rxjs';
 * import { invoke$, tokens, collectText } from 'rx-sagemaker';
 *
 * const answer = await lastValueFrom(
 *   invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } }).pipe(tokens(), collectText()),
 * );
 * ```
 * @returns an operator from tokens to one string.
 * @public
 */
export function collectText(): OperatorFunction<string | { readonly text: string }, string> {
  return reduce<string | { readonly text: string }, string>((text, token) => text + (typeof token === 'string' ? token : token.text), '');
}
