import { Subject, from, lastValueFrom, of, take, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { decodeUtf8, parseSse, splitLines, type SseEvent } from '../../src/index.js';
import { concatBytes, countingSource, outcomeOf, overEveryChunking, sameForEveryChunking, utf8, type Outcome } from '../support/chunks.js';

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

const events = (lines: string[]): Promise<SseEvent[]> => lastValueFrom(from(lines).pipe(parseSse(), toArray()));

const summary = (outcome: Outcome<SseEvent>): { events: SseEvent[]; completed: boolean } => ({
  events: outcome.values,
  completed: outcome.completed,
});

describe('parseSse: marbles', () => {
  test('dispatches at a blank line, ignores a comment and dispatches the unterminated last event at completion, as in the documented marble', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--b--c--d--|', { a: 'data:{"a":1}', b: '', c: ': ping', d: 'data: x' });
      expectObservable(source.pipe(parseSse())).toBe('-----x--------(y|)', { x: { data: '{"a":1}' }, y: { data: 'x' } });
      expectSubscriptions(source.subscriptions).toBe('^-------------!');
    });
  });

  test('dispatches an event at the blank line that ends it, not at its data lines', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-|', { a: 'data: x', b: 'data: y', c: '' });
      expectObservable(source.pipe(parseSse())).toBe('-----x-|', { x: { data: 'x\ny' } });
    });
  });

  test('flushes the pending event at completion', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: 'event: done', b: 'data: [DONE]' });
      expectObservable(source.pipe(parseSse())).toBe('-----(x|)', { x: { data: '[DONE]', event: 'done' } });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('forwards an upstream error without dispatching the pending event', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('upstream failed');
      const source = cold('-a-b-c-#', { a: 'data: x', b: '', c: 'data: pending' }, failure);
      expectObservable(source.pipe(parseSse())).toBe('---x---#', { x: { data: 'x' } }, failure);
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  test('unsubscribes from the source on early unsubscribe without dispatching the pending event', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|', { a: 'data: x', b: '', c: 'data: y', d: '' });
      expectObservable(source.pipe(parseSse()), '^-----!').toBe('---x---', { x: { data: 'x' } });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  test('lets take(1) end an asynchronous source after the first event', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|', { a: 'data: 1', b: '', c: 'data: 2', d: '' });
      expectObservable(source.pipe(parseSse(), take(1))).toBe('---(x|)', { x: { data: '1' } });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('lets take(1) cut a synchronous source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abcd|)', { a: 'data: 1', b: '', c: 'data: 2', d: '' });
      expectObservable(source.pipe(parseSse(), take(1))).toBe('(x|)', { x: { data: '1' } });
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  test('keeps one parser per subscription, so two interleaved subscriptions each build their own event', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'event: e', b: 'data: x', c: '' });
      const events$ = source.pipe(parseSse());
      expectObservable(events$).toBe('-----x-|', { x: { data: 'x', event: 'e' } });
      expectObservable(events$, '-^').toBe('------x-|', { x: { data: 'x', event: 'e' } });
      expectSubscriptions(source.subscriptions).toBe(['^------!', '-^------!']);
    });
  });
});

describe('parseSse: WHATWG field rules', () => {
  test('takes the value after "data:" with no space or one space, and keeps a second space', async () => {
    expect(await events(['data:a', '', 'data: b', '', 'data:  c', ''])).toStrictEqual([{ data: 'a' }, { data: 'b' }, { data: ' c' }]);
  });

  test('keeps colons that are part of the value', async () => {
    expect(await events(['data: {"a": "b:c"}', ''])).toStrictEqual([{ data: '{"a": "b:c"}' }]);
  });

  test('joins several data lines with a line feed', async () => {
    expect(await events(['data: a', 'data:b', 'data:  c', ''])).toStrictEqual([{ data: 'a\nb\n c' }]);
  });

  test('keeps empty data lines inside multi-line data', async () => {
    expect(await events(['data: a', 'data:', 'data', 'data: b', ''])).toStrictEqual([{ data: 'a\n\n\nb' }]);
  });

  test('dispatches an event with empty data for "data:" with an empty value or a bare "data" line', async () => {
    expect(await events(['data:', ''])).toStrictEqual([{ data: '' }]);
    expect(await events(['data', ''])).toStrictEqual([{ data: '' }]);
    expect(await events(['data: ', ''])).toStrictEqual([{ data: '' }]);
  });

  test('ignores comment lines, also between the data lines of one event', async () => {
    expect(await events([': keep-alive', 'data: x', ':', ': another', 'data: y', ''])).toStrictEqual([{ data: 'x\ny' }]);
  });

  test('emits nothing for a stream of comments and blank lines only', async () => {
    expect(await events([': ping', '', ':', '', '', ': ping'])).toEqual([]);
  });

  test('ignores retry and unknown fields, and field names in another case', async () => {
    expect(await events(['retry: 3000', 'data: x', 'foo: bar', 'Data: nope', 'DATA: nope', 'retry', ''])).toStrictEqual([{ data: 'x' }]);
  });

  test('reports event: on the event it belongs to only', async () => {
    expect(await events(['event: update', 'data: a', '', 'data: b', ''])).toStrictEqual([{ data: 'a', event: 'update' }, { data: 'b' }]);
  });

  test('reports the last id: on every later event', async () => {
    expect(await events(['id: 1', 'data: a', '', 'data: b', '', 'id: 2', 'data: c', ''])).toStrictEqual([
      { data: 'a', id: '1' },
      { data: 'b', id: '1' },
      { data: 'c', id: '2' },
    ]);
  });

  test('keeps an id: set by a block that has no data', async () => {
    expect(await events(['id: 5', '', 'data: x', ''])).toStrictEqual([{ data: 'x', id: '5' }]);
  });

  test('stops reporting the previous id after an empty id: field', async () => {
    const result = await events(['id: 1', 'data: a', '', 'id:', 'data: b', '']);
    expect(result).toHaveLength(2);
    expect(result[0]).toStrictEqual({ data: 'a', id: '1' });
    expect(result[1]?.data).toBe('b');
    expect(result[1]?.id ?? '').toBe('');
  });

  test('ignores an id: whose value contains NUL', async () => {
    expect(await events(['id: 1', 'id: a\u0000b', 'data: x', ''])).toStrictEqual([{ data: 'x', id: '1' }]);
  });

  test('does not dispatch an event without data lines, and does not carry its event: over to the next event', async () => {
    expect(await events(['event: ping', '', 'event: other', 'id: 3', '', 'data: x', ''])).toStrictEqual([{ data: 'x', id: '3' }]);
  });

  test('dispatches nothing more for extra blank lines between or after events', async () => {
    expect(await events(['', '', 'data: a', '', '', '', 'data: b', '', ''])).toStrictEqual([{ data: 'a' }, { data: 'b' }]);
  });

  test('dispatches the unterminated last event at completion, with its event and id', async () => {
    expect(await events(['data: a', '', 'id: 9', 'event: end', 'data: b', 'data: c'])).toStrictEqual([
      { data: 'a' },
      { data: 'b\nc', event: 'end', id: '9' },
    ]);
  });

  test('dispatches nothing at completion when the last block has no data', async () => {
    expect(await events(['data: a', '', 'event: trailing', 'id: 4'])).toStrictEqual([{ data: 'a' }]);
  });
});

describe('parseSse: synchronous sources and subscriptions', () => {
  test('emits the first event of a synchronous source cut by take(1)', async () => {
    expect(await lastValueFrom(of('data: 1', '', 'data: 2', '').pipe(parseSse(), take(1), toArray()))).toEqual([{ data: '1' }]);
  });

  test('stops pulling from a synchronous source once take(1) has unsubscribed', async () => {
    const { source, pulled } = countingSource(50, (i) => (i % 2 === 0 ? `data: ${i}` : ''));
    await lastValueFrom(source.pipe(parseSse(), take(1), toArray()));
    expect(pulled()).toBeLessThanOrEqual(3);
  });

  test('gives two sequential subscriptions to the same piped Observable the same events', async () => {
    const events$ = of('event: e', 'id: 1', 'data: x').pipe(parseSse());
    const expected = [{ data: 'x', event: 'e', id: '1' }];
    expect(await lastValueFrom(events$.pipe(toArray()))).toStrictEqual(expected);
    expect(await lastValueFrom(events$.pipe(toArray()))).toStrictEqual(expected);
  });

  test('does not report an id from an earlier subscription', async () => {
    const lines$ = new Subject<string>();
    const events$ = lines$.pipe(parseSse());
    const a = outcomeOf(events$);
    lines$.next('id: 7');
    lines$.next('data: x');
    lines$.next('');
    const b = outcomeOf(events$);
    lines$.next('data: y');
    lines$.complete();
    expect((await a).values).toStrictEqual([
      { data: 'x', id: '7' },
      { data: 'y', id: '7' },
    ]);
    expect((await b).values).toStrictEqual([{ data: 'y' }]);
  });

  test('forwards the upstream error object itself rather than a wrapped one', async () => {
    const failure = new Error('boom');
    const lines$ = new Subject<string>();
    const outcome = outcomeOf(lines$.pipe(parseSse()));
    lines$.next('data: x');
    lines$.error(failure);
    expect((await outcome).error).toBe(failure);
  });
});

describe('parseSse: every chunk boundary, after splitLines', () => {
  const SSE =
    ': keep-alive\r\n' +
    'retry: 3000\r\n' +
    'data:{"token":{"text":"é"}}\r\n' +
    '\r\n' +
    'event: update\n' +
    'id: 42\n' +
    'data: 日本\n' +
    'data:  two spaces\n' +
    'data\n' +
    '\n' +
    'data: 🦙\r' +
    '\r' +
    ': comment only\n\n' +
    'event: no-data\n\n' +
    'data:\r\n\r\n' +
    'data: last, unterminated';
  const EXPECTED: SseEvent[] = [
    { data: '{"token":{"text":"é"}}' },
    { data: '日本\n two spaces\n', event: 'update', id: '42' },
    { data: '🦙', id: '42' },
    { data: '', id: '42' },
    { data: 'last, unterminated', id: '42' },
  ];
  const lines = (text$: Observable<string>): Observable<SseEvent> => text$.pipe(splitLines(), parseSse());

  test('parses an SSE text identically whole, split in two at every offset, and one code unit at a time', async () => {
    const results = await overEveryChunking(SSE, lines, summary);
    expect(results).toEqual(sameForEveryChunking(SSE, { events: EXPECTED, completed: true }));
  });

  test('takes a CRLF split between chunks as one line break, so the event is not dispatched early', async () => {
    const result = await lastValueFrom(from(['data: a\r', '\ndata: b\r', '\n\r', '\n']).pipe(splitLines(), parseSse(), toArray()));
    expect(result).toStrictEqual([{ data: 'a\nb' }]);
  });

  test('parses UTF-8 bytes with a BOM identically at every byte boundary after decodeUtf8', async () => {
    const input = concatBytes(utf8('\uFEFFdata: first\n\n'), utf8(SSE));
    const results = await overEveryChunking(input, (bytes$) => bytes$.pipe(decodeUtf8(), splitLines(), parseSse()), summary);
    expect(results).toEqual(sameForEveryChunking(input, { events: [{ data: 'first' }, ...EXPECTED], completed: true }));
  });
});
