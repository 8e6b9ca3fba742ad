import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { JWTPayload } from 'jose';
import { SignJWT } from 'jose';
import type { Resource } from '@medplum/fhirtypes';
import type { CdsResponse, CdsService } from '../../../src/core/cds-hooks';
import { hookDefinitions } from '../../../src/core/cds-hooks';
import type { TestKey } from '../../helpers/auth';
import { bearer, startJwks, testKey } from '../../helpers/auth';
import { evaluation, PATIENT, RECORD, responseSchemaErrors, searchset } from '../../helpers/cds-hooks';
import { testEngine } from '../../helpers/engine';
import type { JsonResponse, TestServer } from '../../helpers/http';
import { expectOutcome, request, startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';

const PUBLIC = 'https://cds.example.org';
const EHR = 'https://ehr.example.org';
const EHR_JKU = 'https://ehr-jku.example.org';

let server: TestServer;
let fhir: MedplumTestFhirServer;
let jwks: { url: string; close(): Promise<void> };
let clientKey: TestKey;
let jkuKey: TestKey;
let strangerKey: TestKey;

beforeAll(async () => {
  [clientKey, jkuKey, strangerKey] = await Promise.all([
    testKey('ehr-1'),
    testKey('ehr-jku-1'),
    testKey('ehr-1'),
  ]);
  jwks = await startJwks([jkuKey.publicJwk]);
  fhir = await startMedplumTestFhirServer({
    resources: [RECORD.t2dmNeuropathy, RECORD.anejaculation].map((r) => ({
      ...r,
      subject: { reference: `Patient/${PATIENT}` },
    })),
  });
  server = await startServer({
    engine: testEngine(),
    cdsHooks: {
      baseUrl: PUBLIC,
      clients: [
        { issuer: EHR, jwks: { keys: [clientKey.publicJwk as Record<string, unknown>] } },
        { issuer: EHR_JKU, jkuAllowList: [jwks.url] },
      ],
      fhirServers: [fhir.url],
    },
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.close(), fhir?.close(), jwks?.close()]);
});

function sign(
  claims: JWTPayload = {},
  options: { key?: TestKey; jku?: string; id?: string } = {}
): Promise<string> {
  const key = options.key ?? clientKey;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: EHR,
    sub: 'ehr-client',
    aud: `${PUBLIC}/cds-services/${options.id ?? 're-cds-patient-view'}`,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...claims,
  })
    .setProtectedHeader({
      alg: 'RS256',
      kid: key.kid,
      typ: 'JWT',
      ...(options.jku ? { jku: options.jku } : {}),
    })
    .sign(key.privateKey);
}

async function call(id: string, body: unknown, token?: string): Promise<JsonResponse<unknown>> {
  return request<unknown>(`${server.origin}/cds-services/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : bearer(token)) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

type HookBody = Record<string, unknown>;

function hookBody(
  hook: string,
  prefetch: Record<string, Resource | null> | undefined,
  extra: Record<string, unknown> = {}
): HookBody {
  return {
    hook,
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/dr1', patientId: PATIENT },
    ...(prefetch ? { prefetch } : {}),
    ...extra,
  };
}

const likely = {
  conditions: searchset([RECORD.t2dmNeuropathy, RECORD.anejaculation]),
  procedures: searchset([]),
  medications: searchset([]),
  evaluations: searchset([]),
};

function cardsOf(res: JsonResponse<unknown>): CdsResponse['cards'] {
  expect({
    status: res.status,
    type: res.headers.get('content-type'),
    schema: responseSchemaErrors(res.body),
  }).toEqual({
    status: 200,
    type: 'application/json; charset=utf-8',
    schema: [],
  });
  return (res.body as CdsResponse).cards;
}

describe('discovery', () => {
  test('GET /cds-services lists the services the content defines, with their prefetch templates', async () => {
    const res = await request<{ services: CdsService[] }>(`${server.origin}/cds-services`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ services: hookDefinitions(testEngine().registry).map((h) => h.service) });
    expect(res.body.services.map((s) => [s.id, s.hook])).toEqual([
      ['re-cds-order-sign', 'order-sign'],
      ['re-cds-patient-view', 'patient-view'],
    ]);
  });
});

describe('hooks with prefetch: cards, and no call to the FHIR server', () => {
  test('patient-view, likely RE: one R1 card with the SMART link to the launch page', async () => {
    const before = fhir.requests.length;
    const cards = cardsOf(await call('re-cds-patient-view', hookBody('patient-view', likely), await sign()));
    expect(
      cards.map((c) => [c.indicator, c.source.topic?.code, c.links?.find((l) => l.type === 'smart')?.url])
    ).toEqual([['info', 'R1', `${PUBLIC}/launch.html`]]);
    expect(fhir.requests.length).toBe(before);
  });

  test('patient-view, evaluation already recorded: no card', async () => {
    const body = hookBody('patient-view', { ...likely, evaluations: searchset([evaluation('qr1')]) });
    expect(cardsOf(await call('re-cds-patient-view', body, await sign()))).toEqual([]);
  });

  /** An order-sign request for a man with RE signing the given draft. */
  const orderSign = (draft: Resource): HookBody =>
    hookBody(
      'order-sign',
      { conditions: searchset([RECORD.re]), evaluations: searchset([]) },
      { context: { userId: 'Practitioner/dr1', patientId: PATIENT, draftOrders: searchset([draft]) } }
    );

  test('order-sign, sertraline for a man with RE: one R7 warning card', async () => {
    const body = orderSign(RECORD.sertralineDraft);
    const cards = cardsOf(await call('re-cds-order-sign', body, await sign({}, { id: 're-cds-order-sign' })));
    expect(cards.map((c) => [c.indicator, c.source.topic?.code])).toEqual([['warning', 'R7']]);
  });

  test('order-sign, a drug not in the list: no card', async () => {
    const body = orderSign(RECORD.imipramineDraft);
    expect(
      cardsOf(await call('re-cds-order-sign', body, await sign({}, { id: 're-cds-order-sign' })))
    ).toEqual([]);
  });
});

describe('missing prefetch is read from fhirServer with fhirAuthorization', () => {
  test('the record on the FHIR server gives the card; each read carries the granted token', async () => {
    const before = fhir.requests.length;
    const body = hookBody(
      'patient-view',
      { conditions: null },
      {
        fhirServer: fhir.url,
        fhirAuthorization: {
          access_token: 'granted-token',
          token_type: 'Bearer',
          expires_in: 300,
          scope: 'patient/*.read',
          subject: 'cds',
        },
      }
    );
    const cards = cardsOf(await call('re-cds-patient-view', body, await sign()));
    expect(cards.map((c) => c.source.topic?.code)).toEqual(['R1']);
    const reads = fhir.requests.slice(before);
    expect(reads.map((r) => [r.method, r.path.replace(/\?.*$/, ''), r.authorization])).toEqual(
      ['Condition', 'Procedure', 'MedicationRequest', 'QuestionnaireResponse'].map((t) => [
        'GET',
        expect.stringContaining(t),
        'Bearer granted-token',
      ])
    );
  });

  test('no fhirServer → 412', async () => {
    const texts = expectOutcome(
      await call('re-cds-patient-view', hookBody('patient-view', undefined), await sign()),
      412,
      'incomplete'
    );
    expect(texts[0]).toBe(
      'Prefetch conditions, procedures, medications, evaluations is missing and the request names no fhirServer to read it from'
    );
  });

  test('a fhirServer not on the list → 412, and nothing is read', async () => {
    const before = fhir.requests.length;
    const body = hookBody('patient-view', undefined, { fhirServer: 'http://127.0.0.1:9/fhir' });
    expectOutcome(await call('re-cds-patient-view', body, await sign()), 412, 'incomplete');
    expect(fhir.requests.length).toBe(before);
  });
});

describe('client authentication (CDS Hooks 2.0 JWT)', () => {
  const body = (): HookBody => hookBody('patient-view', likely);
  test('no token → 401', async () => {
    expect(expectOutcome(await call('re-cds-patient-view', body()), 401, 'login')).toEqual([
      'A bearer token is required',
    ]);
  });
  test('wrong aud (another service) → 401', async () => {
    const token = await sign({}, { id: 're-cds-order-sign' });
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'security')).toEqual([
      'The token is for another audience',
    ]);
  });
  test('expired → 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ iat: now - 1000, exp: now - 700 });
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'expired')).toEqual([
      'The token has expired',
    ]);
  });
  test('replayed jti → 401 the second time', async () => {
    const token = await sign();
    expect((await call('re-cds-patient-view', body(), token)).status).toBe(200);
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'security')).toEqual([
      'The token was already used (jti replayed)',
    ]);
  });
  test('no jti → 401', async () => {
    const token = await sign({ jti: undefined });
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'security')).toEqual([
      "The token's jti claim is missing or invalid",
    ]);
  });
  test('unknown key (same kid, another key) → 401', async () => {
    const token = await sign({}, { key: strangerKey });
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'security')).toEqual([
      "The token's signature is invalid",
    ]);
  });
  test('unknown issuer → 401', async () => {
    const token = await sign({ iss: 'https://other.example.org' });
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'security')).toEqual([
      'The token was issued by an unknown CDS client',
    ]);
  });
  test('jku on the allow-list → its keys are used', async () => {
    const token = await sign({ iss: EHR_JKU }, { key: jkuKey, jku: jwks.url });
    expect(cardsOf(await call('re-cds-patient-view', body(), token))).toHaveLength(1);
  });
  test('jku not on the allow-list → 401, and it is not fetched', async () => {
    const token = await sign({ iss: EHR_JKU }, { key: jkuKey, jku: 'http://127.0.0.1:9/jwks.json' });
    expect(expectOutcome(await call('re-cds-patient-view', body(), token), 401, 'security')).toEqual([
      "The token's jku is not an allowed key set",
    ]);
  });
});

describe('malformed requests → 400 with an OperationOutcome', () => {
  test('not JSON', async () => {
    expectOutcome(await call('re-cds-patient-view', '{"hook":', await sign()), 400, 'invalid');
  });
  test('no context', async () => {
    const texts = expectOutcome(
      await call('re-cds-patient-view', { hook: 'patient-view', hookInstance: 'x' }, await sign()),
      400,
      'required'
    );
    expect(texts).toEqual(['(body) is missing context']);
  });
  test('the wrong hook for the service', async () => {
    const texts = expectOutcome(
      await call('re-cds-patient-view', hookBody('order-sign', likely), await sign()),
      400,
      'invalid'
    );
    expect(texts).toEqual(['Service re-cds-patient-view answers the hook "patient-view", not "order-sign"']);
  });
  test('a prefetched resource that is not FHIR R4', async () => {
    const bad = {
      ...likely,
      conditions: searchset([{ resourceType: 'Condition', subject: 'Patient/p1' } as never]),
    };
    const texts = expectOutcome(
      await call('re-cds-patient-view', hookBody('patient-view', bad), await sign()),
      400,
      'structure'
    );
    expect(texts[0]).toMatch(/^prefetch\.conditions\.entry\[0\]\.resource is not valid FHIR R4: /);
  });
  test('an unknown service → 404', async () => {
    expectOutcome(await call('nope', hookBody('patient-view', likely), await sign()), 404, 'not-found');
  });
  test('property: any JSON body is answered 200 or 400, never a server error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              hook: fc.constantFrom('patient-view', 'x'),
              hookInstance: fc.string(),
              context: fc.jsonValue(),
              prefetch: fc.jsonValue(),
            },
            { requiredKeys: [] }
          )
        ),
        async (body) => {
          const res = await call('re-cds-patient-view', JSON.stringify(body), await sign());
          expect([200, 400, 412]).toContain(res.status);
          if (res.status !== 200) {
            expect((res.body as Resource).resourceType).toBe('OperationOutcome');
          }
        }
      ),
      { numRuns: 60 }
    );
  });
});
