import { useIpv4TokenExchangeService } from '../../runtime/credentials';

describe('useIpv4TokenExchangeService', () => {
  it('points a localhost token exchange URI at 127.0.0.1, where the nucleus listens', () => {
    const env = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://localhost:45501/2016-11-01/credentialprovider/',
    };

    expect(useIpv4TokenExchangeService(env)).toBe(true);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe(
      'http://127.0.0.1:45501/2016-11-01/credentialprovider/',
    );
  });

  it.each([
    ['no URI', {}],
    ['an address already', { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:45501/creds' }],
    ['a container host', { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials' }],
    ['an unparsable value', { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'not a url' }],
  ])('leaves %s alone', (_, env: NodeJS.ProcessEnv) => {
    const before = { ...env };

    expect(useIpv4TokenExchangeService(env)).toBe(false);
    expect(env).toEqual(before);
  });
});
