import { Subject, lastValueFrom, of, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import * as fc from 'fast-check';
import { SageMakerStreamError, decodeUtf8 } from '../../src/index.js';
import {
  bytes,
  concatBytes,
  countingSource,
  outcomeOf,
  overEveryChunking,
  sameForEveryChunking,
  utf8,
  type Outcome,
} from '../support/chunks.js';

const BOM = bytes(0xef, 0xbb, 0xbf);
const LLAMA = utf8('🦙'); // F0 9F A6 99

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

/** What a run produced, independent of how the text was cut into emissions. */
function decoded(outcome: Outcome<string>): { text: string; emptyEmissions: number; completed: boolean; errorKind?: unknown } {
  const result: { text: string; emptyEmissions: number; completed: boolean; errorKind?: unknown } = {
    text: outcome.values.join(''),
    emptyEmissions: outcome.values.filter((v) => v === '').length,
    completed: outcome.completed,
  };
  if (outcome.error !== undefined) {
    result.errorKind = SageMakerStreamError.isInstance(outcome.error) ? outcome.error.kind : outcome.error;
  }
  return result;
}

describe('decodeUtf8: marbles', () => {
  test('decodes a code point split across two chunks into one string when its last byte arrives', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--b--|', { a: bytes(0xf0, 0x9f), b: bytes(0xa6, 0x99, 0x21) });
      expectObservable(source.pipe(decodeUtf8())).toBe('-----x--|', { x: '🦙!' });
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  test('emits nothing for an empty chunk or a chunk holding only the start of a code point', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-|', {
        a: utf8('hé'),
        b: new Uint8Array(0),
        c: bytes(0xe6, 0x97),
        d: bytes(0xa5, 0x41),
      });
      expectObservable(source.pipe(decodeUtf8())).toBe('-x-----y-|', { x: 'hé', y: '日A' });
    });
  });

  test('flushes a code point left unfinished at completion as U+FFFD', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-|', { a: bytes(0x6f, 0x6b, 0xf0, 0x9f, 0xa6) });
      expectObservable(source.pipe(decodeUtf8())).toBe('-x-(y|)', { x: 'ok', y: '\uFFFD' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('errors with a decode SageMakerStreamError at completion when fatal and a code point is left unfinished', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-|', { a: bytes(0x6f, 0x6b, 0xf0, 0x9f, 0xa6) });
      expectObservable(source.pipe(decodeUtf8({ fatal: true }))).toBe(
        '-x-#',
        { x: 'ok' },
        expect.objectContaining({ name: 'SageMakerStreamError', kind: 'decode' }),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('errors with a decode SageMakerStreamError on the chunk holding an invalid byte when fatal, and unsubscribes from the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: utf8('fine'), b: bytes(0x61, 0xff, 0x62), c: utf8('never') });
      expectObservable(source.pipe(decodeUtf8({ fatal: true }))).toBe(
        '-x-#',
        { x: 'fine' },
        expect.objectContaining({ name: 'SageMakerStreamError', kind: 'decode', retryable: false }),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('replaces an invalid byte with U+FFFD and carries on when not fatal', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: bytes(0x61, 0xff, 0x62), b: utf8('c') });
      expectObservable(source.pipe(decodeUtf8())).toBe('-x-y-|', { x: 'a\uFFFDb', y: 'c' });
    });
  });

  test('forwards an upstream error without emitting a pending partial code point', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('upstream failed');
      const source = cold('-a-b-#', { a: utf8('hi'), b: bytes(0xf0, 0x9f) }, failure);
      expectObservable(source.pipe(decodeUtf8())).toBe('-x---#', { x: 'hi' }, failure);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('unsubscribes from the source on early unsubscribe and emits nothing more, not even a pending partial code point', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: utf8('hi'), b: bytes(0xf0, 0x9f), c: bytes(0xa6, 0x99) });
      expectObservable(source.pipe(decodeUtf8()), '^---!').toBe('-x---', { x: 'hi' });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  test('lets take(1) end an asynchronous source after the first decoded string', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: utf8('é'), b: utf8('z') });
      expectObservable(source.pipe(decodeUtf8(), take(1))).toBe('-(x|)', { x: 'é' });
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  test('lets take(1) cut a synchronous source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc|)', { a: utf8('日'), b: utf8('本'), c: LLAMA });
      expectObservable(source.pipe(decodeUtf8(), take(1))).toBe('(x|)', { x: '日' });
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  test('keeps one decoder per subscription, so two interleaved subscriptions each decode their own split code points', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: concatBytes(BOM, utf8('h'), bytes(0xf0, 0x9f)), b: bytes(0xa6, 0x99) });
      const decoded$ = source.pipe(decodeUtf8());
      expectObservable(decoded$).toBe('-x-y-|', { x: 'h', y: '🦙' });
      expectObservable(decoded$, '-^').toBe('--x-y-|', { x: 'h', y: '🦙' });
      expectSubscriptions(source.subscriptions).toBe(['^----!', '-^----!']);
    });
  });
});

describe('decodeUtf8: synchronous sources and subscriptions', () => {
  test('emits the first decoded string of a synchronous source cut by take(1)', async () => {
    const first = await lastValueFrom(of(utf8('é'), LLAMA, utf8('z')).pipe(decodeUtf8(), take(1), toArray()));
    expect(first).toEqual(['é']);
  });

  test('stops pulling from a synchronous source once take(1) has unsubscribed', async () => {
    const { source, pulled } = countingSource(50, (i) => utf8(`chunk ${i} é`));
    await lastValueFrom(source.pipe(decodeUtf8(), take(1), toArray()));
    expect(pulled()).toBeLessThanOrEqual(2);
  });

  test('gives two sequential subscriptions to the same piped Observable the same result, each dropping its own BOM', async () => {
    const decoded$ = of(concatBytes(BOM, utf8('a')), bytes(0xf0, 0x9f)).pipe(decodeUtf8());
    expect((await lastValueFrom(decoded$.pipe(toArray()))).join('')).toBe('a\uFFFD');
    expect((await lastValueFrom(decoded$.pipe(toArray()))).join('')).toBe('a\uFFFD');
  });

  test('forwards the upstream error object itself rather than a wrapped one', async () => {
    const failure = new Error('boom');
    const chunks = new Subject<Uint8Array>();
    const outcome = outcomeOf(chunks.pipe(decodeUtf8()));
    chunks.next(utf8('x'));
    chunks.error(failure);
    const { values, error } = await outcome;
    expect(values).toEqual(['x']);
    expect(error).toBe(failure);
  });

  test('errors with an instance of SageMakerStreamError of kind decode when fatal', async () => {
    const { error, completed } = await outcomeOf(of(bytes(0xc3, 0x28)).pipe(decodeUtf8({ fatal: true })));
    expect(completed).toBe(false);
    expect(error).toBeInstanceOf(SageMakerStreamError);
    expect(SageMakerStreamError.isInstance(error)).toBe(true);
    expect((error as SageMakerStreamError).kind).toBe('decode');
  });
});

describe('decodeUtf8: byte order mark', () => {
  test('drops exactly one leading BOM and keeps a second one', async () => {
    const text = (await lastValueFrom(of(concatBytes(BOM, BOM, utf8('x'))).pipe(decodeUtf8(), toArray()))).join('');
    expect(text).toBe('\uFEFFx');
  });

  test('keeps a BOM that is not at the start of the stream', async () => {
    const text = (await lastValueFrom(of(utf8('a'), concatBytes(BOM, utf8('b'))).pipe(decodeUtf8(), toArray()))).join('');
    expect(text).toBe('a\uFEFFb');
  });

  test('emits nothing for a stream holding only a BOM', async () => {
    expect(await lastValueFrom(of(BOM).pipe(decodeUtf8(), toArray()))).toEqual([]);
  });
});

describe('decodeUtf8: every chunk boundary', () => {
  const fixtures: readonly { name: string; input: Uint8Array; text: string }[] = [
    { name: 'accented Latin (2-byte code points)', input: utf8('héllo wörld, café é'), text: 'héllo wörld, café é' },
    { name: 'CJK (3-byte code points)', input: utf8('日本語のテキスト 日本'), text: '日本語のテキスト 日本' },
    { name: 'emoji (4-byte code points)', input: utf8('🦙 llama 🦙🦙!'), text: '🦙 llama 🦙🦙!' },
    { name: 'mixed widths and control characters', input: utf8('aé€日𝄞🦙z\r\n\u0000Ω'), text: 'aé€日𝄞🦙z\r\n\u0000Ω' },
    { name: 'text after a leading BOM', input: concatBytes(BOM, utf8('é日🦙')), text: 'é日🦙' },
    { name: 'text after two leading BOMs', input: concatBytes(BOM, BOM, utf8('x🦙')), text: '\uFEFFx🦙' },
    { name: 'SSE text', input: utf8('data: {"t":"é"}\r\n\r\n: ping\rdata:日本\n\n'), text: 'data: {"t":"é"}\r\n\r\n: ping\rdata:日本\n\n' },
    {
      name: 'invalid bytes',
      input: bytes(0x61, 0xff, 0x62, 0xc3, 0x28, 0xe6, 0x97, 0x41, 0xed, 0xa0, 0x80, 0x7a),
      text: 'a\uFFFDb\uFFFD(\uFFFDA\uFFFD\uFFFD\uFFFDz',
    },
    { name: 'a truncated code point at the end', input: concatBytes(utf8('日本'), bytes(0xf0, 0x9f, 0xa6)), text: '日本\uFFFD' },
  ];

  test.each(fixtures)('decodes $name identically whole, split in two at every offset, and one byte at a time', async ({ input, text }) => {
    const results = await overEveryChunking(input, decodeUtf8(), decoded);
    expect(results).toEqual(sameForEveryChunking(input, { text, emptyEmissions: 0, completed: true }));
  });

  test.each(fixtures.filter((f) => !f.text.includes('\uFFFD')))(
    'decodes $name without a false decode error at any chunk boundary when fatal',
    async ({ input, text }) => {
      const results = await overEveryChunking(input, decodeUtf8({ fatal: true }), decoded);
      expect(results).toEqual(sameForEveryChunking(input, { text, emptyEmissions: 0, completed: true }));
    },
  );

  test.each(fixtures.filter((f) => f.text.includes('\uFFFD')))(
    'errors with kind decode on $name at every chunk boundary when fatal',
    async ({ input }) => {
      const results = await overEveryChunking(input, decodeUtf8({ fatal: true }), (o) => ({
        completed: o.completed,
        errorKind: SageMakerStreamError.isInstance(o.error) ? o.error.kind : o.error,
      }));
      expect(results).toEqual(sameForEveryChunking(input, { completed: false, errorKind: 'decode' }));
    },
  );
});

describe('decodeUtf8: the same output, chunk by chunk, as a streaming TextDecoder', () => {
  // The decoder decodes complete code points in one shot and carries an unfinished one (at most
  // 3 bytes) to the next chunk, which is faster on Node 20 than `decode(bytes, { stream: true })`.
  // It must be indistinguishable from it: same text per chunk, U+FFFD in the same places, one
  // BOM dropped at the start only, the fatal error on the same chunk.
  const edgeBytes = [
    0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5,
    0xff, 0xbb,
  ];
  const validChars = ['a', 'é', '€', '日', '🦙', '\uFEFF', '\u0800', '\uD7FF', '\uE000', '\u{10FFFF}', '\u{10000}'].map((c) => [
    ...utf8(c),
  ]);
  const piece = fc.oneof(
    fc.constantFrom(...validChars),
    fc.constantFrom(...edgeBytes).map((b) => [b]),
    fc.integer({ min: 0, max: 255 }).map((b) => [b]),
    fc.constant([0xef, 0xbb, 0xbf]),
  );
  const input = fc
    .tuple(fc.array(piece, { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }))
    .map(([pieces, sizes]) => {
      const all = Uint8Array.from(pieces.flat());
      const chunks: Uint8Array[] = [];
      let at = 0;
      for (let i = 0; at < all.length; i++) {
        let size = sizes[i % sizes.length] ?? 1;
        if (size === 0) {
          chunks.push(new Uint8Array(0)); // an empty part, then at least one byte
          size = 1;
        }
        chunks.push(all.subarray(at, at + size));
        at += size;
      }
      return chunks;
    });

  /** What a streaming TextDecoder gives per chunk (empty strings dropped, as decodeUtf8 does). */
  function reference(chunks: Uint8Array[], fatal: boolean): { values: string[]; failed: boolean } {
    const decoder = new TextDecoder('utf-8', { fatal });
    const values: string[] = [];
    try {
      for (const c of chunks) values.push(decoder.decode(c, { stream: true }));
      values.push(decoder.decode());
    } catch {
      return { values: values.filter((v) => v !== ''), failed: true };
    }
    return { values: values.filter((v) => v !== ''), failed: false };
  }

  test.each([false, true])('for random bytes in random chunks (fatal: %s)', async (fatal) => {
    await fc.assert(
      fc.asyncProperty(input, async (chunks) => {
        const outcome = await outcomeOf(of(...chunks).pipe(decodeUtf8({ fatal })));
        const expected = reference(chunks, fatal);
        expect({ values: outcome.values, failed: outcome.error !== undefined }).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
