import { animationFrameScheduler, asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { operate } from '../internal/operate.js';

/**
 * Options of {@link batchTokens}.
 *
 * @example
 * ```ts
 * import { batchTokens, invoke$, tokens, type BatchTokensConfig } from 'rx-sagemaker';
 *
 * // at most one UI update every 50 ms instead of one per animation frame
 * const every50ms: BatchTokensConfig = { interval: 50 };
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(tokens(), batchTokens(every50ms))
 *   .subscribe((text) => output.append(text));
 * ```
 * @public
 */
export interface BatchTokensConfig {
  /**
   * How long a batch collects tokens, counted from its first token: `'frame'` (until the next
   * animation frame) or a number of milliseconds. A window with no tokens emits nothing and
   * schedules nothing, so an idle stream costs no timers.
   *
   * Without a `scheduler`, `'frame'` uses `animationFrameScheduler` where
   * `requestAnimationFrame` exists (checked at subscribe time) and a 16 ms `asyncScheduler` timer
   * elsewhere (server-side rendering, Node, workers without rAF); a number uses `asyncScheduler`.
   * With a `scheduler`, `'frame'` is a delay of 0 on it.
   *
   * @defaultValue `'frame'`
   */
  readonly interval?: 'frame' | number | undefined;
  /**
   * The scheduler that runs each batch's flush: a `TestScheduler` in tests, or a scheduler of your
   * own, e.g. one that schedules outside Angular's zone. Scheduling never depends on zone.js.
   *
   * @defaultValue `animationFrameScheduler` for `'frame'` where `requestAnimationFrame` exists,
   * else `asyncScheduler`
   */
  readonly scheduler?: SchedulerLike | undefined;
}

/**
 * What {@link batchTokens} emits for one batch of `T`: the concatenated text for strings, an array
 * in arrival order for objects (e.g. {@link TokenEvent}), and either for a mix or for `unknown`
 * (a batch is concatenated exactly when every value in it is a string).
 *
 * @example
 * ```ts
 * import { batchTokens, invoke$, tokenEvents, type TokenBatch, type TokenEvent } from 'rx-sagemaker';
 *
 * // TokenBatch<string> is string (the batch's text); TokenBatch<TokenEvent> is TokenEvent[]
 * function render(batch: TokenBatch<TokenEvent>): void {
 *   output.append(batch.map((e) => e.text).join(''));
 *   const reason = batch.at(-1)?.finishReason;
 *   if (reason !== undefined) output.append(` (${reason})`);
 * }
 * invoke$(client, input).pipe(tokenEvents(), batchTokens()).subscribe(render);
 * ```
 * @public
 */
export type TokenBatch<T> = [T] extends [string] ? string : [T] extends [object] ? T[] : string | T[];

/** Every value of the batch is a string: their concatenation; otherwise the batch itself. */
function combine<T>(batch: T[]): string | T[] {
  let text = '';
  for (const value of batch) {
    if (typeof value !== 'string') return batch;
    text += value;
  }
  return text;
}

/**
 * Batches tokens so that a UI renders once per animation frame (or per `interval` ms) instead of
 * once per token: emits the concatenated text of each batch of strings (from {@link tokens}), or
 * an array of each batch of objects (e.g. {@link TokenEvent}s from {@link tokenEvents}).
 *
 * A batch starts with its first token and is emitted when its window ends; a window with no
 * tokens (or, for strings, only empty ones) emits nothing. No token is lost: on completion the
 * pending batch is emitted at once, then the completion; on error the pending batch is emitted
 * first, then the error. Unsubscribing cancels the pending frame or timer and drops the batch.
 * State (batch and timer) is per subscription. To merge a batch some other way (say, the text of
 * token events with the last `finishReason`), `map` the arrays.
 *
 * Scheduling uses rxjs schedulers only, never zone.js: it works the same in zoneless and zone.js
 * Angular apps, and in Node.
 * - Zoneless (signals; the default for new Angular 21 apps): append each batch to a signal in
 *   `next`; Angular renders once per batch instead of once per token.
 * - zone.js: the frame is requested from the zone the stream runs in, usually Angular's, so
 *   change detection runs after each batch; it also runs after each network read, but finds
 *   nothing new between batches. `NgZone.runOutsideAngular` is not required. To skip those extra
 *   passes, subscribe inside `runOutsideAngular` and set a signal per batch: since Angular 18 a
 *   signal set outside the zone still schedules change detection, so no `NgZone.run` is needed.
 *
 * Put it last before `takeUntilDestroyed()` (or your `takeUntil`), so that destroying the
 * component cancels the pending frame as well as the request.
 *
 * ```
 * batchTokens({ interval: 3 })   (one character = 1 ms)
 * source:   -a-b---c-d-e-|
 * result:   ----x-----y--(z|)      x = "ab", y = "cd", z = "e" (flushed by the completion)
 * ```
 *
 * @example
 * ```ts
 * import { Component, signal } from '@angular/core';
 * import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
 * import { batchTokens, invoke$, tokenEvents, tokens } from 'rx-sagemaker';
 *
 * // Angular (zoneless or zone.js): one render per frame, not per token.
 * @Component({ selector: 'app-answer', template: '<p>{{ answer() }}</p>' })
 * export class AnswerComponent {
 *   readonly answer = signal('');
 *   constructor() {
 *     invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *       .pipe(tokens(), batchTokens(), takeUntilDestroyed())
 *       .subscribe((text) => this.answer.update((answer) => answer + text));
 *   }
 * }
 *
 * // Token events, at most one batch every 50 ms:
 * invoke$(client, input)
 *   .pipe(tokenEvents(), batchTokens({ interval: 50 }))
 *   .subscribe((events) => console.log(events.length, events.at(-1)?.finishReason));
 * ```
 * @param config - see {@link BatchTokensConfig}.
 * @returns an operator from tokens to batches of tokens (see {@link TokenBatch}).
 * @throws RangeError if `interval` is neither `'frame'` nor a finite number ≥ 0.
 * @public
 */
export function batchTokens<T>(config: BatchTokensConfig = {}): OperatorFunction<T, TokenBatch<T>> {
  const interval = config.interval ?? 'frame';
  if (interval !== 'frame' && !(Number.isFinite(interval) && interval >= 0)) {
    throw new RangeError(`batchTokens: interval must be 'frame' or a finite number of ms >= 0, got ${String(interval)}`);
  }
  return (source) =>
    new Observable<TokenBatch<T>>((subscriber) => {
      let scheduler: SchedulerLike;
      let delay: number;
      if (config.scheduler !== undefined) {
        scheduler = config.scheduler;
        delay = interval === 'frame' ? 0 : interval;
      } else if (interval !== 'frame') {
        scheduler = asyncScheduler;
        delay = interval;
      } else if (typeof requestAnimationFrame === 'function') {
        scheduler = animationFrameScheduler;
        delay = 0;
      } else {
        scheduler = asyncScheduler;
        delay = 16;
      }

      let batch: T[] = [];
      let scheduled = false;
      let pending: Subscription | undefined;

      const emit = (): void => {
        if (batch.length === 0) return;
        const values = batch;
        batch = []; // before next: a re-entrant token starts a new batch
        const out = combine(values);
        if (out !== '') subscriber.next(out as TokenBatch<T>);
      };
      const flushScheduled = (): void => {
        scheduled = false;
        pending = undefined;
        emit();
      };
      const cancel = (): void => {
        scheduled = false;
        const action = pending;
        pending = undefined;
        action?.unsubscribe();
      };

      operate(source, subscriber, {
        next(value) {
          batch.push(value);
          if (scheduled) return;
          scheduled = true;
          const action = scheduler.schedule(flushScheduled, delay);
          // A synchronous scheduler may already have flushed (and a re-entrant token scheduled anew).
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- flushScheduled may have reset it
          if (scheduled && pending === undefined) pending = action;
        },
        error(err: unknown) {
          cancel();
          emit();
          subscriber.error(err);
        },
        complete() {
          cancel();
          emit();
          subscriber.complete();
        },
      });

      return () => {
        cancel();
        batch = [];
      };
    });
}
