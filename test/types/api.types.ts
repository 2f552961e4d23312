// Compile-time checks of the public API: checked by `tsc --noEmit` (npm run typecheck), never run.
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Observable } from 'rxjs';
import {
  decodeUtf8,
  invoke$,
  parseJsonLines,
  parseSse,
  retryOnStreamFailure,
  SageMakerStreamError,
  splitLines,
  tokens,
  type SageMakerStreamErrorKind,
  type SseEvent,
} from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';

declare const client: SageMakerRuntimeClient;

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

// invoke$ emits bytes; Body may be bytes, a string or JSON.
const bytes$ = invoke$(client, { EndpointName: 'e', Body: new Uint8Array() });
assertType<Equals<typeof bytes$, Observable<Uint8Array>>>(true);
invoke$(client, { EndpointName: 'e', Body: 'text' });
invoke$(client, { EndpointName: 'e', Body: { inputs: 'x', parameters: { max_new_tokens: 3 } } });
invoke$(client, { EndpointName: 'e', Body: [1, 2] }, { firstByteTimeout: 1, idleTimeout: 2, signal: AbortSignal.abort() });
// @ts-expect-error a number is not a Body
invoke$(client, { EndpointName: 'e', Body: 42 });
// @ts-expect-error the client is required
invoke$(undefined, { EndpointName: 'e', Body: 'x' });

// Operators chain with the right element types.
const tokens$ = bytes$.pipe(tokens({ includeSpecial: true, choiceIndex: 1 }), retryOnStreamFailure({ count: 1 }));
assertType<Equals<typeof tokens$, Observable<string>>>(true);
const events$ = bytes$.pipe(decodeUtf8({ fatal: true }), splitLines({ maxLineLength: 10 }), parseSse());
assertType<Equals<typeof events$, Observable<SseEvent>>>(true);
const json$ = bytes$.pipe(decodeUtf8(), splitLines(), parseJsonLines<{ token: { text: string } }>());
assertType<Equals<typeof json$, Observable<{ token: { text: string } }>>>(true);
// @ts-expect-error tokens() takes bytes, not strings
bytes$.pipe(decodeUtf8(), tokens());

// The error kinds are a closed union callers can switch on exhaustively.
function describe(err: SageMakerStreamError): string {
  const kind: SageMakerStreamErrorKind = err.kind;
  switch (kind) {
    case 'model-stream':
    case 'internal-stream-failure':
    case 'model':
    case 'validation':
    case 'throttling':
    case 'service-unavailable':
    case 'internal-failure':
    case 'model-not-ready':
    case 'network':
    case 'timeout':
    case 'decode':
    case 'aborted':
    case 'unknown':
      return kind;
    default: {
      const never: never = kind;
      return never;
    }
  }
}
describe;

// The type guard narrows unknown.
declare const unknownError: unknown;
if (SageMakerStreamError.isInstance(unknownError)) {
  const retryable: boolean = unknownError.retryable;
  const code: string | undefined = unknownError.errorCode;
  retryable;
  code;
}

// The emulator's public surface.
const started: Promise<Emulator> = startEmulator({ endpoints: { e: { parts: ['x'], fault: { type: 'stall', afterParts: 0 } } } });
void started;
// @ts-expect-error unknown fault type
void startEmulator({ endpoints: { e: { fault: { type: 'explode', afterParts: 0 } } } });
