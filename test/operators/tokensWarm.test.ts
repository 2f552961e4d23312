// On its own on purpose: the first test here is the first tokens() subscription of this file's
// module registry, the one that starts the library's idle warm stream (keepWarm in
// src/operators/tokenStream.ts).
import { EMPTY, lastValueFrom, of, toArray } from 'rxjs';
import { streamMetrics, tokens, type StreamMetrics } from '../../src/index.js';

// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the type of a module loaded twice below
type IndexModule = typeof import('../../src/index.js');

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

test('a failure while starting the warm stream does not reach the stream that started it', async () => {
  let copy: IndexModule | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.isolateModules needs a synchronous load
    copy = require('../../src/index.js') as IndexModule;
  });
  if (copy === undefined) throw new Error('the module was not loaded');
  const body = new TextEncoder().encode('data:{"token":{"text":"hi","special":false}}\n\n');
  const saved = globalThis.TextEncoder;
  // The warm stream encodes its one event when it starts; make that throw, in a fresh copy of
  // the library whose warm stream has not started yet.
  globalThis.TextEncoder = function brokenTextEncoder() {
    throw new Error('TextEncoder is broken here');
  } as unknown as typeof TextEncoder;
  try {
    const out = await lastValueFrom(of(body).pipe(copy.tokens(), toArray()));
    expect(out).toEqual(['hi']);
  } finally {
    globalThis.TextEncoder = saved;
  }
});
