// Soak test (issue 8, part 3): thousands of streams through the BUILT library (dist/), the real
// SDK client and the emulator, with random container formats, chunking, faults, retries and
// unsubscribes; sequentially, then 100 at a time through invokeAll$. Afterwards it checks that
// nothing was lost, duplicated or left behind:
//
// - every stream gave exactly what an in-memory run of tokens() over the same bytes gives (a
//   prefix of it when unsubscribed), and every failure was one SageMakerStreamError of the kind
//   the injected fault calls for;
// - one metrics record per stream;
// - the emulator has no response running and, once the client is destroyed, no connection;
// - the process has no socket, server or timer left (process.getActiveResourcesInfo() against a
//   baseline taken before anything started);
// - the heap after GC is back near where it was after the warm-up.
//
//   npm run build && node --expose-gc scripts/soak.mjs            2,000 streams (about a minute)
//   node --expose-gc scripts/soak.mjs --quick                     200 streams (about 10 s)
//   node --expose-gc scripts/soak.mjs --streams 5000 --seed 42    more, or replay a run
//   --heap-slack-mb N                                             heap growth allowed (default 4)
//
// Exit code 0 when every check passes, 1 otherwise.
import { parseArgs } from 'node:util';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { concat, from, take, takeUntil, throwError, timer } from 'rxjs';
import { invoke$, invokeAll$, retryOnStreamFailure, SageMakerStreamError, streamMetrics, tokens } from 'rx-sagemaker';
import { CONTAINER_FORMATS, renderStream, splitBytes, startEmulator } from 'rx-sagemaker/testing';
import { rng } from '../bench/lib/harness.mjs';

// stdout and stderr open their handles when first used: open them before the baseline.
void process.stdout;
void process.stderr;
const resourcesAtStart = countResources();
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    streams: { type: 'string' },
    seed: { type: 'string' },
    'heap-slack-mb': { type: 'string', default: '4' },
  },
});
const TOTAL = Number(args.streams ?? (args.quick ? 200 : 2000));
const BATCH = 100;
const SEED = Number(args.seed ?? Math.floor(Math.random() * 2 ** 31));
const HEAP_SLACK = Number(args['heap-slack-mb']) * 2 ** 20;
// The timeouts only end the planned stalls. They are loose because emulator and client share
// one event loop (in a batch with 99 other streams) on what may be a small, busy machine; a
// stall before the first part is planned in the sequential phase only.
const SEQUENTIAL_TIMEOUTS = { firstByteTimeout: 3000, idleTimeout: 200 };
const BATCH_TIMEOUTS = { firstByteTimeout: 10_000, idleTimeout: 1500 };
if (!Number.isInteger(TOTAL) || TOTAL < 2 || !Number.isInteger(SEED)) {
  console.error('soak: --streams must be an integer ≥ 2 and --seed an integer');
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  console.error('soak: run node with --expose-gc (npm run soak does)');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Random plans

const random = rng(SEED); // mulberry32: seeded, so a run can be replayed with --seed
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;

const WORDS = [
  ' the',
  ' model',
  ' 日本',
  ' 東京',
  ' 🦙',
  ' é',
  ' naïve',
  ' 👩‍👩‍👧',
  '\n',
  ' "quoted"',
  ' back\\slash',
  ' {brace}',
  ' 42',
  '.',
  ',',
  ' über',
  ' 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  ' ok',
];
const IN_BAND = new Set(CONTAINER_FORMATS.filter((f) => f !== 'plain-text' && f !== 'bedrock-titan'));
const STREAM_FAULTS = ['model-stream-error', 'internal-stream-failure', 'reset', 'stall'];
const PRE_STREAM = ['validation', 'model-error', 'throttling', 'model-not-ready', 'internal-failure', 'service-unavailable'];
const KIND_OF = {
  'model-stream-error': 'model-stream',
  'internal-stream-failure': 'internal-stream-failure',
  reset: 'network',
  stall: 'timeout',
  validation: 'validation',
  'model-error': 'model',
  throttling: 'throttling',
  'model-not-ready': 'model-not-ready',
  'internal-failure': 'internal-failure',
  'service-unavailable': 'service-unavailable',
};
const RETRYABLE = new Set([
  'internal-stream-failure',
  'network',
  'throttling',
  'service-unavailable',
  'internal-failure',
  'model-not-ready',
]);
const encoder = new TextEncoder();

function makePlan(id, inBatch) {
  const format = pick(CONTAINER_FORMATS);
  const words = Array.from({ length: int(0, 40) }, () => pick(WORDS));
  const inBand = IN_BAND.has(format) && chance(0.05) ? { message: `overloaded (${id})` } : undefined;
  const rendered = renderStream(format, words, inBand === undefined ? {} : { error: inBand });
  // One part per event, or cut every n bytes (now and then 1 to 3: thousands of tiny parts).
  const parts = chance(0.5)
    ? rendered.events.map((e) => encoder.encode(e))
    : splitBytes(rendered.body, chance(0.05) ? int(1, 3) : int(4, 64));
  const plan = {
    id,
    format,
    contentType: rendered.contentType,
    parts,
    writeSize: chance(0.3) ? (!inBatch && chance(0.2) ? 1 : int(4, 64)) : undefined,
    partDelayMs: parts.length <= 60 && chance(0.2) ? int(1, 3) : 0, // timers cost ≥ 1 ms per part
    fault: undefined,
    preStream: undefined,
    retry: chance(0.3),
    takeTokens: chance(0.1) ? int(0, 10) : undefined,
    unsubscribeAfterMs: chance(0.1) ? int(0, 30) : undefined,
  };
  const roll = random();
  if (roll < 0.28) {
    let type = random() < 0.12 ? 'stall' : pick(STREAM_FAULTS.filter((t) => t !== 'stall'));
    if (type === 'stall' && inBatch && parts.length === 0) type = 'reset';
    // After part k, 0 ≤ k ≤ parts (a stall in a batch after at least one part).
    plan.fault = { type, afterParts: int(type === 'stall' && inBatch ? 1 : 0, parts.length), message: `injected ${type} (${id})` };
  } else if (roll < 0.36) {
    plan.preStream = pick(PRE_STREAM);
  }
  return plan;
}

/** What the emulator plays for attempt `n` of a plan: the fault or error first, then clean. */
function response(plan, attempt) {
  const base = { parts: plan.parts, contentType: plan.contentType, partDelayMs: plan.partDelayMs };
  if (plan.writeSize !== undefined) base.writeSize = plan.writeSize;
  if (attempt > 0) return base;
  if (plan.preStream !== undefined) return { error: { type: plan.preStream, message: `injected ${plan.preStream} (${plan.id})` } };
  if (plan.fault !== undefined) {
    const { type, afterParts, message } = plan.fault;
    return {
      ...base,
      fault: type === 'model-stream-error' || type === 'internal-stream-failure' ? { type, afterParts, message } : { type, afterParts },
    };
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// The oracle: the same bytes through tokens() in memory, no network.

function inMemory(parts, contentType, fault) {
  const out = { values: [], end: 'complete', kind: undefined };
  const source =
    fault === undefined
      ? from(parts)
      : concat(
          from(parts),
          throwError(() => fault),
        );
  source.pipe(tokens({ contentType })).subscribe({
    next: (v) => out.values.push(v),
    error: (e) => {
      out.end = 'error';
      out.kind = e === fault ? 'fault' : SageMakerStreamError.isInstance(e) ? e.kind : `foreign: ${String(e)}`;
    },
  });
  return out;
}

/** What the stream must give: values and how it ends, with retries taken into account. */
function expectation(plan) {
  const clean = inMemory(plan.parts, plan.contentType, undefined);
  let first = clean;
  let kind;
  if (plan.preStream !== undefined) {
    kind = KIND_OF[plan.preStream];
    first = { values: [], end: 'error', kind };
  } else if (plan.fault !== undefined) {
    kind = KIND_OF[plan.fault.type];
    const marker = new Error('fault');
    const partial = inMemory(plan.parts.slice(0, plan.fault.afterParts), plan.contentType, marker);
    // The in-memory run may already have failed on its own (an in-band error before the fault).
    first = partial.kind === 'fault' ? { values: partial.values, end: 'error', kind } : partial;
  }
  if (first.end === 'error' && first.kind === kind && plan.retry && RETRYABLE.has(kind) && first.values.length === 0)
    return { ...clean, attempts: 2 };
  return { ...first, attempts: 1 };
}

const joined = (values) => values.join('');
function sameValues(format, actual, expected) {
  return format === 'plain-text'
    ? joined(actual) === joined(expected)
    : actual.length === expected.length && actual.every((v, i) => v === expected[i]);
}
function prefixOf(format, actual, expected) {
  return format === 'plain-text'
    ? joined(expected).startsWith(joined(actual))
    : actual.length <= expected.length && actual.every((v, i) => v === expected[i]);
}

// ---------------------------------------------------------------------------------------------
// Running

const figures = { streams: 0, tokens: 0, completed: 0, stoppedEarly: 0, errors: {}, retried: 0, metricsRecords: 0, requests: 0 };
const failures = [];

function chain(plan, bytes$, onMetrics) {
  let out$ = bytes$.pipe(tokens());
  if (plan.retry) out$ = out$.pipe(retryOnStreamFailure({ count: 2, delay: 1 }));
  if (plan.takeTokens !== undefined) out$ = out$.pipe(take(plan.takeTokens));
  if (plan.unsubscribeAfterMs !== undefined) out$ = out$.pipe(takeUntil(timer(plan.unsubscribeAfterMs)));
  return out$.pipe(streamMetrics(onMetrics));
}

/** Compares one stream's result with its expectation; records figures and failures. */
function check(plan, result) {
  figures.streams++;
  figures.tokens += result.values.length;
  const want = expectation(plan);
  const stopsEarly = plan.takeTokens !== undefined || plan.unsubscribeAfterMs !== undefined || result.end === 'unsubscribed';
  let problem;
  if (result.end === 'error') {
    const e = result.error;
    if (!SageMakerStreamError.isInstance(e)) problem = `error is not a SageMakerStreamError: ${String(e)}`;
    else {
      figures.errors[e.kind] = (figures.errors[e.kind] ?? 0) + 1;
      if (want.end !== 'error' || e.kind !== want.kind)
        problem = `error kind ${e.kind}, expected ${want.end === 'error' ? want.kind : 'completion'}`;
      else if (!sameValues(plan.format, result.values, want.values)) problem = 'values before the error differ';
    }
  } else if (stopsEarly) {
    figures.stoppedEarly++;
    // take() and takeUntil() complete early: what arrived must be the start of what was due.
    if (!prefixOf(plan.format, result.values, want.values)) problem = 'values are not a prefix of the expected values';
  } else if (result.end === 'complete') {
    figures.completed++;
    if (want.end !== 'complete') problem = `completed, expected error ${want.kind}`;
    else if (!sameValues(plan.format, result.values, want.values)) problem = 'values differ';
  } else {
    problem = 'ended without notification';
  }
  if (want.attempts === 2 && result.end === 'complete' && !stopsEarly) figures.retried++;
  if (problem !== undefined && failures.length < 1000) {
    failures.push({
      id: plan.id,
      problem,
      format: plan.format,
      fault: plan.fault?.type ?? plan.preStream,
      afterParts: plan.fault?.afterParts,
      retry: plan.retry,
      got: {
        end: result.end,
        kind: SageMakerStreamError.isInstance(result.error) ? result.error.kind : undefined,
        values: result.values.length,
      },
      want: { end: want.end, kind: want.kind, values: want.values.length },
    });
  }
}

/** Runs one stream on its own and resolves with what it gave. */
function runOne(client, plan) {
  return new Promise((resolve) => {
    const values = [];
    const out$ = chain(
      plan,
      invoke$(client, { EndpointName: 'soak', Body: { id: plan.id } }, SEQUENTIAL_TIMEOUTS),
      () => figures.metricsRecords++,
    );
    out$.subscribe({
      next: (v) => values.push(v),
      error: (error) => resolve({ values, end: 'error', error }),
      complete: () => resolve({ values, end: 'complete' }),
    });
  });
}

/** Runs a batch through invokeAll$; some batches are unsubscribed as a whole after a few ms. */
async function runBatch(client, plans) {
  const results = new Map(plans.map((p) => [p.id, { values: [], end: 'unsubscribed' }]));
  const byId = new Map(plans.map((p) => [p.id, p]));
  const cutAfter = chance(0.1) ? int(2, 40) : undefined;
  await new Promise((resolve) => {
    const sub = invokeAll$(
      client,
      plans.map((p) => ({ EndpointName: 'soak', Body: { id: p.id } })),
      {
        concurrency: BATCH,
        failurePolicy: 'isolate',
        onSocketLimit: false,
        invoke: BATCH_TIMEOUTS,
        each: (bytes$, key) => chain(byId.get(plans[key].id), bytes$, () => figures.metricsRecords++),
      },
    ).subscribe({
      next: (event) => {
        const r = results.get(plans[event.key].id);
        if (event.type === 'value') r.values.push(event.value);
        else if (event.type === 'complete') r.end = 'complete';
        else {
          r.end = 'error';
          r.error = event.error;
        }
      },
      error: (error) => {
        failures.push({ problem: `invokeAll$ errored despite failurePolicy isolate: ${String(error)}` });
        resolve();
      },
      complete: resolve,
    });
    if (cutAfter !== undefined) {
      setTimeout(() => {
        sub.unsubscribe();
        resolve();
      }, cutAfter);
    }
  });
  for (const plan of plans) check(plan, results.get(plan.id));
}

/** The http.Agent of the client's Node handler (where sockets are pooled). */
async function agentOf(client) {
  const handler = client.config.requestHandler;
  return (await handler.configProvider).httpAgentProvider();
}

function countResources() {
  const counts = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
function leftovers(now, base) {
  const extra = {};
  for (const [type, n] of Object.entries(now)) if (n > (base[type] ?? 0)) extra[type] = n - (base[type] ?? 0);
  return extra;
}
const fmt = (counts) =>
  Object.keys(counts).length === 0
    ? 'none'
    : Object.entries(counts)
        .map(([t, n]) => `${t}×${n}`)
        .join(', ');
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 0));
  }
  return process.memoryUsage().heapUsed;
}

async function session(plans, { sequential, concurrent }) {
  const attempts = new Map();
  const emulator = await startEmulator({
    endpoints: {
      soak: (request) => {
        const { id } = JSON.parse(Buffer.from(request.body).toString('utf8'));
        const n = attempts.get(id) ?? 0;
        attempts.set(id, n + 1);
        return response(plans.get(id), n);
      },
    },
  });
  const client = new SageMakerRuntimeClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSOAKTEST', secretAccessKey: 'soak-secret' },
    maxAttempts: 1, // our retries only: the SDK's would make request counts depend on it
    requestHandler: { httpAgent: { maxSockets: BATCH } },
  });
  const checks = [];
  try {
    const ids = [...plans.keys()];
    for (const id of ids.slice(0, sequential)) check(plans.get(id), await runOne(client, plans.get(id)));
    const rest = ids.slice(sequential, sequential + concurrent);
    for (let i = 0; i < rest.length; i += BATCH)
      await runBatch(
        client,
        rest.slice(i, i + BATCH).map((id) => plans.get(id)),
      );
    // Every response has ended (aborted ones within a moment of the unsubscribe).
    let running;
    try {
      await emulator.waitFor(() => emulator.openRequests === 0, 5000);
      running = 0;
    } catch {
      running = emulator.openRequests;
    }
    checks.push({ name: 'emulator: no response running', ok: running === 0, detail: `${running} open` });
    figures.requests += emulator.requests.length;
    // Sockets of requests aborted a moment ago close asynchronously: give them up to 3 s.
    const agent = await agentOf(client);
    const count = (pool) => Object.values(pool).reduce((n, list) => n + (list?.length ?? 0), 0);
    for (let i = 0; i < 150 && count(agent.sockets) + count(agent.requests) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const busy = count(agent.sockets);
    const queued = count(agent.requests);
    checks.push({
      name: 'client: no socket busy and no request queued in its agent',
      ok: busy === 0 && queued === 0,
      detail: `${busy} busy, ${queued} queued`,
    });
    const stuck = emulator.requests.filter((r) => r.outcome === 'running').length;
    checks.push({ name: 'emulator: every request ended', ok: stuck === 0, detail: `${stuck} still running` });
  } finally {
    // Every connection still open is an idle keep-alive socket in the client's pool... A socket
    // the client destroyed a moment ago (an aborted request) leaves its pool at once but reaches
    // the emulator's side a little later: give that close up to 1 s, as above.
    const agent = await agentOf(client);
    const idleSockets = () => Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
    await emulator.waitFor(() => emulator.openConnections === idleSockets(), 1000).catch(() => undefined);
    const idle = idleSockets();
    checks.push({
      name: 'emulator: every open connection is an idle keep-alive socket of the client',
      ok: emulator.openConnections === idle,
      detail: `${emulator.openConnections} open, ${idle} idle in the client's pool`,
    });
    // ...which client.destroy() closes (well before the emulator's 5 s keep-alive timeout would).
    client.destroy();
    let connections;
    try {
      await emulator.waitFor(() => emulator.openConnections === 0, 1000);
      connections = 0;
    } catch {
      connections = emulator.openConnections;
    }
    checks.push({ name: 'emulator: no connection open 1 s after client.destroy()', ok: connections === 0, detail: `${connections} open` });
    // With only the emulator's server left: no other socket, and no timer.
    let extra = leftovers(countResources(), resourcesAtStart);
    for (let i = 0; i < 50 && fmt(extra) !== 'TCPServerWrap×1'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      extra = leftovers(countResources(), resourcesAtStart);
    }
    checks.push({
      name: 'process: nothing but the emulator’s server left (no socket, no timer)',
      ok: fmt(extra) === 'TCPServerWrap×1',
      detail: `open: ${fmt(extra)}`,
    });
    await emulator.close();
  }
  return checks;
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
console.log(
  `soak: ${TOTAL} streams (${Math.ceil(TOTAL / 2)} sequential, ${Math.floor(TOTAL / 2)} ${BATCH} at a time via invokeAll$), seed ${SEED}, node ${process.version}`,
);

// Warm-up: load the SDK's lazy parts and JIT the paths, then take the heap baseline.
{
  const warm = new Map();
  for (let i = 0; i < 40; i++) warm.set(`warm-${i}`, makePlan(`warm-${i}`, i >= 20));
  await session(warm, { sequential: 20, concurrent: 20 });
  Object.assign(figures, { streams: 0, tokens: 0, completed: 0, stoppedEarly: 0, errors: {}, retried: 0, metricsRecords: 0, requests: 0 });
  failures.length = 0;
}
const heapBefore = await settledHeap();

const plans = new Map();
const sequential = Math.ceil(TOTAL / 2);
for (let i = 0; i < TOTAL; i++) plans.set(`s${i}`, makePlan(`s${i}`, i >= sequential));
const checks = await session(plans, { sequential, concurrent: TOTAL - sequential });
const planned = plans.size;
plans.clear();
const duration = (performance.now() - started) / 1000;

checks.push({ name: 'every stream checked', ok: figures.streams === planned, detail: `${figures.streams} of ${planned}` });
checks.push({ name: 'one metrics record per stream', ok: figures.metricsRecords === planned, detail: `${figures.metricsRecords} records` });
checks.push({
  name: 'every stream gave what it should (nothing lost, nothing duplicated, typed errors of the right kind)',
  ok: failures.length === 0,
  detail: `${failures.length} failures`,
});

// Resources: poll briefly, sockets close asynchronously.
let extra = leftovers(countResources(), resourcesAtStart);
for (let i = 0; i < 100 && Object.keys(extra).length > 0; i++) {
  await new Promise((r) => setTimeout(r, 20));
  extra = leftovers(countResources(), resourcesAtStart);
}
const resourcesAtEnd = countResources();
checks.push({
  name: 'no socket, server or timer left (getActiveResourcesInfo vs. start)',
  ok: Object.keys(extra).length === 0,
  detail: `left: ${fmt(extra)}`,
});

const heapAfter = await settledHeap();
checks.push({
  name: `heap back near its start (≤ ${mb(HEAP_SLACK)} above)`,
  ok: heapAfter - heapBefore <= HEAP_SLACK,
  detail: `${heapAfter >= heapBefore ? '+' : ''}${mb(heapAfter - heapBefore)}`,
});

console.log(`
streams        ${figures.streams}: ${figures.completed} completed (${figures.retried} after a retry), ${Object.values(figures.errors).reduce((a, b) => a + b, 0)} errored, ${figures.stoppedEarly} stopped early by the consumer (take, takeUntil, unsubscribe)
requests       ${figures.requests}
tokens         ${figures.tokens}
errors by kind ${
  Object.entries(figures.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none'
}
duration       ${duration.toFixed(1)} s
resources      at start: ${fmt(resourcesAtStart)}; at end: ${fmt(resourcesAtEnd)}
heap           ${mb(heapBefore)} after warm-up, ${mb(heapAfter)} at the end (after GC)
`);
for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}`);
if (failures.length > 0) {
  console.log(
    `\nfirst failures (replay with --seed ${SEED}${args.streams === undefined ? (args.quick ? ' --quick' : '') : ` --streams ${TOTAL}`}):`,
  );
  for (const f of failures.slice(0, 10)) console.log(JSON.stringify(f));
}
const ok = checks.every((c) => c.ok);
console.log(`\nsoak: ${ok ? 'passed' : 'FAILED'}`);
process.exitCode = ok ? 0 : 1;
