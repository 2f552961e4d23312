import { lastValueFrom, toArray } from 'rxjs';
import { invoke$, tokens } from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor } from '../support/client.js';

const PAGE = 'http://127.0.0.1:5173';
const SDK_HEADERS =
  'amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-content-sha256,x-amz-date,x-amz-user-agent,x-amzn-sagemaker-accept';
const tgi = (t: string): string => `data:${JSON.stringify({ token: { text: t, special: false } })}\n\n`;

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function preflight(url: string, requestHeaders?: string): Promise<Response> {
  const headers: Record<string, string> = { origin: PAGE, 'access-control-request-method': 'POST' };
  if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
  return fetch(`${url}/endpoints/ep/invocations-response-stream`, { method: 'OPTIONS', headers });
}

function post(url: string, endpoint: string): Promise<Response> {
  return fetch(`${url}/endpoints/${endpoint}/invocations-response-stream`, {
    method: 'POST',
    headers: { origin: PAGE, 'content-type': 'application/json' },
    body: '{}',
  });
}

function headerList(response: Response, name: string): string[] {
  return (response.headers.get(name) ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

const EXPOSED = [
  'x-amzn-requestid',
  'x-amzn-sagemaker-content-type',
  'x-amzn-invoked-production-variant',
  'x-amzn-sagemaker-custom-attributes',
  'x-amzn-errortype',
];

describe('startEmulator without cors', () => {
  test('answers a preflight with no CORS headers, so a browser request fails', async () => {
    emulator = await startEmulator({ endpoints: { ep: { parts: ['x'] } } });
    const response = await preflight(emulator.url, SDK_HEADERS);
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });

  test('adds no CORS headers to a streamed response', async () => {
    emulator = await startEmulator({ endpoints: { ep: { parts: ['x'] } } });
    const response = await post(emulator.url, 'ep');
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-expose-headers')).toBeNull();
  });
});

describe('startEmulator with cors', () => {
  test('cors: true answers a preflight with 204, any origin, POST and exactly the headers asked for, and does not record it', async () => {
    emulator = await startEmulator({ endpoints: { ep: { parts: ['x'] } }, cors: true });
    const response = await preflight(emulator.url, SDK_HEADERS);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(headerList(response, 'access-control-allow-methods')).toContain('post');
    expect(response.headers.get('access-control-allow-headers')).toBe(SDK_HEADERS);
    expect(emulator.requests).toHaveLength(0);
  });

  test('a preflight that names no headers is answered with the headers the SDK sends', async () => {
    emulator = await startEmulator({ cors: true });
    const response = await preflight(emulator.url);
    expect(response.status).toBe(204);
    expect(headerList(response, 'access-control-allow-headers')).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'x-amz-date',
        'x-amz-content-sha256',
        'x-amz-user-agent',
        'amz-sdk-invocation-id',
        'amz-sdk-request',
        'x-amzn-sagemaker-accept',
      ]),
    );
  });

  test('a malformed Access-Control-Request-Headers is not echoed back', async () => {
    emulator = await startEmulator({ cors: true });
    const response = await preflight(emulator.url, 'authorization, "bad header"');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).not.toContain('bad header');
    expect(headerList(response, 'access-control-allow-headers')).toContain('authorization');
  });

  test('an origin string is sent as Access-Control-Allow-Origin on the preflight and on the stream, which exposes SageMaker headers', async () => {
    emulator = await startEmulator({
      endpoints: { ep: { parts: ['x'], contentType: 'text/event-stream', customAttributes: 'a=1' } },
      cors: PAGE,
    });
    const pre = await preflight(emulator.url, 'authorization');
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(PAGE);

    const response = await post(emulator.url, 'ep');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(headerList(response, 'access-control-expose-headers')).toEqual(expect.arrayContaining(EXPOSED));
    expect(response.headers.get('x-amzn-sagemaker-content-type')).toBe('text/event-stream');
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect(emulator.requests).toHaveLength(1);
  });

  test('error answers also carry the CORS headers, so a page can read x-amzn-ErrorType', async () => {
    emulator = await startEmulator({ endpoints: { busy: { error: { type: 'throttling' } } }, cors: true });
    for (const endpoint of ['busy', 'unknown-endpoint']) {
      const response = await post(emulator.url, endpoint);
      await response.arrayBuffer();
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(headerList(response, 'access-control-expose-headers')).toContain('x-amzn-errortype');
      expect(response.headers.get('x-amzn-errortype')).toMatch(/^(ThrottlingException|ValidationError):/);
    }
  });

  test('the SDK client still streams from an emulator with cors on', async () => {
    emulator = await startEmulator({ endpoints: { ep: { parts: [tgi('日本'), tgi('🦙')] } }, cors: true });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['日本', '🦙']);
  });

  test('an origin with spaces or control characters is refused at start', async () => {
    await expect(startEmulator({ cors: 'http://a.test\r\nx-evil: 1' })).rejects.toThrow(/cors must be/);
    await expect(startEmulator({ cors: '' })).rejects.toThrow(/cors must be/);
  });
});
