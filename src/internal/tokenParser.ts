import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import {
  EXTRACTORS,
  detectFormat,
  emptyFields,
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
import { readTgiToken } from './tgiLine.js';

/** The framing detected from the first bytes of a stream. @internal */
export type Framing = 'sse' | 'json' | 'text';

/** A user-supplied extractor: the text of one JSON value (or SSE data / text chunk), if any. @internal */
export type CustomExtractor = (value: unknown) => string | null | undefined;

/** Options of the token parser. @internal */
export interface TokenParserOptions {
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
  return new StreamTokenParser(options, sink);
}

/**
 * {@link createTokenParser}'s parser: the state of one stream in the fields of one object, the
 * code in prototype methods. (It was a closure per step over shared `let`s: every stream then
 * owned two dozen function objects, and a part arriving between the SDK's own work, with cold
 * caches, touched each of them. With many concurrent streams that cost more than the parsing.)
 */
class StreamTokenParser implements TokenParser {
  framing: Framing | undefined;
  format: TokenFormat | 'custom' | undefined;
  private readonly forced: TokenFormat | undefined;
  private readonly extract: CustomExtractor | undefined;
  private readonly textOnly: boolean;
  private extractor: Extractor | undefined = undefined; // EXTRACTORS[format], once the format is known
  private tgiText = false; // tokens() on TGI: the common token event is read without JSON.parse (tgiLine.ts)
  private head = '';
  private headBlank = 0; // leading blank characters of `head` already scanned
  private probe: string[] | undefined = undefined; // raw text kept until the first JSON value proves the framing
  private done = false; // SSE `[DONE]` seen: the rest is ignored
  private lineNumber = 0;
  private eventLine = 0; // SSE: the line of the current event's first `data:` line
  private dataLine = 0; // SSE: that line, while its event's data is being handled
  private lines: LineScanner | undefined = undefined;
  private sse: SseReader | undefined = undefined; // SSE framing: the event-stream fields
  private readonly state: ExtractState;
  private readonly fields: Fields = emptyFields();

  constructor(
    private readonly options: TokenParserOptions,
    private readonly sink: TokenSink,
  ) {
    this.forced = options.format;
    this.extract = options.extract;
    this.textOnly = options.textOnly ?? false;
    this.framing = this.forced === 'text' ? 'text' : undefined;
    this.format = this.extract !== undefined ? 'custom' : this.forced;
    this.state = { choiceIndex: options.choiceIndex, previous: '', textOnly: this.textOnly };
  }

  feed(text: string): void {
    if (this.framing !== undefined) {
      this.route(text);
      return;
    }
    const head = this.head + text;
    this.head = head;
    let i = this.headBlank;
    while (i < head.length && isBlank(head.charCodeAt(i))) i++;
    this.headBlank = i;
    let f = i === head.length && i > LEADING_BLANK_LIMIT ? 'text' : detectFraming(head, i);
    if (f === undefined) return;
    if (f === 'text' && this.forced !== undefined) f = 'json';
    this.head = '';
    this.start(f);
    this.route(head);
  }

  end(upstreamFailed = false): void {
    if (this.framing === undefined) {
      // An undecided start cut by a failure is not text: it is the start of something unknown.
      if (this.head === '' || upstreamFailed) return;
      this.start(detectFraming(this.head, this.headBlank) ?? 'text');
      const buffered = this.head;
      this.head = '';
      this.route(buffered);
    }
    try {
      if (this.lines !== undefined) this.endLines(this.lines);
    } catch (e) {
      if (e !== NOT_JSON) throw e;
      // A first JSON-looking line cut by a failure proves nothing: drop it rather than call it text.
      if (!upstreamFailed) this.fallBackToText();
    }
    const sse = this.sse;
    if (sse !== undefined && this.framing === 'sse') {
      const data = sse.end();
      if (data !== undefined) this.onSseData(data);
    }
  }

  private reset(text: string | undefined): Fields {
    const fields = this.fields;
    fields.text = text;
    fields.special = false;
    fields.finishReason = undefined;
    fields.promptTokens = undefined;
    fields.completionTokens = undefined;
    fields.logprob = undefined;
    return fields;
  }

  private currentLine(): number {
    return this.dataLine > 0 ? this.dataLine : this.eventLine > 0 ? this.eventLine : this.lineNumber;
  }

  private decodeError(detail: string, cause?: unknown): SageMakerStreamError {
    return new SageMakerStreamError({
      kind: 'decode',
      message: buildMessage('decode', { detail }),
      lineNumber: this.currentLine(),
      afterFirstByte: true,
      cause,
    });
  }

  private runCustom(value: unknown): void {
    let text: string | null | undefined;
    try {
      text = (this.extract as CustomExtractor)(value);
    } catch (e) {
      throw toStreamError(e);
    }
    if (typeof text === 'string') this.sink(this.reset(text), 'custom');
  }

  /**
   * One parsed JSON value. The common case (an object, once the format is known) is kept small so
   * that the compiler inlines it, and the extractor, into the line loop; everything else
   * (detection, arrays, custom extractors) is in {@link StreamTokenParser.handleOtherValue}.
   */
  private handleValue(value: unknown): void {
    const extractor = this.extractor;
    if (extractor !== undefined && isObj(value)) {
      const err = inBandError(value);
      const fields = this.fields;
      if (this.textOnly) {
        fields.text = undefined;
        fields.special = false;
      } else this.reset(undefined);
      extractor(value, fields, this.state);
      this.sink(fields, this.format as TokenFormat);
      if (err !== undefined) throw err;
      return;
    }
    this.handleOtherValue(value);
  }

  private handleOtherValue(value: unknown): void {
    if (this.extract !== undefined) {
      this.runCustom(value);
      return;
    }
    let v = value;
    if (Array.isArray(v)) v = v[this.state.choiceIndex]; // a batch answer: one element per prompt
    if (!isObj(v)) return;
    const err = inBandError(v);
    let extractor = this.extractor;
    if (extractor === undefined) {
      const format = (this.format ??= detectFormat(v));
      if (format === undefined || format === 'custom' || format === 'text') {
        if (err !== undefined) throw err;
        if (Array.isArray(v['choices'])) return; // a usage-only chunk before any choice
        const keys = Object.keys(v).slice(0, 6).join(', ');
        throw this.decodeError(
          `unrecognised stream format (first object has keys: ${keys}); pass tokens({ format }) or tokens({ extract })`,
        );
      }
      extractor = this.extractor = EXTRACTORS[format];
      this.tgiText = format === 'tgi' && this.textOnly;
    }
    extractor(v, this.reset(undefined), this.state);
    this.sink(this.fields, this.format as TokenFormat);
    if (err !== undefined) throw err;
  }

  /** The line did not parse: several values back to back (`}{`), or malformed. */
  private handleBadJson(text: string, cause: unknown): void {
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
      if (this.probe !== undefined) throw NOT_JSON;
      throw this.decodeError(`malformed JSON on line ${this.currentLine()}: ${JSON.stringify(text.slice(0, 40))}`, cause);
    }
    this.probe = undefined;
    for (const v of parsed) this.handleValue(v);
    if (rest.trim() !== '') {
      throw this.decodeError(`malformed JSON on line ${this.currentLine()}: ${JSON.stringify(rest.slice(0, 40))}`, cause);
    }
  }

  private handleJsonText(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      this.handleBadJson(text, cause);
      return;
    }
    this.probe = undefined;
    this.handleValue(value);
  }

  /**
   * One event's data. No try/finally to restore the line number: a throw ends the stream. An
   * object (the common case) goes straight to `JSON.parse`, which skips surrounding whitespace;
   * anything else (`[DONE]`, an array, text) is trimmed and looked at first.
   */
  private onSseData(data: string): void {
    const line = this.eventLine;
    this.eventLine = 0;
    // `event: error`: rx-sagemaker's relay error event (toMessageEvent's errorEvent) keeps its kind.
    if (!this.done && this.sse?.type === 'error') throw errorEventError(data);
    if (this.done || data === '') return; // `data: ` alone: LMI's step without a token
    if (data.charCodeAt(0) === 123) {
      this.onJsonData(data, line);
      return;
    }
    this.dataLine = line;
    this.handleOtherSseData(data);
    this.dataLine = 0;
  }

  /** The data of an event that starts with `{` (from line `line`): a JSON object, most likely. */
  private onJsonData(data: string, line: number): void {
    if (this.tgiText && readTgiToken(data, this.fields)) {
      this.sink(this.fields, 'tgi');
      return;
    }
    this.dataLine = line;
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch (cause) {
      this.handleBadJson(data.trim(), cause);
      this.dataLine = 0;
      return;
    }
    this.probe = undefined;
    this.handleValue(value);
    this.dataLine = 0;
  }

  private handleOtherSseData(data: string): void {
    const trimmed = data.trim();
    if (trimmed === '[DONE]') {
      this.done = true;
      return;
    }
    const c = trimmed.charCodeAt(0);
    if (c === 123 || c === 91) this.handleJsonText(trimmed);
    else if (this.extract !== undefined) this.runCustom(data);
    else this.sink(this.reset(data), 'text'); // a text-only event stream
  }

  /**
   * SSE framing: one line, `text.slice(start, end)`. A `data:` line (most of them) and a blank line
   * are handled here without slicing out anything but the data; other fields go to the SSE reader.
   */
  private sseScanned(text: string, start: number, end: number, reader: SseReader): void {
    if (start === end) {
      const data = reader.end();
      if (data !== undefined) this.onSseData(data);
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
      if (this.eventLine === 0) this.eventLine = this.lineNumber;
      reader.data(text.slice(text.charCodeAt(start + 5) === 32 ? start + 6 : start + 5, end));
      return;
    }
    this.sseLine(text.slice(start, end), c, reader);
  }

  /**
   * SSE framing: the lines of one chunk. Lines joined across chunks and chunks with a `\r` go
   * through the scanner; the rest of a chunk (the common case: `\n` only) is split right here.
   * One method on purpose, like {@link StreamTokenParser.feedJson}.
   */
  private feedSse(chunk: string, scanner: LineScanner, reader: SseReader): void {
    scanner.push(chunk);
    let from: number;
    while ((from = scanner.plainFrom()) === -1) {
      if (!scanner.next()) return;
      this.lineNumber++;
      this.sseScanned(scanner.text, scanner.start, scanner.end, reader);
    }
    const text = scanner.chunkText;
    const max = scanner.maxLineLength;
    let pos = from;
    let count = 0;
    let lf: number;
    while ((lf = text.indexOf('\n', pos)) !== -1) {
      if (lf - pos > max) scanner.lineTooLong(count);
      this.lineNumber++;
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
        const line = this.lineNumber;
        this.lineNumber++;
        count++;
        const data = text.slice(text.charCodeAt(pos + 5) === 32 ? pos + 6 : pos + 5, lf);
        pos = lf + 2;
        if (this.done) continue;
        if (data.charCodeAt(0) === 123) this.onJsonData(data, line);
        else {
          this.eventLine = line;
          this.onSseData(data);
        }
        continue;
      }
      this.sseScanned(text, pos, lf, reader);
      pos = lf + 1;
    }
    scanner.keepFrom(pos, count);
  }

  /** SSE framing: any other line. */
  private sseLine(line: string, c: number, reader: SseReader): void {
    if (c === 123) {
      // A bare JSON line inside an event stream: LMI's Java front end replaces a failed chunk
      // with `{"error":…,"code":424}` and no `data:` prefix. WHATWG would ignore it as an
      // unknown field; reading it as a value keeps the error from being lost.
      const pending = reader.end();
      if (pending !== undefined) this.onSseData(pending);
      this.eventLine = 0;
      this.handleJsonText(line);
      return;
    }
    if (this.eventLine === 0 && c === 100 && line.startsWith('data')) this.eventLine = this.lineNumber;
    const data = reader.line(line);
    if (data !== undefined) this.onSseData(data);
  }

  /** JSON framing: one line, `text.slice(start, end)`; a blank one is skipped. */
  private jsonScanned(text: string, start: number, end: number): void {
    if (start === end) return;
    const c = text.charCodeAt(start);
    if (c === 123 || c === 91) this.handleJsonText(text.slice(start, end));
    else {
      const line = text.slice(start, end);
      if (line.trim() !== '') this.handleJsonText(line);
    }
  }

  /**
   * JSON framing: one chunk, split into lines like {@link StreamTokenParser.feedSse} does, then a
   * value that ends the chunk without a newline.
   *
   * The whole per-chunk step is one method on purpose, as is `feedSse`: V8 never inlines a
   * function of more than 460 bytes of bytecode, so each stays a separate unit of optimised code
   * with its own inlining budget, spent on the per-value path below it (parse, extract, emit).
   * Split into small pieces, the loop was inlined into its callers up the subscriber chain
   * instead, the budget ran out before the per-value calls, and LMI JSON lines cost 1.15× the bare
   * loop instead of 1.10× (`npm run bench`).
   */
  private feedJson(chunk: string, scanner: LineScanner): void {
    scanner.push(chunk);
    let from: number;
    while ((from = scanner.plainFrom()) === -1 && scanner.next()) {
      this.lineNumber++;
      this.jsonScanned(scanner.text, scanner.start, scanner.end);
    }
    if (from !== -1) {
      const text = scanner.chunkText;
      const max = scanner.maxLineLength;
      let pos = from;
      let count = 0;
      let lf: number;
      while ((lf = text.indexOf('\n', pos)) !== -1) {
        if (lf - pos > max) scanner.lineTooLong(count);
        this.lineNumber++;
        count++;
        if (lf !== pos) {
          const c = text.charCodeAt(pos);
          if (c === 123 || c === 91) this.handleJsonText(text.slice(pos, lf));
          else {
            const line = text.slice(pos, lf);
            if (line.trim() !== '') this.handleJsonText(line);
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
    for (const piece of values) this.handleJsonText(piece);
  }

  private endLines(scanner: LineScanner): void {
    if (!scanner.finish()) return;
    this.lineNumber++;
    const line = scanner.line();
    if (this.sse !== undefined) this.sseLine(line, line.charCodeAt(0), this.sse);
    else if (line.trim() !== '') this.handleJsonText(line);
  }

  private start(f: Framing): void {
    this.framing = f;
    if (f === 'text') return;
    if (f === 'json' && this.format !== 'custom' && this.forced === undefined && !JSON_CONTENT_TYPE.test(this.options.contentType ?? '')) {
      this.probe = [];
    }
    if (f === 'sse') this.sse = createSseReader();
    this.lines = new LineScanner(this.options.maxLineLength);
  }

  /** The first JSON-looking line was not JSON: the stream is plain text after all. */
  private fallBackToText(): void {
    const raw = (this.probe ?? []).join('');
    this.probe = undefined;
    this.lines = undefined;
    this.framing = 'text';
    this.format = this.extract !== undefined ? 'custom' : undefined;
    this.extractor = undefined;
    this.tgiText = false;
    if (raw !== '') this.emitText(raw);
  }

  private emitText(text: string): void {
    if (this.extract !== undefined) this.runCustom(text);
    else this.sink(this.reset(text), 'text');
  }

  private route(text: string): void {
    if (this.framing === 'text') {
      if (text !== '') this.emitText(text);
      return;
    }
    this.probe?.push(text);
    const lines = this.lines;
    if (lines === undefined) return;
    try {
      if (this.sse !== undefined) this.feedSse(text, lines, this.sse);
      else this.feedJson(text, lines);
    } catch (e) {
      if (e !== NOT_JSON) throw e;
      this.fallBackToText();
    }
  }
}
