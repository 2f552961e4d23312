import { concat, lastValueFrom, map, of, take, tap, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { SageMakerStreamError, type TokenEvent } from '../../src/index.js';
import { toMessageEvent, type SseMessageEvent } from '../../src/operators/toMessageEvent.js';
import { countingSource } from '../support/chunks.js';

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

const streamError = (): SageMakerStreamError =>
  new SageMakerStreamError({
    kind: 'model-stream',
    message: 'SageMaker endpoint "llm": the model stopped streaming [ModelInvocationTimeExceeded]',
    retryable: false,
    endpointName: 'llm',
    requestId: 'req-123',
    errorCode: 'ModelInvocationTimeExceeded',
    afterFirstByte: true,
    cause: new Error('internal detail: arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm'),
  });

const tokenEvent = (text: string, index: number, extra: Partial<TokenEvent> = {}): TokenEvent => ({
  text,
  format: 'tgi',
  index,
  special: false,
  ...extra,
});

describe('toMessageEvent: data', () => {
  test('turns each token into an event whose data is the token, with no id or type by default, as in the documented marble', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--b--|', { a: 'Hi', b: ' there' });
      expectObservable(source.pipe(toMessageEvent())).toBe('--a--b--|', { a: { data: { text: 'Hi' } }, b: { data: { text: ' there' } } });
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  test('emits no id or type keys at all when they are not configured', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-|', { a: '日本' });
      expectObservable(
        source.pipe(
          toMessageEvent(),
          map((e) => Object.keys(e)),
        ),
      ).toBe('-a-|', { a: ['data'] });
    });
  });

  test('sends a TokenEvent as the object itself, so the client receives it as JSON', () => {
    const a = tokenEvent('🦙', 0);
    const b = tokenEvent('', 1, { finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 1 } });
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold<TokenEvent>('-a-b-|', { a, b });
      expectObservable(source.pipe(toMessageEvent())).toBe('-a-b-|', { a: { data: a }, b: { data: b } });
    });
  });

  test('sets the configured type on every token event', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: 'x', b: 'y' });
      expectObservable(source.pipe(toMessageEvent({ type: 'token' }))).toBe('-a-b-|', {
        a: { type: 'token', data: { text: 'x' } },
        b: { type: 'token', data: { text: 'y' } },
      });
    });
  });

  test('encodes data with the data callback', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold<TokenEvent>('-a-b-|', { a: tokenEvent('a\r\n', 0), b: tokenEvent('', 1, { finishReason: 'length' }) });
      const events$ = source.pipe(toMessageEvent({ data: (e: TokenEvent) => ({ text: e.text, done: e.finishReason !== undefined }) }));
      expectObservable(events$).toBe('-a-b-|', { a: { data: { text: 'a\r\n', done: false } }, b: { data: { text: '', done: true } } });
    });
  });

  test('ends with the error a throwing data callback throws, and unsubscribes from the source', () => {
    const bug = new TypeError('callback bug');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'ok', b: 'bad', c: 'never' });
      const events$ = source.pipe(
        toMessageEvent({
          data: (t: string) => {
            if (t === 'bad') throw bug;
            return t;
          },
        }),
      );
      expectObservable(events$).toBe('-a-#', { a: { data: 'ok' } }, bug);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});

describe('toMessageEvent: ids', () => {
  test('numbers the events 0, 1, 2 in order, the done event included', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: 'x', b: 'y' });
      expectObservable(source.pipe(toMessageEvent({ ids: true, doneEvent: true }))).toBe('-a-b-(c|)', {
        a: { id: '0', data: { text: 'x' } },
        b: { id: '1', data: { text: 'y' } },
        c: { id: '2', type: 'done', data: '[DONE]' },
      });
    });
  });

  test('gives each subscription its own counter, so a second subscription starts again at 0', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: 'x', b: 'y' });
      const events$ = source.pipe(toMessageEvent({ ids: true }));
      const values = { a: { id: '0', data: { text: 'x' } }, b: { id: '1', data: { text: 'y' } } };
      expectObservable(events$).toBe('-a-b-|', values);
      expectObservable(events$, '--^').toBe('---a-b-|', values);
      expectSubscriptions(source.subscriptions).toBe(['^----!', '--^----!']);
    });
  });

  test('overrides the id of a custom done event with the next number', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-|', { a: 'x' });
      expectObservable(source.pipe(toMessageEvent({ ids: true, doneEvent: { data: '[DONE]', id: 'mine' } }))).toBe('-a-(d|)', {
        a: { id: '0', data: { text: 'x' } },
        d: { id: '1', data: '[DONE]' },
      });
    });
  });
});

describe('toMessageEvent: errors', () => {
  test('without errorEvent, passes a SageMakerStreamError through as the very same error after the events before it', () => {
    const error = streamError();
    let caught: unknown;
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', { a: 'x' }, error);
      const events$ = source.pipe(toMessageEvent({ doneEvent: true }), tap({ error: (e: unknown) => (caught = e) }));
      expectObservable(events$).toBe('-a-#', { a: { data: { text: 'x' } } }, error);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(caught).toBe(error);
  });

  test('with errorEvent: true, turns a SageMakerStreamError into a last error event with only kind, message and retryable, then completes', () => {
    const error = streamError();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-#', { a: 'x', b: 'y' }, error);
      expectObservable(source.pipe(toMessageEvent({ ids: true, errorEvent: true, doneEvent: true }))).toBe('-a-b-(e|)', {
        a: { id: '0', data: { text: 'x' } },
        b: { id: '1', data: { text: 'y' } },
        e: {
          id: '2',
          type: 'error',
          data: {
            kind: 'model-stream',
            message: 'SageMaker endpoint "llm": the model stopped streaming [ModelInvocationTimeExceeded]',
            retryable: false,
          },
        },
      });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('with errorEvent: true, the error event carries no request id, endpoint field, cause or error code', async () => {
    const events = await lastValueFrom(
      concat(
        of('x'),
        throwError(() => streamError()),
      ).pipe(toMessageEvent({ errorEvent: true }), toArray()),
    );
    expect(events).toHaveLength(2);
    const data = events[1]?.data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(['kind', 'message', 'retryable']);
    const wire = JSON.stringify(events[1]);
    expect(wire).not.toContain('req-123');
    expect(wire).not.toContain('arn:aws');
    expect(wire).not.toContain('afterFirstByte');
  });

  test('with errorEvent: true, still errors with an error that is not a SageMakerStreamError', () => {
    const bug = new RangeError('a bug in user code');
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-#', { a: 'x' }, bug);
      expectObservable(source.pipe(toMessageEvent({ errorEvent: true, doneEvent: true }))).toBe(
        '-a-#',
        { a: { data: { text: 'x' } } },
        bug,
      );
    });
  });

  test('with an errorEvent function, sends the event it returns for the error it receives', () => {
    const error = new SageMakerStreamError({ kind: 'throttling', message: 'SageMaker endpoint "llm": throttled', retryable: true });
    const seen: SageMakerStreamError[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-#', { a: 'x' }, error);
      const events$ = source.pipe(
        toMessageEvent({
          ids: true,
          errorEvent: (e) => {
            seen.push(e);
            return { type: 'failure', data: { text: e.retryable ? 'Busy, try again.' : 'Failed.' }, retry: 5000 };
          },
        }),
      );
      expectObservable(events$).toBe('-a-(e|)', {
        a: { id: '0', data: { text: 'x' } },
        e: { id: '1', type: 'failure', data: { text: 'Busy, try again.' }, retry: 5000 },
      });
    });
    expect(seen).toEqual([error]);
  });

  test('ends with the error a throwing errorEvent function throws', () => {
    const bug = new TypeError('mapper bug');
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-#', { a: 'x' }, streamError());
      const events$ = source.pipe(
        toMessageEvent({
          errorEvent: () => {
            throw bug;
          },
        }),
      );
      expectObservable(events$).toBe('-a-#', { a: { data: { text: 'x' } } }, bug);
    });
  });
});

describe('toMessageEvent: done event', () => {
  test('with doneEvent: true, ends a complete stream with { type: done, data: [DONE] }', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-|', { a: 'x' });
      expectObservable(source.pipe(toMessageEvent({ doneEvent: true }))).toBe('-a-(d|)', {
        a: { data: { text: 'x' } },
        d: { type: 'done', data: '[DONE]' },
      });
    });
  });

  test('sends the done event alone for an empty stream', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('---|').pipe(toMessageEvent({ doneEvent: { data: '[DONE]' } }))).toBe('---(d|)', { d: { data: '[DONE]' } });
    });
  });

  test('emits a fresh done event each time, so NestJS writing an id into one does not leak into the next subscription', async () => {
    const done: SseMessageEvent = { type: 'end', data: { ok: true } };
    const events$ = of('x').pipe(toMessageEvent({ doneEvent: done }));
    const first = await lastValueFrom(events$.pipe(toArray()));
    (first[1] as { id?: string }).id = '2'; // what NestJS does to an event without an id
    const second = await lastValueFrom(events$.pipe(toArray()));
    expect(second).toEqual([{ data: { text: 'x' } }, { type: 'end', data: { ok: true } }]);
    expect(second[1]).not.toHaveProperty('id');
    expect(done).toEqual({ type: 'end', data: { ok: true } });
  });
});

describe('toMessageEvent: unsubscribing', () => {
  test('unsubscribes from the source on early unsubscribe and sends no done event', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'x', b: 'y', c: 'z' });
      expectObservable(source.pipe(toMessageEvent({ ids: true, doneEvent: true })), '^--!').toBe('-a-', {
        a: { id: '0', data: { text: 'x' } },
      });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('lets take(2) cut a synchronous source after two events', () => {
    const { source, pulled } = countingSource(1000, (i) => `t${i}`);
    scheduler.run(({ expectObservable }) => {
      expectObservable(source.pipe(toMessageEvent(), take(2))).toBe('(ab|)', { a: { data: { text: 't0' } }, b: { data: { text: 't1' } } });
    });
    expect(pulled()).toBe(2);
  });
});
