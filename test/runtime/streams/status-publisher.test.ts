import { createLogger, silentLogger } from '../../../runtime/logger';
import { failStatus, successStatus } from '../../../runtime/message/status';
import { MAX_UNACKNOWLEDGED_STATUS_BYTES, StatusPublisher } from '../../../runtime/streams/status-publisher';

describe('StatusPublisher', () => {
  it('gathers entries reported in one turn into one {"response": [...]} message', async () => {
    const published: string[] = [];
    const publisher = new StatusPublisher((payload) => {
      published.push(payload);
      return Promise.resolve();
    }, silentLogger);

    publisher.report([successStatus('a', 'r1')]);
    publisher.report([failStatus('b', 'QueueFull', 'Record rejected')]);
    await publisher.flush();

    expect(published).toEqual([
      '{"response":[{"firehose_record_id":"r1","id":"a","status":"success"},' +
        '{"ErrorCode":"QueueFull","ErrorMessage":"Record rejected","id":"b","status":"fail"}]}',
    ]);
  });

  it('splits more than 500 entries over several messages', async () => {
    const published: string[] = [];
    const publisher = new StatusPublisher((payload) => {
      published.push(payload);
      return Promise.resolve();
    }, silentLogger);

    publisher.report(Array.from({ length: 1200 }, (_, index) => successStatus(String(index), 'r')));
    await publisher.flush();

    expect(
      published.map((payload) => (JSON.parse(payload) as { response: unknown[] }).response.length),
    ).toEqual([500, 500, 200]);
  });

  it('survives a failed publish and keeps publishing later statuses', async () => {
    const published: string[] = [];
    let fail = true;
    const publisher = new StatusPublisher((payload) => {
      if (fail) return Promise.reject(new Error('connection lost'));
      published.push(payload);
      return Promise.resolve();
    }, silentLogger);

    publisher.report([successStatus('lost', 'r')]);
    await publisher.flush();
    fail = false;
    publisher.report([successStatus('kept', 'r')]);
    await publisher.flush();

    expect(published).toHaveLength(1);
    expect(published[0]).toContain('"kept"');
  });
});

describe('StatusPublisher with a status destination that does not acknowledge', () => {
  it('holds at most 8 MiB of status messages awaiting acknowledgement, drops the rest, and says so in the log', async () => {
    // Prepare: a destination that takes messages and never acknowledges them, as a status connection that is down.
    const published: string[] = [];
    const logs: { message: string; [field: string]: unknown }[] = [];
    const publisher = new StatusPublisher(
      (payload) => {
        published.push(payload);
        return new Promise<void>(() => undefined);
      },
      createLogger('info', (line) => logs.push(JSON.parse(line) as { message: string })),
    );
    const longId = 'x'.repeat(1000);

    // Act: 20,000 statuses of about 1 KB each, some 20 MiB in all.
    for (let index = 0; index < 40; index++) {
      publisher.report(Array.from({ length: 500 }, () => successStatus(longId, 'r')));
      await new Promise((resolve) => setImmediate(resolve));
    }

    // Assess
    const heldBytes = published.reduce((total, payload) => total + Buffer.byteLength(payload), 0);
    expect(heldBytes).toBeLessThanOrEqual(MAX_UNACKNOWLEDGED_STATUS_BYTES);
    expect(heldBytes).toBeGreaterThan(MAX_UNACKNOWLEDGED_STATUS_BYTES - 600_000);
    expect(logs.map((line) => line.message)).toEqual([
      'Dropping status messages: the status destination has not acknowledged the earlier ones',
    ]);
  });

  it('publishes again once the destination acknowledges, and logs how many entries were dropped', async () => {
    // Prepare
    const pending: (() => void)[] = [];
    const logs: { message: string; [field: string]: unknown }[] = [];
    const publisher = new StatusPublisher(
      () => new Promise<void>((resolve) => pending.push(resolve)),
      createLogger('info', (line) => logs.push(JSON.parse(line) as { message: string })),
    );
    const longId = 'x'.repeat(1000);
    for (let index = 0; index < 20; index++) {
      publisher.report(Array.from({ length: 500 }, () => successStatus(longId, 'r')));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const heldMessages = pending.length;

    // Act
    for (const acknowledge of pending.splice(0)) acknowledge();
    await publisher.flush();
    publisher.report([successStatus('after', 'r')]);
    const flushing = publisher.flush();
    for (const acknowledge of pending.splice(0)) acknowledge();
    await flushing;

    // Assess
    expect(logs.map((line) => line.message)).toEqual([
      'Dropping status messages: the status destination has not acknowledged the earlier ones',
      'Publishing status messages again',
    ]);
    expect(logs[1]).toMatchObject({ droppedEntries: 20 * 500 - heldMessages * 500 });
  });
});
