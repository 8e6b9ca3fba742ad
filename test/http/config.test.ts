import { appConfigFromEnv, bindingWarning, isLoopback, serverConfigFromEnv } from '../../src/http/config';

describe('configuration from the environment', () => {
  test('defaults: port 8080, no auth, no upstream, CORS off', () => {
    expect(serverConfigFromEnv({})).toEqual({ port: 8080, host: '127.0.0.1', shutdownTimeoutMs: 10_000 });
    const config = appConfigFromEnv({});
    expect({
      auth: config.auth,
      upstream: config.upstream,
      cors: config.corsOrigins,
      inline: config.inlineDefinitions,
    }).toEqual({
      auth: undefined,
      upstream: undefined,
      cors: undefined,
      inline: undefined,
    });
  });

  test('reads every setting', () => {
    const config = appConfigFromEnv({
      FHIR_BASE_PATH: '/r4',
      PUBLIC_BASE_URL: 'https://fhir.example.org/r4',
      BODY_LIMIT: '2mb',
      CORS_ORIGINS: 'https://a.example.org, https://b.example.org',
      WEB_ROOT: 'dist/web',
      LOG_LEVEL: 'debug',
      TRUST_PROXY: '1',
      INLINE_DEFINITIONS: 'true',
      AUTH_ISSUER: 'https://auth',
      AUTH_AUDIENCE: 'https://fhir',
      AUTH_JWKS_URL: 'https://auth/jwks',
      AUTH_ALGORITHMS: 'RS256,ES256',
      AUTH_TOKEN_URL: 'https://auth/token',
      FHIR_UPSTREAM_URL: 'https://up/fhir',
      FHIR_UPSTREAM_TOKEN: 't',
      FHIR_UPSTREAM_TIMEOUT_MS: '5000',
      FHIR_UPSTREAM_RETRIES: '1',
    });
    expect(config).toMatchObject({
      fhirBase: '/r4',
      publicBaseUrl: 'https://fhir.example.org/r4',
      bodyLimit: '2mb',
      corsOrigins: ['https://a.example.org', 'https://b.example.org'],
      webRoot: 'dist/web',
      logLevel: 'debug',
      trustProxy: 1,
      inlineDefinitions: true,
      auth: {
        issuer: 'https://auth',
        audience: 'https://fhir',
        jwksUrl: 'https://auth/jwks',
        algorithms: ['RS256', 'ES256'],
      },
      upstream: { url: 'https://up/fhir', token: 't', timeoutMs: 5000, retries: 1 },
    });
  });

  test('half-configured auth or upstream fails at start, naming the variable', () => {
    expect(() => appConfigFromEnv({ AUTH_ISSUER: 'x' })).toThrow(
      'AUTH_AUDIENCE is required by the configuration'
    );
    expect(() => appConfigFromEnv({ AUTH_ISSUER: 'x', AUTH_AUDIENCE: 'y' })).toThrow(
      /AUTH_JWKS_URL or AUTH_PUBLIC_KEY/
    );
    expect(() => appConfigFromEnv({ FHIR_UPSTREAM_URL: 'u', FHIR_UPSTREAM_CLIENT_ID: 'c' })).toThrow(
      'FHIR_UPSTREAM_TOKEN_URL is required by the configuration'
    );
    expect(() =>
      appConfigFromEnv({
        FHIR_UPSTREAM_URL: 'u',
        FHIR_UPSTREAM_TOKEN: 't',
        FHIR_UPSTREAM_CLIENT_ID: 'c',
        FHIR_UPSTREAM_TOKEN_URL: 'x',
        FHIR_UPSTREAM_PRIVATE_KEY: 'k',
      })
    ).toThrow(/not both/);
    expect(() => serverConfigFromEnv({ PORT: 'eighty' })).toThrow('PORT must be a non-negative integer');
    expect(() => appConfigFromEnv({ INLINE_DEFINITIONS: 'yes' })).toThrow(
      'INLINE_DEFINITIONS must be true or false'
    );
  });

  describe('where it listens', () => {
    const auth = {
      AUTH_ISSUER: 'https://auth',
      AUTH_AUDIENCE: 'https://fhir',
      AUTH_JWKS_URL: 'https://auth/jwks',
    };

    test('loopback without auth; every interface with auth, which then needs PUBLIC_BASE_URL', () => {
      expect(serverConfigFromEnv({}).host).toBe('127.0.0.1');
      expect(() => serverConfigFromEnv(auth)).toThrow('PUBLIC_BASE_URL is required');
      const withAuth = serverConfigFromEnv({ ...auth, PUBLIC_BASE_URL: 'https://fhir.example.org/fhir' });
      expect(withAuth.host).toBeUndefined();
      expect(bindingWarning(withAuth, appConfigFromEnv(auth))).toBeUndefined();
    });

    test('an explicit HOST beyond loopback needs PUBLIC_BASE_URL, and without auth it is warned about', () => {
      expect(() => serverConfigFromEnv({ HOST: '0.0.0.0' })).toThrow('PUBLIC_BASE_URL is required');
      const env = { HOST: '0.0.0.0', PUBLIC_BASE_URL: 'http://10.0.0.5:8080/fhir' };
      const server = serverConfigFromEnv(env);
      expect(server.host).toBe('0.0.0.0');
      expect(bindingWarning(server, appConfigFromEnv(env))).toMatch(/authentication OFF/);
      expect(bindingWarning(serverConfigFromEnv({ HOST: '::1' }), appConfigFromEnv({}))).toBeUndefined();
    });

    test('loopback names and addresses', () => {
      for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
        expect(isLoopback(host)).toBe(true);
      }
      for (const host of [undefined, '0.0.0.0', '::', '10.0.0.5', 'example.org', '127.0.0.1.example.org']) {
        expect(isLoopback(host)).toBe(false);
      }
    });
  });
});
