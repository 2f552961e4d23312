import {
  InternalFailure,
  InternalStreamFailure,
  ModelError,
  ModelNotReadyException,
  ModelStreamError,
  ServiceUnavailable,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { SageMakerStreamError, type SageMakerStreamErrorKind } from '../../src/index.js';
import { safeDetail, toStreamError } from '../../src/internal/classify.js';

// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the type of a module loaded twice below
type ErrorModule = typeof import('../../src/errors/SageMakerStreamError.js');

/** Loads a second, independent copy of the error module, as a second install of the package would. */
function loadSecondCopy(): ErrorModule {
  let copy: ErrorModule | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.isolateModules needs a synchronous load
    copy = require('../../src/errors/SageMakerStreamError.js') as ErrorModule;
  });
  if (copy === undefined) throw new Error('the module was not loaded');
  return copy;
}

const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SIGNATURE = '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';
const metadata = { httpStatusCode: 400, requestId: 'req-0001', attempts: 1, totalRetryDelay: 0 };

describe('SageMakerStreamError', () => {
  it('fills every field from its init and defaults retryable and afterFirstByte to false', () => {
    const cause = new Error('root');
    const err = new SageMakerStreamError({
      kind: 'model',
      message: 'safe message',
      endpointName: 'my-llm',
      requestId: 'req-1',
      errorCode: 'validation',
      statusCode: 424,
      httpStatusCode: 424,
      logStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/my-llm',
      lineNumber: 7,
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SageMakerStreamError');
    expect(err.message).toBe('safe message');
    expect(err.kind).toBe('model');
    expect(err.retryable).toBe(false);
    expect(err.afterFirstByte).toBe(false);
    expect(err.endpointName).toBe('my-llm');
    expect(err.requestId).toBe('req-1');
    expect(err.errorCode).toBe('validation');
    expect(err.statusCode).toBe(424);
    expect(err.httpStatusCode).toBe(424);
    expect(err.logStreamArn).toContain('my-llm');
    expect(err.lineNumber).toBe(7);
    expect(err.cause).toBe(cause);
  });

  it('is recognised by isInstance', () => {
    expect(SageMakerStreamError.isInstance(new SageMakerStreamError({ kind: 'decode', message: 'm' }))).toBe(true);
  });

  it('recognises an error made by a second copy of the module, where instanceof fails', () => {
    const copy = loadSecondCopy();
    expect(copy.SageMakerStreamError).not.toBe(SageMakerStreamError);
    const foreign = new copy.SageMakerStreamError({ kind: 'model-stream', message: 'from the other copy', errorCode: 'StreamBroken' });
    expect(foreign instanceof SageMakerStreamError).toBe(false);
    expect(SageMakerStreamError.isInstance(foreign)).toBe(true);
    expect(copy.SageMakerStreamError.isInstance(new SageMakerStreamError({ kind: 'network', message: 'here' }))).toBe(true);
  });

  it('recognises any object carrying the registered marker symbol', () => {
    const marked = { [Symbol.for('rx-sagemaker.SageMakerStreamError')]: true, kind: 'unknown', message: 'm' };
    expect(SageMakerStreamError.isInstance(marked)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'SageMakerStreamError'],
    ['a number', 42],
    ['a plain Error', new Error('x')],
    ['an Error named SageMakerStreamError', Object.assign(new Error('x'), { name: 'SageMakerStreamError', kind: 'model' })],
    ['an object whose marker is not true', { [Symbol.for('rx-sagemaker.SageMakerStreamError')]: 'yes' }],
    ['an object with an unregistered symbol of the same description', { [Symbol('rx-sagemaker.SageMakerStreamError')]: true }],
  ])('does not recognise %s', (_label, value) => {
    expect(SageMakerStreamError.isInstance(value)).toBe(false);
  });
});

describe('toStreamError', () => {
  describe('SDK exceptions, recognised by name', () => {
    it('maps ModelStreamError to a non-retryable model-stream error that keeps its ErrorCode', () => {
      const sdk = new ModelStreamError({
        message: 'Model invocation time exceeded',
        $metadata: {},
        ErrorCode: 'ModelInvocationTimeExceeded',
      });
      const err = toStreamError(sdk);
      expect(err.kind).toBe('model-stream');
      expect(err.retryable).toBe(false);
      expect(err.errorCode).toBe('ModelInvocationTimeExceeded');
      expect(err.cause).toBe(sdk);
      expect(err.message).toContain('ModelInvocationTimeExceeded');
    });

    it('maps InternalStreamFailure to a retryable internal-stream-failure error', () => {
      const sdk = new InternalStreamFailure({ message: 'Internal stream failure', $metadata: {} });
      const err = toStreamError(sdk);
      expect(err.kind).toBe('internal-stream-failure');
      expect(err.retryable).toBe(true);
      expect(err.cause).toBe(sdk);
    });

    it('maps ModelError to a non-retryable model error with its status codes, log stream and request id', () => {
      const sdk = new ModelError({
        message: 'Received client error (424) from primary with message "{"error":"model failed to load"}".',
        $metadata: { httpStatusCode: 424, requestId: '0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6' },
        OriginalStatusCode: 500,
        OriginalMessage: '{"error":"model failed to load"}',
        LogStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/my-llm',
      });
      const err = toStreamError(sdk);
      expect(err.kind).toBe('model');
      expect(err.retryable).toBe(false);
      expect(err.statusCode).toBe(500);
      expect(err.httpStatusCode).toBe(424);
      expect(err.requestId).toBe('0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6');
      expect(err.logStreamArn).toBe('arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/my-llm');
      expect(err.message).toContain('model failed to load');
      expect(err.cause).toBe(sdk);
    });

    it('keeps the ErrorCode of a ModelError-shaped error in errorCode', () => {
      const err = toStreamError({
        name: 'ModelError',
        message: 'Received server error (500) from primary',
        ErrorCode: 'ModelError',
        OriginalStatusCode: 500,
        $metadata: { httpStatusCode: 424 },
      });
      expect(err.kind).toBe('model');
      expect(err.errorCode).toBe('ModelError');
      expect(err.statusCode).toBe(500);
      expect(err.httpStatusCode).toBe(424);
    });

    it.each<[string, SageMakerStreamErrorKind, boolean, unknown]>([
      [
        'ValidationError',
        'validation',
        false,
        new ValidationError({ message: 'Endpoint my-llm of account 123456789012 not found.', $metadata: metadata }),
      ],
      [
        'ModelNotReadyException',
        'model-not-ready',
        true,
        new ModelNotReadyException({ message: 'Model is not ready', $metadata: { httpStatusCode: 429 } }),
      ],
      [
        'ServiceUnavailable',
        'service-unavailable',
        true,
        new ServiceUnavailable({ message: 'Service unavailable', $metadata: { httpStatusCode: 503 } }),
      ],
      [
        'InternalFailure',
        'internal-failure',
        true,
        new InternalFailure({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } }),
      ],
      [
        'ThrottlingException',
        'throttling',
        true,
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      ],
      ['TimeoutError', 'timeout', false, Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' })],
      ['AbortError', 'aborted', false, Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })],
    ])('maps %s to kind %s with the documented retryability', (_name, kind, retryable, sdk) => {
      const err = toStreamError(sdk);
      expect(err.kind).toBe(kind);
      expect(err.retryable).toBe(retryable);
      expect(err.cause).toBe(sdk);
    });

    it('maps a DOMException abort to an aborted error', () => {
      const err = toStreamError(new DOMException('The operation was aborted.', 'AbortError'));
      expect(err.kind).toBe('aborted');
      expect(err.retryable).toBe(false);
    });

    it('maps plain objects by their name, so errors of any SDK copy are recognised', () => {
      expect(toStreamError({ name: 'ModelStreamError', message: 'broken', ErrorCode: 'StreamBroken' })).toMatchObject({
        kind: 'model-stream',
        errorCode: 'StreamBroken',
        retryable: false,
      });
      expect(toStreamError({ name: 'InternalStreamFailure', Message: 'failure' })).toMatchObject({
        kind: 'internal-stream-failure',
        retryable: true,
      });
    });

    it('classifies by name and not by class: an SDK ValidationError renamed ThrottlingException is throttling', () => {
      const sdk = new ValidationError({ message: 'Rate exceeded', $metadata: metadata });
      Object.defineProperty(sdk, 'name', { value: 'ThrottlingException' });
      expect(toStreamError(sdk).kind).toBe('throttling');
    });

    it('takes the HTTP status and request id from $metadata', () => {
      const err = toStreamError(new ValidationError({ message: 'bad input', $metadata: metadata }));
      expect(err.httpStatusCode).toBe(400);
      expect(err.requestId).toBe('req-0001');
    });

    it('uses the request id of the context when the error has no $metadata', () => {
      const err = toStreamError(new InternalStreamFailure({ message: 'x', $metadata: {} }), { requestId: 'ctx-req' });
      expect(err.requestId).toBe('ctx-req');
    });

    it('records afterFirstByte from the context', () => {
      const sdk = new InternalStreamFailure({ message: 'x', $metadata: {} });
      expect(toStreamError(sdk, { afterFirstByte: true }).afterFirstByte).toBe(true);
      expect(toStreamError(sdk).afterFirstByte).toBe(false);
    });
  });

  describe('network errors', () => {
    it("maps Node's Error('aborted') with code ECONNRESET to a retryable network error", () => {
      const node = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      const err = toStreamError(node);
      expect(err.kind).toBe('network');
      expect(err.retryable).toBe(true);
      expect(err.errorCode).toBe('ECONNRESET');
      expect(err.cause).toBe(node);
    });

    it('maps ECONNREFUSED to a retryable network error whose message does not show the address', () => {
      const node = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:443'), { code: 'ECONNREFUSED', address: '10.1.2.3', port: 443 });
      const err = toStreamError(node);
      expect(err.kind).toBe('network');
      expect(err.retryable).toBe(true);
      expect(err.message).not.toContain('10.1.2.3');
    });

    it('maps a network code found on the cause of a wrapper error', () => {
      const wrapper = new Error('socket failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      expect(toStreamError(wrapper)).toMatchObject({ kind: 'network', retryable: true });
    });

    it('maps a DNS failure (ENOTFOUND) to a network error that is not retried', () => {
      const err = toStreamError(Object.assign(new Error('getaddrinfo ENOTFOUND runtime.sagemaker.example'), { code: 'ENOTFOUND' }));
      expect(err.kind).toBe('network');
      expect(err.retryable).toBe(false);
      expect(err.message).not.toContain('runtime.sagemaker.example');
    });

    it("maps the event-stream decoder's 'Truncated event message received.' to a retryable network error", () => {
      const err = toStreamError(new Error('Truncated event message received.'));
      expect(err.kind).toBe('network');
      expect(err.retryable).toBe(true);
    });

    it("maps a bare Error('aborted') (the response was cut) to a retryable network error", () => {
      expect(toStreamError(new Error('aborted'))).toMatchObject({ kind: 'network', retryable: true });
    });
  });

  describe('unmodelled errors', () => {
    it.each<[number, SageMakerStreamErrorKind]>([
      [500, 'internal-failure'],
      [502, 'internal-failure'],
      [504, 'internal-failure'],
      [503, 'service-unavailable'],
      [429, 'throttling'],
    ])('maps an unknown service error with HTTP %i to a retryable %s error', (status, kind) => {
      const err = toStreamError({ name: 'SomeNewServiceException', message: 'oops', $metadata: { httpStatusCode: status } });
      expect(err.kind).toBe(kind);
      expect(err.retryable).toBe(true);
      expect(err.httpStatusCode).toBe(status);
    });

    it('maps an unknown 4xx service error to a non-retryable unknown error', () => {
      const err = toStreamError({ name: 'AccessDeniedException', message: 'denied', $metadata: { httpStatusCode: 403 } });
      expect(err.kind).toBe('unknown');
      expect(err.retryable).toBe(false);
    });

    it('maps a random Error to a non-retryable unknown error that keeps it as cause', () => {
      const random = new Error('something odd at /home/app/secret-path');
      const err = toStreamError(random);
      expect(err).toBeInstanceOf(SageMakerStreamError);
      expect(err.kind).toBe('unknown');
      expect(err.retryable).toBe(false);
      expect(err.cause).toBe(random);
      expect(err.message).not.toContain('/home/app/secret-path');
    });

    it('maps a TypeError from a callback to a non-retryable unknown error', () => {
      expect(toStreamError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toMatchObject({
        kind: 'unknown',
        retryable: false,
      });
    });

    it('maps a SyntaxError to a non-retryable decode error', () => {
      let thrown: unknown;
      try {
        JSON.parse('{"a":');
      } catch (e) {
        thrown = e;
      }
      expect(toStreamError(thrown)).toMatchObject({ kind: 'decode', retryable: false });
    });

    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['a string', 'boom'],
      ['a number', 7],
    ])('maps a thrown %s to an unknown error without failing', (_label, value) => {
      const err = toStreamError(value);
      expect(SageMakerStreamError.isInstance(err)).toBe(true);
      expect(err.kind).toBe('unknown');
      expect(err.cause).toBe(value);
    });
  });

  describe('idempotence', () => {
    it('returns a SageMakerStreamError unchanged', () => {
      const original = new SageMakerStreamError({ kind: 'timeout', message: 'm' });
      expect(toStreamError(original)).toBe(original);
      expect(toStreamError(toStreamError(original), { endpointName: 'other' })).toBe(original);
    });

    it('returns the error of another copy of the package unchanged', () => {
      const copy = loadSecondCopy();
      const foreign = new copy.SageMakerStreamError({ kind: 'throttling', message: 'm', retryable: true });
      expect(toStreamError(foreign)).toBe(foreign);
    });

    it('maps an already mapped error to the same object', () => {
      const once = toStreamError(new InternalStreamFailure({ message: 'x', $metadata: {} }));
      expect(toStreamError(once)).toBe(once);
    });
  });

  describe('messages', () => {
    it('names the endpoint when it is given, and records it', () => {
      const err = toStreamError(new InternalStreamFailure({ message: 'x', $metadata: {} }), { endpointName: 'my-llm-endpoint' });
      expect(err.message).toContain('my-llm-endpoint');
      expect(err.endpointName).toBe('my-llm-endpoint');
    });

    it('does not invent an endpoint when none is given', () => {
      const err = toStreamError(new InternalStreamFailure({ message: 'x', $metadata: {} }));
      expect(err.endpointName).toBeUndefined();
      expect(err.message).not.toContain('endpoint "');
    });

    it('never contains access keys, signatures or credentials from the service message', () => {
      const sdk = new ValidationError({
        message:
          `The request signature we calculated does not match. Authorization: AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20240614/us-east-1/sagemaker/aws4_request, ` +
          `SignedHeaders=host;x-amz-date, Signature=${SIGNATURE}`,
        $metadata: metadata,
      });
      const err = toStreamError(sdk, { endpointName: 'my-llm' });
      expect(err.kind).toBe('validation');
      expect(err.message).toContain('signature we calculated does not match');
      expect(err.message).not.toContain(ACCESS_KEY);
      expect(err.message).not.toContain(SIGNATURE);
      expect(err.message).not.toContain('20240614/us-east-1/sagemaker/aws4_request');
    });

    it('never contains presigned-URL credentials from a model error message', () => {
      const sdk = new ModelError({
        message: `Received client error (403) from primary: https://bucket.s3.amazonaws.com/m.tar.gz?X-Amz-Credential=${ACCESS_KEY}%2F20240614&X-Amz-Signature=${SIGNATURE}&X-Amz-Security-Token=FwoGZXIvYXdzEJr`,
        $metadata: { httpStatusCode: 424 },
        OriginalStatusCode: 403,
      });
      const err = toStreamError(sdk);
      expect(err.message).not.toContain(ACCESS_KEY);
      expect(err.message).not.toContain(SIGNATURE);
      expect(err.message).not.toContain('FwoGZXIvYXdzEJr');
    });

    it('never contains the request body when a model error echoes it', () => {
      const requestBody = '{"inputs":"My card number is 4111 1111 1111 1111, summarise my statement","parameters":{"max_new_tokens":64}}';
      const sdk = new ModelError({
        message: `Received client error (422) from primary with message "Failed to deserialize the JSON body: ${requestBody}".`,
        $metadata: { httpStatusCode: 424 },
        OriginalStatusCode: 422,
      });
      const err = toStreamError(sdk, { endpointName: 'my-llm', requestBody });
      expect(err.message).not.toContain(requestBody);
      expect(err.message).not.toContain('4111 1111');
      expect(err.message).toContain('Failed to deserialize');
    });

    it('never contains any part of a multi-line request body that a model error echoes', () => {
      const requestBody = 'My card number is 4111 1111 1111 1111.\nSummarise my last statement.';
      const sdk = new ModelError({
        message: `Received client error (400) from primary with message "cannot parse input: ${requestBody}".`,
        $metadata: { httpStatusCode: 424 },
        OriginalStatusCode: 400,
      });
      const err = toStreamError(sdk, { endpointName: 'my-llm', requestBody });
      expect(err.message).toContain('cannot parse input');
      expect(err.message).not.toContain('4111 1111');
    });

    it('keeps only the first line of a service message', () => {
      const err = toStreamError(new ValidationError({ message: 'Endpoint not found.\nstack line 1\nstack line 2', $metadata: metadata }));
      expect(err.message).toContain('Endpoint not found.');
      expect(err.message).not.toContain('stack line');
    });
  });
});

describe('safeDetail', () => {
  it('returns a short, harmless one-line message unchanged', () => {
    expect(safeDetail('Input validation error: `temperature` must be strictly positive')).toBe(
      'Input validation error: `temperature` must be strictly positive',
    );
  });

  it('keeps only the first line', () => {
    expect(safeDetail('first line\nsecond line\nthird')).toBe('first line');
  });

  it('cuts a long message to 300 characters followed by an ellipsis', () => {
    const out = safeDetail('x'.repeat(1000));
    expect(out).toBe(`${'x'.repeat(300)}…`);
  });

  it.each([ACCESS_KEY, 'ASIAY34FZKBOKMUTVV7A'])('redacts the access key id %s', (key) => {
    const out = safeDetail(`The security token included in the request is invalid for ${key}.`);
    expect(out).not.toContain(key);
    expect(out).toContain('[redacted]');
  });

  it.each([
    ['Signature=', `Signature=${SIGNATURE}`, SIGNATURE],
    ['Credential=', `Credential=ABCDEFGH/20240614/us-east-1/sagemaker/aws4_request`, 'ABCDEFGH/20240614'],
    ['X-Amz-Signature=', `X-Amz-Signature=${SIGNATURE}`, SIGNATURE],
    ['X-Amz-Security-Token=', 'X-Amz-Security-Token=IQoJb3JpZ2luX2VjEHoaCXVz', 'IQoJb3JpZ2luX2VjEHoaCXVz'],
    ['Authorization:', 'Authorization: AWS4-HMAC-SHA256-secretvalue', 'AWS4-HMAC-SHA256-secretvalue'],
    ['lower-case signature=', `signature=${SIGNATURE}`, SIGNATURE],
  ])('redacts the value after %s', (_label, secret, value) => {
    const out = safeDetail(`request failed: ${secret} end`);
    expect(out).not.toContain(value);
    expect(out).toContain('[redacted]');
    expect(out).toContain('request failed:');
  });

  it('replaces every echo of the request body', () => {
    const body = '{"inputs":"tell me a secret"}';
    const out = safeDetail(`bad body ${body}; again ${body}`, body);
    expect(out).toBe('bad body [request body]; again [request body]');
  });

  it('replaces the request body even when it is longer than the 300-character cut', () => {
    const body = `{"inputs":"${'confidential '.repeat(40)}"}`;
    const out = safeDetail(`Failed to deserialize: ${body}`, body);
    expect(out).toBe('Failed to deserialize: [request body]');
  });

  it('replaces a multi-line request body instead of leaking its first line', () => {
    const body = 'Tell me a secret about project zebra.\nAnswer in one word.';
    const out = safeDetail(`Failed to deserialize: ${body}`, body);
    expect(out).not.toContain('project zebra');
  });
});

describe('toStreamError: fetch failures', () => {
  test.each(['Failed to fetch', 'NetworkError when attempting to fetch resource.', 'Load failed', 'fetch failed'])(
    'a TypeError "%s" from fetch is a retryable network error',
    (message) => {
      const error = toStreamError(new TypeError(message));
      expect(error.kind).toBe('network');
      expect(error.retryable).toBe(true);
    },
  );

  test('any other TypeError stays unknown', () => {
    expect(toStreamError(new TypeError("Cannot read properties of undefined (reading 'x')")).kind).toBe('unknown');
  });
});
