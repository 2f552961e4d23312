// Compile-time checks of batchTokens' element types: checked by `tsc --noEmit`, never run.
import { of, type Observable, type OperatorFunction } from 'rxjs';
import { batchTokens, type TokenBatch } from '../../src/operators/batchTokens.js';
import type { TokenEvent } from '../../src/operators/tokenEvents.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

declare const strings$: Observable<string>;
declare const events$: Observable<TokenEvent>;
declare const mixed$: Observable<string | TokenEvent>;

// Strings are concatenated, objects collected, inferred from the source in pipe().
const text$ = strings$.pipe(batchTokens());
assertType<Equals<typeof text$, Observable<string>>>(true);
const eventBatches$ = events$.pipe(batchTokens({ interval: 50 }));
assertType<Equals<typeof eventBatches$, Observable<TokenEvent[]>>>(true);
const literal$ = of('a' as const, 'b' as const).pipe(batchTokens());
assertType<Equals<typeof literal$, Observable<string>>>(true);
// A mix may give either, so the type says so.
const mixed = mixed$.pipe(batchTokens());
assertType<Equals<typeof mixed, Observable<string | (string | TokenEvent)[]>>>(true);
assertType<Equals<TokenBatch<unknown>, string | unknown[]>>(true);
const op: OperatorFunction<string, string> = batchTokens();
op;

// @ts-expect-error interval is 'frame' or a number
batchTokens({ interval: 'tick' });
// @ts-expect-error a batch of strings is a string, not an array
const wrong: Observable<string[]> = strings$.pipe(batchTokens());
wrong;
