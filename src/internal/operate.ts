import { Subscription, type Observable, type Observer, type Subscriber } from 'rxjs';

/**
 * An observer that is also a `Subscription`. rxjs then uses it as the source's subscriber
 * directly, so the source's teardown is attached to it and a synchronous source (`of`, `from`
 * over an iterable) sees `closed` as soon as downstream unsubscribes mid-emission.
 */
class LinkedObserver<T> extends Subscription implements Observer<T> {
  constructor(private readonly target: Observer<T>) {
    super();
  }
  next(value: T): void {
    if (!this.closed) this.target.next(value);
  }
  error(err: unknown): void {
    if (this.closed) return;
    this.target.error(err);
    this.unsubscribe();
  }
  complete(): void {
    if (this.closed) return;
    this.target.complete();
    this.unsubscribe();
  }
}

/**
 * Subscribes `observer` to `source` with the subscription chained to `subscriber` *before* the
 * source starts, so that unsubscribing downstream (e.g. `take(1)`) stops even a synchronous
 * source at once. The building block of every custom operator here:
 * `(source) => new Observable(sub => operate(source, sub, { next, error, complete }))`.
 *
 * @internal
 */
export function operate<T, R>(source: Observable<T>, subscriber: Subscriber<R>, observer: Observer<T>): void {
  const inner = new LinkedObserver(observer);
  subscriber.add(inner);
  source.subscribe(inner);
}
