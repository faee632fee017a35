import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** A SigV4 credential scope up to its region: `Credential=<key id>/<yyyymmdd>/<region>/`. */
const CREDENTIAL_SCOPE = String.raw`Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/`;

/** The whole body of a request. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The region of the SigV4 credential scope that signed the call; `undefined` for an unsigned call, or, when
 * `service` (a signing name such as `monitoring`) is given, for a scope of another service. Only the region is
 * read: the Authorization header and its key id are never kept.
 */
export function regionOf(headers: IncomingHttpHeaders, service?: string): string | undefined {
  const scope = new RegExp(service === undefined ? CREDENTIAL_SCOPE : `${CREDENTIAL_SCOPE}${service}/`);
  return scope.exec(headers.authorization ?? '')?.[1];
}
