import { AdaptiveRate, type Amount } from '../../../runtime/pacing/adaptive-rate';

/** `records` records of 100 bytes. */
function amount(records: number): Amount {
  return { records, bytes: records * 100 };
}

/**
 * A stream first answered at 0 ms, that accepted 700 records at 500 ms, then 1,000 more at 1,200 ms with 200
 * refused for throttling: 1,700 records in the last second, over the 0.7 s since the oldest call in it was answered
 * and the service's second of burst, so it is slowed to 90 % of 1,000 records (100,000 bytes) a second, at 1,200 ms.
 */
function slowedRate(): AdaptiveRate {
  const rate = new AdaptiveRate();
  rate.settle(0, 0, amount(100), 0);
  rate.settle(500, 400, amount(700), 0);
  rate.settle(1200, 1100, amount(1000), 200);
  return rate;
}

/** Records and bytes per second, to a millionth. */
function perSecond(records: number, bytes = records * 100) {
  return { records: expect.closeTo(records, 6) as number, bytes: expect.closeTo(bytes, 6) as number };
}

describe('AdaptiveRate', () => {
  it('lets everything through until the stream throttles a record', () => {
    // Prepare
    const rate = new AdaptiveRate();

    // Act
    rate.settle(0, 0, amount(500), 0);
    rate.settle(100, 50, amount(500), 0);

    // Assess
    expect(rate.limited).toBe(false);
    expect(rate.allowance(100)).toEqual({ records: Infinity, bytes: Infinity });
    expect(rate.waitMs(100, amount(1_000_000))).toBe(0);
  });

  it('slows a stream at its first throttled call to 90 % of what it accepted in the last second, its second of burst discounted', () => {
    // Prepare
    const rate = new AdaptiveRate();
    rate.settle(0, 0, amount(100), 0);
    rate.settle(500, 400, amount(700), 0);

    // Act
    const verdict = rate.settle(1200, 1100, amount(1000), 200);

    // Assess
    expect(verdict).toBe('slowed');
    expect(rate.rate).toEqual(perSecond(900));
  });

  it('slows a throttled stream again to 90 % of what it accepted in the last second', () => {
    // Prepare
    const rate = slowedRate();

    // Act: a call sent after the first decrease; 600 records accepted in the second before it returned.
    const verdict = rate.settle(2300, 1300, amount(600), 50);

    // Assess
    expect(verdict).toBe('slowed');
    expect(rate.rate).toEqual(perSecond(540));
  });

  it('lowers the rate once per round trip: a throttled call sent before the last decrease leaves it as it is', () => {
    // Prepare
    const rate = slowedRate();

    // Act: sent at 1,100 ms, before the decrease at 1,200 ms.
    const verdict = rate.settle(1300, 1100, amount(10), 100);

    // Assess
    expect(verdict).toBe('slowed');
    expect(rate.rate).toEqual(perSecond(900));
  });

  it('raises the rate by 10 % for every second that calls go through unthrottled', () => {
    // Prepare
    const rate = slowedRate();

    // Act
    rate.settle(2200, 2100, amount(900), 0);
    const afterOneSecond = rate.rate;
    rate.settle(2700, 2600, amount(450), 0);

    // Assess
    expect([afterOneSecond, rate.rate]).toEqual([perSecond(990), perSecond(1039.5)]);
  });

  it('raises the rate by no more than 10 % at a call that comes after a long pause', () => {
    // Prepare
    const rate = slowedRate();

    // Act
    rate.settle(60_000, 59_900, amount(90), 0);

    // Assess
    expect(rate.rate).toEqual(perSecond(990));
  });

  it('never lowers the rate below half its highest of the last minute, however little the stream accepts', () => {
    // Prepare: refusals that go on however slowly the stream is sent, a fault rather than a quota.
    const rate = slowedRate();

    // Act
    rate.settle(2300, 1300, amount(10), 500);
    rate.settle(3400, 2400, amount(10), 500);

    // Assess: half of the 900 set at 1,200 ms, which has decayed for 2.2 s of its one-minute half-life.
    expect(rate.rate).toEqual(perSecond(450 * 0.5 ** (2200 / 60_000)));
  });

  it('lets that floor halve each minute, so that the rate can follow a quota that was lowered', () => {
    // Prepare
    const rate = slowedRate();

    // Act: a minute after the decrease to 900.
    rate.settle(61_200, 60_300, amount(10), 500);

    // Assess
    expect(rate.rate).toEqual(perSecond(225));
  });

  it('reports a stall, and keeps its rate, when the stream refused records and accepted none for a second', () => {
    // Prepare
    const rate = slowedRate();

    // Act
    const verdict = rate.settle(2300, 1300, amount(0), 100);

    // Assess
    expect(verdict).toBe('stalled');
    expect(rate.rate).toEqual(perSecond(900));
  });

  it('reports a stall, and stays unlimited, when a stream refuses everything from its first call', () => {
    // Prepare
    const rate = new AdaptiveRate();

    // Act
    const verdict = rate.settle(0, 0, amount(0), 500);

    // Assess
    expect(verdict).toBe('stalled');
    expect(rate.limited).toBe(false);
  });

  it('empties its bucket when it slows down, then refills it at its rate up to one second of it', () => {
    // Prepare
    const rate = slowedRate();

    // Act
    const allowances = [1200, 1300, 10_000].map((now) => rate.allowance(now));

    // Assess
    expect(allowances).toEqual([amount(0), amount(90), amount(900)]);
  });

  it('empties its bucket again at each decrease', () => {
    // Prepare: a second after the first decrease, the bucket is full.
    const rate = slowedRate();
    const before = rate.allowance(2300);

    // Act
    rate.settle(2300, 1300, amount(600), 50);

    // Assess
    expect([before, rate.allowance(2300)]).toEqual([amount(900), amount(0)]);
  });

  it('takes what a call carries from the bucket', () => {
    // Prepare
    const rate = slowedRate();

    // Act
    rate.spend(1300, amount(60));

    // Assess
    expect(rate.allowance(1300)).toEqual(amount(30));
  });

  it('says how long an amount waits, and a larger amount than the bucket holds waits for a full bucket', () => {
    // Prepare
    const rate = slowedRate();

    // Act
    const waits = [amount(90), amount(5000)].map((wanted) => rate.waitMs(1200, wanted));

    // Assess
    expect(waits).toEqual([100, 1000]);
  });

  it('makes an amount wait for whichever of records and bytes allows it last', () => {
    // Prepare
    const rate = slowedRate();

    // Act: 9 records are 10 ms of the record rate, but their 45,000 bytes are 500 ms of the byte rate.
    const waited = rate.waitMs(1200, { records: 9, bytes: 45_000 });

    // Assess
    expect(waited).toBe(500);
  });
});
