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
 * object per event. @internal
 */
export interface SseReader {
  /** Takes one line; returns the dispatched event's data when the line ends an event. */
  line(line: string): string | undefined;
  /** Takes the value of a `data` field (for a caller that recognised a `data:` line itself). */
  data(value: string): void;
  /** Dispatches an event left without its terminating blank line: its data, if any. */
  end(): string | undefined;
  /** The `event:` field of the event just dispatched (`''` when unset). */
  readonly type: string;
  /** The last `id:` seen when the event was dispatched (`''` when unset). */
  readonly id: string;
}

/**
 * Interprets lines as a WHATWG event stream: `data` with or without one leading space, multi-line
 * data joined with `\n`, `:` comments and `retry:` ignored, dispatch at a blank line. Unlike the
 * browser's `EventSource`, an event left unterminated at the end of the stream is dispatched
 * (containers such as LMI end without the blank line).
 *
 * A `data:` line, by far the most common, is recognised without slicing out its field name.
 *
 * @internal
 */
export function createSseReader(): SseReader {
  let data: string | undefined;
  let type = '';
  let lastId = '';
  let dispatchedType = '';

  const dispatch = (): string | undefined => {
    const value = data;
    dispatchedType = type;
    data = undefined;
    type = '';
    return value;
  };

  return {
    line(line) {
      if (line === '') return dispatch(); // (not `line.length`: see createLineReader)
      let value: string;
      if (line.startsWith('data:')) {
        value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
        data = data === undefined ? value : `${data}\n${value}`;
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
          data = data === undefined ? value : `${data}\n${value}`;
          break;
        case 'event':
          type = value;
          break;
        case 'id':
          if (!value.includes('\0')) lastId = value;
          break;
        default:
          break; // `retry` and unknown fields are ignored
      }
      return undefined;
    },
    data(value) {
      data = data === undefined ? value : `${data}\n${value}`;
    },
    end() {
      return dispatch();
    },
    get type() {
      return dispatchedType;
    },
    get id() {
      return lastId;
    },
  };
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
