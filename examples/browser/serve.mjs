// Try examples/browser by hand: `npm run build && node examples/browser/serve.mjs`, then open the
// two URLs it prints. Everything listens on 127.0.0.1 only.
//
// - bundles main.ts (+ rx-sagemaker's sources and the AWS SDK's browser build) with esbuild;
// - starts the SageMaker emulator with `cors` set to this page's origin, playing a slow answer so
//   that Stop can be tried;
// - serves the page, and `/api/chat?prompt=...`: a relay that streams from the emulator on the
//   server with invoke$ + tokens() and writes each token as a server-sent event `data: <token>`.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { build } from 'esbuild';
import { invoke$, tokens } from 'rx-sagemaker';
import { startEmulator } from 'rx-sagemaker/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const port = Number(process.env.PORT ?? 8080);
const origin = `http://127.0.0.1:${port}`;

const bundle = await build({
  entryPoints: [here('./main.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  write: false,
  logLevel: 'warning',
});
const script = bundle.outputFiles[0].contents;
const html = await readFile(here('./index.html'));

const answer = [
  'Streaming',
  ' from',
  ' SageMaker',
  ' into',
  ' the',
  ' page',
  ':',
  ' 日本',
  '語',
  ',',
  ' 🦙',
  '.',
  ' Press',
  ' Stop',
  ' any',
  ' time',
  '.',
];
const emulator = await startEmulator({
  cors: origin,
  endpoints: { 'demo-llm': { stream: { format: 'tgi-sse', tokens: answer }, partDelayMs: 300 } },
});
const client = new SageMakerRuntimeClient({
  endpoint: emulator.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, // on the server, like real credentials would be
});

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', origin);
  if (url.pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  if (url.pathname === '/main.js') return void res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
  if (url.pathname !== '/api/chat') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const subscription = invoke$(client, { EndpointName: 'demo-llm', Body: { inputs: url.searchParams.get('prompt') ?? '', stream: true } })
    .pipe(tokens())
    .subscribe({
      next: (token) =>
        res.write(
          `${token
            .split(/\r\n|\r|\n/)
            .map((line) => `data: ${line}\n`)
            .join('')}\n`,
        ),
      error: () => res.destroy(),
      complete: () => res.end(),
    });
  res.on('close', () => subscription.unsubscribe()); // the page pressed Stop: stop the model call too
});
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));

console.log(`AWS SDK in the page: ${origin}/?mode=sdk&endpoint=${encodeURIComponent(emulator.url)}&name=demo-llm`);
console.log(`relay (fetchBytes$): ${origin}/?mode=relay&relay=/api/chat`);
console.log('Ctrl-C to stop.');
process.once('SIGINT', () => {
  server.closeAllConnections();
  server.close();
  void emulator.close();
});
