import { defer, from, take, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { SageMakerStreamError, tokens, type TokensConfig } from '../../src/index.js';
import { countingSource } from '../support/chunks.js';

const encoder = new TextEncoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** SSE events, each followed by a blank line. */
const sse = (lines: readonly string[], eol = '\n'): string => lines.map((l) => `${l}${eol}${eol}`).join('');
/** JSON lines, each followed by a newline. */
const jsonl = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

// ---------------------------------------------------------------------------------------------
// Example lines quoted from /work/shared/formats.md
// ---------------------------------------------------------------------------------------------

const TGI_LINES = [
  'data:{"index":1,"token":{"id":29871,"text":" 東","logprob":-0.6196289,"special":false},"generated_text":null,"details":null}',
  'data:{"index":5,"token":{"id":243,"text":"","logprob":-1.2285156,"special":false},"generated_text":null,"details":null}',
  'data:{"index":8,"token":{"id":191,"text":"🗼","logprob":-0.0011367798,"special":false},"generated_text":null,"details":null}',
  'data:{"index":9,"token":{"id":2,"text":"</s>","logprob":-0.08300781,"special":true},"generated_text":"Q: 日本の首都は？\\nA: 東京です。🗼","details":{"finish_reason":"eos_token","generated_tokens":9,"seed":null,"input_length":14}}',
];
const TGI_LAST_EVENT =
  'data:{"index":16,"token":{"id":28723,"text":".","logprob":-0.6196289,"special":false},"generated_text":"This is a picture of an anthropomorphic rabbit in a space suit.","details":null}';
const TGI_VALIDATION_ERROR =
  'data:{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 512 `max_new_tokens`","error_type":"validation"}';

const TGI_MESSAGES_LINES = [
  'data:{"object":"chat.completion.chunk","id":"","created":1741373593,"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.1.2-dev0-native","choices":[{"index":0,"delta":{"role":"assistant","content":"Deep"},"logprobs":null,"finish_reason":null}],"usage":null}',
  'data:{"object":"chat.completion.chunk","id":"","created":1741373594,"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.1.2-dev0-native","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":"stop"}],"usage":null}',
  'data:{"object":"chat.completion.chunk","id":"","created":1741373594,"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.1.2-dev0-native","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":10,"total_tokens":50}}',
  'data:[DONE]',
];
const TGI_MESSAGES_ERROR = [
  'data:{"error":{"message":"Request failed during generation: Server error: Out of available cache blocks: asked 1024, only 172 free blocks","http_status_code":422}}',
  'data:[DONE]',
];

const TGI_COMPLETIONS_LINES = [
  'data:{"object":"text_completion","id":"","created":1741340006,"choices":[{"index":0,"text":" A","logprobs":null,"finish_reason":""}],"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.1.2-dev0-native"}',
  'data:{"object":"text_completion","id":"","created":1741340007,"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.1.2-dev0-native","choices":[{"index":0,"text":" décrit","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":8,"completion_tokens":8,"total_tokens":16}}',
  'data:[DONE]',
];

const OPENAI_CHAT_LINES = [
  'data: {"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}',
  'data: {"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":"こんにちは"},"logprobs":null,"finish_reason":null}]}',
  'data: {"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":128009}]}',
  'data: {"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[],"usage":{"prompt_tokens":21,"total_tokens":29,"completion_tokens":8}}',
  'data: [DONE]',
];
const OPENAI_CHAT_ERROR = [
  'data: {"error": {"message": "CUDA error: an illegal memory access was encountered", "type": "InternalServerError", "param": null, "code": 500}}',
  'data: [DONE]',
];

const OPENAI_COMPLETIONS_LINES = [
  'data: {"id":"cmpl-3c1b5e7f9a2d4c6e8b0a1f3e5d7c9b1a","object":"text_completion","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":null,"stop_reason":null}]}',
  'data: {"id":"cmpl-3c1b5e7f9a2d4c6e8b0a1f3e5d7c9b1a","object":"text_completion","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"text":" ville","logprobs":null,"finish_reason":"length","stop_reason":null}]}',
  'data: [DONE]',
];

const LMI_LINES = [
  '{"token": {"id": 304, "text": "Deep ", "log_prob": -0.052432529628276825}}',
  '{"token": {"id": 11157, "text": " Learning", "log_prob": -1.2865009307861328}}',
  '{"token": {"id": 278, "text": " is", "log_prob": -0.007458459585905075}}',
];
const LMI_LAST_LINE =
  '{"token": {"id": 30613, "text": "から", "log_prob": -0.24609375}, "generated_text": "機械学習とは、データから", "details": {"finish_reason": "length", "generated_tokens": 6, "inputs": "機械学習とは？"}}';
const LMI_JAVA_ERROR = '{"error":"exception occurred during rolling batch inference","code":424}';
const LMI_ERROR_TOKEN =
  '{"token": {"id": -1, "text": "", "log_prob": -1, "special_token": true, "error_msg": "CUDA out of memory while decoding"}, "generated_text": "", "details": {"finish_reason": "error", "generated_tokens": null, "inputs": null}}';

const LMI_SSE_TGI_COMPAT_LINES = [
  'data: {"token": {"id": 244, "text": "He", "logprob": -0.334532}}',
  'data: ',
  'data: {"token": {"id": 576, "text": "llo", "logprob": -0.123123}}',
  'data: {"token": {"id": 4558, "text": " world", "logprob": -0.567854}, "generated_text": "Hello world", "details": {"finish_reason": "length", "generated_tokens": 3, "inputs": "This is a wonderful day"}}',
];

const LMI_ASYNC_CHAT_LINES = [
  '{"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}',
  '{"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":"Sure"},"logprobs":null,"finish_reason":null}]}',
  '{"id":"chatcmpl-8f3e2a1c9b7d4e6f8a0b1c2d3e4f5a6b","object":"chat.completion.chunk","created":1718345678,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}',
  '',
];

const LMI_ASYNC_TGI_LINES = [
  '{"index": 0, "token": {"id": 9906, "text": "Hello", "logprob": -0.0123}, "generated_text": null, "details": null}',
  '{"index": 0, "token": {"id": 128001, "text": "", "logprob": -0.001}, "generated_text": "Hello, world! 🌍", "details": null}',
  '',
];

/** vLLM chat chunks with n = 2: the two choices interleave. */
const chatChunk = (index: number, delta: string): string =>
  `data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1718345678,"model":"m","choices":[{"index":${index},"delta":${delta},"logprobs":null,"finish_reason":null}]}`;
const INTERLEAVED_CHAT = sse([
  chatChunk(0, '{"role":"assistant","content":""}'),
  chatChunk(1, '{"role":"assistant","content":""}'),
  chatChunk(0, '{"content":"東京"}'),
  chatChunk(1, '{"content":"Tokyo"}'),
  chatChunk(1, '{"content":" 🗼"}'),
  chatChunk(0, '{"content":"タワー"}'),
  'data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1718345678,"model":"m","choices":[],"usage":{"prompt_tokens":5,"total_tokens":9,"completion_tokens":4}}',
  'data: [DONE]',
]);

/** TGI completions with two prompts: indices interleave. */
const completionChunk = (index: number, text: string): string =>
  `data:{"object":"text_completion","id":"","created":1741340006,"choices":[{"index":${index},"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":""}],"model":"m","system_fingerprint":"3.1.2-dev0-native"}`;
const INTERLEAVED_COMPLETIONS = sse([
  completionChunk(0, ' Le'),
  completionChunk(1, ' The'),
  completionChunk(1, ' cat'),
  completionChunk(0, ' chat'),
  'data:[DONE]',
]);

// ---------------------------------------------------------------------------------------------
// Running tokens() synchronously over any partition of a body
// ---------------------------------------------------------------------------------------------

interface ErrorSummary {
  readonly kind: string;
  readonly message: unknown;
  readonly errorCode?: unknown;
  readonly statusCode?: unknown;
  readonly lineNumber?: unknown;
}

type ErrorOutcome = ErrorSummary | { readonly notAStreamError: unknown };

interface Outcome {
  readonly tokens: readonly string[];
  readonly completed: boolean;
  readonly error?: ErrorOutcome;
}

function summarise(error: unknown): ErrorOutcome {
  if (!SageMakerStreamError.isInstance(error)) return { notAStreamError: error };
  return {
    kind: error.kind,
    message: error.message,
    errorCode: error.errorCode,
    statusCode: error.statusCode,
    lineNumber: error.lineNumber,
  };
}

/** Feeds `parts` to `tokens(config)` synchronously. */
function feed(parts: readonly Uint8Array[], config: TokensConfig = {}): Outcome {
  const out: string[] = [];
  let completed = false;
  let error: unknown;
  let failed = false;
  from(parts)
    .pipe(tokens(config))
    .subscribe({
      next: (t) => out.push(t),
      error: (e: unknown) => {
        failed = true;
        error = e;
      },
      complete: () => (completed = true),
    });
  return failed ? { tokens: out, completed, error: summarise(error) } : { tokens: out, completed };
}

/** The body whole, in two parts at every byte offset, and one byte per part. */
function partitions(body: string): [string, Uint8Array[]][] {
  const bytes = utf8(body);
  const result: [string, Uint8Array[]][] = [['whole', [bytes]]];
  for (let cut = 1; cut < bytes.length; cut++) result.push([`split at byte ${cut}`, [bytes.subarray(0, cut), bytes.subarray(cut)]]);
  result.push(['one byte per part', Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))]);
  return result;
}

/** Asserts that every partition of `body` gives `expected`; the partition is named in a failure. */
function expectForEveryPartition(body: string, expected: Outcome, config: TokensConfig = {}): void {
  for (const [partition, parts] of partitions(body)) {
    expect({ partition, ...feed(parts, config) }).toEqual({ partition, ...expected });
  }
}

const ok = (list: readonly string[]): Outcome => ({ tokens: list, completed: true });
const failedWith = (list: readonly string[], error: ErrorSummary): Outcome => ({ tokens: list, completed: false, error });
const modelError = (containerMessage: string, errorCode: string | undefined, statusCode: number | undefined): ErrorSummary => ({
  kind: 'model',
  message: expect.stringContaining(containerMessage),
  errorCode,
  statusCode,
  lineNumber: undefined,
});

// ---------------------------------------------------------------------------------------------

describe('tokens()', () => {
  describe('gives identical tokens whole, split in two at every byte offset, and one byte per part: it', () => {
    it.each<[string, string, readonly string[]]>([
      ['TGI generate_stream SSE, skipping special and empty tokens and never emitting generated_text', sse(TGI_LINES), [' 東', '🗼']],
      [
        'a TGI last event that repeats the whole text in generated_text, emitting only its token',
        sse([TGI_LINES[0]!, TGI_LAST_EVENT]),
        [' 東', '.'],
      ],
      ['TGI generate_stream that starts with keep-alive comments', `:\n\n:\n\n${sse(TGI_LINES)}`, [' 東', '🗼']],
      ['TGI Messages API SSE with the role on every delta, a usage-only chunk and data:[DONE]', sse(TGI_MESSAGES_LINES), ['Deep']],
      ['TGI completions SSE whose finish_reason is ""', sse(TGI_COMPLETIONS_LINES), [' A', ' décrit']],
      [
        'LMI jsonlines with log_prob and a last line that carries generated_text',
        jsonl([...LMI_LINES, LMI_LAST_LINE]),
        ['Deep ', ' Learning', ' is', 'から'],
      ],
      ['LMI sse / tgi_compat with an empty data event and no [DONE]', sse(LMI_SSE_TGI_COMPAT_LINES), ['He', 'llo', ' world']],
      ['LMI async chat jsonlines that end in a blank line', jsonl(LMI_ASYNC_CHAT_LINES), ['Sure']],
      ['LMI async inputs jsonlines, skipping the empty EOS token', jsonl(LMI_ASYNC_TGI_LINES), ['Hello']],
      [
        'OpenAI chat chunks SSE, skipping the role-only delta with content "" and the usage-only chunk, up to [DONE]',
        sse(OPENAI_CHAT_LINES),
        ['こんにちは'],
      ],
      ['OpenAI completions SSE from choices[0].text', sse(OPENAI_COMPLETIONS_LINES), [' Paris', ' ville']],
      [
        'OpenAI chat SSE with CRLF line endings and sse-starlette pings',
        sse([OPENAI_CHAT_LINES[0]!, ': ping - 2024-06-14 10:00:00.000000', ...OPENAI_CHAT_LINES.slice(1)], '\r\n'),
        ['こんにちは'],
      ],
      [
        'an LF event stream with CRLF pings (llama-cpp-python)',
        `: ping - 2024-06-14 10:00:00.000000\r\n\r\n${sse(OPENAI_CHAT_LINES)}`,
        ['こんにちは'],
      ],
      ['an event stream with bare CR line endings', sse(TGI_LINES, '\r'), [' 東', '🗼']],
      [
        'multi-line data joined with \\n across CRLF line breaks',
        sse(
          [
            'data: {"choices":[{"index":0,\r\ndata: "delta":{"content":"東京"}}]}',
            'data: {"choices":[{"index":0,\r\ndata: "delta":{"content":" 🗼"}}]}',
            'data: [DONE]',
          ],
          '\r\n',
        ),
        ['東京', ' 🗼'],
      ],
      ['an event stream that starts with a byte order mark', `\uFEFF${sse(TGI_LINES)}`, [' 東', '🗼']],
      [
        'an event stream with event:, id: and retry: fields',
        `retry: 3000\n\nevent: message\nid: 1\n${sse(OPENAI_COMPLETIONS_LINES)}`,
        [' Paris', ' ville'],
      ],
      [
        'an event stream up to [DONE] and ignores what follows it',
        `${sse(OPENAI_COMPLETIONS_LINES)}${OPENAI_COMPLETIONS_LINES[0]!}\n\n`,
        [' Paris', ' ville'],
      ],
      ['an unterminated last SSE event, flushed at completion', `${sse([TGI_LINES[0]!])}${TGI_LAST_EVENT}`, [' 東', '.']],
      [
        'a body with no newline at all, one JSON object',
        '{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"Paris est la capitale 🇫🇷","finish_reason":"stop"}]}',
        ['Paris est la capitale 🇫🇷'],
      ],
      ['LMI jsonlines whose last line has no newline', `${jsonl(LMI_LINES)}${LMI_LAST_LINE}`, ['Deep ', ' Learning', ' is', 'から']],
      [
        'JSON values written back to back with no delimiter',
        '{"outputText":"Bonjour","index":0,"totalOutputTextTokenCount":null,"completionReason":null,"inputTextTokenCount":5}{"outputText":" le","index":1,"totalOutputTextTokenCount":null,"completionReason":null,"inputTextTokenCount":null}',
        ['Bonjour', ' le'],
      ],
    ])('reads %s', (_name, body, expected) => {
      expectForEveryPartition(body, ok(expected));
    });
  });

  describe('choiceIndex', () => {
    it('follows choice 0 of interleaved n > 1 chat chunks by default', () => {
      expectForEveryPartition(INTERLEAVED_CHAT, ok(['東京', 'タワー']));
    });

    it('follows the selected choice of interleaved chat chunks', () => {
      expectForEveryPartition(INTERLEAVED_CHAT, ok(['Tokyo', ' 🗼']), { choiceIndex: 1 });
    });

    it('emits nothing for a choice the stream does not carry', () => {
      expect(feed([utf8(INTERLEAVED_CHAT)], { choiceIndex: 2 })).toEqual(ok([]));
    });

    it('selects among interleaved completion choices', () => {
      expect(feed([utf8(INTERLEAVED_COMPLETIONS)])).toEqual(ok([' Le', ' chat']));
      expectForEveryPartition(INTERLEAVED_COMPLETIONS, ok([' The', ' cat']), { choiceIndex: 1 });
    });
  });

  describe('includeSpecial', () => {
    it('emits special and empty tokens, but still never generated_text', () => {
      expectForEveryPartition(sse(TGI_LINES), ok([' 東', '', '🗼', '</s>']), { includeSpecial: true });
    });
  });

  describe('plain text', () => {
    it('passes each decoded chunk through as one token', () => {
      expect(feed([utf8('Hello'), utf8(', wor'), utf8('ld. 日本語')])).toEqual(ok(['Hello', ', wor', 'ld. 日本語']));
    });

    it('keeps a code point split across chunks intact', () => {
      const llama = utf8('🦙');
      const parts = [utf8('Hi '), llama.subarray(0, 2), llama.subarray(2), utf8('!')];
      expect(feed(parts)).toEqual(ok(['Hi ', '🦙', '!']));
    });

    it('gives the same text, without replacement characters, for every partition', () => {
      const body = 'Plain text: 日本語 and 🦙, no framing at all.\nSecond line.';
      for (const [partition, parts] of partitions(body)) {
        const outcome = feed(parts);
        expect({ partition, text: outcome.tokens.join(''), completed: outcome.completed }).toEqual({
          partition,
          text: body,
          completed: true,
        });
        expect(outcome.tokens.every((t) => t !== '' && !t.includes('\uFFFD'))).toBe(true);
      }
    });

    it('emits a short body that could still have become an SSE field at completion', () => {
      expect(feed([utf8('da')])).toEqual(ok(['da']));
    });

    it('replaces invalid UTF-8 with U+FFFD by default', () => {
      expect(feed([utf8('ok '), Uint8Array.of(0xff), utf8(' end')]).tokens.join('')).toBe('ok \uFFFD end');
    });
  });

  describe('in-band errors', () => {
    it('emits the TGI tokens before a TGI validation error, then fails with a model error', () => {
      expectForEveryPartition(
        sse([TGI_LINES[0]!, TGI_LINES[2]!, TGI_VALIDATION_ERROR]),
        failedWith(
          [' 東', '🗼'],
          modelError('Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096', 'validation', undefined),
        ),
      );
    });

    it('fails with a model error when a TGI stream holds nothing but one error event', () => {
      expectForEveryPartition(sse([TGI_VALIDATION_ERROR]), failedWith([], modelError('Input validation error', 'validation', undefined)));
    });

    it('emits the tokens before an OpenAI-style error object, then fails even though [DONE] follows', () => {
      expectForEveryPartition(
        sse([...OPENAI_CHAT_LINES.slice(0, 2), ...OPENAI_CHAT_ERROR]),
        failedWith(['こんにちは'], modelError('CUDA error: an illegal memory access was encountered', 'InternalServerError', 500)),
      );
    });

    it("reads the status of TGI chat's error event from http_status_code", () => {
      expectForEveryPartition(
        sse([TGI_MESSAGES_LINES[0]!, ...TGI_MESSAGES_ERROR]),
        failedWith(['Deep'], modelError('Out of available cache blocks: asked 1024, only 172 free blocks', undefined, 422)),
      );
    });

    it("emits the LMI tokens before the Java front end's error map that ends without a newline", () => {
      expectForEveryPartition(
        `${jsonl(LMI_LINES)}${LMI_JAVA_ERROR}`,
        failedWith(['Deep ', ' Learning', ' is'], modelError('exception occurred during rolling batch inference', undefined, 424)),
      );
    });

    it("fails on LMI's error token carrying error_msg", () => {
      expectForEveryPartition(
        jsonl([...LMI_LINES.slice(0, 2), LMI_ERROR_TOKEN]),
        failedWith(['Deep ', ' Learning'], { kind: 'model', message: expect.stringContaining('CUDA out of memory while decoding') }),
      );
    });

    it('fails with an end-user-safe error that is a SageMakerStreamError received after the first byte', () => {
      let caught: unknown;
      from([utf8(sse([TGI_VALIDATION_ERROR]))])
        .pipe(tokens())
        .subscribe({ error: (e: unknown) => (caught = e) });
      expect(caught).toBeInstanceOf(SageMakerStreamError);
      expect(caught).toMatchObject({ kind: 'model', retryable: false, afterFirstByte: true });
    });
  });

  describe('decode errors', () => {
    it('emits the tokens before a malformed JSON line, then fails with a decode error naming the line', () => {
      expectForEveryPartition(`${jsonl(LMI_LINES.slice(0, 2))}{"token": {"id": 278, "text": " is"\n${LMI_LAST_LINE}\n`, {
        tokens: ['Deep ', ' Learning'],
        completed: false,
        error: { kind: 'decode', message: expect.stringContaining('line 3'), lineNumber: 3 },
      });
    });

    it('emits the tokens before a malformed SSE data payload, then fails with a decode error', () => {
      expectForEveryPartition(`${sse([TGI_LINES[0]!])}data:{"index":2,"token":{"id":1,\n\n${sse([TGI_LINES[2]!])}`, {
        tokens: [' 東'],
        completed: false,
        error: { kind: 'decode', message: expect.stringMatching(/malformed JSON/), lineNumber: expect.any(Number) },
      });
    });

    it('reports the line of the malformed data in an event stream, not the blank line after it', () => {
      // line 1: data, line 2: blank, line 3: the malformed data, line 4: blank
      const outcome = feed([utf8(`${sse([TGI_LINES[0]!])}data:{"index":2,"token":\n\n`)]);
      expect(outcome.error).toMatchObject({ kind: 'decode', lineNumber: 3 });
    });

    it('fails with a decode error on a first line that is not JSON under a JSON content type', () => {
      const outcome = feed([utf8('{not json}\n')], { contentType: 'application/jsonlines' });
      expect(outcome).toMatchObject({ tokens: [], completed: false, error: { kind: 'decode' } });
    });

    it('treats a first line that only looks like JSON as plain text without a JSON content type', () => {
      expect(feed([utf8('{not json} but prose\n')]).tokens.join('')).toBe('{not json} but prose\n');
    });

    it('fails with a decode error on invalid UTF-8 when fatal', () => {
      const outcome = feed([utf8('{"token": {"text": "a", "log_prob": 0}}\n'), Uint8Array.of(0xff, 0xfe)], { fatal: true });
      expect(outcome).toMatchObject({ tokens: ['a'], completed: false, error: { kind: 'decode' } });
    });

    it('fails with a decode error on a code point left unfinished at the end when fatal', () => {
      const outcome = feed([utf8('plain '), utf8('🦙').subarray(0, 2)], { fatal: true });
      expect(outcome).toMatchObject({ tokens: ['plain '], completed: false, error: { kind: 'decode' } });
    });

    it('fails with a decode error on a line longer than maxLineLength', () => {
      const outcome = feed([utf8(`${LMI_LINES[0]!}\n{"token": {"text": "${'x'.repeat(200)}", "log_prob": 0}}\n`)], { maxLineLength: 100 });
      expect(outcome).toMatchObject({ tokens: ['Deep '], completed: false, error: { kind: 'decode' } });
    });
  });

  describe('line bounds and event fields on the fast line path', () => {
    const tgi = (text: string): string => `data:{"token":{"text":"${text}","special":false}}`;

    it('fails on an SSE line longer than maxLineLength with its line number, after the tokens before it, however the body is cut', () => {
      const body = `${tgi('a')}\n\n${tgi('b')}\n\n: ${'x'.repeat(120)}\n\n${tgi('c')}\n\n`;
      expectForEveryPartition(
        body,
        failedWith(['a', 'b'], {
          kind: 'decode',
          message: expect.stringContaining('line 5 is longer than maxLineLength (100'),
          lineNumber: 5,
        }),
        { maxLineLength: 100 },
      );
    });

    it('fails on a JSON line longer than maxLineLength with its line number, however the body is cut', () => {
      const body = `${LMI_LINES[0]!}\n\n{"token": {"text": "${'x'.repeat(200)}", "log_prob": 0}}\n${LMI_LINES[0]!}\n`;
      expectForEveryPartition(
        body,
        failedWith(['Deep '], { kind: 'decode', message: expect.stringContaining('line 3 is longer'), lineNumber: 3 }),
        { maxLineLength: 100 },
      );
    });

    it('accepts SSE lines exactly maxLineLength long', () => {
      const line = tgi('abc');
      expectForEveryPartition(`${line}\n\n${line}\n\n`, ok(['abc', 'abc']), { maxLineLength: line.length });
    });

    it('keeps an event: field, multi-line data and an id with the data: line that follows, however the body is cut', () => {
      // `event: error` before a `data:` + blank line: the relay error, not a token.
      const relayError = `data:{"text":"a"}\n\nid: 7\nevent: error\ndata:{"kind":"throttling","message":"slow down"}\n\ndata:{"text":"b"}\n\n`;
      expectForEveryPartition(
        relayError,
        failedWith(['a'], { kind: 'throttling', message: expect.stringContaining('slow down'), lineNumber: undefined }),
      );
      // data split over two lines is joined with \n before parsing.
      expectForEveryPartition('data:{"token":{"text":\ndata:"xy","special":false}}\n\ndata:{"token":{"text":"z"}}\n\n', ok(['xy', 'z']));
    });

    it('reads CRLF and lone-CR event streams the same as LF ones, however the body is cut', () => {
      const lf = `${tgi('a')}\n\n${tgi('b')}\n\n`;
      expectForEveryPartition(lf.replaceAll('\n', '\r\n'), ok(['a', 'b']));
      expectForEveryPartition(lf.replaceAll('\n', '\r'), ok(['a', 'b']));
      expectForEveryPartition(`${tgi('a')}\r\n\n${tgi('b')}\n\r\n`, ok(['a', 'b']));
    });
  });

  describe('the custom extractor', () => {
    it('reads each JSON value with extract', () => {
      const body = jsonl(['{"delta":"Bon"}', '{"delta":"jour"}', '{"other":1}']);
      expectForEveryPartition(body, ok(['Bon', 'jour']), { extract: (v) => (v as { delta?: string }).delta });
    });

    it('ends the stream with the mapped error when extract throws', () => {
      const bug = new TypeError('boom');
      let caught: unknown;
      const out: string[] = [];
      from([utf8(jsonl(['{"delta":"a"}', '{"delta":"b"}']))])
        .pipe(
          tokens({
            extract: (v) => {
              const d = (v as { delta: string }).delta;
              if (d === 'b') throw bug;
              return d;
            },
          }),
        )
        .subscribe({ next: (t) => out.push(t), error: (e: unknown) => (caught = e) });
      expect(out).toEqual(['a']);
      expect(SageMakerStreamError.isInstance(caught)).toBe(true);
      expect((caught as SageMakerStreamError).cause).toBe(bug);
    });

    it('passes a SageMakerStreamError thrown by extract through as it is', () => {
      const chosen = new SageMakerStreamError({ kind: 'model', message: 'stop here' });
      let caught: unknown;
      from([utf8('{"delta":"a"}\n')])
        .pipe(
          tokens({
            extract: () => {
              throw chosen;
            },
          }),
        )
        .subscribe({ error: (e: unknown) => (caught = e) });
      expect(caught).toBe(chosen);
    });
  });

  describe('subscriptions', () => {
    it('gives two independent, correct results when one piped Observable is subscribed twice', () => {
      const body = utf8(sse(TGI_LINES));
      const tokens$ = from([body.subarray(0, 50), body.subarray(50, 51), body.subarray(51)]).pipe(tokens());
      const first: string[] = [];
      const second: string[] = [];
      tokens$.subscribe((t) => first.push(t));
      tokens$.subscribe((t) => second.push(t));
      expect(first).toEqual([' 東', '🗼']);
      expect(second).toEqual([' 東', '🗼']);
    });

    it('starts every subscription with fresh state after an earlier one ended mid-line or after [DONE]', () => {
      let n = 0;
      const source = defer(() => from(n++ === 0 ? [utf8(`${sse(OPENAI_COMPLETIONS_LINES)}data: {"choi`)] : [utf8(sse(TGI_LINES))]));
      const piped = source.pipe(tokens());
      expect(feedObservable(piped)).toEqual(ok([' Paris', ' ville']));
      expect(feedObservable(piped)).toEqual(ok([' 東', '🗼']));
    });
  });
});

function feedObservable(source: Observable<string>): Outcome {
  const out: string[] = [];
  let completed = false;
  source.subscribe({ next: (t) => out.push(t), complete: () => (completed = true) });
  return { tokens: out, completed };
}

describe('tokens() marbles', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('emits a token when the part that completes its event arrives', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: utf8('data:{"token":{"text":"Hi"'), b: utf8('}}\n\ndata:[DONE]\n\n') });
      expectObservable(source.pipe(tokens())).toBe('---h-|', { h: 'Hi' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('emits every token of a part that carries several events at the frame of that part', () => {
    const ab = utf8(sse(TGI_LINES.slice(0, 3)));
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a----b-|', { a: ab, b: utf8(sse([TGI_LAST_EVENT])) });
      expectObservable(source.pipe(tokens())).toBe('-(xy)-z-|', { x: ' 東', y: '🗼', z: '.' });
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  it('forwards an upstream error after the tokens already parsed', () => {
    const upstream = new Error('socket hang up');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a---#', { a: utf8(`${sse(TGI_LINES.slice(0, 3))}data:{"index":9,"tok`) }, upstream);
      expectObservable(source.pipe(tokens())).toBe('-(xy)#', { x: ' 東', y: '🗼' }, upstream);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('delivers a complete but unterminated last event before the upstream error', () => {
    const upstream = new Error('socket hang up');
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-#', { a: utf8(`${sse([TGI_LINES[0]!])}${TGI_LAST_EVENT}`) }, upstream);
      expectObservable(source.pipe(tokens())).toBe('-x-(y#)', { x: ' 東', y: '.' }, upstream);
    });
  });

  it('ends with an in-band error at the frame of the part that carries it and unsubscribes from the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', {
        a: utf8(sse([OPENAI_CHAT_LINES[1]!])),
        b: utf8(sse([OPENAI_CHAT_ERROR[0]!])),
        c: utf8(sse([OPENAI_CHAT_ERROR[1]!])),
      });
      expectObservable(source.pipe(tokens())).toBe(
        '-x-#',
        { x: 'こんにちは' },
        expect.objectContaining({ kind: 'model', statusCode: 500, errorCode: 'InternalServerError' }),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('sends an exception thrown by the extract callback downstream and unsubscribes from the source', () => {
    const bug = new Error('bad extractor');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: utf8('{"d":"x"}\n'), b: utf8('{"d":"boom"}\n'), c: utf8('{"d":"z"}\n') });
      const result = source.pipe(
        tokens({
          extract: (v) => {
            const d = (v as { d: string }).d;
            if (d === 'boom') throw bug;
            return d;
          },
        }),
      );
      expectObservable(result).toBe('-x-#', { x: 'x' }, expect.objectContaining({ kind: 'unknown', cause: bug }));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribes from the source when the consumer unsubscribes early', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--c--|', {
        a: utf8(sse([OPENAI_COMPLETIONS_LINES[0]!])),
        b: utf8(sse([OPENAI_COMPLETIONS_LINES[1]!])),
        c: utf8(sse([OPENAI_COMPLETIONS_LINES[2]!])),
      });
      expectObservable(source.pipe(tokens()), '^---!').toBe('-x--', { x: ' Paris' });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('stops a synchronous source once take has the tokens it needs', () => {
    const { source, pulled } = countingSource(50, (i) => utf8(`{"token": {"id": ${i}, "text": "t${i}", "log_prob": -0.1}}\n`));
    scheduler.run(({ expectObservable }) => {
      expectObservable(source.pipe(tokens(), take(2))).toBe('(xy|)', { x: 't0', y: 't1' });
    });
    expect(pulled()).toBe(2);
  });

  it('flushes an unterminated SSE event at completion', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a--|', { a: utf8('data:{"token":{"text":"end","special":false}}') });
      expectObservable(source.pipe(tokens())).toBe('----(x|)', { x: 'end' });
    });
  });

  it('flushes an undecided plain-text prefix at completion', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-|', { a: utf8('id') });
      expectObservable(source.pipe(tokens())).toBe('---(x|)', { x: 'id' });
    });
  });

  it('keeps per-subscription state when one piped Observable is subscribed twice at different times', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: utf8('data:{"token":{"text":"Hi"'), b: utf8('}}\n\n') });
      const result = source.pipe(tokens());
      expectObservable(result).toBe('---h-|', { h: 'Hi' });
      expectObservable(result, '--^').toBe('-----h-|', { h: 'Hi' });
      expectSubscriptions(source.subscriptions).toBe(['^----!', '--^----!']);
    });
  });
});
