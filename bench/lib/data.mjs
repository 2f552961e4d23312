// Test data: realistic token streams rendered as the containers write them, cut into parts the
// way SageMaker delivers them (1–4 events per part, some cut mid-line, some mid-code-point).
import { testing } from './lib.mjs';
const { renderStream } = testing;
import { rng } from './harness.mjs';

/** Word pieces as a tokenizer emits them; about 1 in 10 is non-ASCII (2-, 3- and 4-byte UTF-8). */
const VOCAB = [
  ' the',
  ' of',
  ' and',
  ' to',
  ' a',
  ' in',
  ' is',
  ' that',
  ' for',
  ' it',
  ' as',
  ' with',
  ' on',
  ' model',
  ' stream',
  'ing',
  ' token',
  's',
  ',',
  '.',
  ':',
  ' (',
  ')',
  ' "',
  '"',
  "'s",
  '\n',
  '\n\n',
  ' SageMaker',
  ' end',
  'point',
  ' respon',
  'se',
  ' RxJS',
  ' Observable',
  ' cancel',
  'lation',
  ' 1',
  '2',
  '0',
  ' -',
  ' **',
  '`',
  ' {',
  '}',
  ' data',
  ' JSON',
  ' the',
  ' the',
  ' of',
  ' a',
  ' to',
  ' Tokyo',
  ' is',
  ' the',
  ' capital',
  ' of',
  ' Japan',
  ' and',
  ' its',
  ' largest',
  ' city',
  '.',
  ' 日本',
  '語',
  ' café',
  ' naïve',
  ' 🦙',
  ' —',
  ' €',
  ' 東京',
  'は',
  ' 😀',
  ' ü',
  'ß',
  ' π',
];

/** `count` tokens drawn from {@link VOCAB} with a fixed seed. */
export function makeTokens(count, seed = 7) {
  const random = rng(seed);
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = VOCAB[Math.floor(random() * VOCAB.length)];
  return out;
}

const encoder = new TextEncoder();

/**
 * Renders tokens in a container format and cuts the body into parts: each part ends after 1–4
 * events, and about 1 part in 6 instead ends inside the next event's line, 1 in 20 inside a
 * multi-byte character of it (when it has one).
 *
 * @returns `{ parts, bytes, events, midLine, midCodePoint, contentType }`; each part is its own
 *   `Uint8Array` (as the SDK hands them out).
 */
export function renderParts(format, tokens, seed = 11, { dropLast = false } = {}) {
  const rendered = renderStream(format, tokens);
  const events = dropLast ? rendered.events.slice(0, -1) : rendered.events;
  return { ...cutParts(events, seed), contentType: rendered.contentType };
}

/** Cuts a list of event strings into parts (see {@link renderParts}). */
export function cutParts(events, seed = 11) {
  const random = rng(seed);
  const body = encoder.encode(events.join(''));
  const ends = [];
  let at = 0;
  for (const e of events) ends.push((at += Buffer.byteLength(e)));
  const parts = [];
  let pos = 0;
  let next = 0; // index of the first event ending after pos
  let midLine = 0;
  let midCodePoint = 0;
  while (pos < body.length) {
    while (ends[next] <= pos) next++;
    const last = Math.min(next + Math.floor(random() * 4), ends.length - 1);
    let end = ends[last];
    const r = random();
    if (last + 1 < ends.length && r < 0.22) {
      const from = end;
      const to = ends[last + 1];
      let cut = -1;
      if (r < 0.05) {
        // inside a multi-byte character: after its lead byte or a continuation byte
        for (let i = from; i < to - 1; i++) {
          if (body[i] >= 0xc0) {
            cut = i + 1 + Math.floor(random() * (body[i] >= 0xf0 ? 3 : body[i] >= 0xe0 ? 2 : 1));
            break;
          }
        }
        if (cut !== -1) midCodePoint++;
      }
      if (cut === -1 && to - from > 2) {
        cut = from + 1 + Math.floor(random() * (to - from - 2));
        midLine++;
      }
      if (cut !== -1) end = cut;
    }
    parts.push(body.slice(pos, end));
    pos = end;
  }
  return { parts, bytes: body.length, events: events.length, midLine, midCodePoint };
}

/** The formats of the pipeline benchmark: the library's name, the renderer's name, SSE or not. */
export const PIPELINE_FORMATS = {
  'tgi-sse': { render: 'tgi-sse', sse: true },
  'openai-chat-sse': { render: 'openai-chat-sse', sse: true },
  'lmi-jsonlines': { render: 'lmi-jsonlines', sse: false },
};
