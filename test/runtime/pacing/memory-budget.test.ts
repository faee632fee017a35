import { MemoryBudget, recordFootprint } from '../../../runtime/pacing/memory-budget';

describe('recordFootprint', () => {
  it('counts a record as its data, two bytes per character of its request id, and 512 bytes of overhead', () => {
    // Act
    const footprint = recordFootprint({ requestId: 'req-1', data: Buffer.alloc(200) });

    // Assess
    expect(footprint).toBe(200 + 10 + 512);
  });
});

describe('MemoryBudget', () => {
  it('fits what takes it up to its limit exactly, and nothing beyond', () => {
    // Prepare
    const budget = new MemoryBudget(1000);
    budget.reserve(600);

    // Act
    const fits = [budget.fits(400), budget.fits(401)];

    // Assess
    expect(fits).toEqual([true, false]);
  });

  it('counts what is reserved and freed, all queues together', () => {
    // Prepare
    const budget = new MemoryBudget(1000);

    // Act
    budget.reserve(600);
    budget.reserve(300);
    budget.free(600);

    // Assess
    expect(budget.used).toBe(300);
    expect(budget.fits(700)).toBe(true);
  });

  it('never counts below zero when more is freed than was reserved', () => {
    // Prepare
    const budget = new MemoryBudget(1000);
    budget.reserve(100);

    // Act
    budget.free(500);

    // Assess
    expect(budget.used).toBe(0);
    expect(budget.fits(1001)).toBe(false);
  });
});
