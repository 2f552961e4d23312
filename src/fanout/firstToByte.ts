import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Observable, tap, type Subscription } from 'rxjs';
import type { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { toStreamError } from '../internal/classify.js';
import { invoke$ } from '../invoke.js';
import { entriesOf } from './invokeAll.js';
import { checkSocketLimit } from './sockets.js';
import type { FanOutBaseConfig, FanOutInputs, FanOutValue } from './types.js';

/**
 * The engine of race and hedge: starts the inputs (all at once, or one every `stagger` ms while
 * none has produced a byte), keeps the first to produce a payload byte and aborts the others at
 * that moment. A stream that fails before any winner drops out (and, when staggered, the next one
 * starts at once); when all fail, the first error is reported.
 *
 * @internal
 */
export function firstToByte$<K, R>(
  client: SageMakerRuntimeClient,
  inputs: FanOutInputs,
  config: FanOutBaseConfig<K, R>,
  stagger: number | undefined,
): Observable<FanOutValue<K, R>> {
  return new Observable<FanOutValue<K, R>>((subscriber) => {
    const entries = entriesOf<K>(inputs);
    checkSocketLimit(client, stagger === undefined ? entries.length : 1, config.onSocketLimit);
    const running = new Map<number, Subscription>();
    let winner: number | undefined;
    // Read through functions: both change while subscribing to a synchronous source.
    const decided = (): boolean => winner !== undefined;
    const closed = (): boolean => subscriber.closed;
    let next = 0;
    let ended = 0;
    let firstError: SageMakerStreamError | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const win = (i: number): void => {
      if (winner !== undefined) return;
      winner = i;
      clearTimeout(timer);
      for (const [j, sub] of running) {
        if (j !== i) sub.unsubscribe(); // aborts the loser's request now
      }
    };

    const lost = (error: SageMakerStreamError | undefined): void => {
      ended++;
      firstError ??= error;
      if (ended === entries.length) {
        if (firstError === undefined) subscriber.complete();
        else subscriber.error(firstError);
      } else if (stagger !== undefined && ended === next) {
        startNext(); // every started stream has failed: do not wait for the delay
      }
    };

    const startNext = (): void => {
      clearTimeout(timer);
      const entry = entries[next];
      if (winner !== undefined || entry === undefined || subscriber.closed) return;
      const i = next++;
      const [key, input] = entry;
      const bytes$ = invoke$(client, input, config.invoke).pipe(tap(() => win(i)));
      const out$ = (config.each === undefined ? bytes$ : config.each(bytes$, key)) as Observable<R>;
      const sub = out$.subscribe({
        next: (value) => {
          win(i);
          if (winner === i) subscriber.next({ type: 'value', key, value });
        },
        error: (err: unknown) => {
          running.delete(i);
          if (winner === i) subscriber.error(toStreamError(err));
          else lost(toStreamError(err));
        },
        complete: () => {
          running.delete(i);
          if (winner === i) subscriber.complete();
          else lost(undefined); // ended without a byte
        },
      });
      if (!sub.closed) running.set(i, sub);
      if (stagger !== undefined && !decided() && next < entries.length && !closed()) {
        timer = setTimeout(startNext, stagger);
      }
    };

    if (entries.length === 0) {
      subscriber.complete();
      return undefined;
    }
    if (stagger === undefined) {
      while (next < entries.length && winner === undefined && !subscriber.closed) startNext();
    } else {
      startNext();
    }
    return () => {
      clearTimeout(timer);
      for (const sub of running.values()) sub.unsubscribe();
      running.clear();
    };
  });
}
