import { InternalStreamFailure, ModelError, ModelStreamError, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { of, take, tap, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { SageMakerStreamError, mapStreamErrors, type SageMakerStreamErrorKind } from '../../src/index.js';
import { countingSource } from '../support/chunks.js';

const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SIGNATURE = '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';

/** Runs `source.pipe(mapStreamErrors(config))` synchronously and returns the error it ends with. */
function mappedError(error: unknown, endpointName?: string): SageMakerStreamError {
  let caught: unknown;
  throwError(() => error)
    .pipe(mapStreamErrors(endpointName === undefined ? {} : { endpointName }))
    .subscribe({ error: (e: unknown) => (caught = e) });
  if (!SageMakerStreamError.isInstance(caught)) throw new Error(`not mapped: ${String(caught)}`);
  return caught;
}

describe('mapStreamErrors', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  describe('marbles', () => {
    it('passes values and completion through untouched', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', { a: 1, b: 2, c: 3 });
        expectObservable(source.pipe(mapStreamErrors())).toBe('-a-b-c-|', { a: 1, b: 2, c: 3 });
        expectSubscriptions(source.subscriptions).toBe('^------!');
      });
    });

    it('delivers the values before an error, then the mapped error at the same frame', () => {
      const sdk = new ModelStreamError({ message: 'Stream broken', $metadata: {}, ErrorCode: 'StreamBroken' });
      let caught: unknown;
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a--b--#', { a: 'x', b: 'y' }, sdk);
        const result = source.pipe(mapStreamErrors({ endpointName: 'tgi' }), tap({ error: (e: unknown) => (caught = e) }));
        expectObservable(result).toBe(
          '-a--b--#',
          { a: 'x', b: 'y' },
          expect.objectContaining({ kind: 'model-stream', errorCode: 'StreamBroken', endpointName: 'tgi', retryable: false }),
        );
        expectSubscriptions(source.subscriptions).toBe('^------!');
      });
      expect(caught).toBeInstanceOf(SageMakerStreamError);
      expect((caught as SageMakerStreamError).cause).toBe(sdk);
    });

    it('unsubscribes from the source when the consumer unsubscribes early', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|');
        expectObservable(source.pipe(mapStreamErrors()), '^--!').toBe('-a-');
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('lets take cut a synchronous source', () => {
      const { source, pulled } = countingSource(100, (i) => i);
      scheduler.run(({ expectObservable }) => {
        expectObservable(source.pipe(mapStreamErrors(), take(2))).toBe('(ab|)', { a: 0, b: 1 });
      });
      expect(pulled()).toBe(2);
    });

    it('passes an error that already is a SageMakerStreamError as the very same object', () => {
      const original = new SageMakerStreamError({ kind: 'decode', message: 'bad line', lineNumber: 3 });
      let caught: unknown;
      scheduler.run(({ cold, expectObservable }) => {
        const result = cold('-a-#', { a: 1 }, original).pipe(
          mapStreamErrors({ endpointName: 'x' }),
          tap({ error: (e: unknown) => (caught = e) }),
        );
        expectObservable(result).toBe('-a-#', { a: 1 }, original);
      });
      expect(caught).toBe(original);
    });
  });

  describe('mapping by name', () => {
    it('maps ModelStreamError to model-stream, keeps its ErrorCode and is not retryable', () => {
      const sdk = new ModelStreamError({
        message: 'Model invocation time exceeded',
        $metadata: {},
        ErrorCode: 'ModelInvocationTimeExceeded',
      });
      const err = mappedError(sdk);
      expect(err.kind).toBe('model-stream');
      expect(err.errorCode).toBe('ModelInvocationTimeExceeded');
      expect(err.retryable).toBe(false);
      expect(err.cause).toBe(sdk);
    });

    it('maps InternalStreamFailure to a retryable internal-stream-failure', () => {
      const sdk = new InternalStreamFailure({ message: 'Internal stream failure', $metadata: {} });
      expect(mappedError(sdk)).toMatchObject({ kind: 'internal-stream-failure', retryable: true });
    });

    it('maps ModelError with its original status, log stream, error code, HTTP status and request id', () => {
      const sdk = Object.assign(
        new ModelError({
          message: 'Received server error (500) from primary with message "CUDA out of memory".',
          $metadata: { httpStatusCode: 424, requestId: '6f1c0de2-aaaa-bbbb-cccc-1234567890ab' },
          OriginalStatusCode: 500,
          OriginalMessage: 'CUDA out of memory',
          LogStreamArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/llm',
        }),
        { ErrorCode: 'ModelError' },
      );
      const err = mappedError(sdk, 'llm');
      expect(err.kind).toBe('model');
      expect(err.retryable).toBe(false);
      expect(err.statusCode).toBe(500);
      expect(err.httpStatusCode).toBe(424);
      expect(err.requestId).toBe('6f1c0de2-aaaa-bbbb-cccc-1234567890ab');
      expect(err.logStreamArn).toBe('arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/llm');
      expect(err.errorCode).toBe('ModelError');
      expect(err.message).toContain('CUDA out of memory');
      expect(err.cause).toBe(sdk);
    });

    it.each<[string, SageMakerStreamErrorKind, boolean, () => unknown]>([
      [
        'ValidationError',
        'validation',
        false,
        () => new ValidationError({ message: 'Endpoint x not found.', $metadata: { httpStatusCode: 400 } }),
      ],
      ['ThrottlingException', 'throttling', true, () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
      ['ModelNotReadyException', 'model-not-ready', true, () => ({ name: 'ModelNotReadyException', message: 'loading' })],
      ['ServiceUnavailable', 'service-unavailable', true, () => ({ name: 'ServiceUnavailable', message: 'try later' })],
      ['InternalFailure', 'internal-failure', true, () => ({ name: 'InternalFailure', message: 'oops' })],
      ['TimeoutError', 'timeout', false, () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
      ['AbortError', 'aborted', false, () => Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })],
      ["Error('aborted') with code ECONNRESET", 'network', true, () => Object.assign(new Error('aborted'), { code: 'ECONNRESET' })],
      ['ECONNREFUSED', 'network', true, () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' })],
      ["'Truncated event message received.'", 'network', true, () => new Error('Truncated event message received.')],
      [
        'an unknown error with HTTP 500 in $metadata',
        'internal-failure',
        true,
        () => ({ name: 'Weird', message: 'x', $metadata: { httpStatusCode: 500 } }),
      ],
      ['a random Error', 'unknown', false, () => new Error('something else')],
    ])('maps %s to kind %s (retryable: %s)', (_label, kind, retryable, make) => {
      const original = make();
      const err = mappedError(original);
      expect(err.kind).toBe(kind);
      expect(err.retryable).toBe(retryable);
      expect(err.cause).toBe(original);
    });

    it('recognises errors by name even when they are not Error instances', () => {
      const err = mappedError({ name: 'ModelStreamError', Message: 'broken', ErrorCode: 'StreamBroken' });
      expect(err).toMatchObject({ kind: 'model-stream', errorCode: 'StreamBroken' });
    });

    it('recognises errors by name, not by class', () => {
      const sdk = new InternalStreamFailure({ message: 'x', $metadata: {} });
      Object.defineProperty(sdk, 'name', { value: 'ValidationError' });
      expect(mappedError(sdk)).toMatchObject({ kind: 'validation', retryable: false });
    });
  });

  describe('messages', () => {
    it('names the endpoint in the message and records it on the error', () => {
      const err = mappedError(new InternalStreamFailure({ message: 'x', $metadata: {} }), 'my-endpoint-01');
      expect(err.endpointName).toBe('my-endpoint-01');
      expect(err.message).toContain('"my-endpoint-01"');
    });

    it('never puts access keys or signatures into the message', () => {
      const sdk = new ValidationError({
        message: `Credential should be scoped to a valid region. Credential=${ACCESS_KEY}/20240614/eu-west-1/sagemaker/aws4_request Signature=${SIGNATURE}`,
        $metadata: { httpStatusCode: 400 },
      });
      const err = mappedError(sdk, 'x');
      expect(err.message).not.toContain(ACCESS_KEY);
      expect(err.message).not.toContain(SIGNATURE);
    });

    it('is idempotent: mapping twice returns the error of the first mapping', () => {
      const sdk = new InternalStreamFailure({ message: 'x', $metadata: {} });
      let first: unknown;
      let second: unknown;
      throwError(() => sdk)
        .pipe(mapStreamErrors({ endpointName: 'a' }), tap({ error: (e: unknown) => (first = e) }), mapStreamErrors({ endpointName: 'b' }))
        .subscribe({ error: (e: unknown) => (second = e) });
      expect(second).toBe(first);
      expect((second as SageMakerStreamError).endpointName).toBe('a');
    });
  });

  it('does not touch a source that completes without error', () => {
    const values: number[] = [];
    let completed = false;
    of(1, 2)
      .pipe(mapStreamErrors())
      .subscribe({ next: (v) => values.push(v), complete: () => (completed = true) });
    expect(values).toEqual([1, 2]);
    expect(completed).toBe(true);
  });
});
