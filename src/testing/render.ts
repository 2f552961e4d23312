/**
 * Renders text tokens as the exact body bytes that the common SageMaker LLM containers stream,
 * following `formats.md` (TGI, vLLM, LMI/DJL Serving, SGLang, Ollama, Bedrock-Titan style, plain
 * text). Pure: no rxjs, no I/O, no clock, no randomness; the same input always gives the same
 * output.
 */

/**
 * A container's streaming body format, named after the fixture of the same name in `formats.md`.
 *
 * | format | container and route | content type |
 * | --- | --- | --- |
 * | `tgi-sse` | TGI `generate_stream` (`inputs` + `stream`) | `text/event-stream` |
 * | `tgi-messages-sse` | TGI Messages API (`messages`) | `text/event-stream` |
 * | `tgi-completions-sse` | TGI completions (`prompt`) | `text/event-stream` |
 * | `openai-chat-sse` | vLLM / SGLang OpenAI chat | `text/event-stream` |
 * | `openai-completions-sse` | vLLM OpenAI completions | `text/event-stream` |
 * | `lmi-jsonlines` | LMI rolling batch, `jsonlines` (the default) | `application/jsonlines` |
 * | `lmi-sse` | LMI rolling batch, `sse` / `tgi_compat` | `text/event-stream` |
 * | `lmi-chat-jsonlines` | LMI rolling batch, `jsonlines_chat` | `application/jsonlines` |
 * | `lmi-sse-chat` | LMI rolling batch, `sse_chat` | `text/event-stream` |
 * | `lmi-async-chat-jsonlines` | LMI v17+ async mode, `messages` | `application/jsonlines` |
 * | `lmi-async-tgi-jsonlines` | LMI v17+ async mode, `inputs` | `application/jsonlines` |
 * | `lmi-outputs-legacy` | LMI dynamic/static batch, `{"outputs": [...]}` | `application/jsonlines` |
 * | `lmi-3p-jsonlines` | LMI `3p_stream` | `application/jsonlines` |
 * | `sglang-generate-sse` | SGLang native `/generate` (cumulative `text`) | `text/event-stream` |
 * | `ollama-generate-ndjson` | Ollama `/api/generate` | `application/x-ndjson` |
 * | `ollama-chat-ndjson` | Ollama `/api/chat` | `application/x-ndjson` |
 * | `bedrock-titan` | Titan-style `{"outputText": ...}` objects with no delimiter | `application/json` |
 * | `plain-text` | raw UTF-8 | `text/plain` |
 *
 * @example
 * ```ts
 * import { renderStream, type ContainerFormat } from 'rx-sagemaker/testing';
 *
 * const format: ContainerFormat = 'tgi-sse';
 * const { body } = renderStream(format, ['Hello', ' world']);
 * ```
 * @public
 */
export type ContainerFormat =
  | 'tgi-sse'
  | 'tgi-messages-sse'
  | 'tgi-completions-sse'
  | 'openai-chat-sse'
  | 'openai-completions-sse'
  | 'lmi-jsonlines'
  | 'lmi-sse'
  | 'lmi-chat-jsonlines'
  | 'lmi-sse-chat'
  | 'lmi-async-chat-jsonlines'
  | 'lmi-async-tgi-jsonlines'
  | 'lmi-outputs-legacy'
  | 'lmi-3p-jsonlines'
  | 'sglang-generate-sse'
  | 'ollama-generate-ndjson'
  | 'ollama-chat-ndjson'
  | 'bedrock-titan'
  | 'plain-text';

/**
 * Options of {@link renderStream}.
 *
 * @example
 * ```ts
 * import { renderStream, type RenderOptions } from 'rx-sagemaker/testing';
 *
 * const options: RenderOptions = { prompt: 'Q: ', usage: true, specialTokens: ['<|eot_id|>'] };
 * const { events } = renderStream('tgi-messages-sse', ['A', ': 42'], options);
 * ```
 * @public
 */
export interface RenderOptions {
  /**
   * The prompt, used where the format repeats it: TGI `generated_text` (`return_full_text` is on
   * by default on `/invocations`), LMI `details.inputs`. Its whitespace-separated word count is
   * the illustrative prompt token count.
   * @defaultValue `'Hello'`
   */
  readonly prompt?: string | undefined;
  /**
   * Ends the stream with the format's in-band error after the tokens, instead of its normal end:
   *
   * - TGI `generate_stream`: `data:{"error":message,"error_type":type}` (`type` defaults to
   *   `'generation'`);
   * - TGI Messages API and completions: `data:{"error":{"message":message,"http_status_code":422}}`
   *   then `data:[DONE]` (TGI hard-codes 422: `type` and `code` are not used);
   * - vLLM (`openai-*`): `data: {"error": {"message", "type", "param": null, "code"}}` (Python
   *   `json.dumps`, ASCII escapes; `type` defaults to `'InternalServerError'`, `code` to `500`)
   *   then `data: [DONE]`;
   * - LMI async: that vLLM error object as one line, with nothing after it;
   * - LMI rolling batch and legacy: the Java frontend's `{"error":message,"code":code}` (Gson,
   *   `code` defaults to `424`) with **no** trailing newline;
   * - SGLang native: `data: {"error":{"message":message}}` then `data: [DONE]`;
   * - Ollama: `{"error":message}` and a newline.
   *
   * `plain-text` and `bedrock-titan` have no in-band error channel: {@link renderStream} throws a
   * `RangeError` for them.
   * @defaultValue no error: the stream ends normally
   */
  readonly error?:
    | {
        readonly message: string;
        readonly type?: string | undefined;
        readonly code?: number | undefined;
      }
    | undefined;
  /**
   * Adds the usage chunk where the format makes it optional: the vLLM `choices: []` chunk
   * (`openai-chat-sse`, `openai-completions-sse`, `lmi-async-chat-jsonlines`) and the TGI
   * Messages API `choices: []` chunk. TGI completions always carry `usage` on their final chunk;
   * other formats have no usage chunk and ignore this.
   * @defaultValue `false`
   */
  readonly usage?: boolean | undefined;
  /**
   * Special tokens (EOS and the like) generated after the text tokens. Rendered where the
   * container shows them: TGI `generate_stream` events with `"special":true`, TGI Messages API
   * chunks with `"content":""`, TGI completions chunks with the raw text and no flag (TGI leaks
   * them there). The other containers decode with `skip_special_tokens` and render none of them.
   * @defaultValue `[]`
   */
  readonly specialTokens?: readonly string[] | undefined;
}

/**
 * A rendered response body: the text, the writes it is made of, and its content type.
 *
 * @example
 * ```ts
 * import { renderStream, startEmulator, type RenderedStream } from 'rx-sagemaker/testing';
 *
 * const rendered: RenderedStream = renderStream('openai-chat-sse', ['Hi', '!']);
 * const emulator = await startEmulator({
 *   endpoints: { llm: { parts: rendered.events, contentType: rendered.contentType } },
 * });
 * ```
 * @public
 */
export interface RenderedStream {
  /** The whole response body. */
  readonly body: string;
  /**
   * The body cut into the writes the container makes: one element per event or line as the server
   * writes it (LMI `sse_chat` writes its finishing chunk and `data: [DONE]` in one write). Their
   * concatenation is `body`.
   */
  readonly events: readonly string[];
  /** What SageMaker reports as `ContentType` for that container and formatter. */
  readonly contentType: string;
}

// ---------------------------------------------------------------------------------------------
// JSON writers: one per serializer the containers use. Objects keep insertion order, which is
// the wire order.

type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
interface JsonObject {
  readonly [key: string]: JsonValue;
}

interface JsonStyle {
  /** Between array items and object members. */
  readonly itemSeparator: string;
  /** Between a key and its value. */
  readonly keySeparator: string;
  /** A string literal, quotes included. */
  readonly quote: (text: string) => string;
}

const hex4 = (unit: number): string => `\\u${unit.toString(16).padStart(4, '0')}`;

/**
 * serde_json, pydantic `model_dump_json`, orjson, Python `json.dumps(ensure_ascii=False)`: raw
 * UTF-8; `"`, `\` and control characters escaped (`\n` etc., others `\u00xx`), as
 * `JSON.stringify` does.
 */
const quoteRaw = (text: string): string => JSON.stringify(text);

/**
 * Python `json.dumps` with the default `ensure_ascii=True`: everything outside printable ASCII
 * becomes `\uxxxx` (lowercase hex), characters beyond the BMP as a surrogate pair.
 */
const quotePythonAscii = (text: string): string => JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => hex4(c.charCodeAt(0)));

/** Go `encoding/json`: raw UTF-8, but `<`, `>`, `&`, U+2028 and U+2029 as `\u003c` etc. */
const quoteGo = (text: string): string => JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => hex4(c.charCodeAt(0)));

/**
 * Gson with its default HTML-safe escaping (DJL's `JsonUtils.GSON` is `new GsonBuilder().create()`):
 * `<`, `>`, `&`, `=`, `'`, U+2028 and U+2029 as `\u003c` etc.
 */
const quoteGson = (text: string): string => JSON.stringify(text).replace(/[<>&='\u2028\u2029]/g, (c) => hex4(c.charCodeAt(0)));

const COMPACT: JsonStyle = { itemSeparator: ',', keySeparator: ':', quote: quoteRaw };
const PYTHON: JsonStyle = { itemSeparator: ', ', keySeparator: ': ', quote: quoteRaw };
const PYTHON_ASCII: JsonStyle = { itemSeparator: ', ', keySeparator: ': ', quote: quotePythonAscii };
const GO: JsonStyle = { itemSeparator: ',', keySeparator: ':', quote: quoteGo };
const GSON: JsonStyle = { itemSeparator: ',', keySeparator: ':', quote: quoteGson };

function isJsonArray(value: readonly JsonValue[] | JsonObject): value is readonly JsonValue[] {
  return Array.isArray(value);
}

function writeJson(value: JsonValue, style: JsonStyle): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return style.quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError('renderStream: non-finite number in JSON');
      // Integers and the short dyadic floats used here print the same in JS, Python repr, ryu
      // (serde), Go and Gson.
      return String(value);
    default: {
      if (isJsonArray(value)) return `[${value.map((v) => writeJson(v, style)).join(style.itemSeparator)}]`;
      const members = Object.entries(value).map(([k, v]) => `${style.quote(k)}${style.keySeparator}${writeJson(v, style)}`);
      return `{${members.join(style.itemSeparator)}}`;
    }
  }
}

const compact = (value: JsonValue): string => writeJson(value, COMPACT);
const pythonDumps = (value: JsonValue): string => writeJson(value, PYTHON);
const pythonDumpsAscii = (value: JsonValue): string => writeJson(value, PYTHON_ASCII);
const goMarshal = (value: JsonValue): string => writeJson(value, GO);
const gsonToJson = (value: JsonValue): string => writeJson(value, GSON);

// ---------------------------------------------------------------------------------------------
// Framing

/** axum `Event::json_data`: `data:` with no space, then a blank line. */
const axumEvent = (json: string): string => `data:${json}\n\n`;
/** Python servers (vLLM, SGLang, LMI): `data: ` with one space, then a blank line. */
const sseEvent = (json: string): string => `data: ${json}\n\n`;
const line = (json: string): string => `${json}\n`;

// ---------------------------------------------------------------------------------------------
// Illustrative constants (from the `formats.md` fixtures)

const TGI_MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const TGI_FINGERPRINT = '3.1.2-dev0-native';
const TGI_CREATED = 1741373593;
const VLLM_MODEL = 'meta-llama/Meta-Llama-3-8B-Instruct';
const VLLM_CHAT_ID = 'chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b';
const VLLM_COMPLETION_ID = 'cmpl-3c1b5e7f9a2d4c6e8b0a1f3e5d7c9b1a';
const VLLM_CREATED = 1718345678;
const LMI_CHAT_ID = 'chatcmpl-140234567890123';
const LMI_CREATED = 1712792433;
const SGLANG_ID = '5f1c2b3a';
const OLLAMA_MODEL = 'llama3.2';
/** 2024-08-04T08:52:19-07:00, the Ollama fixture's first second. */
const OLLAMA_EPOCH_MS = Date.UTC(2024, 7, 4, 15, 52, 19);
const OLLAMA_FIRST_NANOS = 385_406_455;
const OLLAMA_STEP_NANOS = 36_114_271;
/** An illustrative EOS token id (`</s>` in Llama 2 and Mistral vocabularies). */
const EOS_ID = 2;
/** Exactly representable log-probabilities, so every serializer prints them alike. */
const LOGPROBS = [-0.03125, -0.25, -0.5625, -0.0078125, -1.125, -0.125, -2.5, -0.015625] as const;

// ---------------------------------------------------------------------------------------------
// The generation being rendered

interface RenderError {
  readonly message: string;
  readonly type: string | undefined;
  readonly code: number | undefined;
}

interface Generation {
  readonly texts: readonly string[];
  readonly specials: readonly string[];
  readonly prompt: string;
  readonly promptTokens: number;
  readonly error: RenderError | undefined;
  readonly usage: boolean;
}

interface Token {
  readonly id: number;
  readonly text: string;
  readonly logprob: number;
  readonly special: boolean;
}

/** A deterministic illustrative token id (FNV-1a of the text). */
function tokenId(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return 100 + (hash % 32000);
}

const logprobAt = (position: number): number => LOGPROBS[position % LOGPROBS.length] ?? -0.25;

function toTokens(texts: readonly string[], special: boolean, offset = 0): Token[] {
  return texts.map((text, i) => ({ id: tokenId(text), text, logprob: logprobAt(offset + i), special }));
}

/**
 * The token events of a format whose last token event carries the end marker. With no token at
 * all and no error, one empty-text token carries it (as a TGI byte-fallback piece or an EOS that
 * decodes to nothing would); with an error, no event is marked last.
 */
function plan(generation: Generation, tokens: readonly Token[]): { tokens: readonly Token[]; last: number } {
  if (generation.error) return { tokens, last: -1 };
  const list = tokens.length > 0 ? tokens : toTokens([''], false);
  return { tokens: list, last: list.length - 1 };
}

const textTokens = (g: Generation): Token[] => toTokens(g.texts, false);
const allTokens = (g: Generation): Token[] => [...toTokens(g.texts, false), ...toTokens(g.specials, true, g.texts.length)];
const joined = (g: Generation): string => g.texts.join('');

// ---------------------------------------------------------------------------------------------
// In-band errors

/** TGI `ErrorResponse { error, error_type }`. */
const tgiError = (e: RenderError): string => axumEvent(compact({ error: e.message, error_type: e.type ?? 'generation' }));

/** TGI `OpenaiErrorEvent { error: APIError { message, http_status_code } }`, then `[DONE]`. */
const tgiOpenAiError = (e: RenderError): string[] => [
  axumEvent(compact({ error: { message: e.message, http_status_code: 422 } })),
  'data:[DONE]\n\n',
];

/** vLLM `create_streaming_error_response`: `json.dumps` of `ErrorResponse(error=ErrorInfo(...))`. */
const vllmErrorJson = (e: RenderError): string =>
  pythonDumpsAscii({
    error: { message: e.message, type: e.type ?? 'InternalServerError', param: null, code: e.code ?? 500 },
  });

/** DJL Serving `Request.addResponse`: a Gson map replaces the chunk; no newline. */
const lmiJavaError = (e: RenderError): string => gsonToJson({ error: e.message, code: e.code ?? 424 });

// ---------------------------------------------------------------------------------------------
// Renderers, one per format

function renderTgiSse(g: Generation): string[] {
  const { tokens, last } = plan(g, allTokens(g));
  const events = tokens.map((t, i) =>
    axumEvent(
      compact({
        index: i + 1,
        token: { id: t.id, text: t.text, logprob: t.logprob, special: t.special },
        generated_text: i === last ? g.prompt + joined(g) : null,
        details:
          i === last
            ? {
                finish_reason: t.special ? 'eos_token' : 'length',
                generated_tokens: tokens.length,
                seed: null,
                input_length: g.promptTokens,
              }
            : null,
      }),
    ),
  );
  if (g.error) events.push(tgiError(g.error));
  return events;
}

function renderTgiMessagesSse(g: Generation): string[] {
  const { tokens, last } = plan(g, allTokens(g));
  const chunk = (choices: JsonValue, usage: JsonValue): string =>
    axumEvent(
      compact({
        object: 'chat.completion.chunk',
        id: '',
        created: TGI_CREATED,
        model: TGI_MODEL,
        system_fingerprint: TGI_FINGERPRINT,
        choices,
        usage,
      }),
    );
  const events = tokens.map((t, i) =>
    chunk(
      [
        {
          index: 0,
          delta: { role: 'assistant', content: t.special ? '' : t.text },
          logprobs: null,
          finish_reason: i === last ? (t.special ? 'stop' : 'length') : null,
        },
      ],
      null,
    ),
  );
  if (g.error) return [...events, ...tgiOpenAiError(g.error)];
  if (g.usage) {
    const completion = tokens.length;
    events.push(chunk([], { prompt_tokens: g.promptTokens, completion_tokens: completion, total_tokens: g.promptTokens + completion }));
  }
  events.push('data:[DONE]\n\n');
  return events;
}

function renderTgiCompletionsSse(g: Generation): string[] {
  const { tokens, last } = plan(g, allTokens(g));
  const events = tokens.map((t, i) => {
    if (i !== last) {
      return axumEvent(
        compact({
          object: 'text_completion',
          id: '',
          created: TGI_CREATED,
          choices: [{ index: 0, text: t.text, logprobs: null, finish_reason: '' }],
          model: TGI_MODEL,
          system_fingerprint: TGI_FINGERPRINT,
        }),
      );
    }
    return axumEvent(
      compact({
        object: 'text_completion',
        id: '',
        created: TGI_CREATED,
        model: TGI_MODEL,
        system_fingerprint: TGI_FINGERPRINT,
        choices: [{ index: 0, text: t.text, logprobs: null, finish_reason: t.special ? 'eos_token' : 'length' }],
        usage: { prompt_tokens: g.promptTokens, completion_tokens: tokens.length, total_tokens: g.promptTokens + tokens.length },
      }),
    );
  });
  if (g.error) return [...events, ...tgiOpenAiError(g.error)];
  events.push('data:[DONE]\n\n');
  return events;
}

/**
 * vLLM chat chunks (`model_dump_json(exclude_unset=True)`): the role chunk, one chunk per token,
 * the finishing chunk (the EOS, skipped as special, leaves `content: ""`), the optional usage
 * chunk. With an error, the chunks so far and the error object instead of the finish.
 */
function vllmChatChunks(g: Generation): { chunks: string[]; error: string | undefined } {
  const head = { id: VLLM_CHAT_ID, object: 'chat.completion.chunk', created: VLLM_CREATED, model: VLLM_MODEL };
  const chunks: string[] = [];
  // The role chunk goes out with the first output; an error before any output has none.
  if (g.texts.length > 0 || !g.error) {
    chunks.push(
      compact({
        ...head,
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      }),
    );
  }
  for (const text of g.texts) {
    chunks.push(compact({ ...head, choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] }));
  }
  if (g.error) return { chunks, error: vllmErrorJson(g.error) };
  chunks.push(
    compact({
      ...head,
      choices: [{ index: 0, delta: { content: '' }, logprobs: null, finish_reason: 'stop', stop_reason: null }],
    }),
  );
  if (g.usage) chunks.push(compact({ ...head, choices: [], usage: vllmUsage(g) }));
  return { chunks, error: undefined };
}

/** `UsageInfo` field order; the EOS counts as a completion token. */
function vllmUsage(g: Generation): JsonObject {
  const completion = g.texts.length + 1;
  return { prompt_tokens: g.promptTokens, total_tokens: g.promptTokens + completion, completion_tokens: completion };
}

function renderOpenAiChatSse(g: Generation): string[] {
  const { chunks, error } = vllmChatChunks(g);
  return [...chunks.map(sseEvent), ...(error === undefined ? [] : [sseEvent(error)]), 'data: [DONE]\n\n'];
}

function renderOpenAiCompletionsSse(g: Generation): string[] {
  const head = { id: VLLM_COMPLETION_ID, object: 'text_completion', created: VLLM_CREATED, model: VLLM_MODEL };
  const choice = (text: string, finish: string | null): JsonObject => ({
    index: 0,
    text,
    logprobs: null,
    finish_reason: finish,
    stop_reason: null,
  });
  const events = g.texts.map((text) => sseEvent(compact({ ...head, choices: [choice(text, null)] })));
  if (g.error) {
    events.push(sseEvent(vllmErrorJson(g.error)));
  } else {
    events.push(sseEvent(compact({ ...head, choices: [choice('', 'stop')] })));
    if (g.usage) events.push(sseEvent(compact({ ...head, choices: [], usage: vllmUsage(g) })));
  }
  events.push('data: [DONE]\n\n');
  return events;
}

/** `_jsonlines_output_formatter` objects (`as_dict` with `log_prob`, or `as_tgi_dict` with `logprob`). */
function lmiTokenObjects(g: Generation, logprobKey: 'log_prob' | 'logprob'): JsonObject[] {
  const { tokens, last } = plan(g, textTokens(g));
  return tokens.map((t, i) => {
    const token = { id: t.id, text: t.text, [logprobKey]: t.logprob };
    if (i !== last) return { token };
    return {
      token,
      generated_text: joined(g),
      details: { finish_reason: 'length', generated_tokens: tokens.length, inputs: g.prompt },
    };
  });
}

function renderLmiJsonlines(g: Generation): string[] {
  const events = lmiTokenObjects(g, 'log_prob').map((o) => line(pythonDumps(o)));
  if (g.error) events.push(lmiJavaError(g.error));
  return events;
}

function renderLmiSse(g: Generation): string[] {
  // `sse_response_formatter`: f"data: {jsonline}\n", where the jsonline ends in "\n".
  const events = lmiTokenObjects(g, 'logprob').map((o) => sseEvent(pythonDumps(o)));
  if (g.error) events.push(lmiJavaError(g.error));
  return events;
}

/** `_jsonlines_chat_output_formatter` objects: role after content on the first token only. */
function lmiChatObjects(g: Generation): JsonObject[] {
  const { tokens, last } = plan(g, textTokens(g));
  return tokens.map((t, i) => ({
    id: LMI_CHAT_ID,
    object: 'chat.completion.chunk',
    created: LMI_CREATED,
    choices: [
      {
        index: 0,
        delta: i === 0 ? { content: t.text, role: 'assistant' } : { content: t.text },
        logprobs: null,
        finish_reason: i === last ? 'length' : null,
      },
    ],
  }));
}

function renderLmiChatJsonlines(g: Generation): string[] {
  const events = lmiChatObjects(g).map((o) => line(pythonDumps(o)));
  if (g.error) events.push(lmiJavaError(g.error));
  return events;
}

function renderLmiSseChat(g: Generation): string[] {
  const objects = lmiChatObjects(g);
  const events = objects.map((o, i) => {
    const event = sseEvent(pythonDumps(o));
    // The finishing chunk and `[DONE]` leave in the same write.
    return !g.error && i === objects.length - 1 ? `${event}data: [DONE]\n\n` : event;
  });
  if (g.error) events.push(lmiJavaError(g.error));
  return events;
}

function renderLmiAsyncChatJsonlines(g: Generation): string[] {
  // `vllm_stream_output_formatter`: chunk[6:].strip(), then "\n"; `[DONE]` becomes a blank line.
  const { chunks, error } = vllmChatChunks(g);
  const events = chunks.map(line);
  if (error !== undefined) return [...events, line(error)];
  events.push('\n');
  return events;
}

function renderLmiAsyncTgiJsonlines(g: Generation): string[] {
  const tokenLine = (t: Token, generatedText: string | null): string =>
    line(
      pythonDumps({
        index: 0,
        token: { id: t.id, text: t.text, logprob: t.logprob },
        generated_text: generatedText,
        details: null,
      }),
    );
  const events = textTokens(g).map((t) => tokenLine(t, null));
  if (g.error) return [...events, line(vllmErrorJson(g.error))];
  // The EOS arrives as text "" and carries generated_text; the usage-only chunk and `[DONE]`
  // each become a blank line.
  const eos: Token = { id: EOS_ID, text: '', logprob: logprobAt(g.texts.length), special: false };
  events.push(tokenLine(eos, joined(g)), '\n', '\n');
  return events;
}

function renderLmiOutputsLegacy(g: Generation): string[] {
  const events = g.texts.map((text) => line(pythonDumpsAscii({ outputs: [text] })));
  if (g.error) events.push(lmiJavaError(g.error));
  return events;
}

function renderLmi3pJsonlines(g: Generation): string[] {
  const { tokens, last } = plan(g, textTokens(g));
  const events = tokens.map((t, i) => {
    const first = i === 0;
    const count = i + 1;
    return line(
      pythonDumps({
        body: {
          generation: t.text,
          prompt_token_count: first ? g.promptTokens : null,
          generation_token_count: count,
          stop_reason: i === last ? 'length' : null,
        },
        metering: first ? { outputTokenCount: count, inputTokenCount: g.promptTokens } : { outputTokenCount: count },
        content_type: 'application/jsonlines',
      }),
    );
  });
  if (g.error) events.push(lmiJavaError(g.error));
  return events;
}

function renderSglangGenerateSse(g: Generation): string[] {
  const event = (text: string, finish: JsonValue, completionTokens: number): string =>
    sseEvent(
      compact({
        text,
        meta_info: {
          id: SGLANG_ID,
          finish_reason: finish,
          prompt_tokens: g.promptTokens,
          completion_tokens: completionTokens,
          cached_tokens: 0,
        },
      }),
    );
  let text = '';
  const events = g.texts.map((t, i) => {
    text += t;
    return event(text, null, i + 1);
  });
  if (g.error) {
    events.push(sseEvent(compact({ error: { message: g.error.message } })));
  } else {
    // The EOS step: `text` unchanged (special tokens are skipped), finish_reason set.
    events.push(event(text, { type: 'stop', matched: EOS_ID }, g.texts.length + 1));
  }
  events.push('data: [DONE]\n\n');
  return events;
}

/** Go `time.Time` JSON (RFC 3339 with nanoseconds, trailing zeros trimmed), one step per item. */
function ollamaTimestamp(step: number): string {
  const total = OLLAMA_FIRST_NANOS + step * OLLAMA_STEP_NANOS;
  const seconds = Math.floor(total / 1e9);
  const nanos = total - seconds * 1e9;
  const whole = new Date(OLLAMA_EPOCH_MS + seconds * 1000).toISOString().slice(0, 19);
  const fraction = nanos === 0 ? '' : `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
  return `${whole}${fraction}Z`;
}

const OLLAMA_STATS = {
  total_duration: 4883583458,
  load_duration: 1334875,
  prompt_eval_duration: 342546000,
  eval_duration: 4535599000,
} as const;

function renderOllamaGenerateNdjson(g: Generation): string[] {
  const events = g.texts.map((text, i) =>
    line(goMarshal({ model: OLLAMA_MODEL, created_at: ollamaTimestamp(i), response: text, done: false })),
  );
  if (g.error) {
    events.push(line(goMarshal({ error: g.error.message })));
    return events;
  }
  events.push(
    line(
      goMarshal({
        model: OLLAMA_MODEL,
        created_at: ollamaTimestamp(g.texts.length),
        response: '',
        done: true,
        done_reason: 'stop',
        context: textTokens(g).map((t) => t.id),
        total_duration: OLLAMA_STATS.total_duration,
        load_duration: OLLAMA_STATS.load_duration,
        prompt_eval_count: g.promptTokens,
        prompt_eval_duration: OLLAMA_STATS.prompt_eval_duration,
        eval_count: g.texts.length,
        eval_duration: OLLAMA_STATS.eval_duration,
      }),
    ),
  );
  return events;
}

function renderOllamaChatNdjson(g: Generation): string[] {
  const events = g.texts.map((text, i) =>
    line(
      goMarshal({
        model: OLLAMA_MODEL,
        created_at: ollamaTimestamp(i),
        message: { role: 'assistant', content: text },
        done: false,
      }),
    ),
  );
  if (g.error) {
    events.push(line(goMarshal({ error: g.error.message })));
    return events;
  }
  events.push(
    line(
      goMarshal({
        model: OLLAMA_MODEL,
        created_at: ollamaTimestamp(g.texts.length),
        message: { role: 'assistant', content: '' },
        done: true,
        done_reason: 'stop',
        total_duration: OLLAMA_STATS.total_duration,
        load_duration: OLLAMA_STATS.load_duration,
        prompt_eval_count: g.promptTokens,
        prompt_eval_duration: OLLAMA_STATS.prompt_eval_duration,
        eval_count: g.texts.length,
        eval_duration: OLLAMA_STATS.eval_duration,
      }),
    ),
  );
  return events;
}

function renderBedrockTitan(g: Generation): string[] {
  const { tokens, last } = plan(g, textTokens(g));
  return tokens.map((t, i) =>
    compact({
      outputText: t.text,
      index: i,
      totalOutputTextTokenCount: i === last ? tokens.length : null,
      completionReason: i === last ? 'FINISHED' : null,
      inputTextTokenCount: i === 0 ? g.promptTokens : null,
    }),
  );
}

function renderPlainText(g: Generation): string[] {
  // An empty write sends nothing.
  return g.texts.filter((text) => text !== '');
}

// ---------------------------------------------------------------------------------------------
// Dispatch

interface FormatSpec {
  readonly contentType: string;
  /** False when the format has no in-band error channel. */
  readonly inBandErrors: boolean;
  readonly render: (generation: Generation) => string[];
}

const EVENT_STREAM = 'text/event-stream';
const JSONLINES = 'application/jsonlines';
const NDJSON = 'application/x-ndjson';

const FORMATS: Readonly<Record<ContainerFormat, FormatSpec>> = {
  'tgi-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderTgiSse },
  'tgi-messages-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderTgiMessagesSse },
  'tgi-completions-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderTgiCompletionsSse },
  'openai-chat-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderOpenAiChatSse },
  'openai-completions-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderOpenAiCompletionsSse },
  'lmi-jsonlines': { contentType: JSONLINES, inBandErrors: true, render: renderLmiJsonlines },
  'lmi-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderLmiSse },
  'lmi-chat-jsonlines': { contentType: JSONLINES, inBandErrors: true, render: renderLmiChatJsonlines },
  'lmi-sse-chat': { contentType: EVENT_STREAM, inBandErrors: true, render: renderLmiSseChat },
  'lmi-async-chat-jsonlines': { contentType: JSONLINES, inBandErrors: true, render: renderLmiAsyncChatJsonlines },
  'lmi-async-tgi-jsonlines': { contentType: JSONLINES, inBandErrors: true, render: renderLmiAsyncTgiJsonlines },
  'lmi-outputs-legacy': { contentType: JSONLINES, inBandErrors: true, render: renderLmiOutputsLegacy },
  'lmi-3p-jsonlines': { contentType: JSONLINES, inBandErrors: true, render: renderLmi3pJsonlines },
  'sglang-generate-sse': { contentType: EVENT_STREAM, inBandErrors: true, render: renderSglangGenerateSse },
  'ollama-generate-ndjson': { contentType: NDJSON, inBandErrors: true, render: renderOllamaGenerateNdjson },
  'ollama-chat-ndjson': { contentType: NDJSON, inBandErrors: true, render: renderOllamaChatNdjson },
  'bedrock-titan': { contentType: 'application/json', inBandErrors: false, render: renderBedrockTitan },
  'plain-text': { contentType: 'text/plain', inBandErrors: false, render: renderPlainText },
};

/**
 * Every {@link ContainerFormat}, in the order of the table in its documentation.
 *
 * @example
 * ```ts
 * import { CONTAINER_FORMATS, renderStream } from 'rx-sagemaker/testing';
 *
 * for (const format of CONTAINER_FORMATS) {
 *   const { body } = renderStream(format, ['Hello', ' 🦙']);
 *   // feed body to the code under test...
 * }
 * ```
 * @public
 */
export const CONTAINER_FORMATS: readonly ContainerFormat[] = Object.freeze(Object.keys(FORMATS) as ContainerFormat[]);

/** Illustrative prompt token count: whitespace-separated words, at least 1. */
const countPromptTokens = (prompt: string): number => Math.max(1, prompt.split(/\s+/).filter((w) => w !== '').length);

/**
 * Renders text tokens as the exact body a given container streams for them, as described in
 * `formats.md`: field order, separators (`", "` / `": "` for Python `json.dumps`, compact
 * elsewhere), escaping (Python `ensure_ascii` `\uXXXX` with surrogate pairs, Go and Gson `\u003c`),
 * `data:` with or without a space, end markers (`[DONE]`, final `generated_text`, `done: true`,
 * blank lines) and in-band errors. The final events that repeat the whole text (TGI and LMI
 * `generated_text`, SGLang's cumulative `text`) are rendered as the containers send them: a
 * correct parser emits the tokens and nothing more. Ids, timestamps, model names and
 * log-probabilities are fixed illustrative values, so the output is deterministic.
 *
 * Formats whose last token event carries the end marker (TGI, LMI rolling batch, Titan) render
 * one empty-text token when `tokens` is empty (and there is no `error`). With `error`, the stream
 * has no normal end: the error follows the tokens (then `[DONE]` for vLLM, TGI chat and
 * completions, and SGLang).
 *
 * @example
 * ```ts
 * import { renderStream, startEmulator } from 'rx-sagemaker/testing';
 *
 * const { events, contentType } = renderStream('tgi-sse', ['Hello', ' 日本', ' 🦙'], {
 *   specialTokens: ['</s>'],
 * });
 * // events[0] === 'data:{"index":1,"token":{"id":…,"text":"Hello",…,"special":false},"generated_text":null,"details":null}\n\n'
 * const emulator = await startEmulator({ endpoints: { tgi: { parts: events, contentType } } });
 * ```
 * @param format - the container format to render.
 * @param tokens - the text tokens, in order (may contain `""`, which the formats carry as an
 *   empty-text token, except `plain-text`, where an empty write sends nothing).
 * @param options - the prompt, an in-band error, usage and special tokens.
 * @returns the body, the writes it is made of (`events.join('') === body`) and its content type.
 * @throws RangeError when `options.error` is set for `plain-text` or `bedrock-titan`, which have
 *   no in-band error channel.
 * @public
 */
export function renderStream(format: ContainerFormat, tokens: readonly string[], options: RenderOptions = {}): RenderedStream {
  const spec = FORMATS[format];
  const error = options.error;
  if (error !== undefined && !spec.inBandErrors) {
    throw new RangeError(`renderStream: the '${format}' format has no in-band error channel`);
  }
  const prompt = options.prompt ?? 'Hello';
  const generation: Generation = {
    texts: [...tokens],
    specials: [...(options.specialTokens ?? [])],
    prompt,
    promptTokens: countPromptTokens(prompt),
    error: error === undefined ? undefined : { message: error.message, type: error.type, code: error.code },
    usage: options.usage ?? false,
  };
  const events = Object.freeze(spec.render(generation));
  return { body: events.join(''), events, contentType: spec.contentType };
}
