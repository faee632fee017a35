import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Writes an AWS JSON protocol answer as the services do: the protocol's content type (`application/x-amz-json-1.0`
 * for CloudWatch, `1.1` for Firehose), a length, and a request id, which the SDK logs with errors. A response already
 * answered or cut is left alone.
 */
export function writeAwsJson(
  response: ServerResponse,
  contentType: string,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed || response.headersSent) return;
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(payload);
}
