// Benchmark 2: end to end. The real SDK client against the emulator (in a child process, so its
// CPU is not counted) on loopback: invoke$(...).pipe(tokens()) against a raw `for await` over
// `Body` with the bare loop's decoding. Then the same with 64 concurrent streams on one client.
//
// No full collection is forced before a run here (unlike the other benchmarks): one that runs
// while no stream is alive lets V8 drop the hidden classes of every per-stream object, SDK and
// ours, and with them the optimised code of both contenders, which then compile it all again
// (measured with --trace-opt: 12.3 s of compiling in about 16 s of measured CPU). That is the
// cost of a first request after a quiet spell, not the cost per part; it is reported on its
// own, as the third case ("after a full collection").
// Usage: node --expose-gc bench/e2e.mjs [--parts 400000] [--blocks 20] [--streams 64]
import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
import { SMOKE, args, done, interleave, log } from './lib/harness.mjs';
import { bareLoop, makeSink } from './lib/contenders.mjs';
import { clientFor, spawnEmulator } from './lib/client.mjs';
import { lib } from './lib/lib.mjs';

const { invoke$, tokens } = lib;
const a = args();
const format = 'tgi-sse';
const totalParts = Number(a.parts ?? (SMOKE ? 2000 : 400_000)); // 20 blocks of 20,000 parts: twice the 200,000, for a steadier median
const blocks = Number(a.blocks ?? (SMOKE ? 2 : 20));
const streams = Number(a.streams ?? (SMOKE ? 4 : 64));
const PARTS_PER_TOKEN = 0.4; // renderParts cuts 1–4 events per part: about 2.5 tokens a part

const emulator = await spawnEmulator();
const encoder = new TextEncoder();

/** One stream of `tokenCount` tokens, raw: `for await` over Body, decoded by the bare loop. */
async function raw(client, tokenCount, sink) {
  const body = encoder.encode(JSON.stringify({ format, tokens: tokenCount }));
  const out = await client.send(
    new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'bench', Body: body, ContentType: 'application/json' }),
  );
  const loop = bareLoop(format, sink);
  let parts = 0;
  for await (const event of out.Body) {
    const bytes = event.PayloadPart?.Bytes;
    if (bytes !== undefined) {
      parts++;
      loop.feed(bytes);
    }
  }
  loop.end();
  return parts;
}

/** One stream through rx-sagemaker: invoke$(...).pipe(tokens()). */
function ours(client, tokenCount, sink) {
  return new Promise((resolve, reject) => {
    invoke$(client, { EndpointName: 'bench', Body: { format, tokens: tokenCount } })
      .pipe(tokens())
      .subscribe({ next: sink, error: reject, complete: () => resolve(0) });
  });
}

async function compare(label, concurrency, collect) {
  const perStreamTokens = Math.round(totalParts / blocks / concurrency / PARTS_PER_TOKEN);
  const client = clientFor(emulator.url, Math.max(50, concurrency));
  const sinks = { raw: makeSink(), ours: makeSink() };
  let partsPerBlock = 0;
  const run = (fn, sink) => async () => {
    const all = [];
    for (let i = 0; i < concurrency; i++) all.push(fn(client, perStreamTokens, sink.fn));
    const counts = await Promise.all(all);
    if (fn === raw) partsPerBlock = counts.reduce((x, y) => x + y, 0);
  };
  log(`e2e ${label}: ${blocks} blocks of ${concurrency} stream(s) × ${perStreamTokens} tokens`);
  const result = await interleave(
    { raw: run(raw, sinks.raw), ours: run(ours, sinks.ours) },
    { blocks, warmup: 1, baseline: 'raw', seed: 5, collect },
  );
  const summary = { ...result };
  delete summary.runs;
  const agree = sinks.raw.count === sinks.ours.count && sinks.raw.chars === sinks.ours.chars;
  if (!agree) {
    log(`e2e ${label}: contenders disagree`, JSON.stringify(sinks));
    process.exitCode = 1;
  }
  client.destroy();
  return {
    label,
    concurrency,
    collect,
    tokensPerStream: perStreamTokens,
    partsPerBlock,
    partsPerContender: partsPerBlock * blocks,
    agree,
    ...summary,
  };
}

try {
  const single = await compare('one stream', 1, false);
  const many = await compare(`${streams} concurrent streams`, streams, false);
  const cold = await compare(`${streams} concurrent streams, after a full collection`, streams, true);
  done({ bench: 'e2e', format, blocks, single, concurrent: many, cold });
} finally {
  await emulator.close();
}
