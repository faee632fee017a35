import { silentLogger } from '../../../runtime/logger';
import { failStatus, successStatus } from '../../../runtime/message/status';
import { StatusPublisher } from '../../../runtime/streams/status-publisher';

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
