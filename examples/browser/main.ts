// rx-sagemaker in a browser page, in two modes chosen by the query string:
//
// - `?mode=sdk&endpoint=<url>&name=<endpoint>[&region=us-east-1]`: the AWS SDK's browser build
//   signs and sends InvokeEndpointWithResponseStream from the page; `invoke$(...).pipe(tokens())`
//   turns the stream into tokens. Point `endpoint` at the emulator started with `cors: true`.
//   The static test credentials below are for the emulator only: a real page must never hold
//   long-lived AWS keys (use temporary credentials, e.g. a Cognito identity pool, or the relay).
// - `?mode=relay&relay=<url>`: the page reads a server of yours that keeps the credentials and
//   relays the stream as server-sent events (`data: <token>`), with `fetchBytes$(...).pipe(tokens())`.
//
// Stop unsubscribes, which aborts the HTTP request in both modes.
//
// Build: see README.md in this folder.
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Observable, Subscription } from 'rxjs';
// Once `fetchBytes$` is exported from the package entry, both come from '../../src/index.js'
// (in an app: from 'rx-sagemaker').
import { fetchBytes$, invoke$, SageMakerStreamError, tokens } from '../../src/index.js';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') === 'relay' ? 'relay' : 'sdk';

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing`);
  return el;
}
const output = element('output', HTMLDivElement);
const status = element('status', HTMLSpanElement);
const prompt = element('prompt', HTMLInputElement);
const start = element('start', HTMLButtonElement);
const stop = element('stop', HTMLButtonElement);
const meta = element('meta', HTMLElement);
element('mode', HTMLElement).textContent = mode;

function tokens$(text: string): Observable<string> {
  if (mode === 'relay') {
    const relay = new URL(params.get('relay') ?? '/api/chat', location.href);
    relay.searchParams.set('prompt', text);
    return fetchBytes$(relay, { headers: { accept: 'text/event-stream' } }).pipe(tokens());
  }
  const client = new SageMakerRuntimeClient({
    endpoint: params.get('endpoint') ?? 'http://127.0.0.1:8081',
    region: params.get('region') ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return invoke$(
    client,
    { EndpointName: params.get('name') ?? 'demo-llm', Body: { inputs: text, stream: true } },
    // These response headers reach the page only if the server exposes them (CORS).
    { onResponse: (m) => (meta.textContent = `variant ${m.invokedProductionVariant ?? '?'}, output ${m.contentType ?? '?'}`) },
  ).pipe(tokens());
}

let subscription: Subscription | undefined;

function finish(state: string): void {
  status.textContent = state;
  start.disabled = false;
  stop.disabled = true;
  subscription = undefined;
}

start.addEventListener('click', () => {
  subscription?.unsubscribe();
  output.replaceChildren();
  meta.textContent = '';
  status.textContent = 'streaming';
  start.disabled = true;
  stop.disabled = false;
  subscription = tokens$(prompt.value).subscribe({
    next: (token) => {
      const span = document.createElement('span');
      span.textContent = token; // text, never HTML
      output.append(span);
    },
    error: (err: unknown) => finish(SageMakerStreamError.isInstance(err) ? `error: ${err.kind}: ${err.message}` : `error: ${String(err)}`),
    complete: () => finish('complete'),
  });
});

stop.addEventListener('click', () => {
  subscription?.unsubscribe(); // aborts the fetch: the server sees the connection close
  finish('stopped');
});
