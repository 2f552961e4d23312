// The contenders of the pipeline benchmarks, each a push consumer `{ feed(bytes), end() }` that
// hands every token text to `sink`.
import { createParser } from 'eventsource-parser';
import { Observable } from 'rxjs';
import { lib } from './lib.mjs';
const { tokens } = lib;

/** Field access per payload format, as a hand-written client would do it. */
export const EXTRACT = {
  'tgi-sse': (v, sink) => {
    const t = v.token;
    if (t && !t.special && t.text) sink(t.text);
  },
  'openai-chat-sse': (v, sink) => {
    const c = v.choices && v.choices[0];
    const s = c && c.delta && c.delta.content;
    if (s) sink(s);
  },
  'lmi-jsonlines': (v, sink) => {
    const t = v.token;
    if (t && t.text) sink(t.text);
  },
};

/**
 * The floor: a streaming TextDecoder, `indexOf('\n')` line splitting with the partial line
 * carried over, `JSON.parse` and field access; SSE reduced to "a line starting with `data:`".
 * No CR handling, no multi-line data, no errors: the least work that gets the tokens out.
 */
export function bareLoop(format, sink) {
  const extract = EXTRACT[format];
  const decoder = new TextDecoder();
  let buf = '';
  const sse = format.endsWith('-sse');
  const lines = (text) => {
    buf = buf === '' ? text : buf + text;
    let start = 0;
    let i;
    while ((i = buf.indexOf('\n', start)) !== -1) {
      if (i > start) {
        if (sse) {
          if (buf.startsWith('data:', start)) {
            const data = buf.slice(start + 5, i);
            if (data !== '[DONE]' && data !== ' [DONE]') extract(JSON.parse(data), sink);
          }
        } else {
          extract(JSON.parse(buf.slice(start, i)), sink);
        }
      }
      start = i + 1;
    }
    buf = start === 0 ? buf : buf.slice(start);
  };
  return {
    feed: (bytes) => lines(decoder.decode(bytes, { stream: true })),
    end: () => lines(decoder.decode() + '\n'),
  };
}

/** eventsource-parser fed by a streaming TextDecoder, then `JSON.parse` and field access. */
export function eventsourceParser(format, sink) {
  const extract = EXTRACT[format];
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent(event) {
      if (event.data !== '[DONE]') extract(JSON.parse(event.data), sink);
    },
  });
  return {
    feed: (bytes) => parser.feed(decoder.decode(bytes, { stream: true })),
    end: () => {
      parser.feed(decoder.decode());
      parser.reset({ consume: true });
    },
  };
}

/** rx-sagemaker: `tokens()` on an Observable that is pushed parts the way `invoke$` pushes them. */
export function oursTokens(_format, sink, config = {}) {
  let subscriber;
  const source = new Observable((s) => {
    subscriber = s;
  });
  let error;
  source.pipe(tokens(config)).subscribe({
    next: sink,
    error: (e) => {
      error = e;
    },
  });
  return {
    feed: (bytes) => subscriber.next(bytes),
    end: () => {
      subscriber.complete();
      if (error) throw error;
    },
  };
}

/** A sink that counts tokens and UTF-16 units and keeps a cheap hash, to check every contender agrees. */
export function makeSink() {
  const s = {
    count: 0,
    chars: 0,
    hash: 0,
    fn: (t) => {
      s.count++;
      s.chars += t.length;
      s.hash = (Math.imul(s.hash, 31) + t.charCodeAt(0)) | 0;
    },
  };
  return s;
}
