/**
 * Splits text holding JSON objects or arrays written back to back (`{...}{...}`, as
 * Bedrock-style containers forward them) into the text of each complete top-level value. Tracks
 * strings and escapes, so brackets inside strings do not count; whitespace between values is
 * skipped. Stops at anything else at the top level.
 *
 * @returns the complete values, and the rest from the first unfinished value or the first
 *   character that cannot start one (`''` when the text ends on a value).
 * @internal
 */
export function splitJsonValues(text: string): { values: string[]; rest: string } {
  const values: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (depth === 0) {
      if (c === 123 || c === 91) {
        start = i;
        depth = 1;
      } else if (c !== 32 && c !== 9 && c !== 10 && c !== 13) {
        return { values, rest: text.slice(i) };
      }
      continue;
    }
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 || c === 91) {
      depth++;
    } else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) values.push(text.slice(start, i + 1));
    }
  }
  return { values, rest: depth === 0 ? '' : text.slice(start) };
}
