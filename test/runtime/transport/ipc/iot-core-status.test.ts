import {
  IOT_CORE_MAX_PAYLOAD_BYTES,
  splitStatusPayload,
} from '../../../../runtime/transport/ipc/iot-core-status';
import { failStatus, statusPayload, successStatus } from '../../../../runtime/message/status';

describe('splitStatusPayload', () => {
  it('keeps a status message within the limit as it is', () => {
    // Prepare
    const payload = statusPayload([successStatus('a', 'r1')]);

    // Act & Assess
    expect(splitStatusPayload(payload)).toEqual([payload]);
  });

  it("splits 500 long failures into messages within AWS IoT Core's limit, keeping every entry in order", () => {
    // Prepare
    const entries = Array.from({ length: 500 }, (_, index) =>
      failStatus(`request-${index}`, 'ResourceNotFoundException', 'x'.repeat(400)),
    );
    const payload = statusPayload(entries);

    // Act
    const parts = splitStatusPayload(payload);

    // Assess
    expect(Buffer.byteLength(payload)).toBeGreaterThan(IOT_CORE_MAX_PAYLOAD_BYTES);
    expect(parts.filter((part) => Buffer.byteLength(part) > IOT_CORE_MAX_PAYLOAD_BYTES)).toEqual([]);
    expect(parts.flatMap((part) => (JSON.parse(part) as { response: unknown[] }).response)).toEqual(entries);
  });

  it('leaves a single entry larger than the limit alone', () => {
    // Prepare
    const payload = statusPayload([failStatus('x'.repeat(200_000), 'InvalidRequest', 'too big an id')]);

    // Act & Assess
    expect(splitStatusPayload(payload)).toEqual([payload]);
  });
});
