import type { OperatorFunction } from 'rxjs';
import type { TokenFormat } from '../formats/schemas.js';
import { tokenStream, visibleText } from './tokenStream.js';
import type { TokensConfig } from './tokens.js';

/**
 * Token counts, where the format reports them.
 *
 * @example
 * ```ts
 * import { invoke$, tokenEvents, type TokenUsage } from 'rx-sagemaker';
 *
 * const total = (usage: TokenUsage): number => (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0);
 * invoke$(client, input)
 *   .pipe(tokenEvents())
 *   .subscribe((e) => {
 *     if (e.usage !== undefined) console.log(`${e.usage.completionTokens ?? '?'} tokens generated, ${total(e.usage)} in all`);
 *   });
 * ```
 * @public
 */
export interface TokenUsage {
  /** Tokens in the prompt (`prompt_tokens`, `input_length`, `prompt_eval_count`, ...). */
  readonly promptTokens?: number;
  /** Tokens generated (`completion_tokens`, `generated_tokens`, `eval_count`, ...). */
  readonly completionTokens?: number;
}

/**
 * One token, or one text-less event that carries the end of generation or usage.
 *
 * @example
 * ```ts
 * import { invoke$, tokenEvents, type TokenEvent } from 'rx-sagemaker';
 *
 * function render(e: TokenEvent): void {
 *   if (e.text !== '') process.stdout.write(e.text);
 *   if (e.finishReason !== undefined) console.log(`\n[${e.format}] event #${e.index} finished: ${e.finishReason}`);
 * }
 * invoke$(client, input).pipe(tokenEvents()).subscribe(render);
 * ```
 * @public
 */
export interface TokenEvent {
  /** The token text; `''` on an event that only carries `finishReason` or `usage`. */
  readonly text: string;
  /** The detected (or forced) payload format; `'custom'` with `extract`. */
  readonly format: TokenFormat | 'custom';
  /** The position of this event in the stream's output, from 0. */
  readonly index: number;
  /** Whether the container flagged the token as special (only emitted with `includeSpecial`). */
  readonly special: boolean;
  /** Why generation stopped (`stop`, `length`, `eos_token`, ...), on the event that says so. */
  readonly finishReason?: string;
  /** Token counts, on the event that reports them. */
  readonly usage?: TokenUsage;
  /** The token's log probability, where the format reports it. */
  readonly logprob?: number;
}

/**
 * Like {@link tokens}, from the same parser, but emits {@link TokenEvent} objects: the text with
 * its format, position, special flag, log probability, and the finish reason and usage where the
 * container reports them. Events with no visible text are emitted only when they carry a finish
 * reason or usage (e.g. OpenAI's usage-only chunk).
 *
 * ```
 * source:   --'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\n'--|
 * result:   --{ text: 'Hi', format: 'openai-chat', index: 0, special: false, finishReason: 'stop' }--|
 * ```
 *
 * @example
 * ```ts
 * import { invoke$, tokenEvents } from 'rx-sagemaker';
 *
 * invoke$(client, { EndpointName: 'my-vllm', Body: { messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } } })
 *   .pipe(tokenEvents())
 *   .subscribe((e) => {
 *     if (e.text) process.stdout.write(e.text);
 *     if (e.usage) console.log(`\n${e.usage.completionTokens} tokens (${e.format})`);
 *   });
 * ```
 * @param config - see {@link TokensConfig}.
 * @returns an operator from `PayloadPart` bytes to token events.
 * @public
 */
export function tokenEvents(config: TokensConfig = {}): OperatorFunction<Uint8Array, TokenEvent> {
  const includeSpecial = config.includeSpecial ?? false;
  return (source) =>
    tokenStream<TokenEvent>(source, config, (subscriber) => {
      let index = 0;
      return (f, format) => {
        const text = visibleText(f, includeSpecial);
        const visible = text !== undefined;
        const hasUsage = f.promptTokens !== undefined || f.completionTokens !== undefined;
        if (!visible && f.finishReason === undefined && !hasUsage) return;
        const event: { -readonly [K in keyof TokenEvent]: TokenEvent[K] } = {
          text: visible ? text : '',
          format,
          index: index++,
          special: f.special,
        };
        if (f.finishReason !== undefined) event.finishReason = f.finishReason;
        if (hasUsage) {
          const usage: { promptTokens?: number; completionTokens?: number } = {};
          if (f.promptTokens !== undefined) usage.promptTokens = f.promptTokens;
          if (f.completionTokens !== undefined) usage.completionTokens = f.completionTokens;
          event.usage = usage;
        }
        if (f.logprob !== undefined) event.logprob = f.logprob;
        subscriber.next(event);
      };
    });
}
