import type { SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { eventStreamSerdeProvider as sdkEventStreamSerdeProvider } from '@smithy/core/event-streams';
import { nativeCrc32 } from './crc32.js';
import { decodePayloadPart, MIN_FRAME_LENGTH, readUint32 } from './payloadFrame.js';

/**
 * The type of the client option `eventStreamSerdeProvider` (`SageMakerRuntimeClientConfig`),
 * which {@link fastEventStreamSerdeProvider} is.
 *
 * @example
 * ```ts
 * import { fastEventStreamSerdeProvider, type EventStreamSerdeProvider } from 'rx-sagemaker';
 *
 * const provider: EventStreamSerdeProvider = fastEventStreamSerdeProvider;
 * ```
 * @public
 */
export type EventStreamSerdeProvider = NonNullable<SageMakerRuntimeClientConfig['eventStreamSerdeProvider']>;

/**
 * What the fast decoder of one client has done so far; see {@link fastEventStreamStats}.
 *
 * @example
 * ```ts
 * import { fastEventStreamStats, type FastEventStreamStats } from 'rx-sagemaker';
 *
 * const stats: FastEventStreamStats | undefined = fastEventStreamStats(client);
 * if (stats?.state === 'disabled') console.warn('fast event-stream decoder off: the SDK decodes everything');
 * ```
 * @public
 */
export interface FastEventStreamStats {
  /** `PayloadPart` frames the fast decoder decoded itself. */
  readonly fastFrames: number;
  /**
   * Frames handed one by one to the SDK's own decoder: exceptions (`ModelStreamError`,
   * `InternalStreamFailure`), error frames, other or unknown events, frames with a bad checksum,
   * and the first `PayloadPart` of the client (the self-check, see `state`).
   */
  readonly sdkFrames: number;
  /**
   * Streams whose bytes, from some frame on, were handed whole to the SDK's own decoder: a body
   * that is not an async iterable, a frame length under 16 bytes or over 64 MiB, a body ending
   * inside a frame, or every stream once `state` is `'disabled'`.
   */
  readonly sdkStreams: number;
  /**
   * - `'checking'`: no `PayloadPart` seen yet. The first one is decoded by the SDK and its result
   *   compared with the fast decoder's;
   * - `'active'`: they matched; `PayloadPart` frames are decoded by the fast decoder;
   * - `'disabled'`: they did not (an SDK whose `PayloadPart` event has changed shape): everything
   *   is decoded by the SDK, as without this option.
   */
  readonly state: 'checking' | 'active' | 'disabled';
  /** The CRC-32 in use for large frames: Node's native `zlib.crc32`, or JavaScript where it is missing. */
  readonly crc32: 'native' | 'js';
}

// The SDK's marshaller interface (`@smithy/types` EventStreamMarshaller), named from the client's
// own option type. The deserializer the SDK passes is only ever handed back to the SDK's decoder.
type SdkMarshaller = ReturnType<EventStreamSerdeProvider>;
type EventStreamMessage = Parameters<Parameters<SdkMarshaller['deserialize']>[1]>[0][string];
type EventDeserializer<T> = (event: Record<string, EventStreamMessage>) => Promise<T>;
type MarshallerOptions = Parameters<typeof sdkEventStreamSerdeProvider>[0];

interface MutableStats {
  fastFrames: number;
  sdkFrames: number;
  sdkStreams: number;
  state: FastEventStreamStats['state'];
}

const MARKER = Symbol.for('rx-sagemaker.FastEventStreamMarshaller');
const SKIPPED = Symbol('skipped');

/** An async iterable over `head`, then whatever `rest` still yields (never calling `rest.return`). */
function resume(head: readonly unknown[], rest: AsyncIterator<unknown> | undefined): AsyncIterable<unknown> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* head;
      if (rest === undefined) return;
      for (;;) {
        const next = await rest.next();
        if (next.done === true) return;
        yield next.value;
      }
    },
  };
}

/** A Uint8Array (Node's Buffer included) of this or another realm. */
function isUint8Array(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]');
}

/** True when `value` is exactly `{ PayloadPart: { Bytes } }` with `Bytes` a plain Uint8Array equal to `payload`. */
function isPlainPayloadPart(value: unknown, payload: Uint8Array): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (Object.keys(value).join() !== 'PayloadPart') return false;
  const part: unknown = (value as { readonly PayloadPart?: unknown }).PayloadPart;
  if (typeof part !== 'object' || part === null || Object.getPrototypeOf(part) !== Object.prototype) return false;
  if (Object.keys(part).join() !== 'Bytes') return false;
  const bytes: unknown = (part as { readonly Bytes?: unknown }).Bytes;
  if (!(bytes instanceof Uint8Array) || Object.getPrototypeOf(bytes) !== Uint8Array.prototype) return false;
  if (bytes.length !== payload.length) return false;
  for (let i = 0; i < payload.length; i++) if (bytes[i] !== payload[i]) return false;
  return true;
}

/**
 * The event the SDK makes of a PayloadPart frame (checked against the SDK's own result by the
 * self-check before the fast path is taken).
 */
function payloadPart(payload: Uint8Array): unknown {
  return { PayloadPart: { Bytes: payload } };
}

/**
 * The marshaller the client keeps as `config.eventStreamMarshaller`. `deserialize` decodes
 * `PayloadPart` frames in place and hands every other frame to the SDK's own marshaller;
 * `serialize` is the SDK's.
 */
class FastEventStreamMarshaller implements SdkMarshaller {
  readonly [MARKER] = true;
  readonly stats: MutableStats = { fastFrames: 0, sdkFrames: 0, sdkStreams: 0, state: 'checking' };
  private readonly sdk: SdkMarshaller;

  constructor(options: MarshallerOptions) {
    this.sdk = sdkEventStreamSerdeProvider(options);
  }

  serialize<T>(input: AsyncIterable<T>, serializer: (event: T) => EventStreamMessage): unknown {
    return this.sdk.serialize(input, serializer);
  }

  deserialize<T>(body: unknown, deserializer: EventDeserializer<T>): AsyncIterable<T> {
    const iterable = body as { readonly [Symbol.asyncIterator]?: unknown } | null | undefined;
    if (this.stats.state === 'disabled' || typeof iterable?.[Symbol.asyncIterator] !== 'function') {
      this.stats.sdkStreams++;
      return this.sdk.deserialize(body, deserializer);
    }
    return { [Symbol.asyncIterator]: () => this.events(body as AsyncIterable<unknown>, deserializer) };
  }

  /** The SDK's result for one whole frame (which the SDK copies, as always), or SKIPPED. */
  private async sdkFrame<T>(frame: Uint8Array, deserializer: EventDeserializer<T>): Promise<T | typeof SKIPPED> {
    this.stats.sdkFrames++;
    const events = this.sdk.deserialize(resume([frame], undefined), deserializer);
    const result = await events[Symbol.asyncIterator]().next();
    return result.done === true ? SKIPPED : result.value;
  }

  /**
   * A frame the fast path did not take: the SDK decodes it. While the state is `'checking'`, the
   * first PayloadPart is compared with what the fast path would have returned.
   */
  private async slowFrame<T>(
    b: Uint8Array,
    offset: number,
    total: number,
    deserializer: EventDeserializer<T>,
  ): Promise<T | typeof SKIPPED> {
    const stats = this.stats;
    const payload = stats.state === 'checking' ? decodePayloadPart(b, offset, total) : undefined;
    const value = await this.sdkFrame(b.subarray(offset, offset + total), deserializer);
    if (payload !== undefined && stats.state === 'checking') stats.state = isPlainPayloadPart(value, payload) ? 'active' : 'disabled';
    return value;
  }

  /** The rest of the stream, from a frame boundary, decoded by the SDK. */
  private rest<T>(
    head: readonly unknown[],
    source: AsyncIterator<unknown> | undefined,
    deserializer: EventDeserializer<T>,
  ): AsyncIterable<T> {
    this.stats.sdkStreams++;
    return this.sdk.deserialize(resume(head, source), deserializer);
  }

  private async *events<T>(body: AsyncIterable<unknown>, deserializer: EventDeserializer<T>): AsyncGenerator<T, void, undefined> {
    const stats = this.stats;
    const source = body[Symbol.asyncIterator]();
    let chunk: Uint8Array = new Uint8Array(0);
    let at = 0;
    // A frame split across chunks: its bytes so far (`split`, `filled`), or the first 1 to 3
    // bytes of its length (`lengthBytes`, `lengthFilled`). As in the SDK, a split frame is
    // copied into one buffer of its length.
    let split: Uint8Array | undefined;
    let filled = 0;
    const lengthBytes = new Uint8Array(4);
    let lengthFilled = 0;

    for (;;) {
      if (split !== undefined) {
        const n = Math.min(split.length - filled, chunk.length - at);
        split.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === split.length) {
          const complete = split;
          split = undefined;
          const payload = stats.state === 'active' ? decodePayloadPart(complete, 0, complete.length) : undefined;
          if (payload !== undefined) {
            stats.fastFrames++;
            yield payloadPart(payload) as T;
          } else {
            const value = await this.slowFrame(complete, 0, complete.length, deserializer);
            if (value !== SKIPPED) yield value;
          }
          continue;
        }
      } else if (lengthFilled > 0) {
        const n = Math.min(4 - lengthFilled, chunk.length - at);
        lengthBytes.set(chunk.subarray(at, at + n), lengthFilled);
        lengthFilled += n;
        at += n;
        if (lengthFilled === 4) {
          lengthFilled = 0;
          split = allocate(readUint32(lengthBytes, 0));
          if (split === undefined) {
            yield* this.rest([lengthBytes.slice(), chunk.subarray(at)], source, deserializer);
            return;
          }
          split.set(lengthBytes);
          filled = 4;
          continue;
        }
      } else {
        const available = chunk.length - at;
        if (available >= 4) {
          const total = readUint32(chunk, at);
          if (available >= total && total >= MIN_FRAME_LENGTH) {
            // A whole frame inside the chunk: decoded where it lies.
            const offset = at;
            at += total;
            const payload = stats.state === 'active' ? decodePayloadPart(chunk, offset, total) : undefined;
            if (payload !== undefined) {
              stats.fastFrames++;
              yield payloadPart(payload) as T;
            } else {
              const value = await this.slowFrame(chunk, offset, total, deserializer);
              if (value !== SKIPPED) yield value;
            }
            continue;
          }
          split = allocate(total);
          if (split === undefined) {
            yield* this.rest([chunk.subarray(at)], source, deserializer);
            return;
          }
          split.set(chunk.subarray(at));
          filled = available;
        } else if (available > 0) {
          lengthBytes.set(chunk.subarray(at));
          lengthFilled = available;
        }
      }
      // The chunk is used up: read the next one.
      const next = await source.next();
      if (next.done !== true && isUint8Array(next.value)) {
        chunk = next.value;
        at = 0;
        continue;
      }
      // The bytes of the frame begun so far.
      const pending = split !== undefined ? [split.subarray(0, filled)] : lengthFilled > 0 ? [lengthBytes.slice(0, lengthFilled)] : [];
      if (next.done === true) {
        // A body ending inside a frame: the SDK ends it its own way ("Truncated event message
        // received.", or silently when fewer than 4 bytes of the frame came).
        if (pending.length > 0) yield* this.rest(pending, undefined, deserializer);
        return;
      }
      // A chunk that is not bytes (never seen from Node's HTTP): the SDK does what it does with it.
      yield* this.rest([...pending, next.value], source, deserializer);
      return;
    }
  }
}

/**
 * Frames longer than this (64 MiB, far beyond any SageMaker payload part, and most likely a
 * corrupted length) are left to the SDK with the rest of the stream: it then allocates, waits and
 * fails exactly as it always does, and no buffer is allocated twice.
 */
const LARGEST_FRAME = 64 * 1024 * 1024;

/**
 * A buffer for a frame of `total` bytes, or `undefined` when the SDK must take over from this
 * frame: a length under the minimum (the SDK throws its own error) or over {@link LARGEST_FRAME}.
 */
function allocate(total: number): Uint8Array | undefined {
  return total < MIN_FRAME_LENGTH || total > LARGEST_FRAME ? undefined : new Uint8Array(total);
}

/**
 * An opt-in event-stream decoder for `SageMakerRuntimeClient`, passed as its
 * `eventStreamSerdeProvider` option: it decodes `PayloadPart` frames in place, with a fraction of
 * the CPU the SDK's decoder spends on them, and hands every other frame to the SDK's own decoder.
 *
 * - **What it changes:** only how response-stream frames are turned into events. Signing,
 *   endpoints, credentials, retries, HTTP and abort stay the SDK's. It is never installed behind
 *   your back: a client uses it only when you pass it.
 * - **`PayloadPart` frames** (`:message-type` `event`, `:event-type` `PayloadPart`, no other headers
 *   than `:content-type`, both CRC-32 checksums right) are decoded where they lie in the HTTP chunk:
 *   `Bytes` is a `Uint8Array` view of the payload, not a copy. A frame split across chunks is
 *   copied once into a buffer of its length, as the SDK does.
 * - **Every other frame** (`ModelStreamError`, `InternalStreamFailure`, error frames, unknown
 *   events, bad checksums) is decoded by the SDK, so errors are the SDK's own classes with the same
 *   fields (`ErrorCode`, `$fault`, ...) and messages. A frame length under 16 bytes or a body that
 *   ends inside a frame hands the rest of the stream to the SDK, which fails as it always does.
 * - **Self-check:** the first `PayloadPart` a client receives is decoded by the SDK and compared
 *   with the fast result; if they differ (a future SDK with another `PayloadPart` shape) the
 *   client falls back to the SDK for everything. {@link fastEventStreamStats} tells which path
 *   runs.
 * - To turn it off, leave the option out (or pass the SDK's own provider).
 *
 * `Bytes` views share memory with the HTTP chunk they came in (up to 64 KiB): keeping one part
 * keeps that chunk alive. Copy (`bytes.slice()`) what you keep for long.
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { fastEventStreamSerdeProvider, invoke$, tokens } from 'rx-sagemaker';
 *
 * const client = new SageMakerRuntimeClient({
 *   region: 'us-east-1',
 *   eventStreamSerdeProvider: fastEventStreamSerdeProvider,
 * });
 * invoke$(client, { EndpointName: 'my-llm', Body: { inputs: 'Hi', stream: true } })
 *   .pipe(tokens())
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @param options - what the client passes: its resolved configuration (UTF-8 encoder and decoder).
 * @returns the client's event-stream marshaller.
 * @public
 */
export const fastEventStreamSerdeProvider: EventStreamSerdeProvider = (options: MarshallerOptions) =>
  new FastEventStreamMarshaller(options);

/**
 * What the fast decoder has done for a client created with
 * `eventStreamSerdeProvider: fastEventStreamSerdeProvider`, or `undefined` when the client does not
 * use it. A snapshot: counters grow as streams are read.
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { fastEventStreamSerdeProvider, fastEventStreamStats } from 'rx-sagemaker';
 *
 * const client = new SageMakerRuntimeClient({ region: 'us-east-1', eventStreamSerdeProvider: fastEventStreamSerdeProvider });
 * // ... after some streams:
 * const stats = fastEventStreamStats(client);
 * console.log(stats?.state, stats?.fastFrames, stats?.sdkFrames); // 'active' 1234 3
 * ```
 * @param client - a `SageMakerRuntimeClient` (any object with the client's `config`).
 * @returns the counters and state, or `undefined`.
 * @public
 */
export function fastEventStreamStats(client: { readonly config: object }): FastEventStreamStats | undefined {
  const marshaller: unknown = (client.config as { readonly eventStreamMarshaller?: unknown }).eventStreamMarshaller;
  if (typeof marshaller !== 'object' || marshaller === null || (marshaller as { readonly [MARKER]?: unknown })[MARKER] !== true)
    return undefined;
  const stats = (marshaller as { readonly stats: MutableStats }).stats;
  return { ...stats, crc32: nativeCrc32 === undefined ? 'js' : 'native' };
}
