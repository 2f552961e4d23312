// Security (issue 8, part 5): no credentials, signatures or request bodies in any error message,
// log line or metrics record; the emulator stays on loopback unless told otherwise; input the
// streaming API does not accept is rejected before anything is sent.
//
// Servers that echo what they received are the realistic way secrets reach a message: a proxy
// quoting the request headers, a container quoting the prompt it rejected. The emulator is made
// to do exactly that, for every error kind it can produce, and everything the library hands back
// (error messages, stacks, enumerable fields, metrics records, console output) is scanned.
import { inspect } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import {
  invoke$,
  invokeAll$,
  SageMakerStreamError,
  streamMetrics,
  tokens,
  type InvokeConfig,
  type InvokeInput,
  type StreamMetrics,
} from '../../src/index.js';
import { startEmulator, type Emulator, type EmulatorEndpoint, type RecordedRequest } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDSESSIONTOKENEXAMPLE',
};
const MARKER = 'SECRET-PROMPT-MARKER-7f3a9c';
const PROMPT = `Summarise the dossier ${MARKER} for me`;
const BODY = { inputs: PROMPT, parameters: { max_new_tokens: 16 }, stream: true };

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

const headerText = (req: RecordedRequest, name: string): string => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};
const bodyText = (req: RecordedRequest): string => Buffer.from(req.body).toString('utf8');

/** What a proxy or a debugging container says when it quotes the request headers, on one line. */
const headerEcho = (req: RecordedRequest): string =>
  `request rejected; headers: authorization: ${headerText(req, 'authorization')}; x-amz-security-token: ${headerText(req, 'x-amz-security-token')}; x-amz-date: ${headerText(req, 'x-amz-date')}`;

/**
 * Every error kind the emulator can produce, each carrying `echo(request)` wherever the emulator
 * lets a server message through (pre-stream errors, stream exceptions, in-band container errors).
 */
function errorCases(echo: (req: RecordedRequest) => string): [string, EmulatorEndpoint, InvokeConfig?][] {
  const pre =
    (type: 'validation' | 'throttling' | 'model-not-ready' | 'internal-failure' | 'service-unavailable'): EmulatorEndpoint =>
    (req) => ({
      error: { type, message: echo(req) },
    });
  return [
    ['validation (400)', pre('validation')],
    ['throttling (429)', pre('throttling')],
    ['model-not-ready (429)', pre('model-not-ready')],
    ['internal-failure (500)', pre('internal-failure')],
    ['service-unavailable (503)', pre('service-unavailable')],
    ['model-error (424)', (req) => ({ error: { type: 'model-error', originalMessage: echo(req) } })],
    [
      'ModelStreamError as the first frame',
      (req) => ({ parts: ['a'], fault: { type: 'model-stream-error', afterParts: 0, message: echo(req) } }),
    ],
    [
      'ModelStreamError mid-stream',
      (req) => ({ parts: ['a', 'b'], fault: { type: 'model-stream-error', afterParts: 1, message: echo(req) } }),
    ],
    [
      'InternalStreamFailure mid-stream',
      (req) => ({ parts: ['a', 'b'], fault: { type: 'internal-stream-failure', afterParts: 1, message: echo(req) } }),
    ],
  ];
}

/** In-band container errors: the container's own message inside a 200 stream. */
function inBandCases(echo: (req: RecordedRequest) => string): [string, EmulatorEndpoint, InvokeConfig?][] {
  return [
    ['TGI in-band error', (req) => ({ stream: { format: 'tgi-sse', tokens: ['a'], options: { error: { message: echo(req) } } } })],
    ['vLLM in-band error', (req) => ({ stream: { format: 'openai-chat-sse', tokens: ['a'], options: { error: { message: echo(req) } } } })],
    ['LMI in-band error', (req) => ({ stream: { format: 'lmi-jsonlines', tokens: ['a'], options: { error: { message: echo(req) } } } })],
  ];
}

/** Errors that carry no server message: the library's own words only. */
const localCases: [string, EmulatorEndpoint, InvokeConfig?][] = [
  ['a socket reset', { parts: ['a'], fault: { type: 'reset', afterParts: 1 } }],
  ['a stall ended by idleTimeout', { parts: ['a'], fault: { type: 'stall', afterParts: 1 } }, { idleTimeout: 50 }],
  ['a stall ended by firstByteTimeout', { parts: ['a'], fault: { type: 'stall', afterParts: 0 } }, { firstByteTimeout: 50 }],
  ['malformed JSON (decode)', { parts: ['{"token": {"text": "a"}}\n{"broken": \n'], contentType: 'application/jsonlines' }],
];

interface Exposure {
  readonly where: string;
  readonly text: string;
}

/**
 * Plays each case once through invoke$ → tokens() → streamMetrics() with a client holding
 * session credentials, and returns everything the library exposed: error message, stack,
 * `String(error)`, the error's enumerable fields, every metrics record and everything written
 * to the console.
 */
async function exposures(cases: readonly [string, EmulatorEndpoint, InvokeConfig?][]): Promise<Exposure[]> {
  const out: Exposure[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      out.push({ where: `console.${level}`, text: args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' ') });
    }),
  );
  try {
    const client = clientFor(emulator, { credentials: CREDENTIALS, maxAttempts: 1 });
    for (const [name, endpoint, config] of cases) {
      const ep = `ep-${out.length}`;
      emulator.setEndpoint(ep, endpoint);
      const records: StreamMetrics[] = [];
      const result = await collect(
        invoke$(client, { EndpointName: ep, Body: BODY }, config).pipe(
          tokens(),
          streamMetrics((m) => records.push(m)),
        ),
      );
      const error = result.error;
      if (!SageMakerStreamError.isInstance(error)) throw new Error(`${name}: expected a SageMakerStreamError, got ${inspect(error)}`);
      out.push({ where: `${name}: message`, text: error.message });
      out.push({ where: `${name}: stack`, text: error.stack ?? '' });
      out.push({ where: `${name}: String(error)`, text: String(error) });
      out.push({ where: `${name}: JSON`, text: JSON.stringify(error) });
      for (const m of records) out.push({ where: `${name}: metrics`, text: JSON.stringify(m) });
    }
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return out;
}

/** The secrets of every request the emulator saw: the whole authorization header and its signature. */
function requestSecrets(): string[] {
  const secrets: string[] = [];
  for (const req of emulator.requests) {
    const auth = headerText(req, 'authorization');
    secrets.push(auth);
    const signature = /Signature=([0-9a-f]+)/.exec(auth)?.[1];
    if (signature !== undefined) secrets.push(signature);
  }
  return secrets;
}

function leaks(found: readonly Exposure[], secrets: readonly string[]): { where: string; secret: string }[] {
  const result: { where: string; secret: string }[] = [];
  for (const { where, text } of found) {
    for (const secret of secrets) if (secret !== '' && text.includes(secret)) result.push({ where, secret });
    // A signature value, also one cut short by the 300-character limit on messages.
    const signature = /Signature=[0-9a-f]{6,}/i.exec(text);
    if (signature !== null) result.push({ where, secret: signature[0] });
  }
  return result;
}

const CREDENTIAL_SECRETS = [CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken];

describe('no credentials or signatures in what the library exposes', () => {
  test('for every error kind the emulator can produce, with the server quoting the request headers: no key id, secret, session token, signature or authorization header in any message, stack, field, metrics record or log line', async () => {
    const found = await exposures([...errorCases(headerEcho), ...inBandCases(headerEcho), ...localCases]);
    // The echo reached the messages: the scan below scans something.
    expect(found.some((e) => e.where.endsWith('message') && e.text.includes('x-amz-date'))).toBe(true);
    expect(emulator.requests.every((r) => headerText(r, 'x-amz-security-token') === CREDENTIALS.sessionToken)).toBe(true);
    expect(leaks(found, [...CREDENTIAL_SECRETS, ...requestSecrets()])).toEqual([]);
  });

  test('the library’s own log lines (a throwing metrics callback, the socket-limit warning) carry no credentials, signature or request body', async () => {
    emulator.setEndpoint('ep', { parts: ['a'] });
    const client = clientFor(emulator, { credentials: CREDENTIALS, maxAttempts: 1, requestHandler: { httpAgent: { maxSockets: 1 } } });
    const logged: Exposure[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push({ where: `console.${level}`, text: args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' ') });
      }),
    );
    try {
      await lastValueFrom(
        invoke$(client, { EndpointName: 'ep', Body: BODY }).pipe(
          tokens(),
          streamMetrics(() => {
            throw new Error('metrics sink is down');
          }),
          toArray(),
        ),
      );
      const inputs: InvokeInput[] = [1, 2, 3].map(() => ({ EndpointName: 'ep', Body: BODY }));
      await lastValueFrom(invokeAll$(client, inputs, { concurrency: 3 }).pipe(toArray()));
      await emulator.waitFor(() => logged.some((l) => l.where === 'console.warn'), 2000);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(logged.map((l) => l.where).sort()).toEqual(['console.error', 'console.warn']);
    expect(leaks(logged, [...CREDENTIAL_SECRETS, ...requestSecrets(), MARKER])).toEqual([]);
  });
});

describe('no request body in what the library exposes', () => {
  const wholeBody = (req: RecordedRequest): string => `could not parse the request ${bodyText(req)}`;
  const promptOnly = (): string => `prompt rejected by the safety filter: "${PROMPT}"`;

  test('a SageMaker or stream-exception message that echoes the whole request body shows [request body] instead, for every error kind', async () => {
    const found = await exposures(errorCases(wholeBody));
    expect(found.filter((e) => e.where.endsWith('message')).every((e) => e.text.includes('[request body]'))).toBe(true);
    expect(leaks(found, [MARKER])).toEqual([]);
  });

  test('a SageMaker or stream-exception message that quotes only the prompt from a JSON body does not show it, for every error kind', async () => {
    const found = await exposures(errorCases(promptOnly));
    expect(found.filter((e) => e.where.endsWith('message')).every((e) => e.text.includes('safety filter'))).toBe(true);
    expect(leaks(found, [MARKER])).toEqual([]);
  });

  test('an in-band container error that echoes the whole request body or quotes the prompt does not show it', async () => {
    const found = await exposures([...inBandCases(wholeBody), ...inBandCases(promptOnly)]);
    expect(found.filter((e) => e.where.endsWith('message')).every((e) => /could not parse the request|safety filter/.test(e.text))).toBe(
      true,
    );
    expect(leaks(found, [MARKER])).toEqual([]);
  });

  test('errors that carry no server message never show the body', async () => {
    expect(leaks(await exposures(localCases), [MARKER])).toEqual([]);
  });
});

describe('the emulator stays on loopback unless told otherwise', () => {
  test.each(['0.0.0.0', '::', '192.0.2.10'])('refuses to bind %s without allowRemote, naming the option', async (host) => {
    await expect(startEmulator({ host })).rejects.toThrow(/refusing to bind .*allowRemote/);
  });

  test('binds 127.0.0.1 by default and localhost when asked', async () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const local = await startEmulator({ host: 'localhost' });
    try {
      expect(local.url).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
    } finally {
      await local.close();
    }
  });

  test('binds 0.0.0.0 with allowRemote: true and serves the real client', async () => {
    const remote = await startEmulator({ host: '0.0.0.0', allowRemote: true, endpoints: { ep: { parts: ['ok'] } } });
    try {
      const port = new URL(remote.url).port;
      const client = clientFor({ url: `http://127.0.0.1:${port}` } as Emulator);
      const out = await lastValueFrom(invoke$(client, { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
      expect(out.join('')).toBe('ok');
      client.destroy();
    } finally {
      await remote.close();
    }
  });
});

describe('input validation: what the streaming API does not accept is a validation error before anything is sent', () => {
  async function rejectsBeforeSending(input: InvokeInput): Promise<{ kind: string; sent: number }> {
    const result = await collect(invoke$(clientFor(emulator), input));
    await new Promise((r) => setTimeout(r, 30));
    return {
      kind: SageMakerStreamError.isInstance(result.error) ? result.error.kind : `completed=${result.completed}`,
      sent: emulator.requests.length,
    };
  }

  beforeEach(() => {
    emulator.setEndpoint('ep', { parts: ['ok'] });
  });

  test('an empty EndpointName', async () => {
    expect(await rejectsBeforeSending({ EndpointName: '', Body: {} })).toEqual({ kind: 'validation', sent: 0 });
  });

  test('a missing EndpointName', async () => {
    expect(await rejectsBeforeSending({ Body: {} } as unknown as InvokeInput)).toEqual({ kind: 'validation', sent: 0 });
  });

  test('a missing Body', async () => {
    expect(await rejectsBeforeSending({ EndpointName: 'ep', Body: undefined })).toEqual({ kind: 'validation', sent: 0 });
  });

  // InvokeEndpoint members that InvokeEndpointWithResponseStream does not have: the SDK would
  // drop them silently (no header is sent), so a request meant for one model of a multi-model
  // endpoint would go to whichever model the endpoint picks.
  test.each([
    ['TargetModel', 'model-b.tar.gz'],
    ['EnableExplanations', '`true`'],
  ])('%s, a field of InvokeEndpoint only (not of the streaming API)', async (field, value) => {
    const input = { EndpointName: 'ep', Body: {}, [field]: value } as unknown as InvokeInput;
    expect(await rejectsBeforeSending(input)).toEqual({ kind: 'validation', sent: 0 });
  });

  test('an unknown field', async () => {
    const input = { EndpointName: 'ep', Body: {}, TargetModle: 'typo' } as unknown as InvokeInput;
    expect(await rejectsBeforeSending(input)).toEqual({ kind: 'validation', sent: 0 });
  });

  test('every member of the streaming API is still accepted and sent', async () => {
    const input: InvokeInput = {
      EndpointName: 'ep',
      Body: {},
      ContentType: 'application/json',
      Accept: 'text/event-stream',
      CustomAttributes: 'trace=1',
      TargetVariant: 'blue',
      TargetContainerHostname: 'c1',
      InferenceId: 'inf-1',
      InferenceComponentName: 'ic-1',
      SessionId: 'sess-1',
      PrefixAwareId: 'p-1',
    };
    const result = await collect(invoke$(clientFor(emulator), input));
    expect(result.completed).toBe(true);
    const headers = emulator.requests[0]?.headers ?? {};
    expect({
      variant: headers['x-amzn-sagemaker-target-variant'],
      host: headers['x-amzn-sagemaker-target-container-hostname'],
      inference: headers['x-amzn-sagemaker-inference-id'],
      component: headers['x-amzn-sagemaker-inference-component'],
      session: headers['x-amzn-sagemaker-session-id'],
      prefix: headers['x-amzn-sagemaker-prefix-aware-id'],
    }).toEqual({ variant: 'blue', host: 'c1', inference: 'inf-1', component: 'ic-1', session: 'sess-1', prefix: 'p-1' });
  });
});
