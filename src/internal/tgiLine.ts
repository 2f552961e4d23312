import type { Fields } from '../formats/schemas.js';

/**
 * The end of the JSON number that starts at `i` (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`,
 * RFC 8259), or -1 when none starts there.
 */
function numberEnd(s: string, i: number): number {
  let j = i;
  if (s.charCodeAt(j) === 45) j++; // -
  const first = s.charCodeAt(j);
  if (first === 48) {
    j++; // a single 0: JSON has no leading zeros
  } else if (first >= 49 && first <= 57) {
    j++;
    while (isDigit(s.charCodeAt(j))) j++;
  } else return -1;
  if (s.charCodeAt(j) === 46) {
    j++; // a fraction
    if (!isDigit(s.charCodeAt(j))) return -1;
    while (isDigit(s.charCodeAt(j))) j++;
  }
  const e = s.charCodeAt(j);
  if (e === 101 || e === 69) {
    j++;
    const sign = s.charCodeAt(j);
    if (sign === 43 || sign === 45) j++;
    if (!isDigit(s.charCodeAt(j))) return -1;
    while (isDigit(s.charCodeAt(j))) j++;
  }
  return j;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57; // false for NaN (past the end)
}

const TOKEN = '"token":{"id":';
const TEXT = ',"text":"';
const LOGPROB = ',"logprob":';
const SPECIAL_FALSE = ',"special":false}';
const SPECIAL_TRUE = ',"special":true}';
const TAIL = ',"generated_text":null,"details":null}';

/**
 * TGI's token event, read without `JSON.parse` when it has exactly the shape TGI writes:
 *
 * ```
 * {"index":5,"token":{"id":243,"text":" the","logprob":-1.2285156,"special":false},"generated_text":null,"details":null}
 * ```
 *
 * (`"index"` is optional; older TGI has none). Every character is checked against that shape and
 * JSON's grammar: no whitespace, the members in that order, numbers as RFC 8259 writes them, and
 * a text without escapes or control characters. Anything else (an escape, a last event with
 * `generated_text` and `details`, an error object, another version's extra member, malformed
 * JSON) returns `false`, and the caller parses the data with `JSON.parse` as before. So when it
 * returns `true`, `JSON.parse` would have given an object with exactly these members, no in-band
 * error, and the same `text` and `special` (checked by a property test against `JSON.parse` on
 * generated and mutated lines, test/formats/tgiLine.test.ts).
 *
 * It sets only `fields.text` and `fields.special`: for `tokens()`, which reads nothing else. The
 * event's other values are not read (`tokenEvents()` parses every value).
 *
 * Why: the common TGI event is the most frequent line SageMaker streams, and `JSON.parse` builds
 * two objects for it that are read once. Reading it in place took `tokens()` on TGI from the bare
 * loop's speed (and eventsource-parser's) to about 0.86 of it (`bench/pipeline.mjs --format
 * tgi-sse`; BENCHMARKS.md, round 3).
 *
 * @internal
 */
export function readTgiToken(s: string, fields: Fields): boolean {
  let i: number;
  if (s.startsWith('{"index":', 0)) {
    i = numberEnd(s, 9);
    if (i === -1 || s.charCodeAt(i) !== 44) return false; // ,
    i++;
  } else if (s.charCodeAt(0) === 123) i = 1;
  else return false;
  if (!s.startsWith(TOKEN, i)) return false;
  i = numberEnd(s, i + TOKEN.length);
  if (i === -1 || !s.startsWith(TEXT, i)) return false;
  const start = i + TEXT.length;
  let end = start;
  for (;;) {
    const c = s.charCodeAt(end);
    if (c === 34) break; // the closing quote
    if (c === 92 || !(c >= 32)) return false; // an escape, a control character, or the end (NaN)
    end++;
  }
  if (!s.startsWith(LOGPROB, end + 1)) return false;
  i = numberEnd(s, end + 1 + LOGPROB.length);
  if (i === -1) return false;
  let special: boolean;
  if (s.startsWith(SPECIAL_FALSE, i)) {
    special = false;
    i += SPECIAL_FALSE.length;
  } else if (s.startsWith(SPECIAL_TRUE, i)) {
    special = true;
    i += SPECIAL_TRUE.length;
  } else return false;
  if (i + TAIL.length !== s.length || !s.startsWith(TAIL, i)) return false;
  fields.text = s.slice(start, end);
  fields.special = special;
  return true;
}
