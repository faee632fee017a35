/**
 * Fake time for units that wait with setTimeout and setInterval: timers and Date.now move only when a test says
 * so, so that no assertion depends on how fast the machine is. setImmediate, nextTick and microtasks stay real:
 * the units coalesce work with them, and `settle` runs them.
 */
export function useFakeTime(): void {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
}

/** Runs what setImmediate and promises have queued, a few rounds deep. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Moves fake time forward by `ms`, firing the timers due, and settles. */
export async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
  await settle();
}

/** Moves fake time forward in `stepMs` steps until `condition` holds; fails after `maxMs` of fake time. */
export async function advanceUntil(
  condition: () => boolean,
  what: string,
  maxMs = 60_000,
  stepMs = 10,
): Promise<number> {
  let elapsed = 0;
  await settle();
  while (!condition()) {
    if (elapsed >= maxMs) throw new Error(`${what} did not happen within ${maxMs} ms of fake time`);
    await advance(stepMs);
    elapsed += stepMs;
  }
  return elapsed;
}
