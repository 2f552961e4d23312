// Benchmark 4: memory. Streams 1 GiB of TGI SSE through a contender, generated on the fly (a
// pool of rendered parts cycled, each copied into a fresh Uint8Array as the SDK hands out fresh
// buffers; never held whole), and reports the peak RSS growth over the RSS before the stream.
// One contender per process (the runner starts one process each): RSS is a high-water mark.
// Usage: node --expose-gc bench/memory.mjs --contender ours|bare [--mib 1024]
import { SMOKE, args, done, log } from './lib/harness.mjs';
import { cutParts, makeTokens } from './lib/data.mjs';
import { bareLoop, makeSink, oursTokens } from './lib/contenders.mjs';
import { testing } from './lib/lib.mjs';

const a = args();
const contender = a.contender ?? 'ours';
const totalBytes = Number(a.mib ?? (SMOKE ? 16 : 1024)) * 1048576;
const format = 'tgi-sse';

// The pool: 2,000 token events without the final one (its generated_text repeats the whole
// answer); the stream is this pool over and over, so it stays a valid event stream.
const rendered = testing.renderStream(format, makeTokens(2000, 21));
const pool = cutParts(rendered.events.slice(0, -1), 22).parts;
const poolBytes = pool.reduce((n, p) => n + p.length, 0);

const sink = makeSink();
const consumer = contender === 'ours' ? oursTokens(format, sink.fn) : bareLoop(format, sink.fn);
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 50));
globalThis.gc?.();
const before = process.memoryUsage();
let peakRss = before.rss;
let peakHeap = before.heapUsed;
let sent = 0;
let parts = 0;
const t0 = process.cpuUsage();
const w0 = performance.now();
while (sent < totalBytes) {
  for (let i = 0; i < pool.length; i++) {
    // whole pools: the stream ends on an event
    const part = pool[i].slice(); // a fresh buffer, as the SDK hands out
    consumer.feed(part);
    sent += part.length;
    if (++parts % 512 === 0) {
      const m = process.memoryUsage();
      if (m.rss > peakRss) peakRss = m.rss;
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
    }
  }
}
consumer.end();
const cpu = process.cpuUsage(t0);
const wall = performance.now() - w0;
const MiB = 1048576;
const result = {
  bench: 'memory',
  contender,
  format,
  bytes: sent,
  parts,
  tokens: sink.count,
  poolBytes,
  rssBeforeMiB: before.rss / MiB,
  peakRssMiB: peakRss / MiB,
  peakRssGrowthMiB: (peakRss - before.rss) / MiB,
  peakHeapGrowthMiB: (peakHeap - before.heapUsed) / MiB,
  cpuMs: (cpu.user + cpu.system) / 1000,
  wallMs: wall,
  mibPerCpuSecond: sent / MiB / ((cpu.user + cpu.system) / 1e6),
};
log(
  `memory ${contender}: ${(sent / MiB).toFixed(0)} MiB in ${parts} parts, ${sink.count} tokens; peak RSS +${result.peakRssGrowthMiB.toFixed(1)} MiB`,
);
done(result);
