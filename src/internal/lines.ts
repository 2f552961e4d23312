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
const CR = 13;

/**
 * Splits text chunks into lines on `\n`, `\r\n` and `\r`, like the WHATWG event-stream parser.
 *
 * - The unterminated tail is kept as a list of fragments and joined once, when its line ends, so a
 *   huge line arriving in small chunks costs linear time.
 * - A `\r` that ends a chunk ends its line at once; a `\n` that starts the next chunk is then taken
 *   as the second half of that CRLF and not as an empty line.
 * - A line longer than `maxLineLength` throws a `decode` {@link SageMakerStreamError} as soon as
 *   the buffered tail passes the bound, so memory stays bounded.
 *
 * @internal
 */
export function createLineSplitter(onLine: (line: string) => void, maxLineLength = DEFAULT_MAX_LINE_LENGTH): LineSplitter {
  let fragments: string[] = [];
  let pending = 0;
  let skipLF = false;
  let lineNumber = 0;

  const tooLong = (): never => {
    throw new SageMakerStreamError({
      kind: 'decode',
      message: buildMessage('decode', {
        detail: `line ${lineNumber + 1} is longer than maxLineLength (${maxLineLength} characters)`,
      }),
      lineNumber: lineNumber + 1,
    });
  };

  const emit = (tail: string): void => {
    let line = tail;
    if (fragments.length > 0) {
      fragments.push(tail);
      line = fragments.join('');
      fragments = [];
    }
    pending = 0;
    if (line.length > maxLineLength) tooLong();
    lineNumber++;
    onLine(line);
  };

  return {
    feed(chunk) {
      const n = chunk.length;
      let start = 0;
      if (skipLF && n > 0) {
        skipLF = false;
        if (chunk.charCodeAt(0) === LF) start = 1;
      }
      let lf = chunk.indexOf('\n', start);
      let cr = chunk.indexOf('\r', start);
      while (start < n) {
        if (lf !== -1 && lf < start) lf = chunk.indexOf('\n', start);
        if (cr !== -1 && cr < start) cr = chunk.indexOf('\r', start);
        const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
        if (end === -1) {
          const rest = start === 0 ? chunk : chunk.slice(start);
          pending += rest.length;
          fragments.push(rest);
          if (pending > maxLineLength) tooLong();
          return;
        }
        emit(chunk.slice(start, end));
        start = end + 1;
        if (chunk.charCodeAt(end) === CR) {
          if (start === n) skipLF = true;
          else if (chunk.charCodeAt(start) === LF) start++;
        }
      }
    },
    end() {
      if (pending > 0) emit('');
      fragments = [];
    },
    tail() {
      if (fragments.length > 1) fragments = [fragments.join('')];
      return fragments[0] ?? '';
    },
    tailLength() {
      return pending;
    },
    setTail(text) {
      fragments = text === '' ? [] : [text];
      pending = text.length;
    },
  };
}
