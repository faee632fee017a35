import { backoffDelayMs } from '../../../runtime/pacing/backoff';

describe('backoffDelayMs', () => {
  it('starts around one second: between half and all of it', () => {
    expect(backoffDelayMs(1, {}, () => 0)).toBe(500);
    expect(backoffDelayMs(1, {}, () => 1)).toBe(1000);
  });

  it('doubles with each consecutive failure', () => {
    expect([1, 2, 3, 4].map((failures) => backoffDelayMs(failures, {}, () => 1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
  });

  it('never exceeds the cap, and never drops below half of it once reached', () => {
    expect(backoffDelayMs(50, { maxMs: 30_000 }, () => 1)).toBe(30_000);
    expect(backoffDelayMs(50, { maxMs: 30_000 }, () => 0)).toBe(15_000);
  });
});
