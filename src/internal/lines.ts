import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { buildMessage } from './classify.js';

/** The default bound on one line: 16 Mi UTF-16 code units. @internal */
export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

/** A push line splitter. @internal */
export interface LineSplitter {
  /** Splits a chunk, calling `onLine` for every complete line; keeps the unterminated tail. */
  feed(chunk: string): void;
  /** Emits the unterminated last line, if any. */
  end(): void;
  /** The unterminated tail buffered so far (joined once). */
  tail(): string;
  /** Replaces the unterminated tail (after a caller consumed part of it). */
  setTail(text: string): void;
  /** The length of the unterminated tail, without joining it. */
  tailLength(): number;
}

const LF = 10;

/**
 * A pull line scanner that hands out positions rather than strings: `push` a chunk, then call
 * `next()` while it returns `true`; each time, the line is `text.slice(start, end)` (without its
 * line break), and the caller slices only what it needs (an SSE `data:` value, a JSON line). When
 * `next()` returns `false` the chunk is used up and its unterminated rest is kept.
 *
 * Splits on `\n`, `\r\n` and `\r`, like the WHATWG event-stream parser:
 * - lines are found with `indexOf` (never a regular expression); the next `\r` is looked up once
 *   per chunk and again only after one is found, so a chunk without any costs one scan for it;
 * - the unterminated tail is kept as a list of fragments and joined once, when its line ends, so
 *   a huge line arriving in small chunks costs linear time;
 * - a `\r` that ends a chunk ends its line at once; a `\n` that starts the next chunk is then
 *   taken as the second half of that CRLF and not as an empty line;
 * - a line longer than `maxLineLength` throws a `decode` {@link SageMakerStreamError} as soon as
 *   the buffered tail passes the bound, so memory stays bounded.
 *
 * The state lives in fields of one object of a fixed shape, read into locals once per line.
 * Lengths are computed from positions, never read from strings: the strings seen here come in
 * several shapes (sequential or sliced, one- or two-byte), and a property read that sees too many
 * shapes becomes a slow megamorphic lookup. A line split across chunks is joined into one flat
 * string (`JSON.parse` would flatten a concatenation anyway).
 *
 * @internal
 */
export class LineScanner {
  /** The text of the current line (the chunk, or a line joined from fragments). */
  text = '';
  /** Where the current line starts in {@link LineScanner.text}. */
  start = 0;
  /** Where the current line ends in {@link LineScanner.text} (its line break excluded). */
  end = 0;
  /** Complete lines handed out so far. */
  lineNumber = 0;
  private fragments: string[] = [];
  private pending = 0;
  private skipLF = false;
  private chunk = '';
  private pos = 0;
  private lf = -1;
  private cr = -1;

  constructor(readonly maxLineLength: number = DEFAULT_MAX_LINE_LENGTH) {}

  /** Starts on a chunk; call only once `next()` has returned `false` for the previous one. */
  push(text: string): void {
    this.chunk = text;
    let pos = 0;
    if (this.skipLF && text !== '') {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    this.pos = pos;
    this.lf = -2; // not looked up yet: a caller that splits the chunk itself (plainFrom) never needs it
    this.cr = text.indexOf('\r', pos);
  }

  /** Moves to the next complete line of the current chunk; `false` when there is none left. */
  next(): boolean {
    const chunk = this.chunk;
    const n = chunk.length;
    let pos = this.pos;
    if (pos >= n) return false;
    let lf = this.lf;
    let cr = this.cr;
    if (lf !== -1 && lf < pos) this.lf = lf = chunk.indexOf('\n', pos); // also when -2: not looked up yet
    if (cr !== -1 && cr < pos) this.cr = cr = chunk.indexOf('\r', pos);
    const end = lf === -1 ? cr : cr === -1 || lf < cr ? lf : cr;
    if (end === -1) {
      this.fragments.push(pos === 0 ? chunk : chunk.slice(pos));
      this.pending += n - pos;
      this.pos = n;
      if (this.pending > this.maxLineLength) this.tooLong();
      return false;
    }
    const length = this.pending + (end - pos);
    if (this.fragments.length > 0) {
      this.fragments.push(chunk.slice(pos, end));
      this.text = this.joined();
      this.start = 0;
      this.end = length;
    } else {
      this.text = chunk;
      this.start = pos;
      this.end = end;
    }
    pos = end + 1;
    if (end === cr) {
      if (pos === n) this.skipLF = true;
      else if (chunk.charCodeAt(pos) === LF) pos++;
    }
    this.pos = pos;
    this.pending = 0;
    if (length > this.maxLineLength) this.tooLong();
    this.lineNumber++;
    return true;
  }

  /**
   * Where a caller may scan the rest of the current chunk for `\n` itself: the position of the
   * next line's start when no line is buffered from earlier chunks and no `\r` lies ahead (so
   * every line break left is a plain `\n`), else `-1`. The caller then hands the position after
   * the last line break back with {@link LineScanner.keepFrom}. This lets a hot loop split lines
   * with local variables instead of a method call and field writes per line.
   */
  plainFrom(): number {
    if (this.pending !== 0) return -1;
    const pos = this.pos;
    let cr = this.cr;
    if (cr !== -1 && cr < pos) this.cr = cr = this.chunk.indexOf('\r', pos);
    return cr === -1 ? pos : -1;
  }

  /** The current chunk (what {@link LineScanner.plainFrom} positions refer to). */
  get chunkText(): string {
    return this.chunk;
  }

  /**
   * After a caller scanned the chunk from {@link LineScanner.plainFrom}: `lines` complete lines
   * were taken, the last ending just before `pos`; the rest of the chunk (which holds no `\n`) is
   * kept as the unterminated tail (and throws like `next()` if it grows too long).
   */
  keepFrom(pos: number, lines: number): void {
    this.lineNumber += lines;
    const chunk = this.chunk;
    const n = chunk.length;
    this.pos = n;
    if (pos < n) {
      this.fragments.push(pos === 0 ? chunk : chunk.slice(pos));
      this.pending = n - pos;
      if (this.pending > this.maxLineLength) this.tooLong();
    }
  }

  /**
   * For a caller scanning from {@link LineScanner.plainFrom}: throws the `decode` error of a line
   * longer than `maxLineLength`, found after `lines` lines it took.
   */
  lineTooLong(lines: number): never {
    this.lineNumber += lines;
    return this.tooLong();
  }

  /** The current line as a string. */
  line(): string {
    return this.text.slice(this.start, this.end);
  }

  /** At the end of the stream: moves to the unterminated last line; `false` when there is none. */
  finish(): boolean {
    this.chunk = '';
    this.pos = 0;
    if (this.pending === 0) {
      this.fragments = [];
      return false;
    }
    const length = this.pending;
    this.text = this.joined();
    this.start = 0;
    this.end = length;
    this.pending = 0;
    if (length > this.maxLineLength) this.tooLong();
    this.lineNumber++;
    return true;
  }

  /** The unterminated tail buffered so far (joined once). */
  tail(): string {
    if (this.fragments.length > 1) this.fragments = [this.fragments.join('')];
    return this.fragments[0] ?? '';
  }

  /** The length of the unterminated tail, without joining it. */
  tailLength(): number {
    return this.pending;
  }

  /** Replaces the unterminated tail (after a caller consumed part of it). */
  setTail(text: string): void {
    this.fragments = text === '' ? [] : [text];
    this.pending = text.length;
  }

  private joined(): string {
    const line = this.fragments.join('');
    this.fragments = [];
    return line;
  }

  private tooLong(): never {
    const lineNumber = this.lineNumber + 1;
    throw new SageMakerStreamError({
      kind: 'decode',
      message: buildMessage('decode', {
        detail: `line ${lineNumber} is longer than maxLineLength (${this.maxLineLength} characters)`,
      }),
      lineNumber,
    });
  }
}

/**
 * A {@link LineScanner} driven by a callback: `onLine` is called for every complete line of each
 * chunk fed, and for the unterminated last one at `end()`.
 *
 * @internal
 */
export function createLineSplitter(onLine: (line: string) => void, maxLineLength = DEFAULT_MAX_LINE_LENGTH): LineSplitter {
  const scanner = new LineScanner(maxLineLength);
  return {
    feed(chunk) {
      scanner.push(chunk);
      while (scanner.next()) onLine(scanner.line());
    },
    end() {
      if (scanner.finish()) onLine(scanner.line());
    },
    tail: () => scanner.tail(),
    setTail: (text) => scanner.setTail(text),
    tailLength: () => scanner.tailLength(),
  };
}
