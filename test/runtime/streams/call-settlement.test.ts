import type { RecordOutcome } from '../../../runtime/firehose/firehose-sender';
import { oneRecordPerMessage, packMessages } from '../../../runtime/firehose/record-packing';
import { settleCall } from '../../../runtime/streams/call-settlement';
import { queuedRecord, requestIds, sizedRecord } from '../../helpers/factories';
import { permanent, retryable } from '../../helpers/fake-sender';

const delivered = (recordId: string): RecordOutcome => ({ ok: true, recordId });
const wholeCallFailure = (
  code = 'ServiceUnavailableException',
  message = 'Service Unavailable',
): RecordOutcome => ({
  ok: false,
  code,
  message,
  retryable: true,
  wholeCall: true,
});
const notExhausted = () => undefined;

describe('settleCall', () => {
  it('reports each delivered record as a success with its Firehose record id, in the order of the batch', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [delivered('id-a'), delivered('id-b')],
      notExhausted,
    );

    // Assess
    expect(settled.statuses).toEqual([
      { firehose_record_id: 'id-a', id: 'r0', status: 'success' },
      { firehose_record_id: 'id-b', id: 'r1', status: 'success' },
    ]);
    expect([requestIds(settled.ended), settled.delivered, settled.failed]).toEqual([['r0', 'r1'], 2, 0]);
  });

  it('counts an attempt for every record of the call, whatever its outcome', () => {
    // Prepare
    const batch = [queuedRecord(0, { attempts: 2 }), queuedRecord(1), queuedRecord(2)];

    // Act
    settleCall(
      oneRecordPerMessage(batch),
      [delivered('a'), retryable(), permanent('AccessDeniedException', 'denied')],
      notExhausted,
    );

    // Assess
    expect(batch.map((record) => record.attempts)).toEqual([3, 1, 1]);
  });

  it('measures what Firehose accepted, in records and data bytes', () => {
    // Prepare
    const batch = [sizedRecord(0, 100), sizedRecord(1, 200), sizedRecord(2, 400)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [delivered('a'), retryable(), delivered('c')],
      notExhausted,
    );

    // Assess
    expect(settled.accepted).toEqual({ records: 2, bytes: 500 });
  });

  it('fails a record refused for good with the service code and message, without a retry', () => {
    // Prepare
    const batch = [queuedRecord(0)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [permanent('ResourceNotFoundException', 'Firehose s1 not found.')],
      notExhausted,
    );

    // Assess
    expect(settled.statuses).toEqual([
      {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: 'Firehose s1 not found.',
        id: 'r0',
        status: 'fail',
      },
    ]);
    expect([requestIds(settled.ended), settled.retry, settled.failed]).toEqual([['r0'], [], 1]);
  });

  it('sends records refused for throttling again, counts them as throttled, and calls for no backoff', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1), queuedRecord(2)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [
        delivered('a'),
        retryable('ServiceUnavailableException'),
        retryable('ThrottlingException', 'Rate exceeded'),
      ],
      notExhausted,
    );

    // Assess
    expect([requestIds(settled.retry), settled.throttled, settled.callFailure]).toEqual([
      ['r1', 'r2'],
      2,
      undefined,
    ]);
    expect(settled.statuses).toHaveLength(1);
  });

  it('calls for no backoff when every record of a call was refused for throttling: the stream is slowed instead', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1)];

    // Act
    const settled = settleCall(oneRecordPerMessage(batch), [retryable(), retryable()], notExhausted);

    // Assess
    expect([settled.throttled, settled.callFailure]).toEqual([2, undefined]);
  });

  it('leaves a call with records refused for throttling to the rate, though others failed for another reason', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [retryable(), retryable('InternalFailure', 'boom')],
      notExhausted,
    );

    // Assess
    expect([requestIds(settled.retry), settled.throttled, settled.callFailure]).toEqual([
      ['r0', 'r1'],
      1,
      undefined,
    ]);
  });

  it('calls for a backoff when a call failed whole, and retries its records', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1)];
    const failure = wholeCallFailure();

    // Act
    const settled = settleCall(oneRecordPerMessage(batch), [failure, failure], notExhausted);

    // Assess
    expect(settled.callFailure).toEqual({
      code: 'ServiceUnavailableException',
      message: 'Service Unavailable',
    });
    expect([requestIds(settled.retry), settled.throttled, settled.statuses]).toEqual([['r0', 'r1'], 0, []]);
  });

  it('calls for a backoff when every record failed for a retryable reason other than throttling', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [retryable('InternalFailure', 'boom'), retryable('InternalFailure', 'boom')],
      notExhausted,
    );

    // Assess
    expect(settled.callFailure).toEqual({ code: 'InternalFailure', message: 'boom' });
  });

  it('calls for no backoff when some records of the call were delivered', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1)];

    // Act
    const settled = settleCall(
      oneRecordPerMessage(batch),
      [delivered('a'), retryable('InternalFailure', 'boom')],
      notExhausted,
    );

    // Assess
    expect([requestIds(settled.retry), settled.callFailure]).toEqual([['r1'], undefined]);
  });

  it('fails a record that had its last attempt, saying why after the service message', () => {
    // Prepare
    const batch = [queuedRecord(0, { attempts: 2 }), queuedRecord(1)];
    const exhausted = (record: { attempts: number }) =>
      record.attempts >= 3
        ? `gave up after ${record.attempts} attempts, the RecordMaxAttempts limit`
        : undefined;

    // Act
    const settled = settleCall(oneRecordPerMessage(batch), [retryable(), retryable()], exhausted);

    // Assess
    expect(settled.statuses).toEqual([
      {
        ErrorCode: 'ServiceUnavailableException',
        ErrorMessage: 'Slow down. (gave up after 3 attempts, the RecordMaxAttempts limit)',
        id: 'r0',
        status: 'fail',
      },
    ]);
    expect([requestIds(settled.ended), requestIds(settled.retry), settled.failed]).toEqual([
      ['r0'],
      ['r1'],
      1,
    ]);
  });
  it('settles a packed record for each of its messages: a status each, with the record id, and one record accepted', () => {
    // Prepare: three messages of 100, 200 and 300 bytes in one record.
    const batch = [sizedRecord(0, 100), sizedRecord(1, 200), sizedRecord(2, 300)];

    // Act
    const settled = settleCall(packMessages(batch), [delivered('packed')], notExhausted);

    // Assess
    expect(settled.statuses).toEqual(
      ['r0', 'r1', 'r2'].map((id) => ({ firehose_record_id: 'packed', id, status: 'success' })),
    );
    expect([settled.delivered, settled.accepted, settled.billedBytes]).toEqual([
      3,
      { records: 1, bytes: 600 },
      5120,
    ]);
  });

  it('retries every message of a packed record refused for throttling, counting one throttled record', () => {
    // Prepare
    const batch = [queuedRecord(0), queuedRecord(1, { attempts: 4 })];

    // Act
    const settled = settleCall(packMessages(batch), [retryable()], notExhausted);

    // Assess
    expect([requestIds(settled.retry), settled.throttled, settled.statuses]).toEqual([['r0', 'r1'], 1, []]);
    expect(batch.map((record) => record.attempts)).toEqual([1, 5]);
  });
});
