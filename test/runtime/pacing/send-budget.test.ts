import { SendBudget } from '../../../runtime/pacing/send-budget';

const MIB = 1024 * 1024;

describe('SendBudget', () => {
  it('lets a call of any size start when no call is in flight, so that the largest record still goes', () => {
    // Prepare
    const budget = new SendBudget();

    // Act
    const room = budget.room();

    // Assess
    expect(room).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('offers what is left of one 4 MiB batch, all streams together, while calls are in flight', () => {
    // Prepare
    const budget = new SendBudget();

    // Act
    budget.take(3 * MIB);
    const whileOne = budget.room();
    budget.take(MIB);
    const whileFull = budget.room();

    // Assess
    expect([whileOne, whileFull]).toEqual([MIB, 0]);
  });

  it('lets no more than 16 calls be in flight, however small', () => {
    // Prepare
    const budget = new SendBudget();
    for (let call = 0; call < 15; call++) budget.take(10);
    const roomFor16th = budget.room();

    // Act
    budget.take(10);

    // Assess
    expect(roomFor16th).toBeGreaterThan(0);
    expect(budget.room()).toBe(0);
  });

  it('gives back the call and its bytes when the call ends', () => {
    // Prepare
    const budget = new SendBudget(2, 1000);
    budget.take(600);
    budget.take(300);

    // Act
    budget.give(600);

    // Assess
    expect(budget.room()).toBe(700);
  });

  it('wakes each waiting stream once, in the order they asked, when a call ends', () => {
    // Prepare
    const budget = new SendBudget();
    const woken: string[] = [];
    const first = () => woken.push('first');
    const second = () => woken.push('second');
    budget.take(10);
    budget.whenRoom(first);
    budget.whenRoom(second);
    budget.whenRoom(first);

    // Act
    budget.give(10);
    budget.take(10);
    budget.give(10);

    // Assess
    expect(woken).toEqual(['first', 'second']);
  });

  it('does not wake a stream that was forgotten (it closed)', () => {
    // Prepare
    const budget = new SendBudget();
    const wake = jest.fn();
    budget.take(10);
    budget.whenRoom(wake);

    // Act
    budget.forget(wake);
    budget.give(10);

    // Assess
    expect(wake).not.toHaveBeenCalled();
  });
});
