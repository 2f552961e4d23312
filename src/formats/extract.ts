import { SageMakerStreamError } from '../errors/SageMakerStreamError.js';
import { buildMessage, safeDetail } from '../internal/classify.js';

/** Options the extractors read. @internal */
export interface ExtractOptions {
  readonly includeSpecial: boolean;
  readonly choiceIndex: number;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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

/**
 * Recognises an error object a container wrote into the stream:
 * - TGI `{"error": "...", "error_type": "validation"}`;
 * - LMI `{"error": "...", "code": 424}`, Ollama `{"error": "..."}`;
 * - OpenAI-style `{"error": {"message": "...", "type": "...", "code": 500}}` (vLLM, TGI chat, SGLang);
 * - LMI's error token `{"token": {..., "error_msg": "..."}}` or `details.finish_reason == "error"`.
 *
 * @internal
 */
export function inBandError(o: Obj): SageMakerStreamError | undefined {
  const err = o['error'];
  if (typeof err === 'string') {
    const type = typeof o['error_type'] === 'string' ? o['error_type'] : undefined;
    const code = typeof o['code'] === 'number' ? o['code'] : undefined;
    return modelError(err, type, code);
  }
  if (isObj(err)) {
    const message = typeof err['message'] === 'string' ? err['message'] : JSON.stringify(err);
    const type = typeof err['type'] === 'string' ? err['type'] : undefined;
    const rawCode = err['code'] ?? err['http_status_code'];
    const code = typeof rawCode === 'number' ? rawCode : undefined;
    return modelError(message, type, code);
  }
  const token = o['token'];
  if (isObj(token) && typeof token['error_msg'] === 'string') return modelError(token['error_msg'], 'error', undefined);
  const details = o['details'];
  if (isObj(details) && details['finish_reason'] === 'error') return modelError('generation failed', 'error', undefined);
  return undefined;
}

/**
 * Extracts the text of one event object, or `undefined` when it carries none:
 * - `{"token": {"text", "special" | "special_token"}}`: TGI `generate_stream`, LMI jsonlines, LMI sse
 *   (`generated_text`, the full text repeated on the last event, is never read);
 * - `{"choices": [{"delta": {"content"}}]}` (OpenAI chat chunks) and `{"choices": [{"text"}]}`
 *   (completion chunks), choice `choiceIndex`.
 *
 * Empty texts give `undefined`, as do special tokens unless `includeSpecial`.
 *
 * @internal
 */
export function extractText(o: Obj, options: ExtractOptions): string | undefined {
  const token = o['token'];
  if (isObj(token)) {
    if (!options.includeSpecial && (token['special'] === true || token['special_token'] === true)) return undefined;
    const text = token['text'];
    return typeof text === 'string' && text !== '' ? text : undefined;
  }
  const choices = o['choices'];
  if (Array.isArray(choices)) {
    let choice: unknown;
    for (const c of choices) {
      if (isObj(c) && (c['index'] ?? 0) === options.choiceIndex) {
        choice = c;
        break;
      }
    }
    if (!isObj(choice)) return undefined;
    const delta = choice['delta'];
    const text = isObj(delta) ? delta['content'] : choice['text'];
    return typeof text === 'string' && text !== '' ? text : undefined;
  }
  return undefined;
}
