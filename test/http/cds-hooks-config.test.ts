import { appConfigFromEnv } from '../../src/http/config';

const valid = {
  baseUrl: 'https://cds.example.org',
  clients: [
    { issuer: 'https://ehr.example.org', jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', kid: 'k' }] } },
    { issuer: 'https://ehr2.example.org', jkuAllowList: ['https://ehr2.example.org/jwks.json'] },
  ],
  launchUrl: 'https://page.example.org/launch.html',
  fhirServers: ['https://ehr.example.org/fhir'],
};

describe('CDS_HOOKS_CONFIG', () => {
  test('absent: the CDS Hooks services are off', () => {
    expect(appConfigFromEnv({}).cdsHooks).toBeUndefined();
  });

  test('read as JSON', () => {
    expect(appConfigFromEnv({ CDS_HOOKS_CONFIG: JSON.stringify(valid) }).cdsHooks).toEqual(valid);
  });

  test.each([
    ['not JSON', '{', 'CDS_HOOKS_CONFIG: not JSON'],
    [
      'a relative baseUrl',
      { ...valid, baseUrl: '/cds' },
      'CDS_HOOKS_CONFIG: baseUrl must be an absolute http(s) URL',
    ],
    ['no clients', { ...valid, clients: undefined }, 'CDS_HOOKS_CONFIG: clients must be a list'],
    [
      'a client without an issuer',
      { ...valid, clients: [{ jkuAllowList: ['https://a'] }] },
      'CDS_HOOKS_CONFIG: every client needs an issuer',
    ],
    [
      'a client without keys',
      { ...valid, clients: [{ issuer: 'https://ehr' }] },
      'CDS_HOOKS_CONFIG: client https://ehr needs jwks keys or a jkuAllowList',
    ],
    [
      'a jku that is not a URL',
      { ...valid, clients: [{ issuer: 'https://ehr', jkuAllowList: ['jwks.json'] }] },
      'CDS_HOOKS_CONFIG: client https://ehr: every jkuAllowList entry must be an http(s) URL',
    ],
    [
      'a relative launchUrl',
      { ...valid, launchUrl: 'launch.html' },
      'CDS_HOOKS_CONFIG: launchUrl must be an absolute http(s) URL',
    ],
    [
      'fhirServers not URLs',
      { ...valid, fhirServers: ['x'] },
      'CDS_HOOKS_CONFIG: fhirServers must be a list of http(s) URLs',
    ],
  ])('%s fails at start', (_name, value, message) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    expect(() => appConfigFromEnv({ CDS_HOOKS_CONFIG: text })).toThrow(message);
  });
});
