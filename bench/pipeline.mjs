// Benchmark 1: the operator pipeline in memory. One long stream per contender instance, in the
// TGI SSE, OpenAI chat SSE and LMI jsonlines formats, cut into realistic parts, fed in blocks.
// Usage: node --expose-gc bench/pipeline.mjs --format tgi-sse [--tokens 1000000] [--blocks 20]
import { SMOKE, analyse, args, done, interleave, log } from './lib/harness.mjs';
import { PIPELINE_FORMATS, cutParts, makeTokens } from './lib/data.mjs';
import { bareLoop, eventsourceParser, makeSink, oursTokens } from './lib/contenders.mjs';
import { testing } from './lib/lib.mjs';
const { renderStream } = testing;

const a = args();
const format = a.format ?? 'tgi-sse';
const spec = PIPELINE_FORMATS[format];
if (!spec) throw new Error(`unknown format ${format}`);
const totalTokens = Number(a.tokens ?? (SMOKE ? 4000 : 1_000_000));
const blocks = Number(a.blocks ?? (SMOKE ? 2 : 200));
const perBlock = Math.floor(totalTokens / blocks);

// One segment of `perBlock` tokens, repeated: the stream is head + segment × (1 + blocks) + end.
const rendered = renderStream(spec.render, makeTokens(perBlock));
const terminal = format === 'openai-chat-sse' ? 2 : 1; // the finishing event(s), and [DONE]
const segment = cutParts(rendered.events.slice(0, -terminal), 11);
const tail = cutParts(rendered.events.slice(-terminal), 12);
log(
  `pipeline ${format}: ${blocks} blocks of ${perBlock} tokens, ${segment.parts.length} parts, ${(segment.bytes / 1048576).toFixed(2)} MiB per block; ${segment.midLine} parts end mid-line, ${segment.midCodePoint} mid-code-point`,
);

const factories = { bare: bareLoop, ours: oursTokens };
if (spec.sse) factories['eventsource-parser'] = eventsourceParser;

const instances = {};
const contenders = {};
for (const [name, make] of Object.entries(factories)) {
  const pair = [makeSink(), makeSink()].map((sink) => ({ sink, consumer: make(format, sink.fn) }));
  instances[name] = pair;
  let turn = 0;
  contenders[name] = () => {
    const { consumer } = pair[turn];
    turn ^= 1;
    for (const p of segment.parts) consumer.feed(p);
  };
}

const result = await interleave(contenders, { blocks, warmup: 20, baseline: 'bare', seed: 3, collect: false });

// End every stream and check that all contenders saw the same tokens.
const sinks = [];
for (const [name, pair] of Object.entries(instances)) {
  for (const { sink, consumer } of pair) {
    for (const p of tail.parts) consumer.feed(p);
    consumer.end();
    sinks.push({ name, count: sink.count, chars: sink.chars, hash: sink.hash });
  }
}
const ref = sinks[0];
const agree = sinks.every((s) => s.count === ref.count && s.chars === ref.chars && s.hash === ref.hash);
if (!agree) {
  log('contenders disagree:', JSON.stringify(sinks));
  process.exitCode = 1;
}

const summary = { ...result };
delete summary.runs;
const { runs } = result;
if (spec.sse) summary.vsEventsourceParser = analyse(runs, 'eventsource-parser').contenders.ours.ratio;
done({
  bench: 'pipeline',
  format,
  tokensPerBlock: perBlock,
  blocks,
  tokensPerInstance: ref.count,
  bytesPerBlock: segment.bytes,
  partsPerBlock: segment.parts.length,
  midLine: segment.midLine,
  midCodePoint: segment.midCodePoint,
  agree,
  ...summary,
});
