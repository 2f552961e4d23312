import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { extractText, inBandError, type ExtractOptions } from '../formats/extract.js';
import { buildMessage } from './classify.js';
import { createLineSplitter, type LineSplitter } from './lines.js';
import { createSseParser, type SseEvent } from './sse.js';

/** The framing detected from the first bytes of a stream. @internal */
export type Framing = 'sse' | 'json' | 'text';

/** Options of the token parser. @internal */
export interface TokenParserOptions extends ExtractOptions {
  readonly maxLineLength?: number | undefined;
}

/** A push parser from decoded text to tokens. @internal */
export interface TokenParser {
  /** Feeds decoded text; calls `onToken` for every token; throws a `SageMakerStreamError` on bad input or an in-band error. */
  feed(text: string): void;
  /** Flushes what is buffered (an unterminated line, an undecided prefix). */
  end(): void;
  /** The framing, once detected. */
  readonly framing: Framing | undefined;
}

const SSE_FIELDS = ['data:', 'event:', 'id:', 'retry:'];

/**
 * Decides the framing from the first non-whitespace characters (formats.md §1, stage A):
 * `{` or `[` → JSON lines; `:` or an SSE field name with its colon → SSE; anything else → text.
 * Returns `undefined` while the prefix could still become an SSE field name.
 */
function detect(head: string): Framing | undefined {
  let i = 0;
  while (i < head.length && /\s|\uFEFF/.test(head[i] as string)) i++;
  if (i === head.length) return undefined;
  const c = head.charCodeAt(i);
  if (c === 123 || c === 91) return 'json';
  if (c === 58) return 'sse';
  const s = head.slice(i, i + 6);
  let maybe = false;
  for (const f of SSE_FIELDS) {
    if (s.startsWith(f)) return 'sse';
    if (f.startsWith(s)) maybe = true;
  }
  return maybe ? undefined : 'text';
}

/**
 * The parser behind `tokens()`: detects the framing once per stream, then splits lines, parses
 * SSE and JSON, and extracts token texts. Holds no rxjs; the operator only adapts it.
 *
 * @internal
 */
export function createTokenParser(options: TokenParserOptions, onToken: (text: string) => void): TokenParser {
  let framing: Framing | undefined;
  let head = '';
  let done = false; // `[DONE]` seen: the rest is ignored
  let lineNumber = 0;
  let lines: LineSplitter | undefined;

  const handleJson = (text: string, line: number): void => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new SageMakerStreamError({
        kind: 'decode',
        message: buildMessage('decode', {
          detail: `malformed JSON on line ${line}: ${JSON.stringify(text.slice(0, 40))}`,
        }),
        lineNumber: line,
        afterFirstByte: true,
        cause,
      });
    }
    if (typeof value !== 'object' || value === null) return;
    const o = value as Record<string, unknown>;
    const err = inBandError(o);
    if (err !== undefined) throw err;
    const t = extractText(o, options);
    if (t !== undefined) onToken(t);
  };

  const onSse = (event: SseEvent): void => {
    if (done) return;
    const data = event.data;
    const trimmed = data.trim();
    if (trimmed === '') return;
    if (trimmed === '[DONE]') {
      done = true;
      return;
    }
    const c = trimmed.charCodeAt(0);
    if (c === 123 || c === 91) handleJson(trimmed, lineNumber);
    else onToken(data); // a text-only event stream
  };

  const start = (f: Framing): void => {
    framing = f;
    if (f === 'text') return;
    const sse = f === 'sse' ? createSseParser(onSse) : undefined;
    lines = createLineSplitter((line) => {
      lineNumber++;
      if (sse !== undefined) return sse.line(line);
      if (line.trim() === '') return;
      handleJson(line, lineNumber);
    }, options.maxLineLength);
    if (sse !== undefined) {
      const flushLines = lines;
      lines = {
        feed: (t) => flushLines.feed(t),
        end: () => {
          flushLines.end();
          sse.end();
        },
      };
    }
  };

  const route = (text: string): void => {
    if (framing === 'text') {
      if (text !== '') onToken(text);
    } else lines?.feed(text);
  };

  return {
    get framing() {
      return framing;
    },
    feed(text) {
      if (framing !== undefined) return route(text);
      head += text;
      const f = detect(head);
      if (f === undefined) return;
      const buffered = head;
      head = '';
      start(f);
      route(buffered);
    },
    end() {
      if (framing === undefined) {
        if (head === '') return;
        start(detect(head) ?? 'text');
        const buffered = head;
        head = '';
        route(buffered);
      }
      lines?.end();
    },
  };
}
