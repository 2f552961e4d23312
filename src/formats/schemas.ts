import { SageMakerStreamError, type SageMakerStreamErrorKind } from '../errors/SageMakerStreamError.js';
import { buildMessage, safeDetail } from '../internal/classify.js';

/**
 * The payload schemas `tokens()` recognises, by the keys of each JSON value:
 *
 * | name | containers | keys |
 * | --- | --- | --- |
 * | `tgi` | TGI `generate_stream`, LMI `tgi_compat`, LMI async `inputs` | `token` + `special`/`logprob` |
 * | `lmi` | LMI / DJL Serving jsonlines and `sse` | `token` + `log_prob` |
 * | `openai-chat` | vLLM, SGLang, TGI Messages API, LMI chat (jsonlines, sse_chat, async) | `choices[].delta` |
 * | `openai-completion` | vLLM and TGI completions | `choices[].text` |
 * | `lmi-outputs` | legacy LMI (DeepSpeed, HF Accelerate) | `outputs: [...]` |
 * | `lmi-3p` | LMI `3p_stream` | `body.generation` |
 * | `sglang` | SGLang native `/generate` (cumulative text) | `text` + `meta_info` |
 * | `ollama` | Ollama-style NDJSON | `done` + `message`/`response` |
 * | `bedrock` | Bedrock Titan-style | `outputText` |
 * | `generated-text` | a non-streaming answer (`{"generated_text"}` or `[{"generated_text"}]`) | `generated_text` alone |
 * | `relay` | rx-sagemaker's own relay events (`toMessageEvent()` from NestJS, read back in a page) | `text` (+ `special`, `finishReason`, `usage`, `logprob`) |
 * | `text` | plain text (custom containers) | — |
 *
 * @example
 * ```ts
 * import { invoke$, tokens, type TokenFormat } from 'rx-sagemaker';
 *
 * // the container is known to be LMI (jsonlines): skip detection
 * const format: TokenFormat = 'lmi';
 * invoke$(client, { EndpointName: 'my-lmi', Body: { inputs: 'Hi', parameters: { max_new_tokens: 64 } } })
 *   .pipe(tokens({ format }))
 *   .subscribe((t) => process.stdout.write(t));
 * ```
 * @public
 */
export type TokenFormat =
  | 'tgi'
  | 'lmi'
  | 'openai-chat'
  | 'openai-completion'
  | 'lmi-outputs'
  | 'lmi-3p'
  | 'sglang'
  | 'ollama'
  | 'bedrock'
  | 'generated-text'
  | 'relay'
  | 'text';

/**
 * Every {@link TokenFormat}, in detection order.
 *
 * @example
 * ```ts
 * import { invoke$, tokens, TOKEN_FORMATS, type TokenFormat } from 'rx-sagemaker';
 *
 * // a format setting (CLI flag, settings menu) that accepts known names only
 * function parseFormat(name: string): TokenFormat | undefined {
 *   return TOKEN_FORMATS.find((format) => format === name);
 * }
 * invoke$(client, input).pipe(tokens({ format: parseFormat(setting) })).subscribe((t) => process.stdout.write(t));
 * ```
 * @public
 */
export const TOKEN_FORMATS: readonly TokenFormat[] = [
  'tgi',
  'lmi',
  'openai-chat',
  'openai-completion',
  'lmi-outputs',
  'lmi-3p',
  'sglang',
  'ollama',
  'bedrock',
  'generated-text',
  'relay',
  'text',
];

/** What an extractor fills in for one value; reused between values to avoid allocation. @internal */
export interface Fields {
  /** The token text; `undefined` when the value carries none. */
  text: string | undefined;
  special: boolean;
  finishReason: string | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  logprob: number | undefined;
}

/** A `Fields` with nothing in it, for a parser to reuse between values. @internal */
export function emptyFields(): Fields {
  return {
    text: undefined,
    special: false,
    finishReason: undefined,
    promptTokens: undefined,
    completionTokens: undefined,
    logprob: undefined,
  };
}

/** Per-stream state and options of the extractors. @internal */
export interface ExtractState {
  readonly choiceIndex: number;
  /**
   * Only `text` and `special` are read (`tokens()`): the hot extractors then skip the finish
   * reason, usage and log-probability, and the other fields may be left from an earlier value.
   */
  readonly textOnly: boolean;
  /** The cumulative text seen so far (SGLang). */
  previous: string;
}

type Obj = Record<string, unknown>;
/** Fills `f` from one JSON object of the stream. @internal */
export type Extractor = (o: Obj, f: Fields, state: ExtractState) => void;

/** A plain JSON object (not an array). @internal */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function reason(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (isObj(v) && typeof v['type'] === 'string') return v['type']; // SGLang: {"type": "length", ...}
  return undefined;
}

/** `{"token": {...}}`: TGI (`special`, `logprob`) and LMI (`special_token`, `log_prob`). */
const token: Extractor = (o, f, state) => {
  const t = o['token'];
  if (isObj(t)) {
    const text = t['text'];
    if (typeof text === 'string') f.text = text;
    f.special = t['special'] === true || t['special_token'] === true;
  }
  if (!state.textOnly) tokenDetails(o, t, f);
};

/** The rest of a `{"token": {...}}` value: log-probability, finish reason and usage. */
function tokenDetails(o: Obj, t: unknown, f: Fields): void {
  if (isObj(t)) f.logprob = num(t['logprob']) ?? num(t['log_prob']);
  const details = o['details'];
  if (isObj(details)) {
    f.finishReason = reason(details['finish_reason']);
    f.completionTokens = num(details['generated_tokens']);
    f.promptTokens = num(details['input_length']);
  }
}

/** OpenAI chat and completion chunks: `choices[i].delta.content` or `choices[i].text`, plus `usage`. */
const openai: Extractor = (o, f, state) => {
  const choices = o['choices'];
  if (Array.isArray(choices)) {
    for (const c of choices) {
      if (!isObj(c) || (num(c['index']) ?? 0) !== state.choiceIndex) continue;
      const delta = c['delta'];
      const text = isObj(delta) ? delta['content'] : c['text'];
      if (typeof text === 'string') f.text = text;
      if (state.textOnly) return;
      f.finishReason = reason(c['finish_reason']);
      let lp = c['logprobs'];
      if (Array.isArray(lp)) lp = lp[0]; // LMI chat wraps it in a one-element list
      if (isObj(lp) && Array.isArray(lp['content']) && isObj(lp['content'][0])) f.logprob = num(lp['content'][0]['logprob']);
      break;
    }
  }
  const usage = o['usage'];
  if (isObj(usage)) {
    f.promptTokens = num(usage['prompt_tokens']);
    f.completionTokens = num(usage['completion_tokens']);
  }
};

/** Legacy LMI `{"outputs": ["..."]}`: one entry per prompt of a batch. */
const outputs: Extractor = (o, f, state) => {
  const list = o['outputs'];
  if (Array.isArray(list)) {
    const text: unknown = list[state.choiceIndex];
    if (typeof text === 'string') f.text = text;
  }
};

/** LMI `3p_stream`: `{"body": {"generation", "stop_reason", ...}}`. */
const threeP: Extractor = (o, f) => {
  const body = o['body'];
  if (!isObj(body)) return;
  if (typeof body['generation'] === 'string') f.text = body['generation'];
  f.finishReason = reason(body['stop_reason']);
  if (f.finishReason !== undefined) {
    f.promptTokens = num(body['prompt_token_count']);
    f.completionTokens = num(body['generation_token_count']);
  }
};

/** SGLang native: cumulative `text`; emits only what is new since the previous event. */
const sglang: Extractor = (o, f, state) => {
  const text = o['text'];
  if (typeof text === 'string') {
    f.text = text.startsWith(state.previous) ? text.slice(state.previous.length) : text;
    state.previous = text;
  }
  const meta = o['meta_info'];
  if (isObj(meta)) {
    f.finishReason = reason(meta['finish_reason']);
    if (f.finishReason !== undefined) {
      f.promptTokens = num(meta['prompt_tokens']);
      f.completionTokens = num(meta['completion_tokens']);
    }
  }
};

/** Ollama NDJSON: `message.content` (`/api/chat`) or `response` (`/api/generate`). */
const ollama: Extractor = (o, f) => {
  const message = o['message'];
  const text = isObj(message) ? message['content'] : o['response'];
  if (typeof text === 'string') f.text = text;
  if (o['done'] === true) {
    f.finishReason = reason(o['done_reason']) ?? 'stop';
    f.promptTokens = num(o['prompt_eval_count']);
    f.completionTokens = num(o['eval_count']);
  }
};

/** Bedrock Titan-style `{"outputText", "completionReason", ...}`. */
const bedrock: Extractor = (o, f) => {
  if (typeof o['outputText'] === 'string') f.text = o['outputText'];
  f.finishReason = reason(o['completionReason']);
  if (f.finishReason !== undefined) {
    f.promptTokens = num(o['inputTextTokenCount']);
    f.completionTokens = num(o['totalOutputTextTokenCount']);
  }
};

/** A non-streaming answer: the whole text once. */
const generatedText: Extractor = (o, f) => {
  if (typeof o['generated_text'] === 'string') f.text = o['generated_text'];
};

/** rx-sagemaker's relay events: a `TokenEvent` (or `{ text }`) as `toMessageEvent()` sends it. */
const relay: Extractor = (o, f) => {
  if (typeof o['text'] === 'string') f.text = o['text'];
  f.special = o['special'] === true;
  if (typeof o['finishReason'] === 'string') f.finishReason = o['finishReason'];
  const usage = o['usage'];
  if (isObj(usage)) {
    f.promptTokens = num(usage['promptTokens']);
    f.completionTokens = num(usage['completionTokens']);
  }
  f.logprob = num(o['logprob']);
};

/** The extractor of each JSON format. @internal */
export const EXTRACTORS: Readonly<Record<Exclude<TokenFormat, 'text'>, Extractor>> = {
  tgi: token,
  lmi: token,
  'openai-chat': openai,
  'openai-completion': openai,
  'lmi-outputs': outputs,
  'lmi-3p': threeP,
  sglang,
  ollama,
  bedrock,
  'generated-text': generatedText,
  relay,
};

/**
 * Classifies one JSON object by its keys (formats.md §1, stage B), or `undefined` when it proves
 * nothing (an error object, a usage-only chunk, an unknown shape).
 *
 * @internal
 */
export function detectFormat(o: Obj): Exclude<TokenFormat, 'text'> | undefined {
  const t = o['token'];
  if (isObj(t)) return 'log_prob' in t ? 'lmi' : 'tgi';
  const choices = o['choices'];
  if (Array.isArray(choices)) {
    if (o['object'] === 'chat.completion.chunk') return 'openai-chat';
    if (o['object'] === 'text_completion') return 'openai-completion';
    const first: unknown = choices[0];
    if (!isObj(first)) return undefined; // usage-only chunk: wait for one with a choice
    return 'delta' in first ? 'openai-chat' : 'openai-completion';
  }
  if (Array.isArray(o['outputs'])) return 'lmi-outputs';
  if (isObj(o['body']) && 'generation' in o['body']) return 'lmi-3p';
  if (typeof o['text'] === 'string' && isObj(o['meta_info'])) return 'sglang';
  if ('outputText' in o) return 'bedrock';
  if (typeof o['done'] === 'boolean' && ('message' in o || 'response' in o)) return 'ollama';
  if (typeof o['generated_text'] === 'string') return 'generated-text';
  if (typeof o['text'] === 'string') return 'relay';
  return undefined;
}

function modelError(detail: string, errorCode: string | undefined, statusCode: number | undefined): SageMakerStreamError {
  return new SageMakerStreamError({
    kind: 'model',
    message: buildMessage('model', { code: errorCode, detail: safeDetail(detail) }),
    errorCode,
    statusCode,
    afterFirstByte: true,
  });
}

const KINDS: ReadonlySet<string> = new Set<SageMakerStreamErrorKind>([
  'model-stream',
  'internal-stream-failure',
  'model',
  'validation',
  'throttling',
  'service-unavailable',
  'internal-failure',
  'model-not-ready',
  'network',
  'timeout',
  'decode',
  'aborted',
  'unknown',
]);

/**
 * The error carried by an SSE `event: error`: rx-sagemaker's relay error event
 * (`{"kind", "message", "retryable"}`, as `toMessageEvent({ errorEvent: true })` sends it) keeps
 * its kind; any other payload becomes a `model` error with the payload as its message.
 *
 * @internal
 */
export function errorEventError(data: string): SageMakerStreamError {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    value = undefined;
  }
  if (isObj(value) && typeof value['kind'] === 'string' && KINDS.has(value['kind']) && typeof value['message'] === 'string') {
    return new SageMakerStreamError({
      kind: value['kind'] as SageMakerStreamErrorKind,
      message: safeDetail(value['message']),
      retryable: value['retryable'] === true,
      afterFirstByte: true,
    });
  }
  const err = isObj(value) ? inBandError(value) : undefined;
  return err ?? modelError(data, undefined, undefined);
}

/**
 * Recognises an error object a container wrote into the stream:
 * - TGI `{"error": "...", "error_type": "validation"}`;
 * - LMI `{"error": "...", "code": 424}`, Ollama `{"error": "..."}`;
 * - OpenAI-style `{"error": {"message", "type", "code"}}` (vLLM, SGLang) and TGI chat's
 *   `{"error": {"message", "http_status_code"}}`;
 * - LMI `3p_stream`'s `"error": {"error_code", "error_msg"}`;
 * - LMI's error token `{"token": {..., "error_msg"}}` or `details.finish_reason == "error"`.
 *
 * @internal
 */
export function inBandError(o: Obj): SageMakerStreamError | undefined {
  // Checked once per value, so the common answer ("no error") is kept short: only an object with
  // an `error` member, an error token or an error finish reason goes on to read the error.
  if (o['error'] === undefined) {
    const t = o['token'];
    const details = o['details'];
    if (
      (typeof t !== 'object' || t === null || (t as Obj)['error_msg'] === undefined) &&
      (typeof details !== 'object' || details === null || (details as Obj)['finish_reason'] !== 'error')
    ) {
      return undefined;
    }
  }
  return readInBandError(o);
}

function readInBandError(o: Obj): SageMakerStreamError | undefined {
  const err = o['error'];
  if (typeof err === 'string') {
    const type = typeof o['error_type'] === 'string' ? o['error_type'] : undefined;
    return modelError(err, type, num(o['code']));
  }
  if (isObj(err)) {
    const message = err['message'] ?? err['error_msg'];
    const type = typeof err['type'] === 'string' ? err['type'] : undefined;
    const code = num(err['code']) ?? num(err['http_status_code']) ?? num(err['error_code']);
    return modelError(typeof message === 'string' ? message : JSON.stringify(err), type, code);
  }
  const t = o['token'];
  if (isObj(t) && typeof t['error_msg'] === 'string') return modelError(t['error_msg'], undefined, undefined);
  const details = o['details'];
  if (isObj(details) && details['finish_reason'] === 'error') return modelError('the generation failed', undefined, undefined);
  return undefined;
}
