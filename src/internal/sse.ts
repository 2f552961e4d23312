/**
 * One server-sent event.
 *
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

/** Receives one dispatched event's fields: `type` and `id` are `''` when unset. @internal */
export type SseDispatch = (data: string, type: string, id: string) => void;

/**
 * Interprets lines as a WHATWG event stream: `data` with or without one leading space, multi-line
 * data joined with `\n`, `:` comments and `retry:` ignored, dispatch at a blank line. Unlike the
 * browser's `EventSource`, an event left unterminated at the end of the stream is dispatched
 * (containers such as LMI end without the blank line).
 *
 * The fields are handed over as they are, with no event object per event (the token parser only
 * reads `data`); a `data:` line, by far the most common, is recognised without slicing out its
 * field name.
 *
 * @internal
 */
export function createSseFieldParser(onDispatch: SseDispatch): SseParser {
  let data: string | undefined;
  let type = '';
  let lastId = '';

  const dispatch = (): void => {
    if (data === undefined) {
      type = '';
      return;
    }
    const value = data;
    const eventType = type;
    data = undefined;
    type = '';
    onDispatch(value, eventType, lastId);
  };

  return {
    line(line) {
      if (line.length === 0) return dispatch();
      let value: string;
      if (line.startsWith('data:')) {
        value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
        data = data === undefined ? value : `${data}\n${value}`;
        return;
      }
      const colon = line.indexOf(':');
      if (colon === 0) return; // comment / keep-alive
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
          return;
        case 'event':
          type = value;
          return;
        case 'id':
          if (!value.includes('\0')) lastId = value;
          return;
        default:
          return; // `retry` and unknown fields are ignored
      }
    },
    end() {
      dispatch();
    },
  };
}

/**
 * {@link createSseFieldParser} with one {@link SseEvent} object per event, for `parseSse()`.
 *
 * @internal
 */
export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  return createSseFieldParser((data, type, id) => {
    const event: { data: string; event?: string; id?: string } = { data };
    if (type !== '') event.event = type;
    if (id !== '') event.id = id;
    onEvent(event);
  });
}
