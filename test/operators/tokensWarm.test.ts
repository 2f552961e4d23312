// On its own on purpose: the first test here is the first tokens() subscription of this file's
// module registry, the one that starts the library's idle warm stream (keepWarm in
// src/operators/tokenStream.ts).
import { EMPTY, lastValueFrom, toArray } from 'rxjs';
import { streamMetrics, tokens, type StreamMetrics } from '../../src/index.js';

test('the first tokens() subscription starts the warm stream outside its streamMetrics() chain: nothing is recorded for it', async () => {
  const reports: StreamMetrics[] = [];
  const out = await lastValueFrom(
    EMPTY.pipe(
      tokens(),
      streamMetrics((m) => reports.push(m)),
      toArray(),
    ),
  );
  expect(out).toEqual([]);
  expect(reports).toHaveLength(1);
  // The warm stream parses one TGI event: had it picked up this chain's recorder, the format
  // would read 'tgi' for a stream that carried nothing.
  expect(reports[0]).toMatchObject({ format: undefined, tokens: 0, outcome: 'complete' });
});
