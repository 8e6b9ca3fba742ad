import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import { exportPKCS8, generateKeyPair } from 'jose';
import { exportSPKI } from 'jose';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEFAULT_BACKEND_SCOPE, tokenProvider } from '../../../src/http/upstream/token-provider';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';

/** The responses the tests submit, stored upstream first (the server evaluates the stored copy). */
const STORED = scenarios().map((s) => s.response);

const QR = scenarios().find((s) => s.name === 'no-findings')!.response as QuestionnaireResponse;
const CLIENT = 'backend-client';

let privatePem: string;
let publicPem: string;
let otherPrivatePem: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS384', { extractable: true });
  privatePem = await exportPKCS8(pair.privateKey);
  publicPem = await exportSPKI(pair.publicKey);
  otherPrivatePem = await exportPKCS8((await generateKeyPair('RS384', { extractable: true })).privateKey);
});

describe('SMART Backend Services towards the upstream', () => {
  let fixture: MedplumTestFhirServer;
  let server: TestServer;
  let clock = Date.now();

  beforeEach(async () => {
    clock = Date.now();
    fixture = await startMedplumTestFhirServer({
      resources: STORED,
      auth: { clientId: CLIENT, clientPublicKey: publicPem, expiresIn: 300 },
    });
    server = await startServer(
      {
        upstream: {
          url: fixture.url,
          retries: 0,
          backendServices: {
            tokenUrl: fixture.tokenUrl,
            clientId: CLIENT,
            privateKey: privatePem,
            keyId: 'k1',
          },
        },
      },
      { upstream: { now: () => clock } }
    );
  });
  afterEach(async () => {
    await server.close();
    await fixture.close();
  });

  const submit = (): ReturnType<typeof post<Bundle>> =>
    post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, QR);

  test('gets a token with a signed assertion, sends it, and reuses it until it expires', async () => {
    expect((await submit()).status).toBe(200);
    expect((await submit()).status).toBe(200);
    expect(fixture.tokenRequests).toHaveLength(1);
    expect(fixture.tokenRequests[0]!.scope).toBe(DEFAULT_BACKEND_SCOPE);
    // Each submission reads the stored response, writes, and searches its keys for duplicates.
    expect(fixture.requests.map((r) => r.authorization)).toEqual(
      Array.from({ length: 6 }, () => 'Bearer token-1')
    );

    clock += 300_000; // past expiry: a new token is requested
    expect((await submit()).status).toBe(200);
    expect(fixture.tokenRequests).toHaveLength(2);
    expect(fixture.requests[6]!.authorization).toBe('Bearer token-2');
  }, 60_000);

  test('a token the upstream no longer accepts is renewed once', async () => {
    expect((await submit()).status).toBe(200);
    fixture.faults.push({
      kind: 'status',
      status: 401,
      body: { resourceType: 'OperationOutcome', issue: [] },
    });
    expect((await submit()).status).toBe(200);
    expect(fixture.tokenRequests).toHaveLength(2);
  });
});

describe('tokenProvider', () => {
  test('the assertion is signed RS384 by the client for the token endpoint, and unique', async () => {
    const assertions: string[] = [];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      assertions.push(new URLSearchParams(String(init.body)).get('client_assertion')!);
      return new Response(JSON.stringify({ access_token: 'a', expires_in: 0 }), { status: 200 });
    }) as unknown as typeof fetch;
    const tokens = tokenProvider(
      {
        url: 'https://up.example.org/fhir',
        backendServices: {
          tokenUrl: 'https://auth.example.org/token',
          clientId: 'c',
          privateKey: privatePem,
          keyId: 'kid-1',
        },
      },
      fakeFetch
    );
    await tokens.token();
    await tokens.token(); // expires_in 0: never cached
    expect(assertions).toHaveLength(2);
    const claims = decodeJwt(assertions[0]!);
    expect(decodeProtectedHeader(assertions[0]!)).toEqual({ alg: 'RS384', typ: 'JWT', kid: 'kid-1' });
    expect(claims).toMatchObject({ iss: 'c', sub: 'c', aud: 'https://auth.example.org/token' });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(decodeJwt(assertions[1]!).jti).not.toBe(claims.jti);
  });

  test('a static token is sent as is; none sends nothing', async () => {
    expect(await tokenProvider({ url: 'x', token: 'abc' }).token()).toBe('abc');
    expect(await tokenProvider({ url: 'x' }).token()).toBeUndefined();
  });
});

describe('upstream credentials that fail', () => {
  test('a client key the authorization server does not know gives 502', async () => {
    const fixture = await startMedplumTestFhirServer({
      resources: STORED,
      auth: { clientId: CLIENT, clientPublicKey: publicPem, expiresIn: 300 },
    });
    const server = await startServer({
      upstream: {
        url: fixture.url,
        backendServices: { tokenUrl: fixture.tokenUrl, clientId: CLIENT, privateKey: otherPrivatePem },
      },
    });
    try {
      const texts = expectOutcome(
        await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, QR),
        502,
        'exception'
      );
      expect(texts[0]).toContain('refused the client credentials');
      expect(fixture.requests).toEqual([]);
    } finally {
      await server.close();
      await fixture.close();
    }
  });

  test('a static token the upstream rejects (401) gives 502', async () => {
    const fixture = await startMedplumTestFhirServer({
      resources: STORED,
      auth: { clientId: CLIENT, clientPublicKey: publicPem, expiresIn: 300 },
    });
    const server = await startServer({ upstream: { url: fixture.url, token: 'wrong' } });
    try {
      expectOutcome(await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, QR), 502, 'exception');
      expect(fixture.requests.map((r) => r.authorization)).toEqual(['Bearer wrong']);
    } finally {
      await server.close();
      await fixture.close();
    }
  });
});
