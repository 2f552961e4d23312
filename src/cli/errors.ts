import type { SageMakerStreamErrorKind } from '../errors/SageMakerStreamError.js';

/** Exit codes of the CLI: one per error kind, so scripts can tell them apart. @internal */
export const EXIT_CODES: Readonly<Record<SageMakerStreamErrorKind, number>> = {
  unknown: 1,
  validation: 10,
  model: 11,
  'model-stream': 12,
  'internal-stream-failure': 13,
  throttling: 14,
  'service-unavailable': 15,
  'internal-failure': 16,
  'model-not-ready': 17,
  network: 18,
  timeout: 19,
  decode: 20,
  aborted: 21,
};

/** Exit code of a usage error (bad flags). @internal */
export const EXIT_USAGE = 2;
/** Exit code after Ctrl-C. @internal */
export const EXIT_INTERRUPTED = 130;

/** What to do about each kind of error, for the one-line message. @internal */
export const HINTS: Readonly<Record<SageMakerStreamErrorKind, string>> = {
  validation: 'check the endpoint name, the region (--region) and the request body',
  model: "the model container rejected the request: check the body format it expects and the endpoint's CloudWatch logs",
  'model-stream': "the model stopped mid-stream: check the endpoint's CloudWatch logs, or retry",
  'internal-stream-failure': 'SageMaker broke the stream: retry',
  throttling: 'slow down or ask for a higher quota, then retry',
  'service-unavailable': 'SageMaker is unavailable: retry later',
  'internal-failure': 'SageMaker failed internally: retry later',
  'model-not-ready': 'the model is still loading: retry in a minute',
  network: 'check the network, --endpoint-url and any proxy settings',
  timeout: 'the endpoint did not answer in time: raise --first-byte-timeout or --idle-timeout',
  decode: 'the output is not in a recognised format: try --raw, or --format',
  aborted: 'the request was aborted',
  unknown: 'check your credentials (--profile, AWS_PROFILE) and the sagemaker:InvokeEndpoint permission',
};
