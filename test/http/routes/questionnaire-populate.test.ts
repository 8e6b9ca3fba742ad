import type { Parameters, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { AUDIENCE, bearer, ISSUER, signToken, testKey } from '../../helpers/auth';
import type { TestKey } from '../../helpers/auth';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, request, startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { populateScenarios } from '../../helpers/populate';

/**
 * `Questionnaire/$populate` on a real port: local mode (the record in the request) gives the golden
 * output of every scenario; upstream mode reads the record from a real FHIR server (Medplum's router
 * over its in-memory repository) with the caller's token, and gives the same output.
 */
const scenarios = populateScenarios();
const CANONICAL = 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0';

function input(patientId: string, extra: Parameters['parameter'] = []): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'canonical', valueCanonical: CANONICAL },
      { name: 'subject', valueReference: { reference: `Patient/${patientId}` } },
      ...(extra ?? []),
    ],
  };
}

describe('local mode: the record in the request', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  }, 60_000);
  afterAll(() => server.close());

  test.each(scenarios)('$name: type level gives the golden output', async (s) => {
    const res = await post<Parameters>(
      `${server.base}/Questionnaire/$populate`,
      input(s.patient.id!, [{ name: 'record', resource: s.record }])
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(res.body).toEqual(s.expected);
  });

  test('instance level, with the patient as SDC context, gives the same output', async () => {
    const s = scenarios.find((x) => x.name === 'diabetic-neuropathy')!;
    const res = await post<Parameters>(`${server.base}/Questionnaire/re-evaluation/$populate`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'subject', valueReference: { reference: `Patient/${s.patient.id}` } },
        {
          name: 'context',
          part: [
            { name: 'name', valueString: 'patient' },
            { name: 'content', resource: s.patient },
          ],
        },
        { name: 'record', resource: s.record },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(s.expected);
  });

  test('the CapabilityStatement lists $populate on Questionnaire with the SDC definition', async () => {
    const res = await request<{ rest: { resource: { type: string; operation?: unknown[] }[] }[] }>(
      `${server.base}/metadata`
    );
    const questionnaire = res.body.rest[0]!.resource.find((r) => r.type === 'Questionnaire')!;
    expect(questionnaire.operation).toContainEqual({
      name: 'populate',
      definition: 'http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-populate',
    });
  });

  test('no record and no upstream: 400 that says where the record must come from', async () => {
    const res = await post(`${server.base}/Questionnaire/$populate`, input('pop-dm'));
    const texts = expectOutcome(res, 400, 'required');
    expect(texts[0]).toContain('parameter record');
  });

  test('an unknown Questionnaire instance is 404', async () => {
    const res = await post(`${server.base}/Questionnaire/nope/$populate`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'subject', valueReference: { reference: 'Patient/p' } }],
    });
    expectOutcome(res, 404, 'not-found');
  });

  test('GET is 405', async () => {
    const res = await request(`${server.base}/Questionnaire/$populate`);
    expect(res.status).toBe(405);
  });
});

describe('upstream mode: the record read from the upstream with the caller\u2019s token', () => {
  let key: TestKey;
  let fixture: MedplumTestFhirServer;
  let server: TestServer;
  const all: Resource[] = scenarios.flatMap((s) => s.record.entry!.map((e) => e.resource!));

  beforeAll(async () => {
    key = await testKey('k1');
    fixture = await startMedplumTestFhirServer({ resources: all });
    server = await startServer({
      auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem },
      upstream: { url: fixture.url, retries: 0, timeoutMs: 60_000 },
    });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await fixture.close();
  });

  test.each(scenarios)('$name: the same golden output from the upstream', async (s) => {
    const token = await signToken(key, { scope: 'patient/*.read', patient: s.patient.id });
    const before = fixture.requests.length;
    const res = await post<Parameters>(
      `${server.base}/Questionnaire/$populate`,
      input(s.patient.id!),
      bearer(token)
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual(s.expected);
    // Every upstream call was a read, and carried the caller's own token.
    const calls = fixture.requests.slice(before);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.method === 'GET' && c.authorization === `Bearer ${token}`)).toBe(true);
  });

  test("a patient's token cannot populate another patient's form (403, nothing read upstream)", async () => {
    const token = await signToken(key, { scope: 'patient/*.read', patient: 'pop-dm' });
    const before = fixture.requests.length;
    const res = await post(`${server.base}/Questionnaire/$populate`, input('pop-turp'), bearer(token));
    expectOutcome(res, 403, 'forbidden');
    expect(fixture.requests.length).toBe(before);
  });

  test('a Patient the upstream does not have is 404', async () => {
    const token = await signToken(key, { scope: 'user/*.read' });
    const res = await post(`${server.base}/Questionnaire/$populate`, input('nobody'), bearer(token));
    expectOutcome(res, 404, 'not-found');
  });

  test('local=true with the record in the request does not call the upstream', async () => {
    const s = scenarios[0]!;
    const token = await signToken(key, { scope: 'user/*.read' });
    const before = fixture.requests.length;
    const res = await post<Parameters>(
      `${server.base}/Questionnaire/$populate`,
      input(s.patient.id!, [
        { name: 'local', valueBoolean: true },
        { name: 'record', resource: s.record },
      ]),
      bearer(token)
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual(s.expected);
    expect(fixture.requests.length).toBe(before);
  });

  test('the pre-filled response is in-progress and every answered item is marked', async () => {
    const s = scenarios.find((x) => x.name === 'tamsulosin-sertraline')!;
    const token = await signToken(key, { scope: 'patient/*.read', patient: s.patient.id });
    const res = await post<Parameters>(
      `${server.base}/Questionnaire/$populate`,
      input(s.patient.id!),
      bearer(token)
    );
    const response = res.body.parameter!.find((p) => p.name === 'response')!
      .resource as QuestionnaireResponse;
    expect(response.status).toBe('in-progress');
    const answered = JSON.stringify(response).match(/"answer"/g)!.length;
    const marked = JSON.stringify(response).match(/questionnaireresponse-author/g)!.length;
    expect(marked).toBe(answered);
    expect(res.body.parameter!.map((p) => p.name)).toEqual(['response']);
  });
});
