// The library in a real browser: examples/browser bundled with esbuild for the browser (the AWS
// SDK's browser build), served on 127.0.0.1 and driven in headless Chromium via playwright-core.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Subscription } from 'rxjs';
import { invoke$, tokens } from '../../src/index.js';
import { splitBytes, startEmulator, type Emulator, type RecordedRequest } from '../../src/testing/index.js';
import { clientFor } from '../support/client.js';

jest.setTimeout(60_000);

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/browser');

const TOKENS = ['Hello', ',', ' 日本', ' 🦙', ' and', ' done', '.'];
const tgi = (t: string): string => `data:${JSON.stringify({ token: { text: t, special: false } })}\n\n`;
/** The TGI stream cut every 4 bytes: parts split lines, JSON and the code points of 日本 and 🦙. */
const CHOPPED = splitBytes(TOKENS.map(tgi).join(''), 4);

/** One request to the SSE relay route, as the relay saw it. */
interface RelayRequest {
  readonly prompt: string | null;
  clientClosed: boolean;
}

let dir: string;
let metafile: Metafile;
let bundle: string;
let emulator: Emulator;
let closedEmulator: Emulator | undefined;
let site: Server;
let siteUrl: string;
const siteSockets = new Set<Socket>();
const relayRequests: RelayRequest[] = [];
const relaySubscriptions = new Set<Subscription>();
let context: BrowserContext | undefined;
let profile: string | undefined;

/** The relay a server of yours would run: invoke$ + tokens() on the server, `data: <token>` to the browser. */
function relay(prompt: string | null, res: ServerResponse): void {
  const record: RelayRequest = { prompt, clientClosed: false };
  relayRequests.push(record);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const subscription = invoke$(clientFor(emulator), { EndpointName: 'relay-llm', Body: { inputs: prompt ?? '', stream: true } })
    .pipe(tokens())
    .subscribe({
      next: (token) =>
        res.write(
          `${token
            .split(/\r\n|\r|\n/)
            .map((line) => `data: ${line}\n`)
            .join('')}\n`,
        ),
      error: () => res.destroy(),
      complete: () => res.end(),
    });
  relaySubscriptions.add(subscription);
  res.on('close', () => {
    if (!res.writableEnded) record.clientClosed = true;
    subscription.unsubscribe(); // the browser left: stop the SageMaker stream too
    relaySubscriptions.delete(subscription);
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser test needs a local Chromium: install it (Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'rx-sagemaker-browser-'));
  const result = await build({
    entryPoints: [join(EXAMPLE, 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: join(dir, 'main.js'),
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  metafile = result.metafile;
  bundle = await readFile(join(dir, 'main.js'), 'utf8');
  const html = await readFile(join(EXAMPLE, 'index.html'), 'utf8');

  site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (url.pathname === '/main.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
    else if (url.pathname === '/api/chat') relay(url.searchParams.get('prompt'), res);
    else res.writeHead(404).end();
  });
  site.on('connection', (s: Socket) => {
    siteSockets.add(s);
    s.on('close', () => siteSockets.delete(s));
  });
  await new Promise<void>((done) => site.listen(0, '127.0.0.1', done));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

  // CORS for exactly the page's origin.
  emulator = await startEmulator({ cors: siteUrl });

  profile = await mkdtemp(join(tmpdir(), 'rx-sagemaker-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await context?.close();
  for (const s of relaySubscriptions) s.unsubscribe();
  for (const s of siteSockets) s.destroy();
  await Promise.all([
    site === undefined ? undefined : new Promise<void>((done) => site.close(() => done())),
    emulator?.close(),
    closedEmulator?.close(),
  ]);
  await Promise.all([dir, profile].map((d) => (d === undefined ? undefined : rm(d, { recursive: true, force: true }))));
});

/** A fresh page that fails the test on any uncaught page error. */
async function openPage(query: string): Promise<{ page: Page; pageErrors: string[] }> {
  if (context === undefined) throw new Error('the browser did not start');
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${siteUrl}/?${query}`);
  return { page, pageErrors };
}

/** Waits until the page leaves `streaming`, then returns its status line. */
async function settledStatus(page: Page): Promise<string> {
  await page.waitForFunction(() => {
    const s = document.getElementById('status')?.textContent;
    return s !== 'streaming' && s !== 'idle';
  });
  return (await page.textContent('#status')) ?? '';
}

const shownTokens = (page: Page): Promise<string[]> => page.$$eval('#output span', (spans) => spans.map((s) => s.textContent ?? ''));

function lastRequest(to: Emulator, endpoint: string): RecordedRequest {
  const request = [...to.requests].reverse().find((r) => r.endpointName === endpoint);
  if (request === undefined) throw new Error(`no request to ${endpoint}`);
  return request;
}

describe('the browser bundle', () => {
  test('uses the AWS SDK browser build (fetch handler, browser runtime config) and pulls in nothing Node-only', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('node_modules/@aws-sdk/client-sagemaker-runtime/dist-es/runtimeConfig.browser.js');
    expect(inputs).not.toContain('node_modules/@aws-sdk/client-sagemaker-runtime/dist-es/runtimeConfig.js');
    expect(inputs.some((i) => i.startsWith('node_modules/@smithy/fetch-http-handler/'))).toBe(true);
    expect(inputs.filter((i) => /node-http-handler|credential-provider-node|shared-ini-file-loader|src\/testing\//.test(i))).toEqual([]);
    // No import is left for the browser to resolve (esbuild fails the browser build on `node:*`).
    for (const output of Object.values(metafile.outputs)) expect(output.imports).toEqual([]);
    expect(bundle).not.toMatch(/\brequire\(["'](node:)?(fs|http|https|net|os|crypto|stream|child_process)["']\)/);
  });
});

describe('examples/browser in Chromium', () => {
  test('SDK mode streams from the emulator through invoke$ + tokens() and shows every token, 日本 and 🦙 intact', async () => {
    emulator.setEndpoint('page-llm', {
      parts: CHOPPED,
      partDelayMs: 2,
      contentType: 'text/event-stream',
      invokedProductionVariant: 'browser-variant',
    });
    const { page, pageErrors } = await openPage(`mode=sdk&endpoint=${encodeURIComponent(emulator.url)}&name=page-llm`);
    await page.fill('#prompt', 'Grüß 🦙');
    await page.click('#start');
    expect(await settledStatus(page)).toBe('complete');
    expect(await shownTokens(page)).toEqual(TOKENS);
    expect(await page.textContent('#output')).toBe('Hello, 日本 🦙 and done.');
    // Exposed by the emulator's CORS headers, read by the SDK in the page.
    expect(await page.textContent('#meta')).toBe('variant browser-variant, output text/event-stream');

    const request = lastRequest(emulator, 'page-llm');
    expect(request.headers['user-agent']).toMatch(/Chrome/);
    expect(request.headers['x-amz-user-agent']).toMatch(/aws-sdk-js/);
    expect(request.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=test\//);
    expect(JSON.parse(Buffer.from(request.body).toString('utf8'))).toEqual({ inputs: 'Grüß 🦙', stream: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('clicking stop mid-stream unsubscribes and the emulator sees the browser close the connection', async () => {
    emulator.setEndpoint('stall-llm', {
      parts: TOKENS.map(tgi),
      fault: { type: 'stall', afterParts: 3 },
      contentType: 'text/event-stream',
    });
    const { page, pageErrors } = await openPage(`mode=sdk&endpoint=${encodeURIComponent(emulator.url)}&name=stall-llm`);
    await page.click('#start');
    await page.waitForFunction(() => document.querySelectorAll('#output span').length === 3);
    const request = lastRequest(emulator, 'stall-llm');
    expect(request.clientClosed).toBe(false);
    await page.click('#stop');
    await emulator.waitFor(() => request.clientClosed);
    expect(request.outcome).toBe('client-closed');
    expect(await page.textContent('#status')).toBe('stopped');
    expect(await shownTokens(page)).toEqual(TOKENS.slice(0, 3));
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('relay mode reads the server-sent events of a relay with fetchBytes$ + tokens()', async () => {
    emulator.setEndpoint('relay-llm', { parts: CHOPPED, partDelayMs: 2, contentType: 'text/event-stream' });
    const { page, pageErrors } = await openPage('mode=relay&relay=/api/chat');
    await page.fill('#prompt', 'hi 日本');
    await page.click('#start');
    expect(await settledStatus(page)).toBe('complete');
    expect(await shownTokens(page)).toEqual(TOKENS);
    expect(relayRequests.at(-1)?.prompt).toBe('hi 日本');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('stop in relay mode aborts the fetch, the relay unsubscribes, and the emulator sees the disconnect', async () => {
    emulator.setEndpoint('relay-llm', {
      parts: TOKENS.map(tgi),
      fault: { type: 'stall', afterParts: 2 },
      contentType: 'text/event-stream',
    });
    const { page } = await openPage('mode=relay&relay=/api/chat');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelectorAll('#output span').length === 2);
    const upstream = lastRequest(emulator, 'relay-llm');
    await page.click('#stop');
    await emulator.waitFor(() => relayRequests.at(-1)?.clientClosed === true && upstream.clientClosed);
    expect(await shownTokens(page)).toEqual(TOKENS.slice(0, 2));
    await page.close();
  });

  test('without cors on the emulator the browser refuses the stream and the page shows an error', async () => {
    closedEmulator = await startEmulator({ endpoints: { 'page-llm': { parts: TOKENS.map(tgi) } } });
    const { page } = await openPage(`mode=sdk&endpoint=${encodeURIComponent(closedEmulator.url)}&name=page-llm`);
    await page.click('#start');
    expect(await settledStatus(page)).toMatch(/^error: /);
    expect(await shownTokens(page)).toEqual([]);
    expect(closedEmulator.requests).toHaveLength(0); // the preflight failed: the POST was never sent
    await page.close();
  });
});
