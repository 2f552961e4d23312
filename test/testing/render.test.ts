import { CONTAINER_FORMATS, renderStream, type ContainerFormat, type RenderedStream } from '../../src/testing/render.js';

const TOKENS = ['Hello', ' 日本', ' 🦙'] as const;
const TEXT = TOKENS.join('');
const ERROR = { message: 'Request failed during generation: out of memory' };

// ---------------------------------------------------------------------------------------------
// Small structural parsers, written from formats.md and independent of the renderer.

/** Reads a nested field of parsed JSON. */
function at(value: unknown, ...path: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
  }
  return current;
}

/** The keys of a parsed object, in wire order. */
function keysOf(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return Object.keys(value);
}

/** SSE events: the body cut on blank lines, each event's `data:` value after `prefix`. */
function sseData(body: string, prefix: 'data:' | 'data: '): string[] {
  expect(body.endsWith('\n\n')).toBe(true);
  const events = body.slice(0, -2).split('\n\n');
  return events.map((event) => {
    expect(event.startsWith(prefix)).toBe(true);
    if (prefix === 'data:') expect(event.startsWith('data: ')).toBe(false);
    expect(event).not.toContain('\n');
    return event.slice(prefix.length);
  });
}

/** JSON lines: the body cut at `\n`; the last element is what follows the last newline. */
const bodyLines = (body: string): string[] => body.split('\n');

/** Splits concatenated JSON values (`}{`, newline-separated or not), tracking strings. */
function splitJsonValues(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) values.push(text.slice(start, i + 1));
    }
  }
  return values;
}

/**
 * A reference extractor following formats.md §1: framing from the first characters, then the
 * text of each payload by its keys. Returns the texts a parser should emit, and any error.
 */
function extract(body: string): { texts: string[]; error: unknown } {
  const trimmed = body.trimStart();
  let payloads: unknown[];
  if (trimmed.startsWith('data:')) {
    payloads = [];
    for (const event of body.split('\n\n')) {
      // The LMI Java error map replaces a chunk with bare JSON, without `data:`.
      if (event.startsWith('{')) {
        payloads.push(JSON.parse(event));
        continue;
      }
      if (!event.startsWith('data:')) continue;
      const value = event.slice(5).replace(/^ /, '');
      if (value === '' || value === '[DONE]') continue;
      payloads.push(JSON.parse(value));
    }
  } else if (trimmed.startsWith('{')) {
    payloads = splitJsonValues(body).map((v): unknown => JSON.parse(v));
  } else {
    return { texts: body === '' ? [] : [body], error: undefined };
  }
  const texts: string[] = [];
  let error: unknown;
  let cumulative = '';
  for (const p of payloads) {
    const text = (s: unknown): void => {
      if (typeof s === 'string' && s !== '') texts.push(s);
    };
    if (at(p, 'error') !== undefined) {
      error = at(p, 'error');
    } else if (at(p, 'token') !== undefined) {
      if (at(p, 'token', 'special') !== true && at(p, 'token', 'special_token') !== true) text(at(p, 'token', 'text'));
    } else if (Array.isArray(at(p, 'choices'))) {
      text(at(p, 'choices', 0, 'delta', 'content'));
      text(at(p, 'choices', 0, 'text'));
    } else if (at(p, 'outputs') !== undefined) {
      text(at(p, 'outputs', 0));
    } else if (at(p, 'body', 'generation') !== undefined) {
      text(at(p, 'body', 'generation'));
    } else if (at(p, 'outputText') !== undefined) {
      text(at(p, 'outputText'));
    } else if (at(p, 'done') !== undefined) {
      text(at(p, 'message', 'content'));
      text(at(p, 'response'));
    } else if (at(p, 'meta_info') !== undefined) {
      const full = at(p, 'text');
      if (typeof full === 'string') {
        text(full.slice(cumulative.length));
        cumulative = full;
      }
    } else {
      throw new Error(`unrecognised payload ${JSON.stringify(p)}`);
    }
  }
  return { texts, error };
}

const render = (format: ContainerFormat, options?: Parameters<typeof renderStream>[2]): RenderedStream =>
  renderStream(format, TOKENS, options);

const NO_IN_BAND_ERRORS: readonly ContainerFormat[] = ['plain-text', 'bedrock-titan'];
const WITH_ERRORS = CONTAINER_FORMATS.filter((f) => !NO_IN_BAND_ERRORS.includes(f));

// ---------------------------------------------------------------------------------------------

describe('renderStream: every format', () => {
  test('CONTAINER_FORMATS lists the eighteen formats once each', () => {
    expect(CONTAINER_FORMATS).toHaveLength(18);
    expect(new Set(CONTAINER_FORMATS).size).toBe(18);
    expect(CONTAINER_FORMATS).toContain('tgi-sse');
    expect(CONTAINER_FORMATS).toContain('plain-text');
  });

  test.each(CONTAINER_FORMATS)('the %s events concatenate to the body and none is empty', (format) => {
    for (const options of [{}, { usage: true, specialTokens: ['</s>'] }]) {
      const { body, events } = render(format, options);
      expect(events.join('')).toBe(body);
      for (const event of events) expect(event.length).toBeGreaterThan(0);
    }
  });

  test.each(CONTAINER_FORMATS)('a reference parser recovers exactly the tokens from %s', (format) => {
    const { texts, error } = extract(render(format).body);
    expect(texts.join('')).toBe(TEXT);
    // Plain text has no token boundaries in the body; every other format keeps them.
    if (format !== 'plain-text') expect(texts).toEqual([...TOKENS]);
    expect(error).toBeUndefined();
  });

  test.each(WITH_ERRORS)('a reference parser finds the tokens and then the in-band error in %s', (format) => {
    const rendered = render(format, { error: ERROR });
    expect(rendered.events.join('')).toBe(rendered.body);
    const { texts, error } = extract(rendered.body);
    expect(texts).toEqual([...TOKENS]);
    expect(error).toBeDefined();
    expect(JSON.stringify(error)).toContain('out of memory');
  });

  test.each(CONTAINER_FORMATS)('an empty output in %s reads as no text and no error', (format) => {
    const { body, events } = renderStream(format, []);
    expect(events.join('')).toBe(body);
    expect(extract(body)).toEqual({ texts: [], error: undefined });
  });

  test.each(WITH_ERRORS)('an error before any token in %s reads as the error alone', (format) => {
    const { texts, error } = extract(renderStream(format, [], { error: ERROR }).body);
    expect(texts).toEqual([]);
    expect(JSON.stringify(error)).toContain('out of memory');
  });

  test.each(NO_IN_BAND_ERRORS)('asking %s for an in-band error throws a RangeError', (format) => {
    expect(() => render(format, { error: ERROR })).toThrow(RangeError);
  });

  test.each(CONTAINER_FORMATS)('%s renders the same bytes every time', (format) => {
    expect(render(format, { usage: true })).toEqual(render(format, { usage: true }));
  });

  test('each format reports the content type SageMaker gives for its container', () => {
    const expected: Record<ContainerFormat, string> = {
      'tgi-sse': 'text/event-stream',
      'tgi-messages-sse': 'text/event-stream',
      'tgi-completions-sse': 'text/event-stream',
      'openai-chat-sse': 'text/event-stream',
      'openai-completions-sse': 'text/event-stream',
      'lmi-jsonlines': 'application/jsonlines',
      'lmi-sse': 'text/event-stream',
      'lmi-chat-jsonlines': 'application/jsonlines',
      'lmi-sse-chat': 'text/event-stream',
      'lmi-async-chat-jsonlines': 'application/jsonlines',
      'lmi-async-tgi-jsonlines': 'application/jsonlines',
      'lmi-outputs-legacy': 'application/jsonlines',
      'lmi-3p-jsonlines': 'application/jsonlines',
      'sglang-generate-sse': 'text/event-stream',
      'ollama-generate-ndjson': 'application/x-ndjson',
      'ollama-chat-ndjson': 'application/x-ndjson',
      'bedrock-titan': 'application/json',
      'plain-text': 'text/plain',
    };
    for (const format of CONTAINER_FORMATS) expect(render(format).contentType).toBe(expected[format]);
  });

  test('the input arrays are not modified and the events are frozen', () => {
    const tokens = ['a', 'b'];
    const specialTokens = ['</s>'];
    const { events } = renderStream('tgi-sse', tokens, { specialTokens });
    expect(tokens).toEqual(['a', 'b']);
    expect(specialTokens).toEqual(['</s>']);
    expect(Object.isFrozen(events)).toBe(true);
  });
});

describe("renderStream('tgi-sse')", () => {
  test('writes one data: event per token with no space after data: and compact JSON in TGI field order', () => {
    const { events, body } = render('tgi-sse');
    expect(events).toHaveLength(3);
    const payloads = sseData(body, 'data:').map((d): unknown => JSON.parse(d));
    expect(body.startsWith('data:{"index":1,"token":{"id":')).toBe(true);
    payloads.forEach((p, i) => {
      expect(keysOf(p)).toEqual(['index', 'token', 'generated_text', 'details']);
      expect(keysOf(at(p, 'token'))).toEqual(['id', 'text', 'logprob', 'special']);
      expect(at(p, 'index')).toBe(i + 1);
      expect(at(p, 'token', 'text')).toBe(TOKENS[i]);
      expect(at(p, 'token', 'special')).toBe(false);
    });
    expect(body).toContain('"text":" 日本"');
    expect(body).toContain('"text":" 🦙"');
    expect(body).not.toContain('[DONE]');
  });

  test('repeats the prompt and the whole text in the final generated_text, with details', () => {
    const payloads = sseData(render('tgi-sse').body, 'data:').map((d): unknown => JSON.parse(d));
    expect(at(payloads[0], 'generated_text')).toBeNull();
    expect(at(payloads[1], 'details')).toBeNull();
    const last = payloads[2];
    expect(at(last, 'generated_text')).toBe(`Hello${TEXT}`);
    expect(keysOf(at(last, 'details'))).toEqual(['finish_reason', 'generated_tokens', 'seed', 'input_length']);
    expect(at(last, 'details', 'finish_reason')).toBe('length');
    expect(at(last, 'details', 'generated_tokens')).toBe(3);
  });

  test('uses the given prompt in generated_text', () => {
    const payloads = sseData(render('tgi-sse', { prompt: 'Q: ' }).body, 'data:').map((d): unknown => JSON.parse(d));
    expect(at(payloads[2], 'generated_text')).toBe(`Q: ${TEXT}`);
  });

  test('ends with special tokens flagged special:true and finish_reason eos_token', () => {
    const payloads = sseData(render('tgi-sse', { specialTokens: ['</s>'] }).body, 'data:').map((d): unknown => JSON.parse(d));
    expect(payloads).toHaveLength(4);
    const last = payloads[3];
    expect(at(last, 'token', 'text')).toBe('</s>');
    expect(at(last, 'token', 'special')).toBe(true);
    expect(at(last, 'generated_text')).toBe(`Hello${TEXT}`);
    expect(at(last, 'details', 'finish_reason')).toBe('eos_token');
  });

  test('ends with an error event {"error","error_type"} and no generated_text', () => {
    const { events, body } = render('tgi-sse', { error: { ...ERROR, type: 'overloaded' } });
    expect(events.at(-1)).toBe(`data:{"error":"${ERROR.message}","error_type":"overloaded"}\n\n`);
    expect(render('tgi-sse', { error: ERROR }).events.at(-1)).toContain('"error_type":"generation"');
    expect(body).not.toContain('"generated_text":"');
  });

  test('carries an empty output as one empty-text token with the final fields', () => {
    const payloads = sseData(renderStream('tgi-sse', []).body, 'data:').map((d): unknown => JSON.parse(d));
    expect(payloads).toHaveLength(1);
    expect(at(payloads[0], 'token', 'text')).toBe('');
    expect(at(payloads[0], 'generated_text')).toBe('Hello');
  });

  test('renders an error-only stream as the single error event', () => {
    expect(renderStream('tgi-sse', [], { error: ERROR }).events).toEqual([
      `data:{"error":"${ERROR.message}","error_type":"generation"}\n\n`,
    ]);
  });
});

describe("renderStream('tgi-messages-sse')", () => {
  test('repeats role assistant in every delta, finishes the last chunk and ends with data:[DONE]', () => {
    const { body } = render('tgi-messages-sse');
    const data = sseData(body, 'data:');
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d): unknown => JSON.parse(d));
    expect(chunks).toHaveLength(3);
    chunks.forEach((c, i) => {
      expect(keysOf(c)).toEqual(['object', 'id', 'created', 'model', 'system_fingerprint', 'choices', 'usage']);
      expect(at(c, 'object')).toBe('chat.completion.chunk');
      expect(at(c, 'id')).toBe('');
      expect(at(c, 'usage')).toBeNull();
      expect(keysOf(at(c, 'choices', 0, 'delta'))).toEqual(['role', 'content']);
      expect(at(c, 'choices', 0, 'delta', 'role')).toBe('assistant');
      expect(at(c, 'choices', 0, 'delta', 'content')).toBe(TOKENS[i]);
      expect(at(c, 'choices', 0, 'finish_reason')).toBe(i === 2 ? 'length' : null);
    });
  });

  test('blanks special tokens to content "" with finish_reason stop, then adds the usage chunk', () => {
    const data = sseData(render('tgi-messages-sse', { specialTokens: ['<|eot_id|>'], usage: true }).body, 'data:');
    const chunks = data.slice(0, -1).map((d): unknown => JSON.parse(d));
    expect(chunks).toHaveLength(5);
    expect(at(chunks[3], 'choices', 0, 'delta', 'content')).toBe('');
    expect(at(chunks[3], 'choices', 0, 'finish_reason')).toBe('stop');
    expect(at(chunks[4], 'choices')).toEqual([]);
    expect(keysOf(at(chunks[4], 'usage'))).toEqual(['prompt_tokens', 'completion_tokens', 'total_tokens']);
    expect(data.join('\n')).not.toContain('<|eot_id|>');
  });

  test('writes the TGI chat error shape with http_status_code 422 and then data:[DONE]', () => {
    const { events } = render('tgi-messages-sse', { error: ERROR });
    expect(events.slice(-2)).toEqual([`data:{"error":{"message":"${ERROR.message}","http_status_code":422}}\n\n`, 'data:[DONE]\n\n']);
  });
});

describe("renderStream('tgi-completions-sse')", () => {
  test('sends finish_reason "" on intermediate chunks and a final chunk with usage, then data:[DONE]', () => {
    const data = sseData(render('tgi-completions-sse').body, 'data:');
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d): unknown => JSON.parse(d));
    expect(keysOf(chunks[0])).toEqual(['object', 'id', 'created', 'choices', 'model', 'system_fingerprint']);
    expect(at(chunks[0], 'object')).toBe('text_completion');
    expect(at(chunks[0], 'choices', 0, 'finish_reason')).toBe('');
    expect(at(chunks[1], 'choices', 0, 'finish_reason')).toBe('');
    expect(keysOf(chunks[2])).toEqual(['object', 'id', 'created', 'model', 'system_fingerprint', 'choices', 'usage']);
    expect(at(chunks[2], 'choices', 0, 'finish_reason')).toBe('length');
    expect(chunks.map((c) => at(c, 'choices', 0, 'text'))).toEqual([...TOKENS]);
  });

  test('leaks the raw EOS text unflagged, with finish_reason eos_token not mapped to stop', () => {
    const data = sseData(render('tgi-completions-sse', { specialTokens: ['</s>'] }).body, 'data:');
    const final: unknown = JSON.parse(data.at(-2) ?? '');
    expect(at(final, 'choices', 0, 'text')).toBe('</s>');
    expect(at(final, 'choices', 0, 'finish_reason')).toBe('eos_token');
  });

  test('ends an error with the TGI chat error shape and data:[DONE]', () => {
    expect(render('tgi-completions-sse', { error: ERROR }).events.slice(-2)).toEqual([
      `data:{"error":{"message":"${ERROR.message}","http_status_code":422}}\n\n`,
      'data:[DONE]\n\n',
    ]);
  });
});

describe("renderStream('openai-chat-sse')", () => {
  test('puts one space after data:, starts with a role chunk with content "" and ends with a finish chunk and data: [DONE]', () => {
    const { body, events } = render('openai-chat-sse');
    expect(body.startsWith('data: {"id":"chatcmpl-')).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]\n\n');
    const data = sseData(body, 'data: ');
    const chunks = data.slice(0, -1).map((d): unknown => JSON.parse(d));
    expect(chunks).toHaveLength(5);
    for (const c of chunks) expect(keysOf(c)).toEqual(['id', 'object', 'created', 'model', 'choices']);
    expect(at(chunks[0], 'choices', 0, 'delta')).toEqual({ role: 'assistant', content: '' });
    expect(chunks.slice(1, 4).map((c) => at(c, 'choices', 0, 'delta'))).toEqual(TOKENS.map((content) => ({ content })));
    expect(keysOf(at(chunks[4], 'choices', 0))).toEqual(['index', 'delta', 'logprobs', 'finish_reason', 'stop_reason']);
    expect(at(chunks[4], 'choices', 0, 'delta', 'content')).toBe('');
    expect(at(chunks[4], 'choices', 0, 'finish_reason')).toBe('stop');
    expect(body).toContain('" 🦙"');
  });

  test('adds the usage chunk with choices [] and vLLM field order only when asked', () => {
    expect(render('openai-chat-sse').body).not.toContain('"usage"');
    const data = sseData(render('openai-chat-sse', { usage: true }).body, 'data: ');
    const usage: unknown = JSON.parse(data.at(-2) ?? '');
    expect(at(usage, 'choices')).toEqual([]);
    expect(keysOf(at(usage, 'usage'))).toEqual(['prompt_tokens', 'total_tokens', 'completion_tokens']);
  });

  test('writes the error with Python json.dumps spacing and ASCII escapes, then data: [DONE]', () => {
    const { events } = render('openai-chat-sse', { error: { message: 'café ☕ failed', code: 400, type: 'BadRequestError' } });
    expect(events.slice(-2)).toEqual([
      'data: {"error": {"message": "caf\\u00e9 \\u2615 failed", "type": "BadRequestError", "param": null, "code": 400}}\n\n',
      'data: [DONE]\n\n',
    ]);
    expect(render('openai-chat-sse', { error: ERROR }).events.at(-2)).toContain(
      '"type": "InternalServerError", "param": null, "code": 500',
    );
  });

  test('has no role chunk when the error comes before any output', () => {
    const { events } = renderStream('openai-chat-sse', [], { error: ERROR });
    expect(events).toHaveLength(2);
    expect(events[0]?.startsWith('data: {"error": ')).toBe(true);
  });
});

describe("renderStream('openai-completions-sse')", () => {
  test('sends text_completion chunks with explicit null finish_reason and stop_reason, a stop chunk and data: [DONE]', () => {
    const data = sseData(render('openai-completions-sse', { usage: true }).body, 'data: ');
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d): unknown => JSON.parse(d));
    expect(chunks).toHaveLength(5);
    chunks.slice(0, 3).forEach((c, i) => {
      expect(at(c, 'id')).toMatch(/^cmpl-/);
      expect(at(c, 'object')).toBe('text_completion');
      expect(keysOf(at(c, 'choices', 0))).toEqual(['index', 'text', 'logprobs', 'finish_reason', 'stop_reason']);
      expect(at(c, 'choices', 0, 'text')).toBe(TOKENS[i]);
      expect(at(c, 'choices', 0, 'finish_reason')).toBeNull();
    });
    expect(at(chunks[3], 'choices', 0, 'text')).toBe('');
    expect(at(chunks[3], 'choices', 0, 'finish_reason')).toBe('stop');
    expect(at(chunks[4], 'choices')).toEqual([]);
  });
});

describe("renderStream('lmi-jsonlines')", () => {
  test('writes spaced json.dumps lines with log_prob and raw UTF-8, the last adding generated_text and details', () => {
    const { body, events } = render('lmi-jsonlines');
    expect(events).toHaveLength(3);
    expect(body.startsWith('{"token": {"id": ')).toBe(true);
    expect(body).toContain('"text": " 日本", "log_prob": ');
    expect(body.endsWith('}\n')).toBe(true);
    const lines = bodyLines(body);
    expect(lines.at(-1)).toBe('');
    const objects = lines.slice(0, -1).map((l): unknown => JSON.parse(l));
    expect(keysOf(objects[0])).toEqual(['token']);
    expect(keysOf(at(objects[0], 'token'))).toEqual(['id', 'text', 'log_prob']);
    expect(keysOf(objects[2])).toEqual(['token', 'generated_text', 'details']);
    expect(at(objects[2], 'generated_text')).toBe(TEXT);
    expect(at(objects[2], 'details')).toEqual({ finish_reason: 'length', generated_tokens: 3, inputs: 'Hello' });
  });

  test('ends an error with the Java {"error","code":424} map and no trailing newline', () => {
    const { body, events } = render('lmi-jsonlines', { error: { message: 'exception occurred during rolling batch inference' } });
    expect(events.at(-1)).toBe('{"error":"exception occurred during rolling batch inference","code":424}');
    expect(body.endsWith('\n')).toBe(false);
    expect(body).not.toContain('generated_text');
  });

  test('escapes the Java error message the way Gson does by default', () => {
    const { events } = render('lmi-jsonlines', { error: { message: "a<b & c='d'", code: 400 } });
    expect(events.at(-1)).toBe('{"error":"a\\u003cb \\u0026 c\\u003d\\u0027d\\u0027","code":400}');
  });
});

describe("renderStream('lmi-sse')", () => {
  test('writes data: with a space, logprob instead of log_prob, a final generated_text and no [DONE]', () => {
    const { body, events } = render('lmi-sse');
    expect(events).toHaveLength(3);
    const objects = sseData(body, 'data: ').map((d): unknown => JSON.parse(d));
    expect(body.startsWith('data: {"token": {"id": ')).toBe(true);
    expect(keysOf(at(objects[0], 'token'))).toEqual(['id', 'text', 'logprob']);
    expect(at(objects[2], 'generated_text')).toBe(TEXT);
    expect(at(objects[2], 'details', 'inputs')).toBe('Hello');
    expect(body).not.toContain('[DONE]');
  });

  test('replaces the failing chunk with the bare Java error map', () => {
    const { events } = render('lmi-sse', { error: ERROR });
    expect(events.at(-1)).toBe(`{"error":"${ERROR.message}","code":424}`);
  });
});

describe("renderStream('lmi-chat-jsonlines')", () => {
  test('writes spaced chunks with no model, role after content on the first token only, and no [DONE]', () => {
    const { body } = render('lmi-chat-jsonlines');
    expect(body.startsWith('{"id": "chatcmpl-')).toBe(true);
    expect(body).not.toContain('[DONE]');
    const objects = bodyLines(body)
      .slice(0, -1)
      .map((l): unknown => JSON.parse(l));
    expect(objects).toHaveLength(3);
    for (const o of objects) expect(keysOf(o)).toEqual(['id', 'object', 'created', 'choices']);
    expect(keysOf(at(objects[0], 'choices', 0, 'delta'))).toEqual(['content', 'role']);
    expect(keysOf(at(objects[1], 'choices', 0, 'delta'))).toEqual(['content']);
    expect(objects.map((o) => at(o, 'choices', 0, 'finish_reason'))).toEqual([null, null, 'length']);
    expect(body).toContain('"content": " 🦙"');
  });
});

describe("renderStream('lmi-sse-chat')", () => {
  test('appends data: [DONE] in the same write as the finishing chunk', () => {
    const { events, body } = render('lmi-sse-chat');
    expect(events).toHaveLength(3);
    expect(events[2]?.endsWith('"finish_reason": "length"}]}\n\ndata: [DONE]\n\n')).toBe(true);
    const data = sseData(body, 'data: ');
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.slice(0, -1).map((d) => at(JSON.parse(d), 'choices', 0, 'delta', 'content'))).toEqual([...TOKENS]);
  });

  test('has no [DONE] after an error', () => {
    const { body } = render('lmi-sse-chat', { error: ERROR });
    expect(body).not.toContain('[DONE]');
    expect(body.endsWith('"code":424}')).toBe(true);
  });
});

describe("renderStream('lmi-async-chat-jsonlines')", () => {
  test('writes compact vLLM chunks without data:, one per line, and a blank line for [DONE]', () => {
    const { events, body } = render('lmi-async-chat-jsonlines');
    expect(events.at(-1)).toBe('\n');
    expect(body.endsWith('}\n\n')).toBe(true);
    expect(body).not.toContain('data:');
    const lines = bodyLines(body);
    expect(lines.slice(-2)).toEqual(['', '']);
    const chunks = lines.slice(0, -2).map((l): unknown => JSON.parse(l));
    expect(lines[0]?.startsWith('{"id":"chatcmpl-')).toBe(true);
    expect(at(chunks[0], 'choices', 0, 'delta')).toEqual({ role: 'assistant', content: '' });
    expect(at(chunks.at(-1), 'choices', 0, 'finish_reason')).toBe('stop');
  });

  test('passes the vLLM error object through as the last line', () => {
    const { events } = render('lmi-async-chat-jsonlines', { error: ERROR });
    expect(events.at(-1)).toBe(`{"error": {"message": "${ERROR.message}", "type": "InternalServerError", "param": null, "code": 500}}\n`);
  });
});

describe("renderStream('lmi-async-tgi-jsonlines')", () => {
  test('writes index 0 lines, an EOS line with text "" carrying generated_text, then blank lines', () => {
    const { events, body } = render('lmi-async-tgi-jsonlines');
    expect(events.slice(-2)).toEqual(['\n', '\n']);
    const lines = bodyLines(body);
    expect(lines.slice(-3)).toEqual(['', '', '']);
    const objects = lines.slice(0, -3).map((l): unknown => JSON.parse(l));
    expect(objects).toHaveLength(4);
    expect(body.startsWith('{"index": 0, "token": {"id": ')).toBe(true);
    for (const o of objects) {
      expect(keysOf(o)).toEqual(['index', 'token', 'generated_text', 'details']);
      expect(at(o, 'index')).toBe(0);
      expect(keysOf(at(o, 'token'))).toEqual(['id', 'text', 'logprob']);
      expect(at(o, 'details')).toBeNull();
    }
    expect(objects.slice(0, 3).map((o) => at(o, 'generated_text'))).toEqual([null, null, null]);
    expect(at(objects[3], 'token', 'text')).toBe('');
    expect(at(objects[3], 'generated_text')).toBe(TEXT);
  });
});

describe("renderStream('lmi-outputs-legacy')", () => {
  test('escapes non-ASCII as Python json.dumps does by default, emoji as a surrogate pair', () => {
    const { body, events } = render('lmi-outputs-legacy');
    expect(events).toEqual(['{"outputs": ["Hello"]}\n', '{"outputs": [" \\u65e5\\u672c"]}\n', '{"outputs": [" \\ud83e\\udd99"]}\n']);
    expect(body).toContain('\\ud83e\\udd99');
    expect(/[^\x20-\x7e\n]/.test(body)).toBe(false);
    expect(
      bodyLines(body)
        .slice(0, -1)
        .map((l) => at(JSON.parse(l), 'outputs', 0)),
    ).toEqual([...TOKENS]);
  });
});

describe("renderStream('lmi-3p-jsonlines')", () => {
  test('writes body/metering/content_type lines with prompt counts on the first and stop_reason on the last', () => {
    const objects = bodyLines(render('lmi-3p-jsonlines').body)
      .slice(0, -1)
      .map((l): unknown => JSON.parse(l));
    expect(objects).toHaveLength(3);
    for (const o of objects) {
      expect(keysOf(o)).toEqual(['body', 'metering', 'content_type']);
      expect(keysOf(at(o, 'body'))).toEqual(['generation', 'prompt_token_count', 'generation_token_count', 'stop_reason']);
      expect(at(o, 'content_type')).toBe('application/jsonlines');
    }
    expect(at(objects[0], 'body', 'prompt_token_count')).toBe(1);
    expect(at(objects[0], 'metering')).toEqual({ outputTokenCount: 1, inputTokenCount: 1 });
    expect(at(objects[1], 'body', 'prompt_token_count')).toBeNull();
    expect(at(objects[2], 'metering')).toEqual({ outputTokenCount: 3 });
    expect(objects.map((o) => at(o, 'body', 'stop_reason'))).toEqual([null, null, 'length']);
  });
});

describe("renderStream('sglang-generate-sse')", () => {
  test('sends cumulative text with meta_info, a finishing event and data: [DONE]', () => {
    const data = sseData(render('sglang-generate-sse').body, 'data: ');
    expect(data.at(-1)).toBe('[DONE]');
    const objects = data.slice(0, -1).map((d): unknown => JSON.parse(d));
    expect(objects.map((o) => at(o, 'text'))).toEqual(['Hello', 'Hello 日本', TEXT, TEXT]);
    expect(keysOf(objects[0])).toEqual(['text', 'meta_info']);
    expect(at(objects[0], 'meta_info', 'finish_reason')).toBeNull();
    expect(at(objects[3], 'meta_info', 'finish_reason', 'type')).toBe('stop');
  });

  test('writes the SGLang error object and still ends with data: [DONE]', () => {
    expect(render('sglang-generate-sse', { error: ERROR }).events.slice(-2)).toEqual([
      `data: {"error":{"message":"${ERROR.message}"}}\n\n`,
      'data: [DONE]\n\n',
    ]);
  });
});

describe("renderStream('ollama-generate-ndjson') and renderStream('ollama-chat-ndjson')", () => {
  test('writes compact generate lines with done:false and a final done:true line with response "" and stats', () => {
    const objects = bodyLines(render('ollama-generate-ndjson').body)
      .slice(0, -1)
      .map((l): unknown => JSON.parse(l));
    expect(objects).toHaveLength(4);
    expect(keysOf(objects[0])).toEqual(['model', 'created_at', 'response', 'done']);
    expect(objects.slice(0, 3).map((o) => at(o, 'response'))).toEqual([...TOKENS]);
    const last = objects[3];
    expect(at(last, 'done')).toBe(true);
    expect(at(last, 'response')).toBe('');
    expect(keysOf(last).slice(0, 6)).toEqual(['model', 'created_at', 'response', 'done', 'done_reason', 'context']);
    expect(at(last, 'eval_count')).toBe(3);
    expect(String(at(objects[0], 'created_at'))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test('writes chat lines with message.content', () => {
    const objects = bodyLines(render('ollama-chat-ndjson').body)
      .slice(0, -1)
      .map((l): unknown => JSON.parse(l));
    expect(keysOf(objects[0])).toEqual(['model', 'created_at', 'message', 'done']);
    expect(objects.map((o) => at(o, 'message', 'content'))).toEqual([...TOKENS, '']);
    expect(at(objects[3], 'done_reason')).toBe('stop');
  });

  test('escapes <, > and & as Go encoding/json does', () => {
    const { body } = renderStream('ollama-chat-ndjson', [' <b>', ' & '], { error: { message: 'x < y' } });
    expect(body).toContain('"content":" \\u003cb\\u003e"');
    expect(body).toContain('"content":" \\u0026 "');
    expect(body.endsWith('{"error":"x \\u003c y"}\n')).toBe(true);
    expect(body).not.toContain('"done":true');
  });
});

describe("renderStream('bedrock-titan')", () => {
  test('writes Titan objects back to back with no newline', () => {
    const { body, events } = render('bedrock-titan');
    expect(body).toContain('}{');
    expect(body).not.toContain('\n');
    const objects = events.map((e): unknown => JSON.parse(e));
    expect(keysOf(objects[0])).toEqual(['outputText', 'index', 'totalOutputTextTokenCount', 'completionReason', 'inputTextTokenCount']);
    expect(objects.map((o) => at(o, 'outputText'))).toEqual([...TOKENS]);
    expect(objects.map((o) => at(o, 'completionReason'))).toEqual([null, null, 'FINISHED']);
    expect(at(objects[2], 'totalOutputTextTokenCount')).toBe(3);
    expect(at(objects[0], 'inputTextTokenCount')).toBe(1);
  });
});

describe("renderStream('plain-text')", () => {
  test('writes the tokens as they are, one write each', () => {
    const { body, events } = render('plain-text', { specialTokens: ['</s>'], usage: true });
    expect(events).toEqual([...TOKENS]);
    expect(body).toBe(TEXT);
  });

  test('sends nothing for an empty token', () => {
    expect(renderStream('plain-text', ['a', '', 'b']).events).toEqual(['a', 'b']);
  });
});
