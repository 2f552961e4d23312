import { lastValueFrom, toArray } from 'rxjs';
import { invoke$, SageMakerStreamError, tokenEvents, tokens } from '../../src/index.js';
import { CONTAINER_FORMATS, startEmulator, type ContainerFormat, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

// The emulator renders tokens as each container writes them (src/testing/render.ts, written from
// formats.md independently of the parser); tokens() must read every one of them back.
const TOKENS = ['Hello', ' 日本', ' 🦙'];
const NO_IN_BAND_ERROR: readonly ContainerFormat[] = ['plain-text', 'bedrock-titan'];

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});

describe.each(CONTAINER_FORMATS.map((f) => [f] as const))('the emulator playing %s', (format) => {
  test('gives back exactly the tokens, one part per event and in 3-byte parts', async () => {
    const client = clientFor(emulator);
    for (const partSize of [undefined, 3]) {
      emulator.setEndpoint(format, { stream: { format, tokens: TOKENS, partSize } });
      const out = await lastValueFrom(invoke$(client, { EndpointName: format, Body: {} }).pipe(tokens(), toArray()));
      if (format === 'plain-text') expect(out.join('')).toBe(TOKENS.join(''));
      else expect({ partSize, out }).toEqual({ partSize, out: TOKENS });
    }
  });

  test('reports the container ContentType and one detected format', async () => {
    emulator.setEndpoint(format, { stream: { format, tokens: TOKENS } });
    let contentType: string | undefined;
    const events = await lastValueFrom(
      invoke$(clientFor(emulator), { EndpointName: format, Body: {} }, { onResponse: (m) => (contentType = m.contentType) }).pipe(
        tokenEvents(),
        toArray(),
      ),
    );
    expect(contentType).toMatch(/^(text\/event-stream|application\/(jsonlines|x-ndjson|json)|text\/plain)$/);
    expect(new Set(events.map((e) => e.format)).size).toBe(1);
  });

  if (!NO_IN_BAND_ERROR.includes(format)) {
    test('an in-band error after the tokens: every token, then kind model with the container message', async () => {
      emulator.setEndpoint(format, { stream: { format, tokens: TOKENS, options: { error: { message: 'GPU on fire' } }, partSize: 4 } });
      const result = await collect(invoke$(clientFor(emulator), { EndpointName: format, Body: {} }).pipe(tokens()));
      expect(format === 'plain-text' ? [result.values.join('')] : result.values).toEqual(TOKENS);
      expect(SageMakerStreamError.isInstance(result.error)).toBe(true);
      expect(result.error).toMatchObject({ kind: 'model' });
      expect((result.error as Error).message).toContain('GPU on fire');
    });
  }
});
