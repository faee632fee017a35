import { billedBytes } from '../../../runtime/firehose/billing';

describe('the bytes Firehose bills for a record', () => {
  it('round each record up to the next 5 KB of 5,120 bytes', () => {
    expect([1, 200, 5120, 5121, 3 * 1024, 12 * 1024, 1_024_000].map(billedBytes)).toEqual([
      5120, 5120, 5120, 10_240, 5120, 15_360, 1_024_000,
    ]);
  });

  it('make 200 bytes cost 25.6 times their size', () => {
    expect(billedBytes(200) / 200).toBe(25.6);
  });
});
