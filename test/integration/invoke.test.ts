import { lastValueFrom, toArray } from 'rxjs';
import { invoke$, tokens } from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { clientFor, collect } from '../support/client.js';

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await emulator.close();
});

describe('invoke$ against the emulator with the real SDK client', () => {
  test('emits the bytes of every PayloadPart in order and completes', async () => {
    emulator.setEndpoint('ep', { parts: ['Hello', ', ', 'world'] });
    const result = await collect(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: 'hi' }));
    expect(result.completed).toBe(true);
    expect(result.values.map((b) => Buffer.from(b).toString())).toEqual(['Hello', ', ', 'world']);
  });

  test('pipes into tokens()', async () => {
    emulator.setEndpoint('ep', { parts: ['data:{"token":{"text":"Hi"', '}}\n\ndata:{"token":{"text":" there"}}\n\n'] });
    const out = await lastValueFrom(invoke$(clientFor(emulator), { EndpointName: 'ep', Body: {} }).pipe(tokens(), toArray()));
    expect(out).toEqual(['Hi', ' there']);
  });
});
