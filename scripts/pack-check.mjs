// Packs the package (npm pack), installs the tarball into a scratch project next to its peer
// dependencies, and imports it both ways (CommonJS and ESM, "." and "./testing"), streams from
// the emulator through the installed copy, and runs the installed `rx-sagemaker` bin.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const root = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), 'rx-sagemaker-pack-'));
try {
  const tarball = JSON.parse(sh(npm, ['pack', '--json', '--pack-destination', scratch], root))[0];
  console.log(`packed ${tarball.filename}: ${tarball.entryCount} files, ${tarball.size} bytes`);
  const stray = tarball.files
    .map((f) => f.path)
    .filter((p) => !/^(dist\/|testing\/package\.json$|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(p));
  if (stray.length > 0) throw new Error(`files that should not ship: ${stray.join(', ')}`);

  const rxjs = JSON.parse(sh('node', ['-p', 'JSON.stringify(require("rxjs/package.json").version)'], root));
  const sdk = JSON.parse(sh('node', ['-p', 'JSON.stringify(require("@aws-sdk/client-sagemaker-runtime/package.json").version)'], root));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  sh(
    npm,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(scratch, tarball.filename),
      `rxjs@${rxjs}`,
      `@aws-sdk/client-sagemaker-runtime@${sdk}`,
    ],
    scratch,
  );

  const stream = `
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const emulator = await startEmulator({ endpoints: { e: { stream: { format: 'tgi-sse', tokens: ['ok', ' 🦙'] } } } });
    const client = new SageMakerRuntimeClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const out = await lastValueFrom(invoke$(client, { EndpointName: 'e', Body: {} }).pipe(tokens(), toArray()));
    await emulator.close();
    client.destroy();
    if (out.join('') !== 'ok 🦙') throw new Error('unexpected tokens: ' + JSON.stringify(out));
    console.log(KIND + ': imported rx-sagemaker and rx-sagemaker/testing, streamed', JSON.stringify(out));`;
  writeFileSync(
    join(scratch, 'check.cjs'),
    `const KIND = 'CommonJS';
     const { invoke$, tokens } = require('rx-sagemaker');
     const { startEmulator } = require('rx-sagemaker/testing');
     const { SageMakerRuntimeClient } = require('@aws-sdk/client-sagemaker-runtime');
     const { lastValueFrom, toArray } = require('rxjs');
     (async () => { ${stream} })().catch((e) => { console.error(e); process.exit(1); });`,
  );
  writeFileSync(
    join(scratch, 'check.mjs'),
    `const KIND = 'ESM';
     import { invoke$, tokens } from 'rx-sagemaker';
     import { startEmulator } from 'rx-sagemaker/testing';
     import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
     import { lastValueFrom, toArray } from 'rxjs';
     ${stream}`,
  );
  process.stdout.write(sh('node', ['check.cjs'], scratch));
  process.stdout.write(sh('node', ['check.mjs'], scratch));
  const help = sh(join(scratch, 'node_modules', '.bin', 'rx-sagemaker'), ['--help'], scratch);
  if (!help.startsWith('Usage: rx-sagemaker')) throw new Error('the installed bin did not print its help');
  console.log('bin: rx-sagemaker --help works from the installed package');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
