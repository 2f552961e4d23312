import { from, type Observable, type OperatorFunction } from 'rxjs';

/** Text as UTF-8 bytes. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bytes from numbers. */
export const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Sliceable = string | Uint8Array;

function cut<T extends Sliceable>(input: T, start: number, end?: number): T {
  return (typeof input === 'string' ? input.slice(start, end) : input.slice(start, end)) as T;
}

/**
 * Every way the tests cut an input into chunks: whole, in two at every offset (including the
 * empty first and last chunk), and one unit (byte or UTF-16 code unit) at a time. Keyed by a
 * readable name so that a failing split is named in the diff.
 */
export function chunkings<T extends Sliceable>(input: T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  out.set('whole', [input]);
  for (let i = 0; i <= input.length; i++) out.set(`split at ${i}`, [cut(input, 0, i), cut(input, i)]);
  out.set(
    'one unit at a time',
    Array.from({ length: input.length }, (_, i) => cut(input, i, i + 1)),
  );
  return out;
}

/** The values, final error and completion of an Observable. */
export interface Outcome<T> {
  values: T[];
  error?: unknown;
  completed: boolean;
}

/** Subscribes and resolves with everything the Observable did (sync sources resolve at once). */
export function outcomeOf<T>(source: Observable<T>): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const values: T[] = [];
    source.subscribe({
      next: (v) => values.push(v),
      error: (error: unknown) => resolve({ values, error, completed: false }),
      complete: () => resolve({ values, completed: true }),
    });
  });
}

/**
 * Runs `op` over every chunking of `input` and returns `{ [chunking]: summary(outcome) }`, so a
 * test can compare it against the same expected summary for every chunking in one assertion.
 */
export async function overEveryChunking<I extends Sliceable, O, S>(
  input: I,
  op: OperatorFunction<I, O>,
  summary: (outcome: Outcome<O>) => S,
): Promise<Record<string, S>> {
  const result: Record<string, S> = {};
  for (const [name, chunks] of chunkings(input)) {
    result[name] = summary(await outcomeOf(from(chunks).pipe(op)));
  }
  return result;
}

/** `{ [chunking]: value }` for every chunking of `input`: the expectation for {@link overEveryChunking}. */
export function sameForEveryChunking<S>(input: Sliceable, value: S): Record<string, S> {
  const result: Record<string, S> = {};
  for (const name of chunkings(input).keys()) result[name] = value;
  return result;
}

/**
 * A synchronous source of `count` items that counts how many were pulled, to check that an
 * operator stops a synchronous source once the consumer has unsubscribed.
 */
export function countingSource<T>(count: number, item: (i: number) => T): { source: Observable<T>; pulled: () => number } {
  let pulled = 0;
  function* generate(): Generator<T> {
    for (let i = 0; i < count; i++) {
      pulled++;
      yield item(i);
    }
  }
  return { source: from(generate()), pulled: () => pulled };
}
