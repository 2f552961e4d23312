/**
 * One server-sent event, as {@link parseSse} emits it.
 *
 * @example
 * ```ts
 * import { decodeUtf8, parseSse, splitLines, type SseEvent } from 'rx-sagemaker';
 *
 * invoke$(client, input)
 *   .pipe(decodeUtf8(), splitLines(), parseSse())
 *   .subscribe((e: SseEvent) => console.log(e.event ?? 'message', e.id ?? '-', e.data));
 * ```
 * @public
 */
export interface SseEvent {
  /** The event's data; several `data:` lines joined with `\n`. */
  readonly data: string;
  /** The `event:` field, when one was set for this event. */
  readonly event?: string;
  /** The last `id:` seen in the stream, when one was set. */
  readonly id?: string;
}

/** A push SSE parser fed with lines. @internal */
export interface SseParser {
  line(line: string): void;
  /** Dispatches an event left without its terminating blank line. */
  end(): void;
}

/**
 * A pull SSE field parser: `line()` returns the data of the event a line dispatches (a blank
 * line), `undefined` otherwise; `type` and `id` then describe that event. No callback and no
 * object per event; the state is plain fields of one object, so a hot loop may read them (and
 * take a whole `data:` + blank-line event itself when {@link SseReader.idle}).
 *
 * Interprets lines as a WHATWG event stream: `data` with or without one leading space, multi-line
 * data joined with `\n`, `:` comments and `retry:` ignored, dispatch at a blank line. Unlike the
 * browser's `EventSource`, an event left unterminated at the end of the stream is dispatched
 * (containers such as LMI end without the blank line).
 *
 * @internal
 */
export class SseReader {
  /** The `event:` field of the event just dispatched (`''` when unset). */
  type = '';
  /** The last `id:` seen when the event was dispatched (`''` when unset). */
  id = '';
  /** The data of the event being read, `undefined` before its first `data` field. */
  private pending: string | undefined = undefined;
  /** The `event:` field of the event being read. */
  private pendingType = '';

  /** No field of an event read yet: a `data:` line followed by a blank line is a whole event. */
  get idle(): boolean {
    return this.pending === undefined && this.pendingType === '';
  }

  /** Takes one line; returns the dispatched event's data when the line ends an event. */
  line(line: string): string | undefined {
    if (line === '') return this.end(); // (not `line.length`: see LineScanner)
    let value: string;
    if (line.startsWith('data:')) {
      this.data(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      return undefined;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return undefined; // comment / keep-alive
    let field: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        this.data(value);
        break;
      case 'event':
        this.pendingType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default:
        break; // `retry` and unknown fields are ignored
    }
    return undefined;
  }

  /** Takes the value of a `data` field (for a caller that recognised a `data:` line itself). */
  data(value: string): void {
    const pending = this.pending;
    this.pending = pending === undefined ? value : `${pending}\n${value}`;
  }

  /**
   * Dispatches the event read so far (at a blank line, or at the end of the stream): its data,
   * or `undefined` when it had none.
   */
  end(): string | undefined {
    const value = this.pending;
    this.type = this.pendingType;
    this.pending = undefined;
    this.pendingType = '';
    return value;
  }
}

/** A new {@link SseReader}. @internal */
export function createSseReader(): SseReader {
  return new SseReader();
}

/**
 * {@link createSseReader} with a callback and one {@link SseEvent} object per event, for
 * `parseSse()`.
 *
 * @internal
 */
export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  const reader = createSseReader();
  const emit = (data: string | undefined): void => {
    if (data === undefined) return;
    const event: { data: string; event?: string; id?: string } = { data };
    if (reader.type !== '') event.event = reader.type;
    if (reader.id !== '') event.id = reader.id;
    onEvent(event);
  };
  return {
    line: (line) => emit(reader.line(line)),
    end: () => emit(reader.end()),
  };
}
