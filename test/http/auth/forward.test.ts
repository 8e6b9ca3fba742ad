import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { checkForwarding, SMART_DEFAULT_SCOPE, smartOrigins } from '../../../src/http/auth/forward';
import { parseScopes, WRITTEN_TYPES } from '../../../src/http/auth/scopes';
import { appConfigFromEnv } from '../../../src/http/config';
import { bearer } from '../../helpers/auth';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';
import type { SmartLauncher } from '../../helpers/smart-launcher';
import { startSmartLauncher } from '../../helpers/smart-launcher';

// Upstream mode acting as the user (FHIR_UPSTREAM_FORWARD_TOKEN): a SMART app launched from the EHR
// submits with the user's token; this server verifies it against the EHR's authorization server (its
// JWKS), checks its scopes, and sends the same token to the EHR's FHIR server for every read and write.
// The EHR stand-in (test/helpers/smart-launcher.ts in front of Medplum's router) refuses anything else.

const SCENARIO = scenarios().find((s) => s.name === 'example-diabetic-confirmed')!;
const RESPONSE = SCENARIO.response;
const PATIENT = RESPONSE.subject!.reference!.split('/')[1]!;
const EXPECTED: Bundle = JSON.parse(readFileSync(SCENARIO.expectedFile, 'utf8'));

let launcher: SmartLauncher;
let fixture: MedplumTestFhirServer;
let server: TestServer;

beforeEach(async () => {
  launcher = await startSmartLauncher({ clientId: 'page' });
  fixture = await startMedplumTestFhirServer({
    transactions: false,
    resources: [RESPONSE],
    before: (app) => launcher.install(app),
  });
  launcher.fhirBase = fixture.url;
  server = await startServer({
    auth: {
      issuer: launcher.issuer,
      audience: fixture.url,
      jwksUrl: launcher.jwksUrl,
      tokenUrl: launcher.tokenUrl,
    },
    upstream: { url: fixture.url, forwardUserToken: true, retries: 0, timeoutMs: 30_000 },
  });
}, 60_000);

afterEach(async () => {
  await server.close();
  await fixture.close();
  await launcher.close();
});

const reEvaluate = (body: QuestionnaireResponse, token: string): ReturnType<typeof post<Bundle>> =>
  post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, body, bearer(token));

describe('forwarding the user token to the upstream', () => {
  test("every upstream call carries the user's token, and the written Bundle is the scenario's golden Bundle", async () => {
    const token = await launcher.mint({ patient: PATIENT }, SMART_DEFAULT_SCOPE);
    const res = await reEvaluate(RESPONSE, token);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(fixture.requests.length).toBeGreaterThan(1);
    expect(fixture.requests.map((r) => r.authorization)).toEqual(
      fixture.requests.map(() => `Bearer ${token}`)
    );
    const writes = fixture.requests.filter((r) => r.method === 'POST' && r.path === '');
    expect(writes.map((w) => w.body)).toContainEqual(EXPECTED);
  });

  test('a token without write scopes is refused here (403 naming them), and nothing reaches the EHR', async () => {
    const readOnly = SMART_DEFAULT_SCOPE.replace(/\.cruds/g, '.rs');
    const token = await launcher.mint({ patient: PATIENT }, readOnly);
    const res = await reEvaluate(RESPONSE, token);
    const texts = expectOutcome(res, 403, 'forbidden');
    expect(texts.join(' ')).toContain('Condition.c');
    expect(fixture.requests).toEqual([]);
  });

  test("a patient token for another patient is refused (403), and the EHR's records are not read", async () => {
    const token = await launcher.mint({ patient: 'someone-else' }, SMART_DEFAULT_SCOPE);
    const res = await reEvaluate(RESPONSE, token);
    expectOutcome(res, 403, 'forbidden');
    expect(fixture.requests).toEqual([]);
  });

  test('a token from another issuer is refused (401) and never forwarded', async () => {
    const other = await startSmartLauncher({ clientId: 'page' });
    try {
      other.fhirBase = fixture.url;
      const res = await reEvaluate(RESPONSE, await other.mint({ patient: PATIENT }, SMART_DEFAULT_SCOPE));
      expectOutcome(res, 401, 'security');
      expect(fixture.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('configuration', () => {
  test('forwarding needs auth, and excludes a server credential', () => {
    const upstream = { url: 'http://127.0.0.1:1/fhir', forwardUserToken: true };
    expect(() => checkForwarding({ upstream })).toThrow(/needs auth/);
    const auth = { issuer: 'https://a', audience: 'https://b', jwksUrl: 'https://a/jwks' };
    expect(() => checkForwarding({ auth, upstream: { ...upstream, token: 't' } })).toThrow(/excludes/);
    expect(() => checkForwarding({ auth, upstream })).not.toThrow();
  });

  test('FHIR_UPSTREAM_FORWARD_TOKEN, SMART_CLIENT_ID and SMART_SCOPE are read from the environment', () => {
    const config = appConfigFromEnv({
      FHIR_UPSTREAM_URL: 'https://ehr.example.org/fhir',
      FHIR_UPSTREAM_FORWARD_TOKEN: 'true',
      SMART_CLIENT_ID: 're-fhir-page',
      SMART_SCOPE: 'launch openid',
    });
    expect(config.upstream?.forwardUserToken).toBe(true);
    expect(config.smartLaunch).toEqual({ clientId: 're-fhir-page', scope: 'launch openid' });
    expect(() =>
      appConfigFromEnv({
        FHIR_UPSTREAM_URL: 'https://ehr.example.org/fhir',
        FHIR_UPSTREAM_FORWARD_TOKEN: 'true',
        FHIR_UPSTREAM_TOKEN: 't',
      })
    ).toThrow(/FHIR_UPSTREAM_FORWARD_TOKEN/);
    expect(() => appConfigFromEnv({ FHIR_UPSTREAM_URL: 'x', FHIR_UPSTREAM_FORWARD_TOKEN: 'yes' })).toThrow(
      /FHIR_UPSTREAM_FORWARD_TOKEN must be true or false/
    );
  });

  test("the default scopes grant what $re-evaluate checks: c and u on every written type, the response's c, r and u", () => {
    const scopes = parseScopes(SMART_DEFAULT_SCOPE);
    for (const type of WRITTEN_TYPES) {
      const scope = scopes.find((s) => s.resourceType === type);
      expect([type, [...(scope?.permissions ?? [])].sort().join('')]).toEqual([type, 'cdrsu']);
    }
    const qr = scopes.find((s) => s.resourceType === 'QuestionnaireResponse');
    expect([...(qr?.permissions ?? [])].sort()).toEqual(['c', 'r', 'u']);
  });

  test("the page's connect-src origins: the upstream, the issuer and the token endpoint, each once", () => {
    expect(
      smartOrigins({
        upstream: { url: 'https://ehr.example.org/fhir/r4' },
        auth: {
          issuer: 'https://ehr.example.org',
          audience: 'https://ehr.example.org/fhir/r4',
          tokenUrl: 'https://login.example.org/oauth/token',
        },
      })
    ).toEqual(['https://ehr.example.org', 'https://login.example.org']);
  });
});
