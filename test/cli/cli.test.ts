import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { lastValueFrom, toArray } from 'rxjs';
import { invoke$, tokens } from '../../src/index.js';
import { renderStream, startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor } from '../support/client.js';

// The CLI runs as a real child process. It is bundled from src/ once (esbuild, dependencies
// external), so `npm test` needs no prior build.
let dir: string;
let cli: string;
let emulator: Emulator;

beforeAll(async () => {
  // Inside the project, so that the bundle's external dependencies resolve from node_modules.
  const cache = join(__dirname, '..', '..', 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'rx-sagemaker-cli-'));
  cli = join(dir, 'cli.cjs');
  await build({
    entryPoints: ['src/cli/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    outfile: cli,
    logLevel: 'error',
  });
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_REGION: 'us-east-1',
  AWS_MAX_ATTEMPTS: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

function start(args: readonly string[], stdin?: string): { child: ChildProcessWithoutNullStreams; done: Promise<Run> } {
  const child = spawn(process.execPath, [cli, ...args], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (stdin !== undefined) child.stdin.end(stdin);
  else child.stdin.end();
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
const run = (args: readonly string[], stdin?: string): Promise<Run> => start(args, stdin).done;
const streamArgs = (name: string, ...extra: string[]): string[] => [
  'stream',
  name,
  '--endpoint-url',
  emulator.url,
  '--body',
  '{"inputs":"Hi","stream":true}',
  ...extra,
];

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('rx-sagemaker --help', () => {
  test.each([[['--help']], [['stream', '--help']], [['emulate', '--help']]])('%j prints the usage and exits 0', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rx-sagemaker/);
  });

  test('no command, an unknown command or a bad flag is a usage error with exit code 2', async () => {
    expect((await run([])).code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const bad = await run(['stream', 'ep', '--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--help');
  });
});

describe('rx-sagemaker stream', () => {
  const TOKENS = ['Bonjour', ' 日本', ' 🦙', '!'];

  test('prints the tokens on stdout and the statistics on stderr', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'tgi-sse', tokens: TOKENS }, invokedProductionVariant: 'blue', firstPartDelayMs: 50 });
    const r = await run(streamArgs('ep'));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TOKENS.join('')}\n`);
    expect(r.stderr).toMatch(/format: tgi · variant: blue · time to first token: \d+ ms · tokens: 4 · [\d.]+ tokens\/s/);
  });

  test('--json prints one token event per line and --raw the decoded bytes', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'openai-chat-sse', tokens: TOKENS } });
    const json = await run(streamArgs('ep', '--json', '--no-stats'));
    expect(json.code).toBe(0);
    const events = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; format: string });
    expect(events.filter((e) => e.text !== '').map((e) => e.text)).toEqual(TOKENS);
    expect(new Set(events.map((e) => e.format))).toEqual(new Set(['openai-chat']));
    expect(json.stderr).toBe('');
    const raw = await run(streamArgs('ep', '--raw'));
    expect(raw.stdout).toBe(`${renderStream('openai-chat-sse', TOKENS).body}\n`);
    expect(raw.stderr).toContain('format: raw');
  });

  test('--format forces a format', async () => {
    emulator.setEndpoint('ep', { parts: ['{"metering": {}, "body": {"generation": "x", "stop_reason": null}}\n'] });
    const r = await run(streamArgs('ep', '--format', 'lmi-3p'));
    expect(r.stdout).toBe('x\n');
  });

  test('reads the body from --body-file or standard input, and passes the request options through', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'tgi-sse', tokens: ['ok'] } });
    emulator.clearRequests();
    const file = join(dir, 'body.json');
    writeFileSync(file, '{"inputs":"from a file"}');
    const fromFile = await run([
      'stream',
      'ep',
      '--endpoint-url',
      emulator.url,
      '--body-file',
      file,
      '--accept',
      'text/event-stream',
      '--variant',
      'green',
      '--inference-component',
      'ic-1',
      '--session-id',
      'sess-9',
      '--custom-attributes',
      'trace=1',
    ]);
    expect(fromFile.code).toBe(0);
    const fromStdin = await run(['stream', 'ep', '--endpoint-url', emulator.url, '--content-type', 'text/plain'], 'plain prompt é');
    expect(fromStdin.code).toBe(0);
    const [a, b] = emulator.requests;
    expect(Buffer.from(a?.body ?? []).toString()).toBe('{"inputs":"from a file"}');
    expect(a?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-amzn-sagemaker-accept': 'text/event-stream',
      'x-amzn-sagemaker-target-variant': 'green',
      'x-amzn-sagemaker-inference-component': 'ic-1',
      'x-amzn-sagemaker-session-id': 'sess-9',
      'x-amzn-sagemaker-custom-attributes': 'trace=1',
    });
    expect(Buffer.from(b?.body ?? []).toString()).toBe('plain prompt é');
    expect(b?.headers['content-type']).toBe('text/plain');
  });

  test('without any body it is a usage error', async () => {
    const r = await run(['stream', 'ep', '--endpoint-url', emulator.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give a body');
  });

  test.each([
    ['validation', { error: { type: 'validation' as const } }, 10, 'check the endpoint name'],
    ['model', { error: { type: 'model-error' as const, originalStatusCode: 400, originalMessage: 'bad input' } }, 11, 'body format'],
    [
      'model-stream',
      { stream: { format: 'tgi-sse' as const, tokens: ['a', 'b', 'c'] }, fault: { type: 'model-stream-error' as const, afterParts: 2 } },
      12,
      'CloudWatch',
    ],
    [
      'internal-stream-failure',
      { stream: { format: 'tgi-sse' as const, tokens: ['a', 'b'] }, fault: { type: 'internal-stream-failure' as const, afterParts: 1 } },
      13,
      'retry',
    ],
    ['throttling', { error: { type: 'throttling' as const } }, 14, 'slow down'],
    ['service-unavailable', { error: { type: 'service-unavailable' as const } }, 15, 'retry later'],
    ['internal-failure', { error: { type: 'internal-failure' as const } }, 16, 'retry later'],
    ['model-not-ready', { error: { type: 'model-not-ready' as const } }, 17, 'still loading'],
    ['decode', { parts: ['{"foo": 1}\n'] }, 20, '--raw'],
  ])('a %s error is one line naming the kind and what to do, with its own exit code', async (kind, endpoint, code, hint) => {
    emulator.setEndpoint('ep', endpoint);
    const r = await run(streamArgs('ep'));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(new RegExp(`^(\\n)?error \\[${kind}\\]: .+\\n  → .*${hint.replace(/[-[\]/{}()*+?.\\^$|]/g, '\\$&')}`, 'm'));
  });

  test('tokens received before a mid-stream error are printed before it', async () => {
    emulator.setEndpoint('ep', {
      stream: { format: 'tgi-sse', tokens: ['a', 'b', 'c'] },
      fault: { type: 'model-stream-error', afterParts: 2 },
    });
    const r = await run(streamArgs('ep'));
    expect(r.stdout).toBe('ab');
  });

  test('a timeout and an unreachable endpoint have their own exit codes', async () => {
    emulator.setEndpoint('ep', { fault: { type: 'stall', afterParts: 0 } });
    const timeout = await run(streamArgs('ep', '--first-byte-timeout', '100'));
    expect(timeout.code).toBe(19);
    expect(timeout.stderr).toContain('error [timeout]');
    const closed = await startEmulator();
    const url = closed.url;
    await closed.close();
    const network = await run(['stream', 'ep', '--endpoint-url', url, '--body', '{}']);
    expect(network.code).toBe(18);
    expect(network.stderr).toContain('error [network]');
  });

  test('a credentials failure is an unknown error with exit code 1 and a hint about credentials', async () => {
    const r = await run(['stream', 'ep', '--endpoint-url', emulator.url, '--body', '{}', '--profile', 'no-such-profile-rx-sagemaker']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[unknown\]: .*\n {2}→ check your credentials/);
  });

  test('Ctrl-C aborts the request (seen at the emulator) and exits 130', async () => {
    emulator.setEndpoint('ep', { stream: { format: 'tgi-sse', tokens: ['a', 'b', 'c'] }, fault: { type: 'stall', afterParts: 2 } });
    emulator.clearRequests();
    const { child, done } = start(streamArgs('ep'));
    let out = '';
    child.stdout.on('data', (d: string) => (out += d));
    await waitUntil(() => out === 'ab');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted');
    await emulator.waitFor(() => emulator.requests[0]?.clientClosed === true, 3000);
  });
});

describe('rx-sagemaker emulate', () => {
  test('prints the endpoint URL and plays the answer in the chosen format at the chosen rate, until Ctrl-C', async () => {
    const { child, done } = start([
      'emulate',
      '--port',
      '0',
      '--name',
      'llm',
      '--format',
      'lmi-jsonlines',
      '--text',
      'Salut 日本 🦙 fin',
      '--rate',
      '100',
      '--first-token-delay',
      '0',
    ]);
    let out = '';
    child.stdout.on('data', (d: string) => (out += d));
    await waitUntil(() => /endpoint: (http:\/\/127\.0\.0\.1:\d+)/.test(out));
    const url = /endpoint: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
    const client = clientFor({ url } as Emulator);
    const started = performance.now();
    const got = await lastValueFrom(
      invoke$(client, { EndpointName: 'llm', Body: {} }, { onResponse: () => undefined }).pipe(tokens(), toArray()),
    );
    expect(got).toEqual(['Salut', ' 日本', ' 🦙', ' fin']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25); // 4 tokens at 100/s: 3 gaps of 10 ms
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
  });

  test('injects a fault for the stream command to report', async () => {
    const { child, done } = start(['emulate', '--port', '0', '--fault', 'internal-stream-failure', '--fault-after', '1', '--rate', '1000']);
    let out = '';
    child.stdout.on('data', (d: string) => (out += d));
    await waitUntil(() => out.includes('endpoint:'));
    const url = /endpoint: (\S+)/.exec(out)?.[1] ?? '';
    const r = await run(['stream', 'local-llm', '--endpoint-url', url, '--body', '{}']);
    expect(r.code).toBe(13);
    expect(r.stdout).toBe('Hello');
    child.kill('SIGINT');
    await done;
  });

  test('rejects an unknown format with a usage error', async () => {
    const r = await run(['emulate', '--format', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown --format nope');
  });
});
