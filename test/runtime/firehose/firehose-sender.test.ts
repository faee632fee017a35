import { classifyError } from '../../../runtime/firehose/firehose-sender';

function serviceError(name: string, httpStatusCode: number, message = 'message'): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

/** An error as the SDK throws it when the call got no HTTP answer: a name, no status. */
function namedError(name: string, message = 'message'): Error {
  return Object.assign(new Error(message), { name });
}

/** A Node.js system error of a call that never got an answer. */
function systemError(code: string): Error {
  return Object.assign(new Error(`${code} 127.0.0.1:443`), { code });
}

describe('classifyError', () => {
  it.each([
    ['a 503 "Slow down."', serviceError('ServiceUnavailableException', 503, 'Slow down.')],
    ['an InternalFailure', serviceError('InternalFailure', 500)],
    ['a throttling error', serviceError('ThrottlingException', 400)],
    ['any 5xx', serviceError('SomethingNew', 502)],
    ['a 429', serviceError('TooManyRequests', 429)],
    ['expired credentials', serviceError('ExpiredTokenException', 400)],
    ['an error the SDK marks retryable', Object.assign(serviceError('Odd', 400), { $retryable: {} })],
  ])('retries %s', (_, error) => {
    expect(classifyError(error)).toMatchObject({ ok: false, retryable: true });
  });

  // Listed by hand, not taken from the module, so that emptying the module's list fails these tests.
  it.each([
    'ServiceUnavailableException',
    'InternalFailure',
    'InternalFailureException',
    'InternalServerError',
    'ThrottlingException',
    'Throttling',
    'TooManyRequestsException',
    'RequestTimeout',
    'RequestTimeoutException',
    'TimeoutError',
    'AbortError',
    'ExpiredTokenException',
    'RequestExpired',
    'CredentialsProviderError',
  ])('retries a call that failed without an HTTP status with the retryable name %s', (name) => {
    expect(classifyError(namedError(name))).toEqual({
      ok: false,
      code: name,
      message: 'message',
      retryable: true,
      wholeCall: true,
    });
  });

  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'ENOTFOUND',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ECONNABORTED',
    'ERR_STREAM_PREMATURE_CLOSE',
  ])('retries a call that never got an answer: %s', (code) => {
    expect(classifyError(systemError(code))).toMatchObject({ ok: false, code, retryable: true });
  });

  it.each([
    ['an unknown stream', serviceError('ResourceNotFoundException', 400), 'ResourceNotFoundException'],
    ['a denied call', serviceError('AccessDeniedException', 400), 'AccessDeniedException'],
    ['a validation error', serviceError('ValidationException', 400), 'ValidationException'],
  ])('fails %s at once with the service error code', (_, error, code) => {
    expect(classifyError(error)).toEqual({
      ok: false,
      code,
      message: 'message',
      retryable: false,
      wholeCall: true,
    });
  });

  it.each([
    [
      'a TypeError (a bug)',
      new TypeError("Cannot read properties of undefined (reading 'send')"),
      'TypeError',
    ],
    ['an unknown error without an HTTP status', namedError('SomethingElse'), 'SomethingElse'],
    ['a value that is not an Error', 'boom', 'UnknownError'],
  ])('does not retry %s', (_, error, code) => {
    expect(classifyError(error)).toMatchObject({ ok: false, code, retryable: false });
  });
});
