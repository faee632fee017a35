/**
 * Makes the Greengrass token exchange service reachable by the AWS SDK on Node.js 17+.
 *
 * The nucleus sets AWS_CONTAINER_CREDENTIALS_FULL_URI to http://localhost:<port>/..., but its server listens on
 * 127.0.0.1 only, while Node.js 17+ resolves localhost to ::1 first, so credential requests are refused.
 * Pointing the URI at 127.0.0.1 (a loopback address the SDK accepts) avoids the failed IPv6 attempt.
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/issues/1348
 */
export function useIpv4TokenExchangeService(env: NodeJS.ProcessEnv): boolean {
  const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!uri) return false;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.hostname !== 'localhost') return false;
  url.hostname = '127.0.0.1';
  env.AWS_CONTAINER_CREDENTIALS_FULL_URI = url.toString();
  return true;
}
