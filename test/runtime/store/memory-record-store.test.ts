import { MemoryRecordStore } from '../../../runtime/store/memory-record-store';
import { queuedRecord, requestIds } from '../../helpers/factories';
import { appendAll, leaseAll, recordStoreSuite } from '../../helpers/record-store-suite';

describe('MemoryRecordStore', () => {
  recordStoreSuite(() => new MemoryRecordStore());

  it('says it is not durable, so that its records count against MemorySize and are reported at shutdown', () => {
    // Act
    const store = new MemoryRecordStore();

    // Assess
    expect(store.durable).toBe(false);
  });

  it('keeps the order of a long queue taken from its head one batch at a time while records arrive', async () => {
    // Prepare: more than a thousand records taken from the head, where the store gives back the slots it used.
    const store = new MemoryRecordStore();
    await appendAll(
      store,
      Array.from({ length: 3000 }, (_, index) => queuedRecord(index)),
    );
    const taken: string[] = [];

    // Act
    for (let batch = 0; batch < 5; batch++) {
      const leased = store.lease(500, Number.MAX_SAFE_INTEGER);
      taken.push(...requestIds(leased));
      await store.release(leased);
      await store.append(queuedRecord(3000 + batch));
    }
    taken.push(...requestIds(leaseAll(store)));

    // Assess
    expect(taken).toEqual(Array.from({ length: 3005 }, (_, index) => `r${index}`));
  });
});
