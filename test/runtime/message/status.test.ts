import { failStatus, statusPayload, successStatus } from '../../../runtime/message/status';

describe('status entries', () => {
  it('spell a success as the v2-4 connector did: firehose_record_id, id, status', () => {
    // Act
    const payload = statusPayload([successStatus('request456', '2dLyJ3eR0pDsL2gI8Fs3')]);

    // Assess
    expect(payload).toBe(
      '{"response":[{"firehose_record_id":"2dLyJ3eR0pDsL2gI8Fs3","id":"request456","status":"success"}]}',
    );
  });

  it('spell a failure as the v2-4 connector did: ErrorCode, ErrorMessage, id, status', () => {
    // Act
    const payload = statusPayload([failStatus('request123', 'ServiceUnavailableException', 'Slow down.')]);

    // Assess
    expect(payload).toBe(
      '{"response":[{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down.","id":"request123","status":"fail"}]}',
    );
  });
});
