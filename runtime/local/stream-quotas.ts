/**
 * The Direct PUT throughput quotas of Firehose delivery streams: records, bytes and requests per second per stream,
 * combined over PutRecord and PutRecordBatch. https://docs.aws.amazon.com/firehose/latest/dev/limits.html
 *
 * Each quota is a token bucket that refills continuously at its rate and holds about one second of it, so a stream
 * takes a short burst up to its quota and then its quota's rate.
 */

/** The throughput quota of one delivery stream. */
export interface StreamQuota {
  /** Records per second, counted per record of every call. */
  readonly recordsPerSecond: number;
  /** Bytes per second of record data, before base64 encoding. */
  readonly bytesPerSecond: number;
  /** PutRecord and PutRecordBatch calls per second. */
  readonly requestsPerSecond: number;
  /**
   * Seconds of each rate a full bucket holds: how much a stream idle for that long takes at once.
   * @default 1
   */
  readonly burstSeconds?: number;
}

/** The default quotas, by region. The three quotas scale together when AWS raises one. */
export const DIRECT_PUT_QUOTAS = {
  /** US East (N. Virginia), US West (Oregon) and Europe (Ireland). */
  largeRegions: { recordsPerSecond: 500_000, bytesPerSecond: 5 * 1024 * 1024, requestsPerSecond: 2000 },
  /** Every other region. */
  otherRegions: { recordsPerSecond: 100_000, bytesPerSecond: 1024 * 1024, requestsPerSecond: 1000 },
} as const satisfies Record<string, StreamQuota>;

const LARGE_QUOTA_REGIONS: ReadonlySet<string> = new Set(['us-east-1', 'us-west-2', 'eu-west-1']);

/** The default quota of a stream in `region`; an unsigned call (no region) gets the smaller one. */
export function defaultQuotaFor(region: string | undefined): StreamQuota {
  return region !== undefined && LARGE_QUOTA_REGIONS.has(region)
    ? DIRECT_PUT_QUOTAS.largeRegions
    : DIRECT_PUT_QUOTAS.otherRegions;
}

/** Which quotas apply: the same for every stream, or each region's default from the call's SigV4 region. */
export type QuotaSetting = StreamQuota | 'regional-defaults';

/** Milliseconds from any fixed origin; `performance.now` unless a test gives its own. */
export type Clock = () => number;

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /** Starts full: a stream that has been idle may send a burst at once. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: Clock,
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Tokens there are now. */
  available(): number {
    const now = this.now();
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsedSeconds * this.ratePerSecond);
    this.updatedAt = now;
    return this.tokens;
  }

  /** Takes `amount` if that many are there; otherwise takes nothing. */
  tryTake(amount: number): boolean {
    if (this.available() < amount) return false;
    this.tokens -= amount;
    return true;
  }

  take(amount: number): void {
    this.tokens -= amount;
  }

  /** Refilled to capacity: the same as a new bucket. */
  isFull(): boolean {
    return this.available() >= this.capacity;
  }
}

/** The three buckets of one stream. */
export class StreamThrottle {
  private readonly records: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly requests: TokenBucket;

  constructor(quota: StreamQuota, now: Clock) {
    checkQuota(quota);
    const burst = quota.burstSeconds ?? 1;
    this.records = new TokenBucket(quota.recordsPerSecond, quota.recordsPerSecond * burst, now);
    this.bytes = new TokenBucket(quota.bytesPerSecond, quota.bytesPerSecond * burst, now);
    this.requests = new TokenBucket(quota.requestsPerSecond, quota.requestsPerSecond * burst, now);
  }

  /** Counts a call against the request quota; false when the stream is over it. */
  admitCall(): boolean {
    return this.requests.tryTake(1);
  }

  /**
   * Counts a record against the records and bytes quotas; false, counting nothing, when either is used up. A
   * record larger than the bytes bucket never passes.
   */
  admitRecord(bytes: number): boolean {
    if (this.records.available() < 1 || this.bytes.available() < bytes) return false;
    this.records.take(1);
    this.bytes.take(bytes);
    return true;
  }

  /** Every bucket full again: forgetting the stream changes nothing. */
  isIdle(): boolean {
    return this.records.isFull() && this.bytes.isFull() && this.requests.isFull();
  }
}

/** Streams tracked before idle ones are forgotten, so endless new stream names cannot grow memory. */
const TRACKED_STREAMS_BEFORE_PRUNING = 1000;

/** The throttles of every stream, created on a stream's first call. */
export class StreamQuotas {
  private readonly throttles = new Map<string, StreamThrottle>();

  constructor(
    private readonly setting: QuotaSetting,
    private readonly now: Clock = () => performance.now(),
  ) {
    if (setting !== 'regional-defaults') checkQuota(setting);
  }

  /** The throttle of stream `streamName` in `region` (streams of the same name in two regions are two streams). */
  forStream(region: string | undefined, streamName: string): StreamThrottle {
    const key = `${region ?? ''}/${streamName}`;
    let throttle = this.throttles.get(key);
    if (throttle === undefined) {
      if (this.throttles.size >= TRACKED_STREAMS_BEFORE_PRUNING) this.forgetIdle();
      const quota = this.setting === 'regional-defaults' ? defaultQuotaFor(region) : this.setting;
      throttle = new StreamThrottle(quota, this.now);
      this.throttles.set(key, throttle);
    }
    return throttle;
  }

  /** Streams tracked now. */
  get size(): number {
    return this.throttles.size;
  }

  private forgetIdle(): void {
    for (const [key, throttle] of this.throttles) {
      if (throttle.isIdle()) this.throttles.delete(key);
    }
  }
}

function checkQuota(quota: StreamQuota): void {
  const problems = (['recordsPerSecond', 'bytesPerSecond', 'requestsPerSecond', 'burstSeconds'] as const)
    .filter((name) => quota[name] !== undefined && !(Number.isFinite(quota[name]) && quota[name] > 0))
    .map((name) => `${name} must be a positive number, got ${String(quota[name])}`);
  if (problems.length > 0) throw new Error(`Invalid stream quota: ${problems.join('; ')}`);
}
