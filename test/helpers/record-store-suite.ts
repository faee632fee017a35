import type { QueuedRecord, RecordStore } from '../../runtime/store/record-store';
import { queuedRecord, requestIds, sizedRecord, TEST_ENQUEUED_AT, variedRecords } from './factories';

/** Leases everything ready. */
export function leaseAll(store: RecordStore): QueuedRecord[] {
  return store.lease(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** Appends `records` in order within one turn, and waits until the store holds them all. */
export async function appendAll(store: RecordStore, records: readonly QueuedRecord[]): Promise<void> {
  await Promise.all(records.map((record) => store.append(record)));
}

/** The four counts a store keeps, for one assertion on all of them. */
export function storeCounts(store: RecordStore) {
  return {
    count: store.count,
    bytes: store.bytes,
    readyCount: store.readyCount,
    readyBytes: store.readyBytes,
  };
}

/**
 * The rules every `RecordStore` keeps (`runtime/store/record-store.ts`), run against each store, as MQTT.js runs one
 * abstract store suite against each of its stores: order, leases up to both limits, release, requeue at the end, and
 * counts the dispatcher can bound a queue with. `open` makes a new, empty store for records of `streamArn()` (the
 * factories' stream); the suite closes the stores it opened, and the caller removes what they leave behind.
 */
export function recordStoreSuite(open: () => RecordStore): void {
  const opened: RecordStore[] = [];

  function openStore(): RecordStore {
    const store = open();
    opened.push(store);
    return store;
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  describe('the RecordStore rules', () => {
    it('leases records in the order they were appended, byte for byte', async () => {
      // Prepare
      const store = openStore();
      const written = variedRecords();
      await appendAll(store, written);

      // Act
      const leased = leaseAll(store);

      // Assess
      expect(leased).toEqual(written);
    });

    it('tells when the record leased next entered the queue, without taking it, and nothing once none is ready', async () => {
      // Prepare
      const store = openStore();
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );
      store.lease(1, Number.MAX_SAFE_INTEGER);

      // Act
      const next = store.nextEnqueuedAt();

      // Assess
      expect(next).toBe(TEST_ENQUEUED_AT + 1);
      expect(requestIds(leaseAll(store))).toEqual(['r1', 'r2']);
      expect(store.nextEnqueuedAt()).toBeUndefined();
    });

    it('leases nothing when nothing is ready', async () => {
      // Prepare
      const store = openStore();
      await store.append(queuedRecord(0));
      leaseAll(store);

      // Act
      const leased = store.lease(500, 4 * 1024 * 1024);

      // Assess
      expect(leased).toEqual([]);
    });

    it('leases up to both limits, and one record even when it alone exceeds the byte limit', async () => {
      // Prepare
      const store = openStore();
      await appendAll(store, [
        sizedRecord(0, 100),
        sizedRecord(1, 100),
        sizedRecord(2, 100),
        sizedRecord(3, 500),
      ]);

      // Act
      const byCount = store.lease(2, 10_000);
      const byBytes = store.lease(10, 150);
      const oversized = store.lease(10, 150);

      // Assess
      expect([requestIds(byCount), requestIds(byBytes), requestIds(oversized)]).toEqual([
        ['r0', 'r1'],
        ['r2'],
        ['r3'],
      ]);
    });

    it('fills a lease to exactly the byte limit', async () => {
      // Prepare
      const store = openStore();
      await appendAll(store, [sizedRecord(0, 100), sizedRecord(1, 100), sizedRecord(2, 1)]);

      // Act
      const leased = store.lease(10, 200);

      // Assess
      expect(requestIds(leased)).toEqual(['r0', 'r1']);
    });

    it('never leases a record again while it is leased', async () => {
      // Prepare
      const store = openStore();
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );

      // Act
      const first = store.lease(2, Number.MAX_SAFE_INTEGER);
      const second = leaseAll(store);

      // Assess
      expect([requestIds(first), requestIds(second)]).toEqual([['r0', 'r1'], ['r2']]);
    });

    it('forgets released records for good', async () => {
      // Prepare
      const store = openStore();
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );
      const [first] = store.lease(1, Number.MAX_SAFE_INTEGER);

      // Act
      await store.release([first]);

      // Assess
      expect(requestIds(leaseAll(store))).toEqual(['r1', 'r2']);
      expect(store.count).toBe(2);
    });

    it('puts requeued records at the end with their attempts and enqueue time', async () => {
      // Prepare
      const store = openStore();
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );
      const [first] = store.lease(1, Number.MAX_SAFE_INTEGER);
      first.attempts = 3;

      // Act
      await store.requeue([first]);

      // Assess
      expect(leaseAll(store)).toEqual([queuedRecord(1), queuedRecord(2), queuedRecord(0, { attempts: 3 })]);
    });

    it('keeps the order of records requeued together, behind records appended before the requeue', async () => {
      // Prepare
      const store = openStore();
      await appendAll(
        store,
        [0, 1, 2].map((index) => queuedRecord(index)),
      );
      const leased = store.lease(2, Number.MAX_SAFE_INTEGER);
      await store.append(queuedRecord(3));

      // Act
      await store.requeue(leased);

      // Assess
      expect(requestIds(leaseAll(store))).toEqual(['r2', 'r3', 'r0', 'r1']);
    });

    it('keeps count, bytes, readyCount and readyBytes exact through append, lease, requeue and release', async () => {
      // Prepare
      const store = openStore();
      const seen: ReturnType<typeof storeCounts>[] = [];

      // Act
      void store.append(sizedRecord(0, 300));
      seen.push(storeCounts(store));
      await appendAll(store, [sizedRecord(1, 200), sizedRecord(2, 400), sizedRecord(3, 100)]);
      seen.push(storeCounts(store));
      const leased = store.lease(3, Number.MAX_SAFE_INTEGER);
      seen.push(storeCounts(store));
      const requeued = store.requeue([leased[1]]);
      seen.push(storeCounts(store));
      const released = store.release([leased[0]]);
      seen.push(storeCounts(store));
      await Promise.all([requeued, released]);
      seen.push(storeCounts(store));
      await store.release([leased[2], ...leaseAll(store)]);
      seen.push(storeCounts(store));

      // Assess
      expect(seen).toEqual([
        { count: 1, bytes: 300, readyCount: 1, readyBytes: 300 },
        { count: 4, bytes: 1000, readyCount: 4, readyBytes: 1000 },
        { count: 4, bytes: 1000, readyCount: 1, readyBytes: 100 },
        { count: 4, bytes: 1000, readyCount: 2, readyBytes: 300 },
        { count: 3, bytes: 700, readyCount: 2, readyBytes: 300 },
        { count: 3, bytes: 700, readyCount: 2, readyBytes: 300 },
        { count: 0, bytes: 0, readyCount: 0, readyBytes: 0 },
      ]);
    });
  });
}
