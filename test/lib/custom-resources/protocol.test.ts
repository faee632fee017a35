import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { handle } from '../../../lib/custom-resources/handler';
import { type CustomResourceEvent, responseFor, sendResponse } from '../../../lib/custom-resources/protocol';

function event(overrides: Partial<CustomResourceEvent> = {}): CustomResourceEvent {
  return {
    RequestType: 'Update',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/GreengrassFirehoseConnector/1',
    RequestId: 'request-1',
    ResourceType: 'Custom::RemovalGuard',
    LogicalResourceId: 'RemovalGuard3FD00573',
    PhysicalResourceId: 'RemovalGuard3FD00573-guard',
    ResourceProperties: { Holds: {} },
    OldResourceProperties: { Holds: { deployment: 'arn:aws:iot:eu-west-1:123456789012:thing/core' } },
    ...overrides,
  };
}

describe('custom resource protocol', () => {
  test('answers a refused update with FAILED and the refusal as the reason CloudFormation shows', async () => {
    // Act
    const outcome = await handle(event()).catch((error: Error) => error);

    // Assess
    expect(responseFor(event(), outcome)).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^Refused, nothing was changed: .*the deployment to arn:aws:iot:/),
      PhysicalResourceId: 'RemovalGuard3FD00573-guard',
      RequestId: 'request-1',
    });
  });

  test('answers an unknown resource type with FAILED, naming it', async () => {
    // Act
    const outcome = await handle(event({ ResourceType: 'Custom::Other' })).catch((error: Error) => error);

    // Assess
    expect(responseFor(event(), outcome)).toMatchObject({
      Status: 'FAILED',
      Reason: 'Unknown resource type Custom::Other',
    });
  });

  test('sends the response as a PUT with an empty content type, as the presigned URL requires', async () => {
    // Prepare
    const received: { method?: string; type?: string; body: string }[] = [];
    const server = createServer((request, reply) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ method: request.method, type: request.headers['content-type'], body });
        reply.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;

    try {
      // Act
      await sendResponse(url, responseFor(event(), { physicalResourceId: 'id', data: { Version: '0.1.2' } }));

      // Assess
      expect(received).toHaveLength(1);
      expect(received[0].method).toBe('PUT');
      expect(received[0].type ?? '').toBe('');
      expect(JSON.parse(received[0].body)).toMatchObject({ Status: 'SUCCESS', Data: { Version: '0.1.2' } });
    } finally {
      server.close();
    }
  });
});
