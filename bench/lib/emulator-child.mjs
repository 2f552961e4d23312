// The emulator in its own process, so that the server's CPU time is not charged to the client
// being measured. Each request's JSON body says what to play: { format, tokens, seed }.
// Prints the emulator's URL on stdout, then serves until its stdin closes.
import { testing } from './lib.mjs';
import { cutParts, makeTokens } from './data.mjs';

const { startEmulator, renderStream } = testing;
const cache = new Map();
function partsFor(format, tokens, seed) {
  const key = `${format}/${tokens}/${seed}`;
  let entry = cache.get(key);
  if (entry === undefined) {
    const rendered = renderStream(format, makeTokens(tokens, seed));
    entry = { parts: cutParts(rendered.events, seed).parts, contentType: rendered.contentType };
    cache.set(key, entry);
  }
  return entry;
}

const emulator = await startEmulator({
  endpoints: {
    bench: (request) => {
      const { format = 'tgi-sse', tokens = 1000, seed = 7 } = JSON.parse(new TextDecoder().decode(request.body));
      return partsFor(format, tokens, seed);
    },
  },
});
process.stdout.write(`${emulator.url}\n`);
process.stdin.on('end', () => void emulator.close().then(() => process.exit(0)));
process.stdin.resume();
