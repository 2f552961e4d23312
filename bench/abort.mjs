// Benchmark 5: abort latency. The time from unsubscribing (rx-sagemaker) or calling abort() on the
// AbortController passed to send() (the raw SDK, the baseline) to the emulator seeing the socket
// close, while the stream is flowing (a part every 2 ms) and while it is stalled. The emulator
// runs in this process: `clientClosedAt` is a performance.now() timestamp of the same clock.
// Also shown: leaving a raw `for await` loop with `break` never closes the socket (the SDK does not
// propagate it), so the endpoint keeps streaming.
// Usage: node --expose-gc bench/abort.mjs [--trials 40]
import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
import { SMOKE, args, done, log, quantile } from './lib/harness.mjs';
import { clientFor } from './lib/client.mjs';
import { lib, testing } from './lib/lib.mjs';

const { invoke$ } = lib;
const a = args();
const trials = Number(a.trials ?? (SMOKE ? 3 : 40));
const parts = Array.from({ length: 5000 }, (_, i) => `data:{"token":{"text":"t${i}","special":false,"logprob":-0.5}}\n\n`);
const emulator = await testing.startEmulator({
  endpoints: {
    flowing: { parts, partDelayMs: 2, contentType: 'text/event-stream' },
    stalled: { parts, fault: { type: 'stall', afterParts: 5 }, contentType: 'text/event-stream' },
  },
});
const client = clientFor(emulator.url);
const AFTER = 5; // abort once this many parts have arrived
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the request record once the emulator has seen the client leave. */
async function closedAt(index, timeoutMs = 5000) {
  await emulator.waitFor(() => emulator.requests[index]?.clientClosedAt !== undefined, timeoutMs);
  return emulator.requests[index].clientClosedAt;
}

async function oursTrial(endpoint) {
  const index = emulator.requests.length;
  let t0 = 0;
  await new Promise((resolve, reject) => {
    let seen = 0;
    const sub = invoke$(client, { EndpointName: endpoint, Body: '{}' }).subscribe({
      next: () => {
        if (++seen === AFTER) {
          t0 = performance.now();
          sub.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  return (await closedAt(index)) - t0;
}

async function rawTrial(endpoint) {
  const index = emulator.requests.length;
  const controller = new AbortController();
  const out = await client.send(
    new InvokeEndpointWithResponseStreamCommand({ EndpointName: endpoint, Body: new TextEncoder().encode('{}') }),
    {
      abortSignal: controller.signal,
    },
  );
  let seen = 0;
  let t0 = 0;
  try {
    for await (const event of out.Body) {
      if (event.PayloadPart && ++seen === AFTER) {
        t0 = performance.now();
        controller.abort();
      }
    }
  } catch {
    // the iterator throws Error('aborted') after abort()
  }
  return (await closedAt(index)) - t0;
}

/** `break` out of `for await` without aborting: does the socket close within 1 s? */
async function breakTrial() {
  const index = emulator.requests.length;
  const out = await client.send(
    new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'flowing', Body: new TextEncoder().encode('{}') }),
  );
  let seen = 0;
  for await (const event of out.Body) if (event.PayloadPart && ++seen === AFTER) break;
  await wait(1000);
  const record = emulator.requests[index];
  const closed = record.clientClosedAt !== undefined;
  const partsSentAfterBreak = record.partsSent - AFTER;
  // Release it for the next trials.
  return { closedWithin1s: closed, partsSentAfterBreak };
}

const stats = (list) => ({
  median: quantile(list, 0.5),
  p95: quantile(list, 0.95),
  min: Math.min(...list),
  max: Math.max(...list),
  n: list.length,
});
const result = { bench: 'abort', trials, afterParts: AFTER };
for (const endpoint of ['flowing', 'stalled']) {
  const ours = [];
  const raw = [];
  for (let i = 0; i < trials; i++) {
    // alternate the order, trial by trial
    if (i % 2 === 0) {
      ours.push(await oursTrial(endpoint));
      raw.push(await rawTrial(endpoint));
    } else {
      raw.push(await rawTrial(endpoint));
      ours.push(await oursTrial(endpoint));
    }
  }
  const o = stats(ours);
  const r = stats(raw);
  result[endpoint] = { ours: o, raw: r, medianRatio: o.median / r.median };
  log(
    `abort ${endpoint}: ours median ${o.median.toFixed(2)} ms p95 ${o.p95.toFixed(2)} ms; raw abort() median ${r.median.toFixed(2)} ms p95 ${r.p95.toFixed(2)} ms`,
  );
}
result.breakOnly = await breakTrial();
log(
  `abort: break out of for await: socket closed within 1 s: ${result.breakOnly.closedWithin1s}, ${result.breakOnly.partsSentAfterBreak} parts sent after the break`,
);
client.destroy();
await emulator.close();
done(result);
