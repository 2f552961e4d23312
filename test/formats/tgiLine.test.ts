import * as fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import { tokenEvents, tokens, SageMakerStreamError } from '../../src/index.js';
import { emptyFields } from '../../src/formats/schemas.js';
import { readTgiToken } from '../../src/internal/tgiLine.js';
import { chunkings, outcomeOf, utf8 } from '../support/chunks.js';

interface TgiToken {
  index: number | undefined;
  id: number;
  text: string;
  logprob: number;
  special: boolean;
}

/** A TGI token event as TGI writes it: compact JSON, members in TGI's order. */
function tgiLine(t: TgiToken): string {
  const token = { id: t.id, text: t.text, logprob: t.logprob, special: t.special };
  const value =
    t.index === undefined ? { token, generated_text: null, details: null } : { index: t.index, token, generated_text: null, details: null };
  return JSON.stringify(value);
}

/** What JSON.parse says the line is, when it has exactly the shape readTgiToken accepts. */
function parsedShape(line: string): { text: string; special: boolean } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).join(',');
  if (keys !== 'index,token,generated_text,details' && keys !== 'token,generated_text,details') return undefined;
  if (o['generated_text'] !== null || o['details'] !== null) return undefined;
  if (keys.startsWith('index') && typeof o['index'] !== 'number') return undefined;
  const t = o['token'] as Record<string, unknown> | null;
  if (typeof t !== 'object' || t === null || Object.keys(t).join(',') !== 'id,text,logprob,special') return undefined;
  if (typeof t['id'] !== 'number' || typeof t['text'] !== 'string' || typeof t['logprob'] !== 'number') return undefined;
  if (typeof t['special'] !== 'boolean') return undefined;
  return { text: t['text'], special: t['special'] };
}

const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, -1.2285156, 0.5),
);
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // lone surrogates too
  fc.constantFrom('', ' the', ' 東', '🦙', '"', '\\', '\n', '\t', '</s>', '\u2028', '\u007f'),
);
const tgiToken = fc.record({
  index: fc.option(fc.nat(), { nil: undefined }),
  id: fc.oneof(fc.nat(), number),
  text,
  logprob: number,
  special: fc.boolean(),
});

describe('readTgiToken: TGI token events read without JSON.parse', () => {
  test('reads every event TGI writes whose text needs no escape, with the text and special flag JSON.parse gives', () => {
    fc.assert(
      fc.property(tgiToken, (t) => {
        const line = tgiLine(t);
        const fields = emptyFields();
        const read = readTgiToken(line, fields);
        const needsEscape = JSON.stringify(t.text).slice(1, -1) !== t.text;
        expect(read).toBe(!needsEscape);
        if (read) expect({ text: fields.text, special: fields.special }).toEqual(parsedShape(line));
      }),
      { numRuns: 5000 },
    );
  });

  test('accepts a changed line only if JSON.parse reads it as exactly that shape, with the same text and flag', () => {
    // One character deleted, inserted or replaced, with the characters that matter to JSON.
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('delete', 'insert', 'replace'),
      char: fc.constantFrom(
        ' ',
        '\t',
        '\n',
        '"',
        '\\',
        ',',
        ':',
        '{',
        '}',
        '[',
        ']',
        '0',
        '1',
        '9',
        '-',
        '+',
        '.',
        'e',
        'E',
        'a',
        'n',
        'u',
        'l',
        't',
        'f',
        '\u0000',
        '\u001f',
        'é',
      ),
    });
    fc.assert(
      fc.property(tgiToken, fc.array(edit, { minLength: 1, maxLength: 3 }), (t, edits) => {
        let line = tgiLine(t);
        for (const e of edits) {
          const at = e.at % (line.length + 1);
          if (e.kind === 'delete') line = line.slice(0, at) + line.slice(at + 1);
          else if (e.kind === 'insert') line = line.slice(0, at) + e.char + line.slice(at);
          else line = line.slice(0, at) + e.char + line.slice(at + 1);
        }
        const fields = emptyFields();
        if (readTgiToken(line, fields)) {
          expect({ text: fields.text, special: fields.special }).toEqual(parsedShape(line));
        }
      }),
      { numRuns: 20000 },
    );
  });

  test.each([
    ['a leading zero', '{"index":1,"token":{"id":01,"text":"a","logprob":-1,"special":false},"generated_text":null,"details":null}'],
    ['a bare minus', '{"index":1,"token":{"id":1,"text":"a","logprob":-,"special":false},"generated_text":null,"details":null}'],
    [
      'a fraction without digits',
      '{"index":1,"token":{"id":1,"text":"a","logprob":1.,"special":false},"generated_text":null,"details":null}',
    ],
    [
      'a fraction without an integer part',
      '{"index":1,"token":{"id":1,"text":"a","logprob":.5,"special":false},"generated_text":null,"details":null}',
    ],
    [
      'an exponent without digits',
      '{"index":1,"token":{"id":1,"text":"a","logprob":1e,"special":false},"generated_text":null,"details":null}',
    ],
    ['whitespace', '{"index":1, "token":{"id":1,"text":"a","logprob":-1,"special":false},"generated_text":null,"details":null}'],
    ['trailing characters', '{"index":1,"token":{"id":1,"text":"a","logprob":-1,"special":false},"generated_text":null,"details":null}x'],
    ['a missing closing brace', '{"index":1,"token":{"id":1,"text":"a","logprob":-1,"special":false},"generated_text":null,"details":null'],
    [
      'an escape in the text',
      '{"index":1,"token":{"id":1,"text":"a\\"b","logprob":-1,"special":false},"generated_text":null,"details":null}',
    ],
    [
      'a raw control character in the text',
      '{"index":1,"token":{"id":1,"text":"a\tb","logprob":-1,"special":false},"generated_text":null,"details":null}',
    ],
    ['an unterminated text', '{"index":1,"token":{"id":1,"text":"abc'],
    ['special null', '{"index":1,"token":{"id":1,"text":"a","logprob":-1,"special":null},"generated_text":null,"details":null}'],
    [
      'the last event',
      '{"index":9,"token":{"id":2,"text":"</s>","logprob":-0.08,"special":true},"generated_text":"Hi","details":{"finish_reason":"eos_token","generated_tokens":9,"seed":null}}',
    ],
    [
      'an extra member',
      '{"index":1,"token":{"id":1,"text":"a","logprob":-1,"special":false},"generated_text":null,"details":null,"top_tokens":null}',
    ],
    ['an error', '{"error":"Input validation error","error_type":"validation"}'],
    ['LMI', '{"token":{"id":[1],"text":"a","log_prob":-1},"generated_text":null,"details":null}'],
    ['an empty string', ''],
  ])('leaves %s to JSON.parse', (_name, line) => {
    const fields = emptyFields();
    expect(readTgiToken(line, fields)).toBe(false);
    expect(fields.text).toBeUndefined();
  });
});

describe('tokens() on TGI events read without JSON.parse', () => {
  const sse = (lines: readonly string[]): string => lines.map((l) => `data:${l}\n\n`).join('');

  test('gives what tokenEvents() (which parses every value) gives, for every chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tgiToken, { minLength: 1, maxLength: 3 }), async (events) => {
        const body = utf8(sse(events.map(tgiLine)));
        const expected = (await lastValueFrom(of(body).pipe(tokenEvents(), toArray()))).map((e) => e.text);
        for (const parts of chunkings(body).values()) {
          expect(await lastValueFrom(of(...parts).pipe(tokens(), toArray()))).toEqual(expected);
        }
      }),
      { numRuns: 40 },
    );
  });

  test('parses only the first TGI event, which tells the format, with JSON.parse', async () => {
    const lines = [1, 2, 3, 4].map((i) => tgiLine({ index: i, id: i, text: ` t${i}`, logprob: -0.5, special: i === 4 }));
    const body = utf8(sse(lines));
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const out = await lastValueFrom(of(body).pipe(tokens(), toArray()));
      expect(out).toEqual([' t1', ' t2', ' t3']);
      const ours = parse.mock.calls.filter(([text]) => typeof text === 'string' && text.startsWith('{"index":'));
      expect(ours).toEqual([[lines[0]]]);
    } finally {
      parse.mockRestore();
    }
  });

  test('still ends with a decode error, after every token before it, on a malformed event after fast ones', async () => {
    const good = tgiLine({ index: 1, id: 5, text: ' ok', logprob: -0.5, special: false });
    const body = utf8(sse([good, good.replace('{"index":1,', '{"index":01,')]));
    const outcome = await outcomeOf(of(body).pipe(tokens()));
    expect(outcome.values).toEqual([' ok']);
    expect(SageMakerStreamError.isInstance(outcome.error) && outcome.error.kind).toBe('decode');
    expect((outcome.error as Error).message).toContain('line 3');
  });
});
