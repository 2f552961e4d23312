import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { EmulatorResponse } from '../testing/emulator.js';
import { startEmulator } from '../testing/emulator.js';
import { CONTAINER_FORMATS, type ContainerFormat } from '../testing/render.js';
import { EXIT_USAGE } from './errors.js';
import type { Io } from './io.js';

const FAULTS = ['model-stream-error', 'internal-stream-failure', 'reset', 'stall'] as const;
const ERRORS = ['model-error', 'validation', 'throttling', 'model-not-ready', 'internal-failure', 'service-unavailable'] as const;

/** The canned answer: multi-byte text included, so decoding bugs show. @internal */
export const CANNED_ANSWER =
  'Hello from the rx-sagemaker emulator! It streams real event-stream frames, so 日本語, émojis 🦙🚀 and every byte boundary get exercised.';

export const EMULATE_HELP = `Usage: rx-sagemaker emulate [options]

Runs a local SageMaker Runtime streaming emulator (real event-stream frames over HTTP) that plays
an answer in a real container's format, token by token. Point 'rx-sagemaker stream --endpoint-url'
(or any SageMakerRuntimeClient's 'endpoint') at the URL it prints. Ctrl-C stops it.

Options:
  --port PORT            port to listen on (default 8080; 0 picks a free one)
  --host HOST            address to bind (default 127.0.0.1; anything else is exposed to the network)
  --name NAME            endpoint name to answer (default local-llm)
  --format FORMAT        container format (default tgi-sse): ${CONTAINER_FORMATS.join(', ')}
  --text TEXT            the answer (default: a canned answer with non-ASCII text)
  --file PATH            read the answer from a file
  --rate N               tokens per second (default 20)
  --first-token-delay MS wait before the first token (default 200)
  --fault KIND           inject a mid-stream fault: ${FAULTS.join(', ')}
  --fault-after N        ...after N tokens (default 3)
  --error KIND           answer an error instead of streaming: ${ERRORS.join(', ')}
  --cors                 answer CORS preflights (for browser development)
  -h, --help             show this help
`;

/** Splits text into LLM-like tokens: words with their leading whitespace. @internal */
export function toTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

function usage(io: Io, message: string): number {
  io.stderr(`rx-sagemaker emulate: ${message}\nRun 'rx-sagemaker emulate --help' for the options.\n`);
  return EXIT_USAGE;
}

/**
 * `rx-sagemaker emulate`: resolves with the exit code once interrupted.
 *
 * @internal
 */
export async function emulateCommand(argv: readonly string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        name: { type: 'string' },
        format: { type: 'string' },
        text: { type: 'string' },
        file: { type: 'string' },
        rate: { type: 'string' },
        'first-token-delay': { type: 'string' },
        fault: { type: 'string' },
        'fault-after': { type: 'string' },
        error: { type: 'string' },
        cors: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values } = parsed;
  if (values.help === true) {
    io.stdout(EMULATE_HELP);
    return 0;
  }
  const num = (v: string | undefined, fallback: number, min: number): number | undefined => {
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isFinite(n) && n >= min ? n : undefined;
  };
  const port = num(values.port, 8080, 0);
  const rate = num(values.rate, 20, 0.001);
  const firstDelay = num(values['first-token-delay'], 200, 0);
  const faultAfter = num(values['fault-after'], 3, 0);
  if (port === undefined || rate === undefined || firstDelay === undefined || faultAfter === undefined) {
    return usage(io, '--port, --rate, --first-token-delay and --fault-after take non-negative numbers');
  }
  const format = (values.format ?? 'tgi-sse') as ContainerFormat;
  if (!CONTAINER_FORMATS.includes(format)) return usage(io, `unknown --format ${format}`);
  const fault = values.fault as (typeof FAULTS)[number] | undefined;
  if (fault !== undefined && !FAULTS.includes(fault)) return usage(io, `unknown --fault ${fault}`);
  const error = values.error as (typeof ERRORS)[number] | undefined;
  if (error !== undefined && !ERRORS.includes(error)) return usage(io, `unknown --error ${error}`);
  let text = values.text ?? CANNED_ANSWER;
  if (values.file !== undefined) {
    try {
      text = readFileSync(values.file, 'utf8');
    } catch (e) {
      return usage(io, `cannot read ${values.file}: ${(e as Error).message}`);
    }
  }
  const name = values.name ?? 'local-llm';
  const host = values.host ?? '127.0.0.1';

  const response: EmulatorResponse = {
    stream: { format, tokens: toTokens(text) },
    partDelayMs: 1000 / rate,
    firstPartDelayMs: firstDelay,
    ...(fault === undefined ? {} : { fault: { type: fault, afterParts: faultAfter } }),
    ...(error === undefined ? {} : { error: { type: error } }),
  };
  let emulator;
  try {
    emulator = await startEmulator({
      endpoints: { [name]: response },
      port,
      host,
      allowRemote: values.host !== undefined,
      ...(values.cors === true ? { cors: true } : {}),
    });
  } catch (e) {
    io.stderr(`rx-sagemaker emulate: cannot listen on ${host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout(
    `endpoint: ${emulator.url}\n` +
      `endpoint name: ${name} (${format}, ${rate} tokens/s${fault === undefined ? '' : `, ${fault} after ${faultAfter}`}${error === undefined ? '' : `, answers ${error}`})\n` +
      `try: rx-sagemaker stream ${name} --endpoint-url ${emulator.url} --region us-east-1 --body '{"inputs":"Hi","stream":true}'\n`,
  );
  const running = emulator;
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      io.offInterrupt(stop);
      void running.close().then(() => resolve(0));
    };
    io.onInterrupt(stop);
  });
}
