import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { lastValueFrom, retry, take, toArray } from 'rxjs';
import { fetchBytes$ } from '../../src/fetchBytes.js';
import { retryOnStreamFailure, SageMakerStreamError, tokens } from '../../src/index.js';
import { collect } from '../support/client.js';

/** One request the test server saw. */
interface Seen {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The client went away before the response ended. */
  clientClosed: boolean;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let seen: Seen[];
const routes = new Map<string, Route>();
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const record: Seen = { path, headers: req.headers, clientClosed: false };
    seen.push(record);
    res.on('close', () => {
      if (!res.writableEnded) record.clientClosed = true;
    });
    const route = routes.get(path);
    if (route === undefined) res.writeHead(404).end('no route');
    else route(req, res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  seen = [];
  routes.clear();
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const text = (chunks: readonly Uint8Array[]): string => Buffer.concat(chunks).toString('utf8');

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function expectStreamError(error: unknown): SageMakerStreamError {
  expect(SageMakerStreamError.isInstance(error)).toBe(true);
  return error as SageMakerStreamError;
}

/** A route that writes `first`, then waits for `release()` before writing `rest` and ending. */
function gated(
  first: string | Uint8Array,
  rest: string | Uint8Array,
  headers: Record<string, string> = {},
): { route: Route; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  return {
    release: () => release(),
    route: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
      res.write(first);
      void gate.then(() => res.end(rest));
    },
  };
}

/** A route that writes `first` (if any) and then neither writes nor ends. */
const stall =
  (first?: string): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (first !== undefined) res.write(first);
    else res.flushHeaders();
  };

describe('fetchBytes$: streaming', () => {
  test('emits each chunk of the body as it arrives and completes at the end', async () => {
    const g = gated('first', 'second');
    routes.set('/bytes', g.route);
    const values: string[] = [];
    const done = new Promise<boolean>((resolve, reject) => {
      fetchBytes$(`${base}/bytes`).subscribe({
        next: (b) => {
          values.push(Buffer.from(b).toString('utf8'));
          if (values.length === 1) g.release(); // the server writes the rest only once this chunk is out
        },
        error: reject,
        complete: () => resolve(true),
      });
    });
    expect(await done).toBe(true);
    expect(values[0]).toBe('first');
    expect(values.join('')).toBe('firstsecond');
  });

  test('sends nothing before subscribe and one request per subscription, with the init method, headers and body', async () => {
    const bodies: string[] = [];
    routes.set('/echo', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end('ok');
      });
    });
    const stream$ = fetchBytes$(`${base}/echo`, {
      method: 'POST',
      headers: { 'x-test': 'yes', 'content-type': 'application/json' },
      body: '{"prompt":"hi"}',
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toHaveLength(0);
    expect(text(await lastValueFrom(stream$.pipe(toArray())))).toBe('ok');
    expect(text(await lastValueFrom(stream$.pipe(toArray())))).toBe('ok');
    expect(seen).toHaveLength(2);
    expect(seen[0]?.headers['x-test']).toBe('yes');
    expect(bodies).toEqual(['{"prompt":"hi"}', '{"prompt":"hi"}']);
  });

  test('an empty 200 body completes with no values', async () => {
    routes.set('/empty', (_req, res) => res.writeHead(200).end());
    const result = await collect(fetchBytes$(`${base}/empty`));
    expect(result).toEqual({ values: [], completed: true });
  });

  test('piped into tokens(), an SSE relay with 日本 and 🦙 split mid-character gives the tokens', async () => {
    const relay = Buffer.from('data: Hello\n\ndata:  日本\n\ndata:  🦙\n\ndata: !\n\n', 'utf8');
    const cut = relay.indexOf(Buffer.from('🦙')) + 2;
    routes.set('/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(relay.subarray(0, 3));
      setTimeout(() => res.write(relay.subarray(3, cut)), 5);
      setTimeout(() => res.end(relay.subarray(cut)), 10);
    });
    const out = await lastValueFrom(fetchBytes$(`${base}/sse`).pipe(tokens(), toArray()));
    expect(out).toEqual(['Hello', ' 日本', ' 🦙', '!']);
  });

  test('onResponse sees the response before the first chunk, and a throw from it ends the stream and aborts the request', async () => {
    routes.set('/meta', stall('x'));
    const order: string[] = [];
    const ok = fetchBytes$(`${base}/meta`, {}, { onResponse: (r) => order.push(`response ${r.status}`) })
      .pipe(take(1))
      .subscribe((b) => order.push(Buffer.from(b).toString()));
    await waitFor(() => order.length === 2);
    ok.unsubscribe();
    expect(order).toEqual(['response 200', 'x']);

    const result = await collect(
      fetchBytes$(
        `${base}/meta`,
        {},
        {
          onResponse: () => {
            throw new Error('bad header');
          },
        },
      ),
    );
    expect(result.values).toEqual([]);
    expect(expectStreamError(result.error).kind).toBe('unknown');
    await waitFor(() => seen.length === 2 && seen.every((s) => s.clientClosed));
  });

  test('a custom fetch is called with the request', async () => {
    const calls: string[] = [];
    const result = await collect(
      fetchBytes$(
        `${base}/anything?q=1`,
        { method: 'POST', body: 'x' },
        {
          fetch: (request) => {
            calls.push(`${request.method} ${request.url}`);
            return Promise.resolve(new Response('from the double'));
          },
        },
      ),
    );
    expect(calls).toEqual([`POST ${base}/anything?q=1`]);
    expect(text(result.values)).toBe('from the double');
    expect(seen).toHaveLength(0);
  });
});

describe('fetchBytes$: cancellation', () => {
  test('unsubscribing mid-stream aborts the fetch and the server sees the connection close', async () => {
    routes.set('/stall', stall('part'));
    const values: string[] = [];
    const sub = fetchBytes$(`${base}/stall`).subscribe((b) => values.push(Buffer.from(b).toString()));
    await waitFor(() => values.length === 1);
    expect(seen[0]?.clientClosed).toBe(false);
    sub.unsubscribe();
    await waitFor(() => seen[0]?.clientClosed === true);
    expect(values).toEqual(['part']);
  });

  test('unsubscribing before the response headers aborts the fetch', async () => {
    routes.set('/silent', () => undefined); // never answers
    const sub = fetchBytes$(`${base}/silent`).subscribe();
    await waitFor(() => seen.length === 1);
    sub.unsubscribe();
    await waitFor(() => seen[0]?.clientClosed === true);
  });

  test('take(1) stops the stream after the first chunk and closes the connection', async () => {
    routes.set('/stall', stall('only'));
    const out = await lastValueFrom(fetchBytes$(`${base}/stall`).pipe(take(1), toArray()));
    expect(text(out)).toBe('only');
    await waitFor(() => seen[0]?.clientClosed === true);
  });

  test('aborting init.signal errors with kind aborted and closes the connection', async () => {
    routes.set('/stall', stall('part'));
    const controller = new AbortController();
    const values: Uint8Array[] = [];
    const errored = new Promise<unknown>((resolve) => {
      fetchBytes$(`${base}/stall`, { signal: controller.signal }).subscribe({ next: (b) => values.push(b), error: resolve });
    });
    await waitFor(() => values.length === 1);
    controller.abort();
    const error = expectStreamError(await errored);
    expect(error).toMatchObject({ kind: 'aborted', retryable: false, afterFirstByte: true });
    await waitFor(() => seen[0]?.clientClosed === true);
  });

  test('an already aborted init.signal errors at once without sending anything', async () => {
    const result = await collect(fetchBytes$(`${base}/stall`, { signal: AbortSignal.abort() }));
    expect(expectStreamError(result.error).kind).toBe('aborted');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(0);
  });

  test('an init.signal from AbortSignal.timeout errors with kind timeout', async () => {
    routes.set('/stall', stall());
    const result = await collect(fetchBytes$(`${base}/stall`, { signal: AbortSignal.timeout(50) }));
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'timeout', afterFirstByte: false });
    await waitFor(() => seen[0]?.clientClosed === true);
  });
});

describe('fetchBytes$: errors', () => {
  test.each([
    [429, 'throttling', true],
    [503, 'service-unavailable', true],
    [500, 'internal-failure', true],
    [502, 'internal-failure', true],
    [424, 'model', false],
    [400, 'validation', false],
    [404, 'validation', false],
    [401, 'unknown', false],
    [403, 'unknown', false],
  ] as const)(
    'HTTP %i errors with kind %s (retryable %s), the status, and a message without the URL or body',
    async (status, kind, retryable) => {
      routes.set('/fail', (_req, res) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"message":"secret-body AKIAIOSFODNN7EXAMPLE"}'),
      );
      const result = await collect(fetchBytes$(`${base}/fail?token=secret-query`));
      expect(result.values).toEqual([]);
      const error = expectStreamError(result.error);
      expect(error).toMatchObject({ kind, retryable, httpStatusCode: status, afterFirstByte: false });
      expect(error.message).toMatch(new RegExp(`^Stream request: HTTP ${status}: `));
      expect(error.message).not.toMatch(/secret|AKIA|127\.0\.0\.1/);
      expect((error.cause as Response).status).toBe(status);
    },
  );

  test('a refused connection errors with kind network, retryable, and no values', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await collect(fetchBytes$(`http://127.0.0.1:${port}/x`));
    expect(result.values).toEqual([]);
    const error = expectStreamError(result.error);
    expect(error).toMatchObject({ kind: 'network', retryable: true, afterFirstByte: false });
    expect(error.message).not.toContain(String(port));
  });

  test('a connection reset mid-body emits every chunk received before, then kind network with afterFirstByte', async () => {
    routes.set('/reset', (_req, res) => {
      res.writeHead(200);
      res.write('one ');
      setTimeout(() => res.write('two'), 10);
      setTimeout(() => res.socket?.destroy(), 40);
    });
    const result = await collect(fetchBytes$(`${base}/reset`));
    expect(text(result.values)).toBe('one two');
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'network', retryable: true, afterFirstByte: true });
  });

  test('an invalid URL errors with kind validation and sends nothing', async () => {
    const result = await collect(fetchBytes$('/relative/in/node'));
    expect(expectStreamError(result.error)).toMatchObject({ kind: 'validation' });
    expect(seen).toHaveLength(0);
  });

  test('retryOnStreamFailure fetches again after a 503 because the Observable is cold', async () => {
    let n = 0;
    routes.set('/flaky', (_req, res) => {
      n++;
      if (n === 1) res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: ok\n\n');
    });
    const out = await lastValueFrom(fetchBytes$(`${base}/flaky`).pipe(tokens(), retryOnStreamFailure({ delay: 1 }), toArray()));
    expect(out).toEqual(['ok']);
    expect(seen).toHaveLength(2);
  });

  test('every retry of a 400 sends a new request and ends with the same validation error', async () => {
    routes.set('/bad', (_req, res) => res.writeHead(400).end());
    const result = await collect(fetchBytes$(`${base}/bad`).pipe(retry(2)));
    expect(expectStreamError(result.error).kind).toBe('validation');
    expect(seen).toHaveLength(3);
  });
});
