import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** A real, unmodified SDK client pointed at an emulator. */
export function clientFor(url, maxSockets = 50) {
  return new SageMakerRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    requestHandler: { httpAgent: { maxSockets, keepAlive: true } },
    maxAttempts: 1,
  });
}

/** Starts bench/lib/emulator-child.mjs; resolves with `{ url, close }`. */
export function spawnEmulator() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./emulator-child.mjs', import.meta.url))], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`emulator child exited with ${code}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        child.removeAllListeners('exit');
        resolve({
          url: out.slice(0, nl).trim(),
          close: () =>
            new Promise((r) => {
              child.once('exit', r);
              child.stdin.end();
            }),
        });
      }
    });
  });
}
