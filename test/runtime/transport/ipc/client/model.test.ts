import {
  errorMessageOf,
  MalformedEventError,
  parseSubscriptionMessage,
} from '../../../../../runtime/transport/ipc/client/model';

const event = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseSubscriptionMessage', () => {
  it('reads a binaryMessage as its bytes and its context topic', () => {
    // Act
    const message = parseSubscriptionMessage(
      event({
        binaryMessage: { message: Buffer.from([0, 1, 255]).toString('base64'), context: { topic: 'a/b/c' } },
      }),
      'a/#',
    );

    // Assess
    expect(message).toEqual({ topic: 'a/b/c', payload: Buffer.from([0, 1, 255]) });
  });

  it('reads a jsonMessage as the JSON text of its message', () => {
    // Act
    const message = parseSubscriptionMessage(
      event({ jsonMessage: { message: { request: { data: 'x' }, id: '1' }, context: { topic: 'a' } } }),
      'a',
    );

    // Assess
    expect(message.payload.toString()).toBe('{"request":{"data":"x"},"id":"1"}');
  });

  it('takes the subscribed topic, without its wildcard levels, when the event has no context', () => {
    // Act
    const exact = parseSubscriptionMessage(event({ binaryMessage: { message: '' } }), 'a/b');
    const wildcard = parseSubscriptionMessage(event({ binaryMessage: { message: '' } }), 'a/b/#');

    // Assess
    expect([exact.topic, wildcard.topic]).toEqual(['a/b', 'a/b']);
  });

  it.each([
    ['text that is not JSON', Buffer.from('{')],
    ['an event with neither message kind', event({ other: {} })],
    ['a binaryMessage without a message', event({ binaryMessage: { context: { topic: 'a' } } })],
  ])('refuses %s', (_, payload) => {
    // Act & Assess
    expect(() => parseSubscriptionMessage(payload, 'a')).toThrow(MalformedEventError);
  });
});

describe('errorMessageOf', () => {
  it("reads a modeled error's message, or the text of an unmodeled one", () => {
    // Act & Assess
    expect(errorMessageOf(event({ message: 'Principal x is not authorized' }))).toBe(
      'Principal x is not authorized',
    );
    expect(errorMessageOf(Buffer.from('InternalServerError'))).toBe('InternalServerError');
  });
});
