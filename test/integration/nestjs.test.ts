// The NestJS example (examples/nestjs) end to end: a real Nest application on 127.0.0.1 with the
// real SDK client against the emulator, read by a plain HTTP client and a standalone SSE parser.
import { get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { fetchBytes$, invoke$, SageMakerStreamError, tokenEvents, tokens } from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

/** The part of examples/nestjs/src/chat.options.ts this test uses. */
interface ChatModuleOptions {
  readonly endpointName: string;
  readonly clientConfig?: SageMakerRuntimeClientConfig;
}

// Loaded at run time rather than imported: the example uses legacy decorators and is compiled
// with its own tsconfig (examples/nestjs/tsconfig.json, also ts-jest's for those files), while
// the root `tsc`, which checks test/, has no decorator settings and must not follow it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ChatModule } = require('../../examples/nestjs/src/chat.module') as {
  ChatModule: { forRoot(options: ChatModuleOptions): DynamicModule };
};

interface SseResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The events parsed so far (filled while the response streams). */
  readonly events: EventSourceMessage[];
  /** The raw body so far. */
  body(): string;
  /** Resolves when the response has ended or the connection closed. */
  readonly ended: Promise<void>;
  /** Destroys the connection, as a browser tab being closed. */
  close(): void;
}

/** GET with a plain node:http client (no keep-alive agent), parsing the body as an event stream. */
function getSse(url: string): Promise<SseResponse> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      const events: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (event) => events.push(event) });
      const decoder = new TextDecoder();
      let body = '';
      const feed = (text: string): void => {
        body += text;
        parser.feed(text);
      };
      res.on('data', (chunk: Buffer) => feed(decoder.decode(chunk, { stream: true })));
      res.on('error', () => undefined); // expected once close() destroys the connection
      const ended = new Promise<void>((done) => {
        res.on('end', () => {
          feed(decoder.decode());
          done();
        });
        res.on('close', () => done());
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, events, body: () => body, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

const tgi = (text: string): string => `data:${JSON.stringify({ token: { id: 1, text, logprob: -0.1, special: false } })}\n\n`;

let emulator: Emulator;
let app: INestApplication | undefined;
let baseUrl: string;

async function startApp(): Promise<void> {
  app = await NestFactory.create(
    ChatModule.forRoot({
      endpointName: 'llm',
      clientConfig: {
        endpoint: emulator.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      },
    }),
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${address.port}`;
}

const chatUrl = (prompt: string): string => `${baseUrl}/chat?prompt=${encodeURIComponent(prompt)}`;

beforeEach(async () => {
  emulator = await startEmulator();
  await startApp();
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await emulator.close();
});

describe('NestJS example: GET /chat', () => {
  test('streams every token of the answer, non-ASCII split across parts included, as numbered events ending with a done event', async () => {
    const answer = ['Hello', ' 日本', ' 🦙', '!'];
    emulator.setEndpoint('llm', { stream: { format: 'tgi-sse', tokens: answer, partSize: 3 }, partDelayMs: 2 });
    const prompt = 'こんにちは 🦙, what is 日本?';

    const res = await getSse(chatUrl(prompt));
    await res.ended;

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.events).toEqual([
      { id: '0', data: JSON.stringify({ text: 'Hello' }) },
      { id: '1', data: JSON.stringify({ text: ' 日本' }) },
      { id: '2', data: JSON.stringify({ text: ' 🦙' }) },
      { id: '3', data: JSON.stringify({ text: '!' }) },
      { id: '4', event: 'done', data: '[DONE]' },
    ]);
    expect(res.body()).not.toContain('\uFFFD');
    expect(emulator.requests).toHaveLength(1);
    expect(JSON.parse(Buffer.from(emulator.requests[0]?.body ?? []).toString('utf8'))).toMatchObject({ inputs: prompt, stream: true });
    expect(emulator.requests[0]?.outcome).toBe('complete');
  });

  test('closing the HTTP connection mid-stream aborts the SageMaker request upstream', async () => {
    emulator.setEndpoint('llm', { parts: [tgi('one'), tgi(' two'), tgi(' never')], fault: { type: 'stall', afterParts: 2 } });

    const res = await getSse(chatUrl('Tell me a long story'));
    await emulator.waitFor(() => res.events.length === 2);
    expect(res.events.map((e) => e.data)).toEqual([JSON.stringify({ text: 'one' }), JSON.stringify({ text: ' two' })]);
    expect(emulator.requests[0]?.clientClosed).toBe(false);

    res.close();
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 2000);
    expect(emulator.requests[0]?.outcome).toBe('client-closed');
    expect(emulator.openRequests).toBe(0);
  });

  test('a SageMaker error mid-stream arrives as the last event, type error, with only the error’s end-user-safe message', async () => {
    const prompt = 'secret prompt 🦙';
    emulator.setEndpoint('llm', {
      parts: [tgi('a'), tgi('b'), tgi('never')],
      fault: { type: 'model-stream-error', afterParts: 2, errorCode: 'ModelInvocationTimeExceeded' },
    });
    // The error the library itself reports for the same stream, to compare messages.
    const direct = await collect(invoke$(clientFor(emulator), { EndpointName: 'llm', Body: { inputs: prompt } }).pipe(tokens()));
    expect(SageMakerStreamError.isInstance(direct.error)).toBe(true);
    const expectedMessage = (direct.error as SageMakerStreamError).message;
    emulator.clearRequests();

    const res = await getSse(chatUrl(prompt));
    await res.ended;

    expect(res.status).toBe(200);
    expect(res.events.slice(0, 2)).toEqual([
      { id: '0', data: JSON.stringify({ text: 'a' }) },
      { id: '1', data: JSON.stringify({ text: 'b' }) },
    ]);
    expect(res.events).toHaveLength(3);
    const last = res.events[2];
    expect(last).toMatchObject({ id: '2', event: 'error' });
    expect(JSON.parse(last?.data ?? 'null')).toEqual({ kind: 'model-stream', message: expectedMessage, retryable: false });
    expect(res.body()).not.toContain(prompt);
    expect(res.body()).not.toContain('[DONE]');
  });

  test('a page reads the relay with fetchBytes$ + tokens(): every token exactly, then the error with its own kind', async () => {
    const answer = ['{', '"json": ', '[DONE]', ' 🦙', '\r\n'];
    emulator.setEndpoint('llm', {
      parts: [...answer.map((t) => tgi(t)), tgi('never')],
      fault: { type: 'model-stream-error', afterParts: answer.length, errorCode: 'StreamBroken' },
    });
    const result = await collect(fetchBytes$(chatUrl('hi')).pipe(tokens()));
    expect(result.values).toEqual(answer);
    expect(SageMakerStreamError.isInstance(result.error)).toBe(true);
    expect(result.error).toMatchObject({ kind: 'model-stream', retryable: false });
    const events = await collect(fetchBytes$(chatUrl('hi')).pipe(tokenEvents()));
    expect(events.values.map((e) => e.text)).toEqual(answer);
    expect(new Set(events.values.map((e) => e.format))).toEqual(new Set(['relay']));
  });

  test('a request without a prompt is answered 400 and sends nothing to SageMaker', async () => {
    const res = await getSse(`${baseUrl}/chat`);
    await res.ended;
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body())).toMatchObject({ statusCode: 400, message: 'The query parameter "prompt" is required.' });
    expect(emulator.requests).toHaveLength(0);
  });

  test('every request goes through the one SageMakerRuntimeClient the module provides', async () => {
    emulator.setEndpoint('llm', { parts: [tgi('ok')] });
    const send = jest.spyOn(app!.get(SageMakerRuntimeClient), 'send');

    for (const prompt of ['first', 'second']) {
      const res = await getSse(chatUrl(prompt));
      await res.ended;
      expect(res.events.map((e) => e.data)).toEqual([JSON.stringify({ text: 'ok' }), '[DONE]']);
    }

    expect(send).toHaveBeenCalledTimes(2);
    expect(emulator.requests).toHaveLength(2);
  });
});
