// npm run demo: the main job end to end, on loopback. Starts the SageMaker streaming emulator with
// a canned TGI-style answer (non-ASCII included, parts cut mid-line and mid-character), streams it
// with the real AWS SDK client through invoke$(...).pipe(tokens()), and prints time to first token
// and tokens/s.
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { invoke$, tokens } from 'rx-sagemaker';
import { splitBytes, startEmulator } from 'rx-sagemaker/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const answer = [
  'Streaming',
  ' from',
  ' SageMaker',
  ',',
  ' token',
  ' by',
  ' token',
  '.',
  '\n',
  'Multi-byte',
  ' text',
  ' survives',
  ' any',
  ' split',
  ':',
  ' é',
  'té',
  ',',
  ' 日本',
  '語',
  ',',
  ' 🦙',
  ' 🚀',
  '.',
  '\n',
  'Unsubscribing',
  ' aborts',
  ' the',
  ' request',
  ';',
  ' errors',
  ' are',
  ' typed',
  '.',
  '\n',
];
// TGI generate_stream framing: `data:` without a space, a final event repeating the whole text.
const events = answer.map(
  (text, i) =>
    `data:${JSON.stringify({
      index: i + 1,
      token: { id: 1000 + i, text, logprob: -0.1, special: false },
      generated_text: i === answer.length - 1 ? answer.join('') : null,
      details: null,
    })}\n\n`,
);
// Cut the bytes at irregular offsets (7, 19, 31, ... bytes) so parts split lines and code points.
const body = events.join('');
const cuts = [];
for (let at = 0, step = 7; at < Buffer.byteLength(body); step = ((step * 5 + 3) % 41) + 5) cuts.push((at += step));
const parts = splitBytes(body, cuts);

const emulator = await startEmulator({
  endpoints: { 'demo-llm': { parts, partDelayMs: 20, firstPartDelayMs: 150, contentType: 'text/event-stream' } },
});
const client = new SageMakerRuntimeClient({
  endpoint: emulator.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
});

console.log(`emulator on ${emulator.url}: ${events.length} events in ${parts.length} payload parts\n`);
const started = performance.now();
let firstTokenAt;
let count = 0;
invoke$(client, { EndpointName: 'demo-llm', Body: { inputs: 'Tell me about rx-sagemaker', stream: true } })
  .pipe(tokens())
  .subscribe({
    next(token) {
      firstTokenAt ??= performance.now();
      count++;
      process.stdout.write(token);
    },
    error(err) {
      console.error(`\n${err.kind}: ${err.message}`);
      process.exitCode = 1;
      void emulator.close();
    },
    complete() {
      const end = performance.now();
      const ttft = (firstTokenAt ?? end) - started;
      const rate = count / ((end - (firstTokenAt ?? end)) / 1000 || Infinity);
      console.log(`\ntime to first token: ${ttft.toFixed(0)} ms · ${count} tokens · ${rate.toFixed(1)} tokens/s`);
      void emulator.close();
    },
  });
