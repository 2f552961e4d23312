import { Subject, from, lastValueFrom, of, take, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { SageMakerStreamError, decodeUtf8, parseJsonLines, splitLines } from '../../src/index.js';
import { countingSource, outcomeOf, overEveryChunking, sameForEveryChunking, utf8, type Outcome } from '../support/chunks.js';

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

function summary(outcome: Outcome<unknown>): { values: unknown[]; completed: boolean; error?: unknown } {
  const result: { values: unknown[]; completed: boolean; error?: unknown } = { values: outcome.values, completed: outcome.completed };
  if (outcome.error !== undefined) {
    const e = outcome.error;
    result.error = SageMakerStreamError.isInstance(e) ? { kind: e.kind, lineNumber: e.lineNumber } : e;
  }
  return result;
}

describe('parseJsonLines: marbles', () => {
  test('parses each line and skips a blank one, as in the documented marble', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--b--c--|', { a: '{"a":1}', b: '', c: '{"a":2}' });
      expectObservable(source.pipe(parseJsonLines())).toBe('--x-----y--|', { x: { a: 1 }, y: { a: 2 } });
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  test('errors with kind decode and the 1-based lineNumber of a malformed line, counting skipped blank lines, and unsubscribes', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|', { a: '{"ok":true}', b: '   ', c: '{"token": oops}', d: '{"never":1}' });
      expectObservable(source.pipe(parseJsonLines())).toBe(
        '-x---#',
        { x: { ok: true } },
        expect.objectContaining({ name: 'SageMakerStreamError', kind: 'decode', lineNumber: 3, retryable: false }),
      );
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('forwards an upstream error', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('upstream failed');
      const source = cold('-a-#', { a: '[1]' }, failure);
      expectObservable(source.pipe(parseJsonLines())).toBe('-x-#', { x: [1] }, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('completes when the source completes, emitting nothing more', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: '1', b: ' ' });
      expectObservable(source.pipe(parseJsonLines())).toBe('-x---|', { x: 1 });
    });
  });

  test('unsubscribes from the source on early unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: '"one"', b: '"two"', c: '"three"' });
      expectObservable(source.pipe(parseJsonLines()), '^----!').toBe('-x-y-', { x: 'one', y: 'two' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('lets take(1) end an asynchronous source after the first value', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: '{"n":1}', b: '{"n":2}' });
      expectObservable(source.pipe(parseJsonLines(), take(1))).toBe('-(x|)', { x: { n: 1 } });
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  test('lets take(1) cut a synchronous source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc|)', { a: '', b: '{"n":1}', c: '{"n":2}' });
      expectObservable(source.pipe(parseJsonLines(), take(1))).toBe('(x|)', { x: { n: 1 } });
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  test('counts lines per subscription, so two interleaved subscriptions report the same lineNumber', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: '{"n":1}', b: 'nope' });
      const values$ = source.pipe(parseJsonLines());
      const error = expect.objectContaining({ kind: 'decode', lineNumber: 2 });
      expectObservable(values$).toBe('-x-#', { x: { n: 1 } }, error);
      expectObservable(values$, '-^').toBe('--x-#', { x: { n: 1 } }, error);
      expectSubscriptions(source.subscriptions).toBe(['^--!', '-^--!']);
    });
  });
});

describe('parseJsonLines: values and errors', () => {
  test('parses every kind of JSON value, with whitespace around it', async () => {
    const values = await lastValueFrom(
      of('{"token":{"text":"é"}}', '  [1, "日本", null]  ', '"🦙"', '42', 'true', 'null', '\t{}\t').pipe(parseJsonLines(), toArray()),
    );
    expect(values).toEqual([{ token: { text: 'é' } }, [1, '日本', null], '🦙', 42, true, null, {}]);
  });

  test('skips empty and whitespace-only lines but counts them in lineNumber', async () => {
    const { values, error } = await outcomeOf(from(['', ' ', '{"a":1}', '\t', '  \t  ', '{bad']).pipe(parseJsonLines()));
    expect(values).toEqual([{ a: 1 }]);
    expect(error).toEqual(expect.objectContaining({ kind: 'decode', lineNumber: 6 }));
  });

  test('completes without values for a source of blank lines only', async () => {
    const { values, completed } = await outcomeOf(from(['', '   ', '\t']).pipe(parseJsonLines()));
    expect(values).toEqual([]);
    expect(completed).toBe(true);
  });

  test('errors with a SageMakerStreamError whose message names the line number and quotes the start of the line, but not its whole length', async () => {
    const line = `not JSON at all: ${'x'.repeat(20)} then a long tail ${'y'.repeat(80)} TAIL-END`;
    const { error } = await outcomeOf(from(['{"ok":1}', '', line]).pipe(parseJsonLines()));
    expect(error).toBeInstanceOf(SageMakerStreamError);
    expect(SageMakerStreamError.isInstance(error)).toBe(true);
    const e = error as SageMakerStreamError;
    expect(e.kind).toBe('decode');
    expect(e.lineNumber).toBe(3);
    expect(e.message).toContain('line 3');
    expect(e.message).toContain('not JSON at all: xxxx');
    expect(e.message).not.toContain('TAIL-END');
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  test('forwards the upstream error object itself rather than a wrapped one', async () => {
    const failure = new Error('boom');
    const lines = new Subject<string>();
    const outcome = outcomeOf(lines.pipe(parseJsonLines()));
    lines.next('1');
    lines.error(failure);
    const { values, error } = await outcome;
    expect(values).toEqual([1]);
    expect(error).toBe(failure);
  });
});

describe('parseJsonLines: synchronous sources and subscriptions', () => {
  test('emits the first value of a synchronous source cut by take(1)', async () => {
    expect(await lastValueFrom(of('', '{"a":1}', '{"a":2}').pipe(parseJsonLines(), take(1), toArray()))).toEqual([{ a: 1 }]);
  });

  test('stops pulling from a synchronous source once take(1) has unsubscribed', async () => {
    const { source, pulled } = countingSource(50, (i) => `{"i":${i}}`);
    await lastValueFrom(source.pipe(parseJsonLines(), take(1), toArray()));
    expect(pulled()).toBeLessThanOrEqual(2);
  });

  test('counts lineNumber from 1 again for each sequential subscription', async () => {
    const values$ = of('{"a":1}', '', 'broken').pipe(parseJsonLines());
    expect((await outcomeOf(values$)).error).toEqual(expect.objectContaining({ lineNumber: 3 }));
    expect((await outcomeOf(values$)).error).toEqual(expect.objectContaining({ lineNumber: 3 }));
  });
});

describe('parseJsonLines: every chunk boundary, after decodeUtf8 and splitLines', () => {
  const pipeline = (bytes$: Observable<Uint8Array>) => bytes$.pipe(decodeUtf8(), splitLines(), parseJsonLines());

  test('parses JSON lines with a BOM, multi-byte text, CRLF, lone CR and blank lines identically at every byte boundary', async () => {
    const input = utf8('\uFEFF{"text":"é"}\r\n\r\n  \n{"text":"日本","n":1}\r{"text":"🦙"}\n[1,2]\r\n"str"\nnull');
    const results = await overEveryChunking(input, pipeline, summary);
    expect(results).toEqual(
      sameForEveryChunking(input, {
        values: [{ text: 'é' }, { text: '日本', n: 1 }, { text: '🦙' }, [1, 2], 'str', null],
        completed: true,
      }),
    );
  });

  test('reports the same lineNumber for a malformed line at every byte boundary, a CRLF split between chunks counting once', async () => {
    const input = utf8('{"a":"é"}\r\n\r\n{"a":"🦙"}\r\n{"a": broken 日本\r\n{"a":3}');
    const results = await overEveryChunking(input, pipeline, summary);
    expect(results).toEqual(
      sameForEveryChunking(input, {
        values: [{ a: 'é' }, { a: '🦙' }],
        completed: false,
        error: { kind: 'decode', lineNumber: 4 },
      }),
    );
  });
});
