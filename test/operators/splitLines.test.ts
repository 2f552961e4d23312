import { Subject, from, lastValueFrom, of, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { SageMakerStreamError, decodeUtf8, splitLines } from '../../src/index.js';
import { concatBytes, countingSource, outcomeOf, overEveryChunking, sameForEveryChunking, utf8, type Outcome } from '../support/chunks.js';

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

const lines = (chunks: string[], maxLineLength?: number): Promise<string[]> =>
  lastValueFrom(from(chunks).pipe(splitLines({ maxLineLength }), toArray()));

function summary(outcome: Outcome<string>): { lines: string[]; completed: boolean; error?: unknown } {
  const result: { lines: string[]; completed: boolean; error?: unknown } = { lines: outcome.values, completed: outcome.completed };
  if (outcome.error !== undefined) {
    const e = outcome.error;
    result.error = SageMakerStreamError.isInstance(e) ? { kind: e.kind, lineNumber: e.lineNumber } : e;
  }
  return result;
}

describe('splitLines: marbles', () => {
  test('splits chunks into lines whatever the chunk boundaries, as in the documented marble', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--b--c--|', { a: 'a\nb', b: 'c\r', c: '\nd' });
      expectObservable(source.pipe(splitLines())).toBe('--x--y-----(z|)', { x: 'a', y: 'bc', z: 'd' });
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  test('ends a line at a trailing CR at once and takes a LF starting the next chunk as the rest of that CRLF', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: 'x\r', b: '\ny' });
      expectObservable(source.pipe(splitLines())).toBe('-x---(y|)', { x: 'x', y: 'y' });
    });
  });

  test('emits several lines of one chunk synchronously in order', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a------|', { a: 'é\r\n日本\r🦙\n' });
      expectObservable(source.pipe(splitLines())).toBe('-(xyz)--|', { x: 'é', y: '日本', z: '🦙' });
    });
  });

  test('flushes the unterminated last line at completion', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: 'first\nsec', b: 'ond 🦙' });
      expectObservable(source.pipe(splitLines())).toBe('-x---(y|)', { x: 'first', y: 'second 🦙' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('emits no extra empty line at completion when the input ends with a line break', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-|', { a: 'x\n', b: 'y\r\n', c: 'z\r' });
      expectObservable(source.pipe(splitLines())).toBe('-x-y-z-|', { x: 'x', y: 'y', z: 'z' });
    });
  });

  test('emits nothing for an empty chunk', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-|', { a: 'x\r', b: '', c: '\ny\n' });
      expectObservable(source.pipe(splitLines())).toBe('-x---y-|', { x: 'x', y: 'y' });
    });
  });

  test('forwards an upstream error and drops the buffered unterminated line', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('upstream failed');
      const source = cold('-a-b-#', { a: 'one\ntw', b: 'o' }, failure);
      expectObservable(source.pipe(splitLines())).toBe('-x---#', { x: 'one' }, failure);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('unsubscribes from the source on early unsubscribe and does not flush the buffered line', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'one\ntw', b: 'o', c: '\n' });
      expectObservable(source.pipe(splitLines()), '^---!').toBe('-x---', { x: 'one' });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  test('lets take(1) end an asynchronous source after the first line', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: 'one\ntwo\n', b: 'three\n' });
      expectObservable(source.pipe(splitLines(), take(1))).toBe('-(x|)', { x: 'one' });
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  test('lets take(1) cut a synchronous source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc|)', { a: 'one\ntwo\n', b: 'three\n', c: 'four' });
      expectObservable(source.pipe(splitLines(), take(1))).toBe('(x|)', { x: 'one' });
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  test('errors with kind decode as soon as a buffered unterminated line passes maxLineLength, before the source completes', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|', { a: 'ok\nabc', b: 'de', c: 'f', d: 'never\n' });
      expectObservable(source.pipe(splitLines({ maxLineLength: 5 }))).toBe(
        '-x---#',
        { x: 'ok' },
        expect.objectContaining({ name: 'SageMakerStreamError', kind: 'decode', lineNumber: 2 }),
      );
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('errors with kind decode on a terminated line longer than maxLineLength that arrives in one chunk', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-|', { a: 'abc\nabcdef\nxyz\n' });
      expectObservable(source.pipe(splitLines({ maxLineLength: 5 }))).toBe(
        '-(x#)',
        { x: 'abc' },
        expect.objectContaining({ kind: 'decode', lineNumber: 2 }),
      );
    });
  });

  test('keeps one splitter per subscription, so two interleaved subscriptions each join their own fragments', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'x\r', b: '\ny', c: 'z' });
      const lines$ = source.pipe(splitLines());
      expectObservable(lines$).toBe('-x-----(y|)', { x: 'x', y: 'yz' });
      expectObservable(lines$, '-^').toBe('--x-----(y|)', { x: 'x', y: 'yz' });
      expectSubscriptions(source.subscriptions).toBe(['^------!', '-^------!']);
    });
  });
});

describe('splitLines: line breaks', () => {
  test('ends lines at LF, CRLF and a lone CR', async () => {
    expect(await lines(['a\nb\r\nc\rd'])).toEqual(['a', 'b', 'c', 'd']);
  });

  test('emits the empty lines between line breaks as empty strings', async () => {
    expect(await lines(['a\n\nb\r\n\r\nc\r\rd\n\r\n'])).toEqual(['a', '', 'b', '', 'c', '', 'd', '']);
  });

  test('gives one line break, not an extra empty line, for a CRLF split between chunks', async () => {
    expect(await lines(['a\r', '\nb'])).toEqual(['a', 'b']);
  });

  test('gives one line break for a CRLF split by empty chunks', async () => {
    expect(await lines(['a\r', '', '', '\n', 'b'])).toEqual(['a', 'b']);
  });

  test('treats CR at the end of a chunk followed by CR LF as two line breaks', async () => {
    expect(await lines(['a\r', '\r\nb'])).toEqual(['a', '', 'b']);
  });

  test('treats LF CR as two line breaks', async () => {
    expect(await lines(['a\n\rb'])).toEqual(['a', '', 'b']);
  });

  test('emits nothing for an empty source or empty chunks', async () => {
    expect(await lines([])).toEqual([]);
    expect(await lines(['', ''])).toEqual([]);
  });

  test('emits a single empty line for a lone line break', async () => {
    expect(await lines(['\n'])).toEqual(['']);
    expect(await lines(['\r\n'])).toEqual(['']);
    expect(await lines(['\r'])).toEqual(['']);
  });
});

describe('splitLines: maxLineLength', () => {
  test('accepts a line exactly maxLineLength long, whole or buffered across chunks', async () => {
    expect(await lines(['abcde\nfg'], 5)).toEqual(['abcde', 'fg']);
    expect(await lines(['ab', 'cd', 'e', '\r', '\n'], 5)).toEqual(['abcde']);
    expect(await lines(['ab', 'cde'], 5)).toEqual(['abcde']);
  });

  test('counts maxLineLength in UTF-16 code units', async () => {
    expect(await lines(['🦙🦙\n'], 4)).toEqual(['🦙🦙']);
    const { error } = await outcomeOf(from(['🦙🦙\n']).pipe(splitLines({ maxLineLength: 3 })));
    expect(error).toEqual(expect.objectContaining({ kind: 'decode', lineNumber: 1 }));
  });

  test('errors with a SageMakerStreamError whose lineNumber counts a CRLF split between chunks once', async () => {
    const { values, error, completed } = await outcomeOf(from(['a\r', '\nb\r', '\n', 'toolong\n']).pipe(splitLines({ maxLineLength: 3 })));
    expect(values).toEqual(['a', 'b']);
    expect(completed).toBe(false);
    expect(error).toBeInstanceOf(SageMakerStreamError);
    expect(error).toEqual(expect.objectContaining({ kind: 'decode', lineNumber: 3 }));
  });

  test('errors before completion while the source is still open, without a line break ever arriving', async () => {
    const chunks = new Subject<string>();
    const outcome = outcomeOf(chunks.pipe(splitLines({ maxLineLength: 10 })));
    let settled = false;
    void outcome.then(() => (settled = true));
    chunks.next('0123456789');
    await Promise.resolve();
    expect(settled).toBe(false);
    chunks.next('x');
    const { error, completed } = await outcome;
    expect(completed).toBe(false);
    expect(error).toEqual(expect.objectContaining({ kind: 'decode', lineNumber: 1 }));
    expect(chunks.observed).toBe(false);
  });

  test('delivers an 8 MiB line arriving in 4 KiB chunks intact with the default bound', async () => {
    const chunk = 4096;
    const count = (8 * 1024 * 1024) / chunk;
    const chunks = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(chunk));
    const expected = chunks.join('');
    const result = await lines([...chunks, '\r', '\nafter']);
    expect(result).toHaveLength(2);
    expect(result[0]?.length).toBe(8 * 1024 * 1024);
    expect(result[0] === expected).toBe(true);
    expect(result[1]).toBe('after');
  });

  test('delivers an 8 MiB line with maxLineLength set to exactly its length and rejects it with one less', async () => {
    const big = 'z'.repeat(4096);
    const chunks = Array.from({ length: 2048 }, () => big);
    const accepted = await lines([...chunks, '\n'], 8 * 1024 * 1024);
    expect(accepted.map((l) => l.length)).toEqual([8 * 1024 * 1024]);
    const rejected = await outcomeOf(from([...chunks, '\n']).pipe(splitLines({ maxLineLength: 8 * 1024 * 1024 - 1 })));
    expect(rejected.values).toEqual([]);
    expect(rejected.error).toEqual(expect.objectContaining({ kind: 'decode', lineNumber: 1 }));
  });
});

describe('splitLines: synchronous sources and subscriptions', () => {
  test('emits the first line of a synchronous source cut by take(1)', async () => {
    expect(await lastValueFrom(of('a\nb\n', 'c\n').pipe(splitLines(), take(1), toArray()))).toEqual(['a']);
  });

  test('stops pulling from a synchronous source once take(1) has unsubscribed', async () => {
    const { source, pulled } = countingSource(50, (i) => `line ${i}\n`);
    await lastValueFrom(source.pipe(splitLines(), take(1), toArray()));
    expect(pulled()).toBeLessThanOrEqual(2);
  });

  test('gives two sequential subscriptions to the same piped Observable the same lines', async () => {
    const lines$ = of('a\r', '\nb', 'c').pipe(splitLines());
    expect(await lastValueFrom(lines$.pipe(toArray()))).toEqual(['a', 'bc']);
    expect(await lastValueFrom(lines$.pipe(toArray()))).toEqual(['a', 'bc']);
  });

  test('counts lineNumber from 1 again for each subscription', async () => {
    const lines$ = of('ok\n', 'too long\n').pipe(splitLines({ maxLineLength: 4 }));
    expect((await outcomeOf(lines$)).error).toEqual(expect.objectContaining({ lineNumber: 2 }));
    expect((await outcomeOf(lines$)).error).toEqual(expect.objectContaining({ lineNumber: 2 }));
  });
});

describe('splitLines: every chunk boundary', () => {
  const fixtures: readonly { name: string; input: string; lines: string[] }[] = [
    { name: 'multi-byte text with CRLF, CR and LF', input: 'é\r\n日本\r🦙\n\nlast line', lines: ['é', '日本', '🦙', '', 'last line'] },
    { name: 'runs of empty lines in every line-break style', input: 'a\r\n\r\nb\r\r\nc\n\rd\r', lines: ['a', '', 'b', '', 'c', '', 'd'] },
    { name: 'only CRLFs', input: '\r\n\r\n\r\n', lines: ['', '', ''] },
    { name: 'only lone CRs', input: '\r\r\r', lines: ['', '', ''] },
    { name: 'a text without any line break', input: 'no terminator 🦙 here', lines: ['no terminator 🦙 here'] },
    {
      name: 'SSE text with CRLF',
      input: ': ping\r\nretry: 10\r\nevent: x\r\nid: 7\r\ndata: {"t":"é"}\r\ndata:日本\r\n\r\ndata: 🦙\r\n\r\n',
      lines: [': ping', 'retry: 10', 'event: x', 'id: 7', 'data: {"t":"é"}', 'data:日本', '', 'data: 🦙', ''],
    },
    {
      name: 'JSON lines with a trailing CR',
      input: '{"token":{"text":"é"}}\r{"token":{"text":"🦙"}}\r\n\r\n{"token":{"text":"日本"}}\r',
      lines: ['{"token":{"text":"é"}}', '{"token":{"text":"🦙"}}', '', '{"token":{"text":"日本"}}'],
    },
  ];

  test.each(fixtures)(
    'splits $name identically whole, split in two at every offset, and one code unit at a time',
    async ({ input, lines: expected }) => {
      const results = await overEveryChunking(input, splitLines(), summary);
      expect(results).toEqual(sameForEveryChunking(input, { lines: expected, completed: true }));
    },
  );

  test('reports the same over-long line and lineNumber at every chunk boundary', async () => {
    const input = 'a\r\nbb\r\rcccccc\ndd';
    const results = await overEveryChunking(input, splitLines({ maxLineLength: 5 }), summary);
    expect(results).toEqual(
      sameForEveryChunking(input, { lines: ['a', 'bb', ''], completed: false, error: { kind: 'decode', lineNumber: 4 } }),
    );
  });

  test('splits UTF-8 bytes with a BOM into the same lines after decodeUtf8 at every byte boundary', async () => {
    const input = concatBytes(utf8('\uFEFFdata: é\r\n\r\n日本\r🦙'));
    const results = await overEveryChunking(input, (bytes$) => bytes$.pipe(decodeUtf8(), splitLines()), summary);
    expect(results).toEqual(sameForEveryChunking(input, { lines: ['data: é', '', '日本', '🦙'], completed: true }));
  });
});
