import { from } from 'rxjs';
import { SageMakerStreamError, tokens } from '../../src/index.js';
import { splitBytes } from '../../src/testing/index.js';
import { collect } from '../support/client.js';

interface ErrorCase {
  readonly name: string;
  readonly body: string;
  readonly tokens: readonly string[];
  readonly message: string;
  readonly errorCode?: string;
  readonly statusCode?: number;
}

const CASES: readonly ErrorCase[] = [
  {
    name: 'TGI generate_stream {"error","error_type"}',
    body:
      'data:{"index":1,"token":{"id":1,"text":"日本","logprob":-0.1,"special":false},"generated_text":null,"details":null}\n\n' +
      'data:{"error":"Request failed during generation: Server error: CUDA out of memory","error_type":"generation"}\n\n',
    tokens: ['日本'],
    message: 'Request failed during generation: Server error: CUDA out of memory',
    errorCode: 'generation',
  },
  {
    name: 'a TGI stream that is one validation error event',
    body: 'data:{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 512 `max_new_tokens`","error_type":"validation"}\n\n',
    tokens: [],
    message: 'Input validation error',
    errorCode: 'validation',
  },
  {
    name: 'TGI Messages API {"error":{"message","http_status_code"}} then [DONE]',
    body:
      'data:{"object":"chat.completion.chunk","id":"","created":1,"model":"m","system_fingerprint":"x","choices":[{"index":0,"delta":{"role":"assistant","content":"Deep"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n' +
      'data:{"error":{"message":"Request failed during generation: Server error: Out of available cache blocks: asked 1024, only 172 free blocks","http_status_code":422}}\n\n' +
      'data:[DONE]\n\n',
    tokens: ['Deep'],
    message: 'Out of available cache blocks',
    statusCode: 422,
  },
  {
    name: 'vLLM {"error":{"message","type","param","code"}} then [DONE]',
    body:
      'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"🦙 hi"},"logprobs":null,"finish_reason":null}]}\n\n' +
      'data: {"error": {"message": "CUDA error: an illegal memory access was encountered", "type": "InternalServerError", "param": null, "code": 500}}\n\n' +
      'data: [DONE]\n\n',
    tokens: ['🦙 hi'],
    message: 'CUDA error: an illegal memory access was encountered',
    errorCode: 'InternalServerError',
    statusCode: 500,
  },
  {
    name: 'LMI Java {"error","code"} with no trailing newline',
    body: '{"token": {"id": 1, "text": "Hel", "log_prob": -0.1}}\n{"token": {"id": 2, "text": "lo", "log_prob": -0.1}}\n{"error":"exception occurred during rolling batch inference","code":424}',
    tokens: ['Hel', 'lo'],
    message: 'exception occurred during rolling batch inference',
    statusCode: 424,
  },
  {
    name: 'LMI sse with the Java error map written bare (no data: prefix, no newline)',
    body: 'data: {"token": {"id": 244, "text": "He", "logprob": -0.3}}\n\n{"error":"exception occurred during rolling batch inference","code":424}',
    tokens: ['He'],
    message: 'exception occurred during rolling batch inference',
    statusCode: 424,
  },
  {
    name: 'LMI error token with details.finish_reason "error"',
    body:
      '{"token": {"id": 1, "text": "é", "log_prob": -0.1}}\n' +
      '{"token": {"id": -1, "text": "", "log_prob": -1, "special_token": true, "error_msg": "CUDA OOM"}, "generated_text": "", "details": {"finish_reason": "error", "generated_tokens": null, "inputs": null}}\n',
    tokens: ['é'],
    message: 'CUDA OOM',
  },
  {
    name: 'LMI 3p_stream "error": {"error_code","error_msg"}',
    body:
      '{"body": {"generation": "He", "prompt_token_count": 5, "generation_token_count": 1, "stop_reason": null}, "metering": {}, "content_type": "application/jsonlines"}\n' +
      '{"body": {"generation": "", "prompt_token_count": null, "generation_token_count": 1, "stop_reason": "error"}, "metering": {}, "content_type": "application/jsonlines", "error": {"error_code": 400, "error_msg": "Input too long"}}\n',
    tokens: ['He'],
    message: 'Input too long',
    statusCode: 400,
  },
  {
    name: 'Ollama {"error"} line',
    body: '{"model":"llama3.2","created_at":"t","response":"Bon","done":false}\n{"error":"model runner has unexpectedly stopped"}\n',
    tokens: ['Bon'],
    message: 'model runner has unexpectedly stopped',
  },
  {
    name: 'SGLang {"error":{"message"}}',
    body: 'data: {"text":" Paris","meta_info":{"id":"a","finish_reason":null}}\n\ndata: {"error": {"message": "Invalid sampling params"}}\n\ndata: [DONE]\n\n',
    tokens: [' Paris'],
    message: 'Invalid sampling params',
  },
];

describe.each(CASES.map((c) => [c.name, c] as const))('an in-band error: %s', (_name, c) => {
  const check = (result: Awaited<ReturnType<typeof collect<string>>>): void => {
    expect(result.values).toEqual([...c.tokens]);
    expect(result.completed).toBe(false);
    expect(SageMakerStreamError.isInstance(result.error)).toBe(true);
    const error = result.error as SageMakerStreamError;
    expect(error.kind).toBe('model');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(c.message);
    expect(error.errorCode).toBe(c.errorCode);
    expect(error.statusCode).toBe(c.statusCode);
  };

  test('delivers every token before it, then a model error with the container message, type and code', async () => {
    check(await collect(from([new TextEncoder().encode(c.body)]).pipe(tokens())));
  });

  test('behaves the same at every split offset and one byte per part', async () => {
    const bytes = new TextEncoder().encode(c.body);
    for (let cut = 1; cut < bytes.length; cut += 1) check(await collect(from(splitBytes(bytes, [cut])).pipe(tokens())));
    check(await collect(from(splitBytes(bytes, 1)).pipe(tokens())));
  });
});
