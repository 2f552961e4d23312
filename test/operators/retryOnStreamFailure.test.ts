import { defer, take, tap, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { SageMakerStreamError, retryOnStreamFailure, type RetryNotice, type SageMakerStreamErrorKind } from '../../src/index.js';
import { countingSource } from '../support/chunks.js';

function streamError(kind: SageMakerStreamErrorKind, retryable: boolean): SageMakerStreamError {
  return new SageMakerStreamError({ kind, message: `SageMaker: ${kind}`, retryable });
}

const RETRYABLE_KINDS: readonly SageMakerStreamErrorKind[] = [
  'internal-stream-failure',
  'network',
  'throttling',
  'service-unavailable',
  'internal-failure',
  'model-not-ready',
];
const FINAL_KINDS: readonly SageMakerStreamErrorKind[] = ['validation', 'model', 'model-stream', 'decode', 'timeout', 'aborted'];

/** Serves `attempts[n]` to the n-th subscription (and the last one after that). */
function attemptsOf<T>(attempts: readonly Observable<T>[]): Observable<T> {
  let n = 0;
  return defer(() => {
    const next = attempts[Math.min(n, attempts.length - 1)];
    n++;
    if (next === undefined) throw new Error('no attempts');
    return next;
  });
}

describe('retryOnStreamFailure', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('retryable failures', () => {
    it.each(RETRYABLE_KINDS)('re-subscribes after the delay when the source fails with a retryable %s error', (kind) => {
      const failure = streamError(kind, true);
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const first = cold('--#', undefined, failure);
        const second = cold('--a--b--|');
        const result = attemptsOf([first, second]).pipe(retryOnStreamFailure({ delay: () => 3 }));
        expectObservable(result).toBe('-------a--b--|');
        expectSubscriptions(first.subscriptions).toBe('^-!');
        expectSubscriptions(second.subscriptions).toBe('-----^-------!');
      });
    });

    it.each<[string, () => unknown]>([
      ['InternalStreamFailure', () => Object.assign(new Error('x'), { name: 'InternalStreamFailure' })],
      ['ThrottlingException', () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
      ['ServiceUnavailable', () => ({ name: 'ServiceUnavailable', message: 'unavailable', $metadata: { httpStatusCode: 503 } })],
      ['ModelNotReadyException', () => ({ name: 'ModelNotReadyException', message: 'loading' })],
      ['ECONNRESET', () => Object.assign(new Error('aborted'), { code: 'ECONNRESET' })],
    ])('retries a raw SDK-shaped %s error', (_name, make) => {
      const raw = make();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const first = cold('-#', undefined, raw);
        const second = cold('-a|');
        const result = attemptsOf([first, second]).pipe(retryOnStreamFailure({ delay: () => 2 }));
        expectObservable(result).toBe('----a|');
        expectSubscriptions(first.subscriptions).toBe('^!');
        expectSubscriptions(second.subscriptions).toBe('---^-!');
      });
    });

    it('retries three times by default and then passes the last error on unchanged', () => {
      const raw = Object.assign(new Error('x'), { name: 'InternalStreamFailure' });
      let caught: unknown;
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('--#', undefined, raw);
        const result = source.pipe(retryOnStreamFailure({ delay: () => 3 }), tap({ error: (e: unknown) => (caught = e) }));
        // attempts at 0, 5, 10, 15; the last one fails at 17
        expectObservable(result).toBe('-----------------#', undefined, raw);
        expectSubscriptions(source.subscriptions).toBe(['^-!', '-----^-!', '----------^-!', '---------------^-!']);
      });
      expect(caught).toBe(raw);
    });

    it('limits the retries to count', () => {
      const failure = streamError('network', true);
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, failure);
        expectObservable(source.pipe(retryOnStreamFailure({ count: 1, delay: () => 4 }))).toBe('------#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(['^!', '-----^!']);
      });
    });

    it('does not retry at all with count 0', () => {
      const failure = streamError('throttling', true);
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, failure);
        expectObservable(source.pipe(retryOnStreamFailure({ count: 0, delay: () => 4 }))).toBe('-#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });

    it('waits the time the delay function returns for each attempt', () => {
      const failure = streamError('internal-stream-failure', true);
      const seen: [number, SageMakerStreamErrorKind][] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('#', undefined, failure);
        const result = source.pipe(
          retryOnStreamFailure({
            count: 3,
            delay: (attempt, error) => {
              seen.push([attempt, error.kind]);
              return attempt * 10;
            },
          }),
        );
        // failures at 0, 10, 30, 60
        expectObservable(result).toBe('60ms #', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(['(^!)', '10ms (^!)', '30ms (^!)', '60ms (^!)']);
      });
      expect(seen).toEqual([
        [1, 'internal-stream-failure'],
        [2, 'internal-stream-failure'],
        [3, 'internal-stream-failure'],
      ]);
    });
  });

  describe('final failures', () => {
    it.each(FINAL_KINDS)('passes a %s error through unchanged with a single subscription', (kind) => {
      const failure = streamError(kind, false);
      let caught: unknown;
      const onRetry = jest.fn();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('--#', undefined, failure);
        const result = source.pipe(retryOnStreamFailure({ delay: () => 1, onRetry }), tap({ error: (e: unknown) => (caught = e) }));
        expectObservable(result).toBe('--#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe('^-!');
      });
      expect(caught).toBe(failure);
      expect(onRetry).not.toHaveBeenCalled();
    });

    it.each<[string, () => unknown]>([
      ['ValidationError', () => ({ name: 'ValidationError', message: 'bad' })],
      ['ModelError', () => ({ name: 'ModelError', message: 'bad', OriginalStatusCode: 400 })],
      ['ModelStreamError', () => ({ name: 'ModelStreamError', message: 'bad', ErrorCode: 'StreamBroken' })],
      ['AbortError', () => Object.assign(new Error('aborted by caller'), { name: 'AbortError' })],
      ['TimeoutError', () => Object.assign(new Error('timeout'), { name: 'TimeoutError' })],
      ['TypeError', () => new TypeError('x is not a function')],
      ['SyntaxError', () => new SyntaxError('Unexpected end of JSON input')],
    ])('passes a raw %s through unchanged without retrying', (_name, make) => {
      const raw = make();
      let caught: unknown;
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, raw);
        const result = source.pipe(retryOnStreamFailure({ delay: () => 1 }), tap({ error: (e: unknown) => (caught = e) }));
        expectObservable(result).toBe('-#', undefined, raw);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
      expect(caught).toBe(raw);
    });
  });

  describe('after output', () => {
    it('passes a retryable error through unchanged once a value was emitted', () => {
      const failure = streamError('internal-stream-failure', true);
      const onRetry = jest.fn();
      let caught: unknown;
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a--#', undefined, failure);
        const result = source.pipe(retryOnStreamFailure({ delay: () => 2, onRetry }), tap({ error: (e: unknown) => (caught = e) }));
        expectObservable(result).toBe('-a--#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
      expect(caught).toBe(failure);
      expect(onRetry).not.toHaveBeenCalled();
    });

    it('retries after output when afterOutput is true, replaying the whole stream', () => {
      const failure = streamError('network', true);
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a--#', undefined, failure);
        const result = source.pipe(retryOnStreamFailure({ count: 1, afterOutput: true, delay: () => 2 }));
        // attempt 1 at 0 (a at 1, fails at 4); attempt 2 at 6 (a at 7, fails at 10)
        expectObservable(result).toBe('-a-----a--#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(['^---!', '------^---!']);
      });
    });

    it('keeps retrying while earlier attempts emitted nothing, and stops at the first error after output', () => {
      const failure = streamError('internal-stream-failure', true);
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const first = cold('-#', undefined, failure);
        const second = cold('-a-#', undefined, failure);
        const result = attemptsOf([first, second]).pipe(retryOnStreamFailure({ delay: () => 2 }));
        expectObservable(result).toBe('----a-#', undefined, failure);
        expectSubscriptions(first.subscriptions).toBe('^!');
        expectSubscriptions(second.subscriptions).toBe('---^--!');
      });
    });

    it('tracks output per subscription, so one subscription emitting does not stop the retries of another', () => {
      const failure = streamError('throttling', true);
      scheduler.run(({ cold, expectObservable }) => {
        const done = cold('a|');
        const fails = cold('-#', undefined, failure);
        const works = cold('-b|');
        const result = attemptsOf([done, fails, works]).pipe(retryOnStreamFailure({ delay: () => 2 }));
        expectObservable(result).toBe('a|');
        // the second subscription, at 5, fails at 6 and is retried at 8 despite the first one's output
        expectObservable(result, '-----^').toBe('---------b|');
      });
    });
  });

  describe('onRetry', () => {
    it('receives the mapped error, the attempt, the retries left and the delay before each retry', () => {
      const raw = Object.assign(new Error('x'), { name: 'InternalStreamFailure' });
      const notices: RetryNotice[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const source = cold('-#', undefined, raw);
        const result = source.pipe(retryOnStreamFailure({ count: 2, delay: (attempt) => attempt * 5, onRetry: (n) => notices.push(n) }));
        // attempts at 0 (fails at 1), 6 (fails at 7) and 17 (fails at 18)
        expectObservable(result).toBe('18ms #', undefined, raw);
      });
      expect(notices.map(({ attempt, retriesLeft, delay }) => ({ attempt, retriesLeft, delay }))).toEqual([
        { attempt: 1, retriesLeft: 1, delay: 5 },
        { attempt: 2, retriesLeft: 0, delay: 10 },
      ]);
      for (const notice of notices) {
        expect(SageMakerStreamError.isInstance(notice.error)).toBe(true);
        expect(notice.error.kind).toBe('internal-stream-failure');
        expect(notice.error.cause).toBe(raw);
      }
    });

    it('is told about the retry before the re-subscription happens', () => {
      const failure = streamError('network', true);
      const log: string[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const first = cold('-#', undefined, failure);
        const second = cold('-a|');
        const source = defer(() => {
          log.push('subscribe');
          return log.length === 1 ? first : second;
        });
        const result = source.pipe(retryOnStreamFailure({ delay: () => 1, onRetry: () => log.push('onRetry') }));
        expectObservable(result).toBe('---a|');
      });
      expect(log).toEqual(['subscribe', 'onRetry', 'subscribe']);
    });

    it('sends an exception thrown by onRetry downstream and does not retry', () => {
      const failure = streamError('network', true);
      const bug = new Error('bug in onRetry');
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, failure);
        const result = source.pipe(
          retryOnStreamFailure({
            delay: () => 1,
            onRetry: () => {
              throw bug;
            },
          }),
        );
        expectObservable(result).toBe('-#', undefined, bug);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });

    it('sends an exception thrown by the delay function downstream and does not retry', () => {
      const failure = streamError('network', true);
      const bug = new Error('bug in delay');
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, failure);
        const result = source.pipe(
          retryOnStreamFailure({
            delay: () => {
              throw bug;
            },
          }),
        );
        expectObservable(result).toBe('-#', undefined, bug);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });
  });

  describe('cancellation', () => {
    it('cancels the pending retry when the consumer unsubscribes during the wait', () => {
      const failure = streamError('internal-stream-failure', true);
      const onRetry = jest.fn();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, failure);
        const result = source.pipe(retryOnStreamFailure({ delay: () => 5, onRetry }));
        // the retry would re-subscribe at 6; the consumer leaves at 3
        expectObservable(result, '^--!').toBe('---');
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
      expect(onRetry).toHaveBeenCalledTimes(1);
    });

    it('unsubscribes from the source when the consumer unsubscribes early', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|');
        expectObservable(source.pipe(retryOnStreamFailure()), '^--!').toBe('-a-');
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('lets take cut a synchronous source', () => {
      const { source, pulled } = countingSource(100, (i) => i);
      scheduler.run(({ expectObservable }) => {
        expectObservable(source.pipe(retryOnStreamFailure(), take(2))).toBe('(ab|)', { a: 0, b: 1 });
      });
      expect(pulled()).toBe(2);
    });

    it('passes values and completion through untouched when nothing fails', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-|');
        expectObservable(source.pipe(retryOnStreamFailure())).toBe('-a-b-|');
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
    });
  });

  describe('default backoff', () => {
    it('waits just under base * 2^(attempt-1) when Math.random returns 0.999', () => {
      jest.spyOn(Math, 'random').mockReturnValue(0.999);
      const failure = streamError('internal-stream-failure', true);
      const delays: number[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('#', undefined, failure);
        const result = source.pipe(retryOnStreamFailure({ onRetry: (n) => delays.push(n.delay) }));
        // base 100: waits 99, 199 and 399 → attempts at 0, 99, 298, 697
        expectObservable(result).toBe('697ms #', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(['(^!)', '99ms (^!)', '298ms (^!)', '697ms (^!)']);
      });
      expect(delays).toEqual([99, 199, 399]);
    });

    it('retries at once when Math.random returns 0', () => {
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const failure = streamError('network', true);
      const delays: number[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('#', undefined, failure);
        const result = source.pipe(retryOnStreamFailure({ onRetry: (n) => delays.push(n.delay) }));
        expectObservable(result).toBe('#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(['(^!)', '(^!)', '(^!)', '(^!)']);
      });
      expect(delays).toEqual([0, 0, 0]);
    });

    it('uses a number delay as the base of the exponential backoff', () => {
      jest.spyOn(Math, 'random').mockReturnValue(0.5);
      const delays: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const failure = streamError('throttling', true);
        const result = cold('#', undefined, failure).pipe(
          retryOnStreamFailure({ count: 3, delay: 40, onRetry: (n) => delays.push(n.delay) }),
        );
        // waits 20, 40, 80
        expectObservable(result).toBe('140ms #', undefined, failure);
      });
      expect(delays).toEqual([20, 40, 80]);
    });

    it('caps each wait below maxDelay', () => {
      jest.spyOn(Math, 'random').mockReturnValue(0.999);
      const delays: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const failure = streamError('service-unavailable', true);
        const result = cold('#', undefined, failure).pipe(
          retryOnStreamFailure({ count: 4, delay: 100, maxDelay: 250, onRetry: (n) => delays.push(n.delay) }),
        );
        // caps 100, 200, 250, 250 → waits 99, 199, 249, 249
        expectObservable(result).toBe('796ms #', undefined, failure);
      });
      expect(delays).toEqual([99, 199, 249, 249]);
    });

    it.each([0, 0.25, 0.5, 0.75, 0.999])('keeps every wait within [0, min(base*2^(n-1), maxDelay)) when Math.random returns %s', (r) => {
      jest.spyOn(Math, 'random').mockReturnValue(r);
      const notices: RetryNotice[] = [];
      const base = 100;
      const maxDelay = 5000;
      let caught: unknown;
      scheduler.run(({ cold }) => {
        const failure = streamError('internal-failure', true);
        cold('#', undefined, failure)
          .pipe(retryOnStreamFailure({ count: 8, onRetry: (n) => notices.push(n) }))
          .subscribe({ error: (e: unknown) => (caught = e) });
      });
      expect(SageMakerStreamError.isInstance(caught)).toBe(true);
      expect(notices).toHaveLength(8);
      for (const { attempt, delay } of notices) {
        const cap = Math.min(base * 2 ** (attempt - 1), maxDelay);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(cap);
        expect(Number.isInteger(delay)).toBe(true);
      }
    });
  });
});
