// A structural check, not a timing: V8 keeps the token parser's optimised code across a full
// garbage collection that runs while no stream is alive. Optimised code depends on the hidden
// classes ("maps") of the objects it was specialised for (the rxjs subscribers, the observer, the
// parser, the line scanner, the SSE reader); a map dies with the last object that has it, and the
// code dies with the map ("marking dependent code ... reason: weak objects"). rx-sagemaker keeps
// one idle stream of its own alive (src/operators/tokenStream.ts, `keepWarm`) so that this does not
// happen between two requests. Without it, the parser's code was thrown away after every such
// collection and compiled again (20–40 ms of CPU for the SSE loop alone; BENCHMARKS.md, round 3).
//
// The workload runs rounds of a few concurrent streams through tokens(), with a full collection
// between rounds, under `--trace-deopt`, and counts the parser's functions thrown away for that
// reason, per function (feedSse, onJsonData, handleValue, ...). Without the idle stream that was
// 32–40 for 40 rounds; with it 3–13 (something else still dies now and then, more often under
// load). This script fails above 24.
//
// Usage: node bench/warm.mjs            (runs in `npm run bench` and its smoke mode)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { done, log } from './lib/harness.mjs';

const ROUNDS = 40;
const STREAMS = 8;
const LIMIT = 24; // without the idle stream: 32–40; with it 3–13 seen
const PARSER = ['feedSse', 'feedJson', 'onJsonData', 'handleValue', 'sseScanned'];

if (process.argv[2] === '--workload') {
  const { lib, testing } = await import('./lib/lib.mjs');
  const { makeTokens, cutParts } = await import('./lib/data.mjs');
  const { oursTokens } = await import('./lib/contenders.mjs');
  const parts = cutParts(testing.renderStream('tgi-sse', makeTokens(400, 7)).events, 7).parts;
  let count = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const streams = [];
    for (let s = 0; s < STREAMS; s++) streams.push(oursTokens('tgi-sse', () => count++));
    for (const p of parts) for (const c of streams) c.feed(p);
    for (const c of streams) c.end();
    globalThis.gc();
  }
  if (count === 0 || typeof lib.tokens !== 'function') process.exitCode = 1;
} else {
  const run = spawnSync(process.execPath, ['--expose-gc', '--trace-deopt', fileURLToPath(import.meta.url), '--workload'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) {
    log('warm: the workload failed', run.stderr.slice(0, 2000));
    process.exit(1);
  }
  const discarded = {};
  for (const line of run.stdout.split('\n')) {
    if (!line.includes('reason: weak objects')) continue;
    const m = /SharedFunctionInfo ([\w$.]+)>/.exec(line);
    if (m && PARSER.includes(m[1])) discarded[m[1]] = (discarded[m[1]] ?? 0) + 1;
  }
  const total = Object.values(discarded).reduce((a, b) => a + b, 0);
  const ok = total <= LIMIT;
  log(
    `warm: parser code discarded after a collection with no stream alive: ${total} time(s) in ${ROUNDS} rounds (at most ${LIMIT})`,
    JSON.stringify(discarded),
  );
  if (!ok) {
    log('warm: the parser loses its optimised code when no stream is alive; see keepWarm in src/operators/tokenStream.ts');
    process.exitCode = 1;
  }
  done({ bench: 'warm', rounds: ROUNDS, streams: STREAMS, limit: LIMIT, discarded, total, ok });
}
