import {
  defaultQuotaFor,
  DIRECT_PUT_QUOTAS,
  StreamQuotas,
  StreamThrottle,
  TokenBucket,
} from '../../../runtime/local/stream-quotas';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** How many of `attempts` single-token takes succeed. */
function takes(bucket: TokenBucket, attempts: number): number {
  let taken = 0;
  for (let attempt = 0; attempt < attempts; attempt++) if (bucket.tryTake(1)) taken++;
  return taken;
}

describe('TokenBucket', () => {
  test('starts full: a burst up to its capacity passes at once, and no more', () => {
    // Prepare
    const clock = manualClock();
    const bucket = new TokenBucket(10, 10, clock.now);

    // Act
    const taken = takes(bucket, 15);

    // Assess
    expect(taken).toBe(10);
  });

  test('refills continuously at its rate: 250 ms at 100 per second gives 25 tokens', () => {
    // Prepare
    const clock = manualClock();
    const bucket = new TokenBucket(100, 100, clock.now);
    takes(bucket, 100);

    // Act
    clock.advance(250);
    const taken = takes(bucket, 100);

    // Assess
    expect(taken).toBe(25);
  });

  test('never holds more than its capacity, however long it rests', () => {
    // Prepare
    const clock = manualClock();
    const bucket = new TokenBucket(100, 100, clock.now);

    // Act
    clock.advance(60_000);

    // Assess
    expect(bucket.available()).toBe(100);
    expect(bucket.isFull()).toBe(true);
  });

  test('takes nothing when a larger amount is asked than it holds', () => {
    // Prepare
    const clock = manualClock();
    const bucket = new TokenBucket(100, 100, clock.now);

    // Act
    const tooMuch = bucket.tryTake(101);

    // Assess
    expect(tooMuch).toBe(false);
    expect(bucket.available()).toBe(100);
  });
});

describe('StreamThrottle', () => {
  const quota = { recordsPerSecond: 10, bytesPerSecond: 1000, requestsPerSecond: 2 };

  test('admits records until the records quota is used, then refuses them', () => {
    // Prepare
    const throttle = new StreamThrottle(quota, manualClock().now);

    // Act
    const admitted = Array.from({ length: 12 }, () => throttle.admitRecord(1));

    // Assess
    expect(admitted.filter(Boolean)).toHaveLength(10);
    expect(admitted.slice(10)).toEqual([false, false]);
  });

  test('refuses a record over the bytes left without counting it against the records quota', () => {
    // Prepare
    const clock = manualClock();
    const throttle = new StreamThrottle(quota, clock.now);
    throttle.admitRecord(900);

    // Act
    const large = throttle.admitRecord(200);
    const small = throttle.admitRecord(100);

    // Assess
    expect([large, small]).toEqual([false, true]);
    const recordsLeft = Array.from({ length: 10 }, () => throttle.admitRecord(0)).filter(Boolean).length;
    expect(recordsLeft).toBe(8);
  });

  test('admits calls up to the request quota per second', () => {
    // Prepare
    const clock = manualClock();
    const throttle = new StreamThrottle(quota, clock.now);

    // Act
    const first = [throttle.admitCall(), throttle.admitCall(), throttle.admitCall()];
    clock.advance(500);
    const afterHalfASecond = [throttle.admitCall(), throttle.admitCall()];

    // Assess
    expect(first).toEqual([true, true, false]);
    expect(afterHalfASecond).toEqual([true, false]);
  });

  test('burstSeconds sets how much a rested stream takes at once', () => {
    // Prepare
    const throttle = new StreamThrottle({ ...quota, burstSeconds: 3 }, manualClock().now);

    // Act
    const admitted = Array.from({ length: 40 }, () => throttle.admitRecord(1)).filter(Boolean).length;

    // Assess
    expect(admitted).toBe(30);
  });

  test('says which quota values are invalid', () => {
    // Act
    const create = (): StreamThrottle =>
      new StreamThrottle(
        { recordsPerSecond: 0, bytesPerSecond: NaN, requestsPerSecond: 1 },
        manualClock().now,
      );

    // Assess
    expect(create).toThrow(
      'Invalid stream quota: recordsPerSecond must be a positive number, got 0; bytesPerSecond must be a positive number, got NaN',
    );
  });
});

describe('StreamQuotas', () => {
  test('keeps one throttle per stream and region', () => {
    // Prepare
    const quotas = new StreamQuotas({ recordsPerSecond: 1, bytesPerSecond: 100, requestsPerSecond: 1 });

    // Act
    quotas.forStream('eu-west-1', 's1').admitRecord(1);
    const sameStream = quotas.forStream('eu-west-1', 's1').admitRecord(1);
    const otherRegion = quotas.forStream('us-east-1', 's1').admitRecord(1);

    // Assess
    expect([sameStream, otherRegion]).toEqual([false, true]);
  });

  test('forgets streams whose buckets have refilled once it tracks 1,000, so new names cannot grow it', () => {
    // Prepare
    const clock = manualClock();
    const quotas = new StreamQuotas(
      { recordsPerSecond: 1, bytesPerSecond: 100, requestsPerSecond: 1 },
      clock.now,
    );
    for (let index = 0; index < 1000; index++) quotas.forStream('eu-west-1', `s${index}`).admitCall();

    // Act
    clock.advance(1000);
    quotas.forStream('eu-west-1', 'one-more');

    // Assess
    expect(quotas.size).toBe(1);
  });

  test('regional defaults: 5 MiB/s, 2,000 requests/s and 500,000 records/s in us-east-1, us-west-2 and eu-west-1', () => {
    // Act
    const quotas = ['us-east-1', 'us-west-2', 'eu-west-1'].map(defaultQuotaFor);

    // Assess
    for (const quota of quotas) {
      expect(quota).toEqual({
        recordsPerSecond: 500_000,
        bytesPerSecond: 5_242_880,
        requestsPerSecond: 2000,
      });
    }
  });

  test('regional defaults: 1 MiB/s, 1,000 requests/s and 100,000 records/s elsewhere and for unsigned calls', () => {
    // Act
    const quotas = ['eu-central-1', 'us-east-2', 'ap-southeast-1', undefined].map(defaultQuotaFor);

    // Assess
    for (const quota of quotas) expect(quota).toEqual(DIRECT_PUT_QUOTAS.otherRegions);
    expect(DIRECT_PUT_QUOTAS.otherRegions).toEqual({
      recordsPerSecond: 100_000,
      bytesPerSecond: 1_048_576,
      requestsPerSecond: 1000,
    });
  });
});
