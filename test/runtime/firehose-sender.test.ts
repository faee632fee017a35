import { classifyError } from '../../runtime/firehose-sender';

function serviceError(name: string, httpStatusCode: number, message = 'message'): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

describe('classifyError', () => {
  it.each([
    ['a 503 "Slow down."', serviceError('ServiceUnavailableException', 503, 'Slow down.')],
    ['an InternalFailure', serviceError('InternalFailure', 500)],
    ['a throttling error', serviceError('ThrottlingException', 400)],
    ['any 5xx', serviceError('SomethingNew', 502)],
    ['a 429', serviceError('TooManyRequests', 429)],
    ['expired credentials', serviceError('ExpiredTokenException', 400)],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    ],
    ['a request timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    [
      'missing credentials',
      Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }),
    ],
  ])('retries %s', (_, error) => {
    expect(classifyError(error)).toMatchObject({ ok: false, retryable: true });
  });

  it.each([
    ['an unknown stream', serviceError('ResourceNotFoundException', 400), 'ResourceNotFoundException'],
    ['a denied call', serviceError('AccessDeniedException', 400), 'AccessDeniedException'],
    ['a validation error', serviceError('ValidationException', 400), 'ValidationException'],
  ])('fails %s at once with the service error code', (_, error, code) => {
    expect(classifyError(error)).toEqual({ ok: false, code, message: 'message', retryable: false });
  });
});
