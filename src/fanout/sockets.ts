import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SocketLimitWarning } from './types.js';

interface AgentLike {
  readonly maxSockets?: number;
}
interface HandlerConfigLike {
  readonly httpAgent?: AgentLike;
  readonly httpsAgent?: AgentLike;
  readonly httpAgentProvider?: () => Promise<AgentLike>;
}
interface HandlerLike {
  readonly config?: HandlerConfigLike;
  readonly configProvider?: Promise<HandlerConfigLike>;
}

/**
 * The client's socket limit for the protocol it talks (`maxSockets` of the Node HTTP handler's
 * agent: 50 by default), or `undefined` when it cannot be known (a custom handler, a browser, no
 * limit).
 *
 * @example
 * ```ts
 * import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
 * import { socketLimitOf } from 'rx-sagemaker';
 *
 * const client = new SageMakerRuntimeClient({ requestHandler: { httpsAgent: { maxSockets: 200 } } });
 * console.log(await socketLimitOf(client)); // 200
 * ```
 * @param client - the client a fan-out will use.
 * @returns its `maxSockets`, or `undefined`.
 * @public
 */
export async function socketLimitOf(client: SageMakerRuntimeClient): Promise<number | undefined> {
  try {
    const handler = client.config.requestHandler as unknown as HandlerLike;
    const config = handler.config ?? (await handler.configProvider);
    if (config === undefined) return undefined;
    const endpoint = client.config.endpoint === undefined ? undefined : await client.config.endpoint();
    const agent = endpoint?.protocol === 'http:' ? (config.httpAgent ?? (await config.httpAgentProvider?.())) : config.httpsAgent;
    const max = agent?.maxSockets;
    return typeof max === 'number' && Number.isFinite(max) ? max : undefined;
  } catch {
    return undefined;
  }
}

const warned = new WeakSet();

/**
 * Warns once per client when `concurrency` is above its socket limit.
 *
 * @internal
 */
export function checkSocketLimit(
  client: SageMakerRuntimeClient,
  concurrency: number,
  onSocketLimit: ((warning: SocketLimitWarning) => void) | false | undefined,
): void {
  if (onSocketLimit === false || warned.has(client)) return;
  void socketLimitOf(client).then((maxSockets) => {
    if (maxSockets === undefined || concurrency <= maxSockets || warned.has(client)) return;
    warned.add(client);
    const message =
      `rx-sagemaker: up to ${concurrency} streams may be open at once, but the client allows ${maxSockets} sockets per origin; ` +
      `the rest will queue. Lower the concurrency or raise maxSockets (requestHandler: { httpsAgent: { maxSockets: ${concurrency} } }).`;
    const warning: SocketLimitWarning = { message, concurrency, maxSockets };
    try {
      if (onSocketLimit === undefined) console.warn(message);
      else onSocketLimit(warning);
    } catch {
      // a failing warning hook must not break the streams
    }
  });
}
