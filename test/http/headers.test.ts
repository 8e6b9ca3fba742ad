import type { TestServer } from '../helpers/http';
import { request, startServer } from '../helpers/http';

// FHIR answers are never cached, and the page's CSP upgrades requests to https only where the public URL is https.
describe('caching and CSP headers', () => {
  let plain: TestServer;
  let https: TestServer;
  beforeAll(async () => {
    plain = await startServer();
    https = await startServer({ publicBaseUrl: 'https://fhir.example.org/fhir' });
  }, 120_000);
  afterAll(async () => {
    await plain?.close();
    await https?.close();
  });

  test('FHIR answers, successes and errors, carry Cache-Control no-store and Vary Accept, Authorization', async () => {
    for (const path of ['/metadata', '/Questionnaire/re-evaluation', '/Questionnaire/no-such-one']) {
      const res = await request(`${plain.base}${path}`);
      expect({ path, cache: res.headers.get('cache-control'), vary: res.headers.get('vary') }).toEqual({
        path,
        cache: 'no-store',
        vary: 'Accept, Authorization',
      });
    }
  });

  test('over plain HTTP the CSP has no upgrade-insecure-requests and no COOP is sent; with an https public URL both are', async () => {
    const page = await fetch(`${plain.origin}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    expect(page.headers.get('cross-origin-opener-policy')).toBeNull();
    const secure = await fetch(`${https.origin}/`);
    expect(secure.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
    expect(secure.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  });

  test('fullUrls and links come from PUBLIC_BASE_URL, not from the Host header', async () => {
    const res = await request<{ link?: { url: string }[] }>(
      `${https.base}/Questionnaire?url=http://re-fhir.org/fhir/Questionnaire/re-evaluation`,
      { headers: { host: 'attacker.example' } }
    );
    const self = res.body.link?.find((l) => l.url.includes('Questionnaire'))?.url ?? '';
    expect(self.startsWith('https://fhir.example.org/fhir/')).toBe(true);
  });
});
