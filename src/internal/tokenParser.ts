import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import {
  EXTRACTORS,
  detectFormat,
  errorEventError,
  inBandError,
  isObj,
  type ExtractState,
  type Extractor,
  type Fields,
  type TokenFormat,
} from '../formats/schemas.js';
import { buildMessage, toStreamError } from './classify.js';
import { splitJsonValues } from './json.js';
import { LineScanner } from './lines.js';
import { createSseReader, type SseReader } from './sse.js';

/** The framing detected from the first bytes of a stream. @internal */
export type Framing = 'sse' | 'json' | 'text';

/** A user-supplied extractor: the text of one JSON value (or SSE data / text chunk), if any. @internal */
export type CustomExtractor = (value: unknown) => string | null | undefined;

/** Options of the token parser. @internal */
export interface TokenParserOptions {
  readonly includeSpecial: boolean;
  /** Only the text and `special` of each value are read (see {@link ExtractState.textOnly}). */
  readonly textOnly?: boolean | undefined;
  readonly choiceIndex: number;
  readonly maxLineLength?: number | undefined;
  readonly format?: TokenFormat | undefined;
  readonly extract?: CustomExtractor | undefined;
  readonly contentType?: string | undefined;
}

/** Receives each value's fields; `fields` is reused, so copy what you keep. @internal */
export type TokenSink = (fields: Readonly<Fields>, format: TokenFormat | 'custom') => void;

/** A push parser from decoded text to token fields. @internal */
export interface TokenParser {
  /** Feeds decoded text; throws a `SageMakerStreamError` on bad input or an in-band error. */
  feed(text: string): void;
  /**
   * Flushes what is buffered (an unterminated line, an undecided prefix). With `upstreamFailed`,
   * an undecided or unproven start is dropped instead of being emitted as text.
   */
  end(upstreamFailed?: boolean): void;
  /** The framing, once detected. */
  readonly framing: Framing | undefined;
  /** The payload format, once detected. */
  readonly format: TokenFormat | 'custom' | undefined;
}

const SSE_FIELDS = ['data:', 'event:', 'id:', 'retry:'];
const JSON_CONTENT_TYPE = /json/i;

/**
 * Decides the framing from the first non-whitespace characters (formats.md §1, stage A):
 * `{` or `[` → JSON; `:` or an SSE field name with its colon → SSE; anything else → text.
 * `undefined` while the prefix could still become an SSE field name.
 */
function detectFraming(head: string, from: number): Framing | undefined {
  const i = from;
  if (i >= head.length) return undefined;
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

/** Whitespace (or a BOM) before the first character that decides the framing. */
function isBlank(c: number): boolean {
  return (
    c === 32 ||
    c === 10 ||
    c === 13 ||
    c === 9 ||
    c === 0xfeff ||
    c === 12 ||
    c === 11 ||
    c === 0xa0 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x3000
  );
}

/** More leading blank space than this cannot be the start of an event stream or JSON: it is text. */
const LEADING_BLANK_LIMIT = 64 * 1024;

/** JSON values written back to back are split eagerly (before a newline) only in a tail up to this long. */
const EAGER_TAIL_LIMIT = 64 * 1024;

/** Thrown inside a feed when the first JSON-looking line turns out not to be JSON (caught in `route`). */
class NotJson extends Error {}
const NOT_JSON = new NotJson('not JSON');

/**
 * The parser behind `tokens()` and `tokenEvents()`. Detects the framing once per stream from the
 * first characters, and the payload format from the first JSON value that proves one; then
 * splits lines, parses SSE and JSON (also values written back to back with no newline), and
 * extracts each value's fields. Holds no rxjs; the operators only adapt it.
 *
 * @internal
 */
export function createTokenParser(options: TokenParserOptions, sink: TokenSink): TokenParser {
  const forced = options.format;
  const extract = options.extract;
  let framing: Framing | undefined = forced === 'text' ? 'text' : undefined;
  let format: TokenFormat | 'custom' | undefined = extract !== undefined ? 'custom' : forced;
  let extractor: Extractor | undefined; // EXTRACTORS[format], once the format is known
  let head = '';
  let headBlank = 0; // leading blank characters of `head` already scanned
  let probe: string[] | undefined; // raw text kept until the first JSON value proves the framing
  let done = false; // SSE `[DONE]` seen: the rest is ignored
  let lineNumber = 0;
  let lines: LineScanner | undefined;
  let sse: SseReader | undefined; // SSE framing: the event-stream fields
  const textOnly = options.textOnly ?? false;
  const state: ExtractState = { choiceIndex: options.choiceIndex, previous: '', textOnly };
  const fields: Fields = {
    text: undefined,
    special: false,
    finishReason: undefined,
    promptTokens: undefined,
    completionTokens: undefined,
    logprob: undefined,
  };

  const reset = (text: string | undefined): Fields => {
    fields.text = text;
    fields.special = false;
    fields.finishReason = undefined;
    fields.promptTokens = undefined;
    fields.completionTokens = undefined;
    fields.logprob = undefined;
    return fields;
  };

  let eventLine = 0; // SSE: the line of the current event's first `data:` line
  let dataLine = 0; // SSE: that line, while its event's data is being handled
  const currentLine = (): number => (dataLine > 0 ? dataLine : eventLine > 0 ? eventLine : lineNumber);
  const decodeError = (detail: string, cause?: unknown): SageMakerStreamError =>
    new SageMakerStreamError({
      kind: 'decode',
      message: buildMessage('decode', { detail }),
      lineNumber: currentLine(),
      afterFirstByte: true,
      cause,
    });

  const runCustom = (value: unknown): void => {
    let text: string | null | undefined;
    try {
      text = (extract as CustomExtractor)(value);
    } catch (e) {
      throw toStreamError(e);
    }
    if (typeof text === 'string') sink(reset(text), 'custom');
  };

  /**
   * One parsed JSON value. The common case (an object, once the format is known) is kept small so
   * that the compiler inlines it, and the extractor, into the line loop; everything else
   * (detection, arrays, custom extractors) is in {@link handleOtherValue}.
   */
  const handleValue = (value: unknown): void => {
    if (extractor !== undefined && isObj(value)) {
      const err = inBandError(value);
      if (textOnly) {
        fields.text = undefined;
        fields.special = false;
      } else reset(undefined);
      extractor(value, fields, state);
      sink(fields, format as TokenFormat);
      if (err !== undefined) throw err;
      return;
    }
    handleOtherValue(value);
  };

  const handleOtherValue = (value: unknown): void => {
    if (extract !== undefined) {
      runCustom(value);
      return;
    }
    let v = value;
    if (Array.isArray(v)) v = v[options.choiceIndex]; // a batch answer: one element per prompt
    if (!isObj(v)) return;
    const err = inBandError(v);
    if (extractor === undefined) {
      format ??= detectFormat(v);
      if (format === undefined || format === 'custom' || format === 'text') {
        if (err !== undefined) throw err;
        if (Array.isArray(v['choices'])) return; // a usage-only chunk before any choice
        const keys = Object.keys(v).slice(0, 6).join(', ');
        throw decodeError(`unrecognised stream format (first object has keys: ${keys}); pass tokens({ format }) or tokens({ extract })`);
      }
      extractor = EXTRACTORS[format];
    }
    extractor(v, reset(undefined), state);
    sink(fields, format as TokenFormat);
    if (err !== undefined) throw err;
  };

  /** The line did not parse: several values back to back (`}{`), or malformed. */
  const handleBadJson = (text: string, cause: unknown): void => {
    // Several values back to back on one line (`}{`)? Parse them all before handling any; the
    // complete ones are delivered before an unfinished or malformed rest is reported.
    const { values, rest } = splitJsonValues(text);
    const parsed: unknown[] = [];
    for (const piece of values) {
      try {
        parsed.push(JSON.parse(piece));
      } catch {
        break;
      }
    }
    if (parsed.length === 0 || parsed.length !== values.length) {
      if (probe !== undefined) throw NOT_JSON;
      throw decodeError(`malformed JSON on line ${currentLine()}: ${JSON.stringify(text.slice(0, 40))}`, cause);
    }
    probe = undefined;
    for (const v of parsed) handleValue(v);
    if (rest.trim() !== '') {
      throw decodeError(`malformed JSON on line ${currentLine()}: ${JSON.stringify(rest.slice(0, 40))}`, cause);
    }
  };

  const handleJsonText = (text: string): void => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      handleBadJson(text, cause);
      return;
    }
    probe = undefined;
    handleValue(value);
  };

  /**
   * One event's data. No try/finally to restore the line number: a throw ends the stream. An
   * object (the common case) goes straight to `JSON.parse`, which skips surrounding whitespace;
   * anything else (`[DONE]`, an array, text) is trimmed and looked at first.
   */
  const onSseData = (data: string): void => {
    const line = eventLine;
    eventLine = 0;
    // `event: error`: rx-sagemaker's relay error event (toMessageEvent's errorEvent) keeps its kind.
    if (!done && sse?.type === 'error') throw errorEventError(data);
    if (done || data === '') return; // `data: ` alone: LMI's step without a token
    if (data.charCodeAt(0) === 123) {
      onJsonData(data, line);
      return;
    }
    dataLine = line;
    handleOtherSseData(data);
    dataLine = 0;
  };

  /** The data of an event that starts with `{` (from line `line`): a JSON object, most likely. */
  const onJsonData = (data: string, line: number): void => {
    dataLine = line;
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch (cause) {
      handleBadJson(data.trim(), cause);
      dataLine = 0;
      return;
    }
    probe = undefined;
    handleValue(value);
    dataLine = 0;
  };

  const handleOtherSseData = (data: string): void => {
    const trimmed = data.trim();
    if (trimmed === '[DONE]') {
      done = true;
      return;
    }
    const c = trimmed.charCodeAt(0);
    if (c === 123 || c === 91) handleJsonText(trimmed);
    else if (extract !== undefined) runCustom(data);
    else sink(reset(data), 'text'); // a text-only event stream
  };

  /**
   * SSE framing: one line, `text.slice(start, end)`. A `data:` line (most of them) and a blank line
   * are handled here without slicing out anything but the data; other fields go to the SSE reader.
   */
  const sseScanned = (text: string, start: number, end: number, reader: SseReader): void => {
    if (start === end) {
      const data = reader.end();
      if (data !== undefined) onSseData(data);
      return;
    }
    const c = text.charCodeAt(start);
    if (
      c === 100 &&
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97 &&
      text.charCodeAt(start + 4) === 58
    ) {
      if (eventLine === 0) eventLine = lineNumber;
      reader.data(text.slice(text.charCodeAt(start + 5) === 32 ? start + 6 : start + 5, end));
      return;
    }
    sseLine(text.slice(start, end), c, reader);
  };

  /**
   * SSE framing: the lines of one chunk. Lines joined across chunks and chunks with a `\r` go
   * through the scanner; the rest of a chunk (the common case: `\n` only) is split right here.
   */
  const feedSse = (chunk: string, scanner: LineScanner, reader: SseReader): void => {
    scanner.push(chunk);
    let from: number;
    while ((from = scanner.plainFrom()) === -1) {
      if (!scanner.next()) return;
      lineNumber++;
      sseScanned(scanner.text, scanner.start, scanner.end, reader);
    }
    const text = scanner.chunkText;
    const max = scanner.maxLineLength;
    let pos = from;
    let count = 0;
    let lf: number;
    while ((lf = text.indexOf('\n', pos)) !== -1) {
      if (lf - pos > max) scanner.lineTooLong(count);
      lineNumber++;
      count++;
      if (
        text.charCodeAt(lf + 1) === 10 &&
        text.charCodeAt(pos) === 100 &&
        text.charCodeAt(pos + 1) === 97 &&
        text.charCodeAt(pos + 2) === 116 &&
        text.charCodeAt(pos + 3) === 97 &&
        text.charCodeAt(pos + 4) === 58 &&
        reader.idle
      ) {
        // `data:…` and a blank line, nothing else: a whole event (the common case), dispatched
        // without going through the reader.
        const line = lineNumber;
        lineNumber++;
        count++;
        const data = text.slice(text.charCodeAt(pos + 5) === 32 ? pos + 6 : pos + 5, lf);
        pos = lf + 2;
        if (done) continue;
        if (data.charCodeAt(0) === 123) onJsonData(data, line);
        else {
          eventLine = line;
          onSseData(data);
        }
        continue;
      }
      sseScanned(text, pos, lf, reader);
      pos = lf + 1;
    }
    scanner.keepFrom(pos, count);
  };

  /** SSE framing: any other line. */
  const sseLine = (line: string, c: number, reader: SseReader): void => {
    if (c === 123) {
      // A bare JSON line inside an event stream: LMI's Java front end replaces a failed chunk
      // with `{"error":…,"code":424}` and no `data:` prefix. WHATWG would ignore it as an
      // unknown field; reading it as a value keeps the error from being lost.
      const pending = reader.end();
      if (pending !== undefined) onSseData(pending);
      eventLine = 0;
      handleJsonText(line);
      return;
    }
    if (eventLine === 0 && c === 100 && line.startsWith('data')) eventLine = lineNumber;
    const data = reader.line(line);
    if (data !== undefined) onSseData(data);
  };

  /** JSON framing: one line, `text.slice(start, end)`; a blank one is skipped. */
  const jsonScanned = (text: string, start: number, end: number): void => {
    if (start === end) return;
    const c = text.charCodeAt(start);
    if (c === 123 || c === 91) handleJsonText(text.slice(start, end));
    else {
      const line = text.slice(start, end);
      if (line.trim() !== '') handleJsonText(line);
    }
  };

  /**
   * JSON framing: one chunk, split into lines like {@link feedSse} does, then a value that ends
   * the chunk without a newline.
   *
   * The whole per-chunk step is one function on purpose, as is `feedSse`: V8 never inlines a
   * function of more than 460 bytes of bytecode, so each stays a separate unit of optimised code
   * with its own inlining budget, spent on the per-value path below it (parse, extract, emit).
   * Split into small pieces, the loop was inlined into its callers up the subscriber chain
   * instead, the budget ran out before the per-value calls, and LMI JSON lines cost 1.15× the bare
   * loop instead of 1.10× (`npm run bench`).
   */
  const feedJson = (chunk: string, scanner: LineScanner): void => {
    scanner.push(chunk);
    let from: number;
    while ((from = scanner.plainFrom()) === -1 && scanner.next()) {
      lineNumber++;
      jsonScanned(scanner.text, scanner.start, scanner.end);
    }
    if (from !== -1) {
      const text = scanner.chunkText;
      const max = scanner.maxLineLength;
      let pos = from;
      let count = 0;
      let lf: number;
      while ((lf = text.indexOf('\n', pos)) !== -1) {
        if (lf - pos > max) scanner.lineTooLong(count);
        lineNumber++;
        count++;
        if (lf !== pos) {
          const c = text.charCodeAt(pos);
          if (c === 123 || c === 91) handleJsonText(text.slice(pos, lf));
          else {
            const line = text.slice(pos, lf);
            if (line.trim() !== '') handleJsonText(line);
          }
        }
        pos = lf + 1;
      }
      scanner.keepFrom(pos, count);
    }
    // A value may also end without a newline (`}{`, or the last one of a part): split the tail
    // eagerly, bounded so that one huge line arriving in small parts stays linear.
    const pending = scanner.tailLength();
    if (pending === 0 || pending > EAGER_TAIL_LIMIT) return;
    const tail = scanner.tail();
    if (!tail.includes('}') && !tail.includes(']')) return;
    const { values, rest } = splitJsonValues(tail);
    if (values.length === 0) return;
    scanner.setTail(rest);
    // No line count here: the newline that may follow still ends this line.
    for (const piece of values) handleJsonText(piece);
  };

  const endLines = (scanner: LineScanner): void => {
    if (!scanner.finish()) return;
    lineNumber++;
    const line = scanner.line();
    if (sse !== undefined) sseLine(line, line.charCodeAt(0), sse);
    else if (line.trim() !== '') handleJsonText(line);
  };

  const start = (f: Framing): void => {
    framing = f;
    if (f === 'text') return;
    if (f === 'json' && format !== 'custom' && forced === undefined && !JSON_CONTENT_TYPE.test(options.contentType ?? '')) {
      probe = [];
    }
    if (f === 'sse') sse = createSseReader();
    lines = new LineScanner(options.maxLineLength);
  };

  /** The first JSON-looking line was not JSON: the stream is plain text after all. */
  const fallBackToText = (): void => {
    const raw = (probe ?? []).join('');
    probe = undefined;
    lines = undefined;
    framing = 'text';
    format = extract !== undefined ? 'custom' : undefined;
    extractor = undefined;
    if (raw !== '') emitText(raw);
  };

  const emitText = (text: string): void => {
    if (extract !== undefined) runCustom(text);
    else sink(reset(text), 'text');
  };

  const route = (text: string): void => {
    if (framing === 'text') {
      if (text !== '') emitText(text);
      return;
    }
    probe?.push(text);
    if (lines === undefined) return;
    try {
      if (sse !== undefined) feedSse(text, lines, sse);
      else feedJson(text, lines);
    } catch (e) {
      if (e !== NOT_JSON) throw e;
      fallBackToText();
    }
  };

  return {
    get framing() {
      return framing;
    },
    get format() {
      return format;
    },
    feed(text) {
      if (framing !== undefined) {
        route(text);
        return;
      }
      head += text;
      let i = headBlank;
      while (i < head.length && isBlank(head.charCodeAt(i))) i++;
      headBlank = i;
      let f = i === head.length && i > LEADING_BLANK_LIMIT ? 'text' : detectFraming(head, i);
      if (f === undefined) return;
      if (f === 'text' && forced !== undefined) f = 'json';
      const buffered = head;
      head = '';
      start(f);
      route(buffered);
    },
    end(upstreamFailed = false) {
      if (framing === undefined) {
        // An undecided start cut by a failure is not text: it is the start of something unknown.
        if (head === '' || upstreamFailed) return;
        start(detectFraming(head, headBlank) ?? 'text');
        const buffered = head;
        head = '';
        route(buffered);
      }
      try {
        if (lines !== undefined) endLines(lines);
      } catch (e) {
        if (e !== NOT_JSON) throw e;
        // A first JSON-looking line cut by a failure proves nothing: drop it rather than call it text.
        if (!upstreamFailed) fallBackToText();
      }
      if (sse !== undefined && framing === 'sse') {
        const data = sse.end();
        if (data !== undefined) onSseData(data);
      }
    },
  };
}
