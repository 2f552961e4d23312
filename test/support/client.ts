import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import type { Observable } from 'rxjs';
import type { Emulator } from '../../src/testing/index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

/** A real, unmodified SDK client pointed at the emulator (a fresh one per test: retry quotas are per client). */
export function clientFor(emulator: Emulator, extra: Partial<SageMakerRuntimeClientConfig> = {}): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    ...extra,
  });
}

/** Collects every value and the final notification of an Observable. */
export function collect<T>(source: Observable<T>): Promise<{ values: T[]; error?: unknown; completed: boolean }> {
  return new Promise((resolve) => {
    const values: T[] = [];
    source.subscribe({
      next: (v) => values.push(v),
      error: (error: unknown) => resolve({ values, error, completed: false }),
      complete: () => resolve({ values, completed: true }),
    });
  });
}
