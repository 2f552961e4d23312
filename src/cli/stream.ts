import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { map, type Observable } from 'rxjs';
import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { TOKEN_FORMATS, type TokenFormat } from '../formats/schemas.js';
import { toStreamError } from '../internal/classify.js';
import { invoke$, type InvokeInput } from '../invoke.js';
import { decodeUtf8 } from '../operators/decodeUtf8.js';
import { streamMetrics, type StreamMetrics } from '../operators/streamMetrics.js';
import { tokenEvents } from '../operators/tokenEvents.js';
import { tokens } from '../operators/tokens.js';
import { EXIT_CODES, EXIT_INTERRUPTED, EXIT_USAGE, HINTS } from './errors.js';
import type { Io } from './io.js';

export const STREAM_HELP = `Usage: rx-sagemaker stream ENDPOINT [options]

Streams a SageMaker endpoint's answer (InvokeEndpointWithResponseStream) and prints the tokens as
they arrive; at the end prints the detected format, the variant, time to first token, tokens and
tokens/s to stderr. The body comes from --body, --body-file or standard input. Ctrl-C aborts the
request (exit code 130).

Options:
  --body TEXT                 the request body (JSON is sent as application/json)
  --body-file PATH            read the body from a file
  --region REGION             AWS region (default: the AWS chain: AWS_REGION, ~/.aws/config)
  --profile NAME              AWS profile for credentials and region
  --endpoint-url URL          send to this URL instead of AWS (e.g. rx-sagemaker emulate)
  --content-type TYPE         Content-Type of the body
  --accept TYPE               the output type to ask the container for
  --variant NAME              TargetVariant
  --inference-component NAME  InferenceComponentName
  --session-id ID             SessionId of a stateful session
  --custom-attributes TEXT    CustomAttributes passed to the container
  --format FORMAT             force the payload format (${TOKEN_FORMATS.join(', ')})
  --raw                       print the decoded bytes as they come, without parsing
  --json                      print one token event (JSON) per line
  --first-byte-timeout MS     give up when the first byte takes longer
  --idle-timeout MS           give up when the stream is silent longer
  --no-stats                  do not print the statistics
  -h, --help                  show this help

Exit codes: 0 done, 2 bad usage, 130 interrupted, and per error kind: ${Object.entries(EXIT_CODES)
  .map(([k, v]) => `${v} ${k}`)
  .join(', ')}.

Example:
  rx-sagemaker stream my-llm --region us-east-1 --body '{"inputs":"Hello","parameters":{"max_new_tokens":64},"stream":true}'
`;

function usage(io: Io, message: string): number {
  io.stderr(`rx-sagemaker stream: ${message}\nRun 'rx-sagemaker stream --help' for the options.\n`);
  return EXIT_USAGE;
}

function readBody(io: Io, values: { body?: string | undefined; 'body-file'?: string | undefined }): string | undefined {
  if (values.body !== undefined) return values.body;
  if (values['body-file'] !== undefined) return readFileSync(values['body-file'], 'utf8');
  if (io.stdinIsTTY) return undefined;
  const piped = readFileSync(0, 'utf8');
  return piped === '' ? undefined : piped;
}

function statsLine(m: StreamMetrics, raw: boolean): string {
  const fmt = (ms: number | undefined): string => (ms === undefined ? '-' : `${ms.toFixed(0)} ms`);
  const generating = m.timeToFirstToken === undefined ? 0 : m.duration - m.timeToFirstToken;
  const rate = m.tokens > 1 && generating > 0 ? ((m.tokens - 1) / generating) * 1000 : undefined;
  return [
    `format: ${raw ? 'raw' : (m.format ?? '-')}`,
    `variant: ${m.variant ?? '-'}`,
    `time to first token: ${fmt(m.timeToFirstToken)}`,
    `${raw ? 'chunks' : 'tokens'}: ${m.tokens}`,
    `${rate === undefined ? '-' : rate.toFixed(1)} ${raw ? 'chunks' : 'tokens'}/s`,
    `parts: ${m.parts}`,
    `bytes: ${m.bytes}`,
  ].join(' · ');
}

/**
 * `rx-sagemaker stream`: resolves with the exit code.
 *
 * @internal
 */
export function streamCommand(argv: readonly string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        body: { type: 'string' },
        'body-file': { type: 'string' },
        region: { type: 'string' },
        profile: { type: 'string' },
        'endpoint-url': { type: 'string' },
        'content-type': { type: 'string' },
        accept: { type: 'string' },
        variant: { type: 'string' },
        'inference-component': { type: 'string' },
        'session-id': { type: 'string' },
        'custom-attributes': { type: 'string' },
        format: { type: 'string' },
        raw: { type: 'boolean' },
        json: { type: 'boolean' },
        'first-byte-timeout': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'no-stats': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return Promise.resolve(usage(io, (e as Error).message));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(STREAM_HELP);
    return Promise.resolve(0);
  }
  const endpointName = positionals[0];
  if (endpointName === undefined || positionals.length > 1) return Promise.resolve(usage(io, 'give exactly one ENDPOINT name'));
  if (values.raw === true && values.json === true) return Promise.resolve(usage(io, '--raw and --json exclude each other'));
  const format = values.format as TokenFormat | undefined;
  if (format !== undefined && !TOKEN_FORMATS.includes(format)) return Promise.resolve(usage(io, `unknown --format ${format}`));
  const ms = (name: 'first-byte-timeout' | 'idle-timeout'): number | undefined | null => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n > 0 ? n : null;
  };
  const firstByteTimeout = ms('first-byte-timeout');
  const idleTimeout = ms('idle-timeout');
  if (firstByteTimeout === null || idleTimeout === null) return Promise.resolve(usage(io, 'timeouts are positive numbers of milliseconds'));

  let body: string | undefined;
  try {
    body = readBody(io, values);
  } catch (e) {
    return Promise.resolve(usage(io, `cannot read the body: ${(e as Error).message}`));
  }
  if (body === undefined) return Promise.resolve(usage(io, 'give a body with --body, --body-file or standard input'));
  let contentType = values['content-type'];
  if (contentType === undefined) {
    try {
      JSON.parse(body);
      contentType = 'application/json';
    } catch {
      contentType = 'text/plain';
    }
  }

  const clientConfig: SageMakerRuntimeClientConfig = {};
  if (values.region !== undefined) clientConfig.region = values.region;
  if (values.profile !== undefined) clientConfig.profile = values.profile;
  if (values['endpoint-url'] !== undefined) clientConfig.endpoint = values['endpoint-url'];
  const client = new SageMakerRuntimeClient(clientConfig);
  const input: InvokeInput = {
    EndpointName: endpointName,
    Body: body,
    ContentType: contentType,
    ...(values.accept === undefined ? {} : { Accept: values.accept }),
    ...(values.variant === undefined ? {} : { TargetVariant: values.variant }),
    ...(values['inference-component'] === undefined ? {} : { InferenceComponentName: values['inference-component'] }),
    ...(values['session-id'] === undefined ? {} : { SessionId: values['session-id'] }),
    ...(values['custom-attributes'] === undefined ? {} : { CustomAttributes: values['custom-attributes'] }),
  };
  const raw = values.raw === true;
  const bytes$ = invoke$(client, input, { firstByteTimeout, idleTimeout });
  let output$: Observable<string>;
  if (raw) output$ = bytes$.pipe(decodeUtf8());
  else if (values.json === true)
    output$ = bytes$.pipe(
      tokenEvents({ format }),
      map((e) => `${JSON.stringify(e)}\n`),
    );
  else output$ = bytes$.pipe(tokens({ format }));

  return new Promise<number>((resolve) => {
    let metrics: StreamMetrics | undefined;
    let printedText = false;
    const finish = (code: number): void => {
      io.offInterrupt(onInterrupt);
      client.destroy();
      if (printedText && values.json !== true) io.stdout('\n');
      const started = metrics !== undefined && (metrics.parts > 0 || metrics.variant !== undefined);
      if (metrics !== undefined && started && values['no-stats'] !== true) io.stderr(`${statsLine(metrics, raw)}\n`);
      resolve(code);
    };
    const subscription = output$.pipe(streamMetrics((m) => (metrics = m))).subscribe({
      next: (text) => {
        printedText = true;
        io.stdout(text);
      },
      error: (err: unknown) => {
        const e = SageMakerStreamError.isInstance(err) ? err : toStreamError(err, { endpointName });
        io.stderr(`${printedText ? '\n' : ''}error [${e.kind}]: ${e.message}\n  → ${HINTS[e.kind]}\n`);
        printedText = false;
        finish(EXIT_CODES[e.kind]);
      },
      complete: () => finish(0),
    });
    function onInterrupt(): void {
      subscription.unsubscribe(); // aborts the HTTP request
      io.stderr(`${printedText ? '\n' : ''}interrupted: the request was aborted\n`);
      printedText = false;
      finish(EXIT_INTERRUPTED);
    }
    io.onInterrupt(onInterrupt);
  });
}
