// Benchmark: the opt-in fast event-stream decoder (fastEventStreamSerdeProvider) against the AWS
// SDK's own decoder, both inside a real, unmodified SageMakerRuntimeClient: `client.send()` then
// `for await (const event of output.Body)`, so the figures include everything the SDK does per
// event (its schema-based protocol, its generators, its first-event read in send()). Only the
// network is left out: the client's requestHandler answers from memory with real event-stream
// frames (encoded by @smithy/eventstream-codec, as the emulator and AWS send them), so the
// figures are the CPU the process spends per PayloadPart, not the loopback's.
//
// Regimes:
// - bulk: one stream, the body read in 64 KiB chunks (many frames per read, frames cut across
//   reads), as when a backend replays or relays a long output;
// - live: many concurrent streams, one frame per read, all streams advancing together once per
//   event-loop turn (setImmediate), as a backend carrying many live chat streams sees them; each
//   stream also pays its request (send(), signing, middleware), as it would in production.
//
// Method: CPU time (process.cpuUsage(), user + system, GC threads included) per part, and parts/s
// (wall clock). Each decoder runs in its own warm child process, so each pays for its own garbage
// and JIT state; the parent alternates them in blocks, in a random order per block; the ratio
// ours/stock is taken per block and the median reported, with the medians of each.
//
//   npm run build && node bench/eventstream.mjs
//   BENCH_SMOKE=1 node bench/eventstream.mjs            # tiny sizes: checks that it runs
//   node bench/eventstream.mjs --regime bulk --blocks 30 --parts 50000
//   node --expose-gc bench/eventstream.mjs --same-process   # both decoders in one process
//
// Options: --regime bulk|live|both (default both), --blocks N (per regime), --parts N (bulk parts
// per run), --streams N and --parts-per-stream N (live), --same-process (both decoders in this
// process), --json (one JSON line at the end).
// Exits 1 if the two decoders disagree on any event or the fast path was not taken.
import { InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { fork } from 'node:child_process';
import { setImmediate } from 'node:timers';
import { fileURLToPath } from 'node:url';
import * as lib from 'rx-sagemaker';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { fastEventStreamSerdeProvider, fastEventStreamStats } = lib;
if (typeof fastEventStreamSerdeProvider !== 'function' || typeof fastEventStreamStats !== 'function') {
  console.error(
    "bench/eventstream.mjs: 'rx-sagemaker' does not export fastEventStreamSerdeProvider / fastEventStreamStats (run `npm run build`; is it exported from src/index.ts?)",
  );
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Options

const SMOKE = process.env.BENCH_SMOKE === '1';
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const regime = opt('regime', 'both');
const blocks = Number(opt('blocks', SMOKE ? 2 : 15));
const warmup = SMOKE ? 1 : 3;
const bulkParts = Number(opt('parts', SMOKE ? 2_000 : 40_000));
const liveStreams = Number(opt('streams', SMOKE ? 4 : 64));
const livePartsPerStream = Number(opt('parts-per-stream', SMOKE ? 20 : 250));
const CHUNK = 64 * 1024;
const json = argv.includes('--json');
const gc = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

// ---------------------------------------------------------------------------------------------
// Data: PayloadPart frames holding TGI server-sent events, one token each (50–150 bytes)

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const WORDS = ['the', ' model', ' said', ' 日本', ' 🦙', ' and', ',', ' streaming', ' tokens', ' über', '.', ' a', ' result'];
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value) => ({ type: 'string', value });

/** `count` PayloadPart frames, concatenated, plus the total payload bytes. */
function makeFrames(count, seed) {
  const random = rng(seed);
  const frames = [];
  let payloadBytes = 0;
  for (let i = 0; i < count; i++) {
    const text = WORDS[Math.floor(random() * WORDS.length)];
    const payload = fromUtf8(
      `data:${JSON.stringify({ token: { id: 1000 + i, text, logprob: -Math.round(random() * 1000) / 1000, special: false }, generated_text: null, details: null })}\n\n`,
    );
    payloadBytes += payload.length;
    frames.push(
      codec.encode({
        headers: { ':event-type': str('PayloadPart'), ':content-type': str('application/octet-stream'), ':message-type': str('event') },
        body: payload,
      }),
    );
  }
  return { frames, payloadBytes };
}

/** The frames as one byte string cut into `size`-byte reads (Buffers, as Node's sockets give). */
function cut(frames, size) {
  const all = Buffer.concat(frames);
  const chunks = [];
  for (let i = 0; i < all.length; i += size) chunks.push(all.subarray(i, i + size));
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// Clients: the SDK's request path in full, the HTTP exchange answered from memory

const HEADERS = {
  'content-type': 'application/vnd.amazon.eventstream',
  'x-amzn-requestid': 'bench-request',
  'x-amzn-sagemaker-content-type': 'text/event-stream',
  'x-amzn-invoked-production-variant': 'AllTraffic',
};

/** A requestHandler that answers every request with `nextBody()` as the response body. */
function memoryHandler(nextBody) {
  return {
    async handle() {
      return { response: { statusCode: 200, headers: { ...HEADERS }, body: nextBody() } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

function makeClient(fast, nextBody) {
  return new SageMakerRuntimeClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
    requestHandler: memoryHandler(nextBody),
    ...(fast ? { eventStreamSerdeProvider: fastEventStreamSerdeProvider } : {}),
  });
}

/** Sends one request and reads its whole Body; returns [parts, payload bytes, checksum]. */
async function readStream(client) {
  const output = await client.send(
    new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'bench', Body: '{"inputs":"hi","stream":true}' }),
  );
  let parts = 0;
  let bytes = 0;
  let sum = 0;
  for await (const event of output.Body) {
    const b = event.PayloadPart.Bytes;
    parts++;
    bytes += b.length;
    sum = (sum * 31 + b[b.length >> 1] + b.length) | 0;
  }
  return [parts, bytes, sum];
}

// ---------------------------------------------------------------------------------------------
// Regimes: each returns { run(name) → Promise<{ parts, bytes, sum }> } with one client per decoder

function bulkRegime() {
  const { frames, payloadBytes } = makeFrames(bulkParts, 1);
  const chunks = cut(frames, CHUNK);
  const body = () => ({
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  });
  const clients = { stock: makeClient(false, body), ours: makeClient(true, body) };
  return {
    label: `bulk: 1 stream × ${bulkParts} parts (${(payloadBytes / bulkParts).toFixed(0)} B payload, ${(frames.reduce((n, f) => n + f.length, 0) / bulkParts).toFixed(0)} B frame), ${CHUNK / 1024} KiB reads (${(bulkParts / chunks.length).toFixed(0)} frames per read)`,
    clients,
    async run(name) {
      const [parts, bytes, sum] = await readStream(clients[name]);
      return { parts, bytes, sum };
    },
  };
}

function liveRegime() {
  const { frames, payloadBytes } = makeFrames(livePartsPerStream, 2);
  // One event-loop turn per round: every stream waiting for data gets its next frame.
  let tick;
  const nextTurn = () => {
    if (tick === undefined) {
      tick = new Promise((resolve) =>
        setImmediate(() => {
          tick = undefined;
          resolve();
        }),
      );
    }
    return tick;
  };
  const body = () => ({
    async *[Symbol.asyncIterator]() {
      for (const frame of frames) {
        await nextTurn();
        yield Buffer.from(frame.buffer, frame.byteOffset, frame.length);
      }
    },
  });
  const clients = { stock: makeClient(false, body), ours: makeClient(true, body) };
  return {
    label: `live: ${liveStreams} concurrent streams × ${livePartsPerStream} parts (${(payloadBytes / livePartsPerStream).toFixed(0)} B payload), 1 frame per read, 1 read per stream per event-loop turn, send() included`,
    clients,
    async run(name) {
      const results = await Promise.all(Array.from({ length: liveStreams }, () => readStream(clients[name])));
      let parts = 0;
      let bytes = 0;
      let sum = 0;
      for (const [p, b, s] of results) {
        parts += p;
        bytes += b;
        sum = (sum * 31 + s) | 0;
      }
      return { parts, bytes, sum };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement. Each decoder runs in its own warm child process (as in production, where a process
// uses one decoder or the other: no JIT or inline-cache state shared between them), and the parent
// alternates them block by block, in a random order per block. --same-process runs both in this
// process instead (the fast decoder then shares the SDK's call sites with the stock one).

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const REGIMES = { bulk: bulkRegime, live: liveRegime };

async function timed(bench, name, collect) {
  if (collect) gc?.();
  const c0 = cpuMicros();
  const w0 = performance.now();
  const out = await bench.run(name);
  const cpu = cpuMicros() - c0;
  const wall = performance.now() - w0;
  return { ...out, cpuPerPart: cpu / out.parts, partsPerSecond: out.parts / (wall / 1000) };
}

/**
 * A contender in this process. With --same-process a full GC (when --expose-gc) precedes each run,
 * so that one decoder's garbage is not collected on the other's time; a child process pays only
 * for its own garbage and is never forced (a forced full GC shrinks the young generation, and the
 * next run then pays for extra scavenges).
 */
function local(bench, name, collect) {
  return {
    run: () => timed(bench, name, collect),
    stats: async () => ({ stats: fastEventStreamStats(bench.clients[name]) ?? null, label: bench.label }),
    close: async () => {},
  };
}

/** A contender in a child process running this file with BENCH_ROLE=name. */
function child(key, name) {
  const proc = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
    env: { ...process.env, BENCH_ROLE: name, BENCH_REGIME: key },
    execArgv: process.execArgv,
  });
  const waiting = [];
  proc.on('message', (m) => waiting.shift()?.resolve(m));
  proc.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`bench child ${name} exited (${code})`));
  });
  const ask = (cmd) =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      proc.send({ cmd });
    });
  return { run: () => ask('run'), stats: () => ask('stats'), close: () => ask('exit') };
}

if (process.env.BENCH_ROLE !== undefined) {
  // Child: one decoder, one regime; answers the parent's requests.
  const bench = REGIMES[process.env.BENCH_REGIME]();
  const me = local(bench, process.env.BENCH_ROLE, false);
  process.on('message', async ({ cmd }) => {
    if (cmd === 'run') process.send(await me.run());
    else if (cmd === 'stats') process.send(await me.stats());
    else {
      process.send('bye');
      process.disconnect();
    }
  });
} else {
  await main();
}

async function measure(key, sameProcess) {
  const random = rng(7);
  const bench = sameProcess ? REGIMES[key]() : undefined;
  const contenders = {
    stock: sameProcess ? local(bench, 'stock', true) : child(key, 'stock'),
    ours: sameProcess ? local(bench, 'ours', true) : child(key, 'ours'),
  };
  const rows = { stock: [], ours: [] };
  const ratios = [];
  let reference;
  try {
    for (let block = 0; block < warmup + blocks; block++) {
      const order = random() < 0.5 ? ['stock', 'ours'] : ['ours', 'stock'];
      const got = {};
      for (const name of order) got[name] = await contenders[name].run();
      // Both decoders must have seen the same events, every time.
      for (const name of order) {
        const r = got[name];
        reference ??= r;
        if (r.parts !== reference.parts || r.bytes !== reference.bytes || r.sum !== reference.sum) {
          throw new Error(`${name} decoded different events: ${JSON.stringify(r)} vs ${JSON.stringify(reference)}`);
        }
      }
      if (block < warmup) continue;
      rows.stock.push(got.stock);
      rows.ours.push(got.ours);
      ratios.push(got.ours.cpuPerPart / got.stock.cpuPerPart);
    }
    const { stats, label } = await contenders.ours.stats();
    if (stats === null || stats.state !== 'active' || stats.fastFrames < reference.parts) {
      throw new Error(`the fast path was not taken: ${JSON.stringify(stats)}`);
    }
    if ((await contenders.stock.stats()).stats !== null) throw new Error('the stock client uses the fast decoder');
    const pick = (name, k) => median(rows[name].map((r) => r[k]));
    const sorted = [...ratios].sort((a, b) => a - b);
    return {
      label,
      stock: { cpuPerPartMicros: pick('stock', 'cpuPerPart'), partsPerSecond: pick('stock', 'partsPerSecond') },
      ours: { cpuPerPartMicros: pick('ours', 'cpuPerPart'), partsPerSecond: pick('ours', 'partsPerSecond') },
      cpuRatio: median(ratios),
      cpuRatioRange: [sorted[0], sorted[sorted.length - 1]],
      blocks: ratios.length,
      partsPerRun: reference.parts,
      fast: { fastFrames: stats.fastFrames, sdkFrames: stats.sdkFrames, crc32: stats.crc32 },
    };
  } finally {
    await Promise.all(Object.values(contenders).map((c) => c.close()));
  }
}

async function main() {
  const sameProcess = argv.includes('--same-process');
  const fmt = (n, digits = 2) => n.toFixed(digits);
  const out = {};
  console.log(
    `event-stream decoding, stock SDK vs fastEventStreamSerdeProvider — node ${process.version}, ${blocks} blocks (+${warmup} warm-up), medians, ` +
      `${sameProcess ? `both in one process${gc ? ', full GC before each run' : ' (add --expose-gc to collect garbage between runs)'}` : 'each in its own process'}${SMOKE ? ' [SMOKE]' : ''}`,
  );
  for (const key of Object.keys(REGIMES)) {
    if (regime !== 'both' && regime !== key) continue;
    const r = await measure(key, sameProcess);
    out[key] = r;
    console.log(`\n${r.label}`);
    console.log(
      `  stock  ${fmt(r.stock.cpuPerPartMicros)} µs CPU/part  ${Math.round(r.stock.partsPerSecond).toLocaleString('en-US')} parts/s`,
    );
    console.log(
      `  ours   ${fmt(r.ours.cpuPerPartMicros)} µs CPU/part  ${Math.round(r.ours.partsPerSecond).toLocaleString('en-US')} parts/s`,
    );
    console.log(
      `  ours/stock CPU per part: ${fmt(r.cpuRatio, 3)}× (median of ${r.blocks} blocks; range ${fmt(r.cpuRatioRange[0], 3)}–${fmt(r.cpuRatioRange[1], 3)}); crc32 ${r.fast.crc32}`,
    );
  }
  if (json) console.log(JSON.stringify({ node: process.version, smoke: SMOKE, sameProcess, ...out }));
}
