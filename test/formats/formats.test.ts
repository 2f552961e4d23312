import { from, lastValueFrom, toArray } from 'rxjs';
import { collectText, invoke$, SageMakerStreamError, tokenEvents, tokens, type TokensConfig } from '../../src/index.js';
import { splitBytes, startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';
import { FIXTURES, type FormatFixture } from '../fixtures/streams.js';

const enc = new TextEncoder();

function run(parts: readonly Uint8Array[], config: TokensConfig = {}): Promise<string[]> {
  return lastValueFrom(from(parts).pipe(tokens(config), toArray()));
}

/** Plain text is emitted per chunk, so its invariant is the joined text; the others are token lists. */
function normalise(f: FormatFixture, out: string[]): string[] | string {
  return f.format === 'text' ? out.join('') : out;
}

describe.each(FIXTURES.map((f) => [f.name, f] as const))('tokens() on %s', (_name, fixture) => {
  const bytes = enc.encode(fixture.body);
  const expected = normalise(fixture, [...fixture.tokens]);

  test('gives the expected tokens when the body arrives whole', async () => {
    expect(await run([bytes])).toEqual([...fixture.tokens]);
  });

  test('gives the same tokens when the body is split into two parts at every byte offset', async () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      const out = await run(splitBytes(bytes, [cut]));
      expect({ cut, out: normalise(fixture, out) }).toEqual({ cut, out: expected });
    }
  });

  test('gives the same tokens when the body arrives one byte per part', async () => {
    expect(normalise(fixture, await run(splitBytes(bytes, 1)))).toEqual(expected);
  });

  test(`detects the format ${fixture.format} from the bytes alone`, async () => {
    const events = await lastValueFrom(from(splitBytes(bytes, 5)).pipe(tokenEvents(), toArray()));
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.format))).toEqual(new Set([fixture.format]));
  });

  test('collectText() gives the whole answer once', async () => {
    const text = await lastValueFrom(from(splitBytes(bytes, 3)).pipe(tokens(), collectText()));
    expect(text).toBe(fixture.tokens.join(''));
  });
});

describe('tokens() on every format through the real SDK client and the emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  test.each(FIXTURES.map((f) => [f.name, f] as const))('%s in 7-byte parts gives the expected tokens', async (_name, fixture) => {
    emulator.setEndpoint(fixture.name, { parts: splitBytes(fixture.body, 7), contentType: fixture.contentType });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: fixture.name, Body: {} }).pipe(tokens(), toArray()));
    expect(normalise(fixture, out)).toEqual(normalise(fixture, [...fixture.tokens]));
  });
});

describe('tokenEvents()', () => {
  test('reports finish reason and usage from an OpenAI stream, on text-less events too', async () => {
    const body = FIXTURES.find((f) => f.name === 'openai-chat-sse')?.body ?? '';
    const events = await lastValueFrom(from([enc.encode(body)]).pipe(tokenEvents(), toArray()));
    expect(events).toEqual([
      { text: 'こんにちは', format: 'openai-chat', index: 0, special: false },
      { text: ' 🦙', format: 'openai-chat', index: 1, special: false },
      { text: '', format: 'openai-chat', index: 2, special: false, finishReason: 'stop' },
      { text: '', format: 'openai-chat', index: 3, special: false, usage: { promptTokens: 21, completionTokens: 8 } },
    ]);
  });

  test('reports TGI log probabilities, and the special final token only with includeSpecial', async () => {
    const body = FIXTURES.find((f) => f.name === 'tgi-sse')?.body ?? '';
    const plain = await lastValueFrom(from([enc.encode(body)]).pipe(tokenEvents(), toArray()));
    expect(plain.map((e) => [e.text, e.logprob])).toEqual([
      [' 東', -0.6196289],
      ['京', -0.01],
      ['🗼', -0.0011367798],
      ['', -0.08300781],
    ]);
    expect(plain[3]).toMatchObject({ finishReason: 'eos_token', usage: { completionTokens: 9, promptTokens: 14 }, special: true });
    const all = await lastValueFrom(from([enc.encode(body)]).pipe(tokens({ includeSpecial: true }), toArray()));
    expect(all).toEqual([' 東', '京', '', '🗼', '</s>']);
  });

  test('numbers events per subscription', async () => {
    const events$ = from([enc.encode('{"outputs": ["a"]}\n{"outputs": ["b"]}\n')]).pipe(tokenEvents());
    const first = await lastValueFrom(events$.pipe(toArray()));
    const second = await lastValueFrom(events$.pipe(toArray()));
    expect(first.map((e) => e.index)).toEqual([0, 1]);
    expect(second.map((e) => e.index)).toEqual([0, 1]);
  });
});

describe('tokens(): choosing and forcing', () => {
  const interleaved =
    'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"A0"}}]}\n\n' +
    'data: {"object":"chat.completion.chunk","choices":[{"index":1,"delta":{"content":"B0"}}]}\n\n' +
    'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"A1"}}]}\n\n' +
    'data: {"object":"chat.completion.chunk","choices":[{"index":1,"delta":{"content":"B1"}}]}\n\n' +
    'data: [DONE]\n\n';

  test('follows choice 0 of an n > 1 stream by default, and another choice when asked', async () => {
    expect(await run([enc.encode(interleaved)])).toEqual(['A0', 'A1']);
    expect(await run([enc.encode(interleaved)], { choiceIndex: 1 })).toEqual(['B0', 'B1']);
  });

  test('a forced format reads keys the detection would not guess from', async () => {
    // An LMI 3p line with an unusual first key order still reads as 3p when forced.
    const body = '{"metering": {}, "body": {"generation": "x", "stop_reason": null}}\n';
    expect(await run([enc.encode(body)], { format: 'lmi-3p' })).toEqual(['x']);
  });

  test("format 'text' passes JSON through untouched", async () => {
    expect((await run([enc.encode('{"token": {"text": "x"}}\n')], { format: 'text' })).join('')).toBe('{"token": {"text": "x"}}\n');
  });

  test('a custom extractor reads a format rx-sagemaker does not know', async () => {
    const body = 'data: {"delta":"Hel"}\n\ndata: {"delta":"lo"}\n\ndata: {"other":1}\n\n';
    expect(await run([enc.encode(body)], { extract: (v) => (v as { delta?: string }).delta })).toEqual(['Hel', 'lo']);
  });

  test('an extractor that throws ends the stream with that error mapped to a SageMakerStreamError, after earlier tokens', async () => {
    const body = '{"t":"a"}\n{"t":"b"}\n{"boom":true}\n{"t":"c"}\n';
    const result = await collect(
      from(splitBytes(body, 4)).pipe(
        tokens({
          extract: (v) => {
            const o = v as { t?: string; boom?: boolean };
            if (o.boom === true) throw new TypeError('bad shape');
            return o.t;
          },
        }),
      ),
    );
    expect(result.values).toEqual(['a', 'b']);
    expect(SageMakerStreamError.isInstance(result.error)).toBe(true);
    expect((result.error as SageMakerStreamError).cause).toBeInstanceOf(TypeError);
  });

  test('an unrecognised JSON stream is a decode error naming its keys, not silence', async () => {
    const result = await collect(from([enc.encode('{"foo": 1, "bar": 2}\n')]).pipe(tokens()));
    expect(result.error).toMatchObject({ kind: 'decode' });
    expect((result.error as Error).message).toContain('foo, bar');
  });
});

describe('tokens(): detection edge cases', () => {
  test('a non-streaming JSON answer with no newline at all is flushed at the end instead of hanging', async () => {
    const body = '[{"generated_text":"The whole answer, 日本 🦙"}]';
    expect(await run(splitBytes(body, 3))).toEqual(['The whole answer, 日本 🦙']);
  });

  test('a first line that starts like JSON but is not JSON is plain text without a JSON content type', async () => {
    const body = '{curly} braces are fine in prose\nsecond line';
    expect((await run(splitBytes(body, 4))).join('')).toBe(body);
  });

  test('the same line is a decode error when the content type says JSON', async () => {
    const result = await collect(from([enc.encode('{curly} prose\n')]).pipe(tokens({ contentType: 'application/jsonlines' })));
    expect(result.error).toMatchObject({ kind: 'decode', lineNumber: 1 });
  });

  test('keep-alive comments before the first event emit nothing', async () => {
    const body = ':\n\n: ping - 2024-01-01 00:00:00\r\n\r\ndata:{"token":{"text":"x","special":false}}\n\n';
    expect(await run(splitBytes(body, 1))).toEqual(['x']);
  });

  test('a text-only event stream keeps whitespace-only tokens (a relay sending " " and "\\n")', async () => {
    const body = 'data: Hi\n\ndata:  \n\ndata: \ndata: \n\ndata: there\n\n';
    expect(await run(splitBytes(body, 1))).toEqual(['Hi', ' ', '\n', 'there']);
  });

  test('a stream with no bytes at all completes with no tokens', async () => {
    expect(await run([])).toEqual([]);
  });

  test('the response ContentType reaches tokens() through invoke$ without configuration', async () => {
    const emulator = await startEmulator({
      endpoints: { ep: { parts: ['{curly} prose\n'], contentType: 'application/jsonlines' } },
    });
    try {
      const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
      expect(result.error).toMatchObject({ kind: 'decode' });
      emulator.setEndpoint('ep', { parts: ['{curly} prose\n'], contentType: 'text/plain' });
      const text = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens()));
      expect(text).toEqual({ values: ['{curly} prose\n'], completed: true });
    } finally {
      await emulator.close();
    }
  });
});
