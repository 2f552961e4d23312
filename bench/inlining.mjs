// A structural check, not a timing: the token parser's per-chunk loops (`feedSse`, `feedJson` in
// src/internal/tokenParser.ts) must stay too large for V8 to inline into their callers, so that
// each is optimised on its own and spends its inlining budget on the per-value path below it
// (parse, extract, emit). V8 never inlines a function of more than `--max-inlined-bytecode-size`
// bytes of bytecode (460 in Node 20's V8). When one of them was smaller, it was inlined up the
// subscriber chain and LMI JSON lines cost 1.15× the bare loop instead of 1.09× (BENCHMARKS.md,
// round 2, fix 7). This script fails if either loop shrinks under the limit.
//
// Usage: node bench/inlining.mjs            (runs in `npm run bench` and its smoke mode)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { done, log } from './lib/harness.mjs';

const LIMIT = 460; // V8's default --max-inlined-bytecode-size (Node 18–22)
const FUNCTIONS = ['feedSse', 'feedJson'];

if (process.argv[2] === '--workload') {
  // Run both framings through tokens() so that V8 compiles both loops to bytecode.
  const { lib } = await import('./lib/lib.mjs');
  const { from, lastValueFrom, toArray } = await import('rxjs');
  const enc = new TextEncoder();
  const sse = enc.encode('data:{"token":{"text":"a","special":false}}\n\ndata:{"token":{"text":"b","special":false}}\n\n');
  const jsonl = enc.encode('{"token":{"text":"a","log_prob":0}}\n{"token":{"text":"b","log_prob":0}}\n');
  for (const body of [sse, jsonl]) await lastValueFrom(from([body]).pipe(lib.tokens(), toArray()));
} else {
  const sizes = {};
  for (const name of FUNCTIONS) {
    const run = spawnSync(
      process.execPath,
      ['--print-bytecode', `--print-bytecode-filter=${name}`, fileURLToPath(import.meta.url), '--workload'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const m = /Bytecode length: (\d+)/.exec(run.stdout);
    sizes[name] = m ? Number(m[1]) : undefined;
  }
  const ok = FUNCTIONS.every((n) => sizes[n] !== undefined && sizes[n] > LIMIT);
  log(`inlining: bytecode length ${FUNCTIONS.map((n) => `${n} ${sizes[n] ?? 'not found'}`).join(', ')} (must exceed ${LIMIT})`);
  if (!ok) {
    log('inlining: a per-chunk loop of the token parser is small enough to be inlined upward; see the comment on feedJson');
    process.exitCode = 1;
  }
  done({ bench: 'inlining', limit: LIMIT, sizes, ok });
}
