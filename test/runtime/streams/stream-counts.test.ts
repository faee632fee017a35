import { zeroCounts } from '../../../runtime/streams/stream-counts';

describe('zeroCounts', () => {
  it('gives every count a stream keeps, at zero', () => {
    // Act
    const counts = zeroCounts();

    // Assess
    expect(counts).toEqual({
      received: 0,
      rejected: 0,
      dropped: 0,
      delivered: 0,
      failed: 0,
      retried: 0,
      throttled: 0,
      calls: 0,
      records: 0,
      bytes: 0,
      billedBytes: 0,
    });
  });

  it('gives a new object each time, so that one stream counting does not move another', () => {
    // Prepare
    const first = zeroCounts();
    const second = zeroCounts();

    // Act
    first.delivered += 3;

    // Assess
    expect(second.delivered).toBe(0);
  });
});
