import { IntakeHold } from '../../../runtime/pacing/intake-hold';
import { advance, settle, useFakeTime } from '../../helpers/fake-time';

const MIB = 1024 * 1024;

beforeEach(() => {
  useFakeTime();
});

afterEach(() => {
  jest.useRealTimers();
});

/** Starts a hold and says when it ended. */
function hold(intake: IntakeHold, mustHold: () => boolean): { readonly ended: boolean } {
  const state = { ended: false };
  void intake.whileHeld(mustHold).then(() => (state.ended = true));
  return state;
}

describe('IntakeHold.worthHolding', () => {
  it('holds for a backlog of four full batches: 2,000 records or 16 MiB', () => {
    // Act
    const verdicts = [
      IntakeHold.worthHolding(1999, 16 * MIB - 1),
      IntakeHold.worthHolding(2000, 0),
      IntakeHold.worthHolding(1, 16 * MIB),
    ];

    // Assess
    expect(verdicts).toEqual([false, true, true]);
  });
});

describe('IntakeHold', () => {
  it('lets intake go on at once when nothing calls for a hold', async () => {
    // Prepare
    const intake = new IntakeHold();

    // Act
    const state = hold(intake, () => false);
    await settle();

    // Assess
    expect(state.ended).toBe(true);
  });

  it('holds intake until a send slot frees and the hold is no longer needed', async () => {
    // Prepare
    const intake = new IntakeHold();
    let busy = true;
    const state = hold(intake, () => busy);
    await advance(1000);
    const endedWhileBusy = state.ended;

    // Act
    busy = false;
    intake.slotFreed();
    await settle();

    // Assess
    expect(endedWhileBusy).toBe(false);
    expect(state.ended).toBe(true);
  });

  it('goes on holding when a slot frees but the backlog still calls for a hold', async () => {
    // Prepare
    const intake = new IntakeHold();
    const state = hold(intake, () => true);

    // Act
    intake.slotFreed();
    await advance(1000);

    // Assess
    expect(state.ended).toBe(false);
  });

  it('holds intake no longer than 5 s, well under the MQTT keepalive', async () => {
    // Prepare
    const intake = new IntakeHold();
    const state = hold(intake, () => true);
    await advance(4999);
    const endedEarly = state.ended;

    // Act
    await advance(1);

    // Assess
    expect(endedEarly).toBe(false);
    expect(state.ended).toBe(true);
  });

  it('does not hold again after a hold ran out, until a send slot frees', async () => {
    // Prepare: calls that hang; the first hold runs out.
    const intake = new IntakeHold();
    hold(intake, () => true);
    await advance(5000);

    // Act
    const afterExpiry = hold(intake, () => true);
    await settle();
    intake.slotFreed();
    const afterSlot = hold(intake, () => true);
    await advance(1000);

    // Assess
    expect(afterExpiry.ended).toBe(true);
    expect(afterSlot.ended).toBe(false);
  });
});
