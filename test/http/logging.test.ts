import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import type { TestServer } from '../helpers/http';
import { post, request, startServer } from '../helpers/http';
import type { MedplumTestFhirServer } from '../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../helpers/medplum-test-fhir-server';
import { scenarios } from '../helpers/scenarios';

const base = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!.response as QuestionnaireResponse;

/** The example with distinctive identifying values that must never reach the log. */
const PHI = {
  id: 'zz-phi-response-id',
  subject: 'Patient/zz-phi-subject-7731',
  author: 'Dr Zelda Phiname',
  identifier: 'MRN-PHI-99881',
};
const RESPONSE: QuestionnaireResponse = {
  ...base,
  id: PHI.id,
  identifier: { system: 'urn:oid:1.2.3', value: PHI.identifier },
  subject: { reference: PHI.subject },
  source: { reference: PHI.subject },
  author: { reference: 'Practitioner/x', display: PHI.author },
};

let server: TestServer;
let fixture: MedplumTestFhirServer;

beforeAll(async () => {
  fixture = await startMedplumTestFhirServer({ transactions: false });
  server = await startServer({ upstream: { url: fixture.url } });
});
afterAll(async () => {
  await server.close();
  await fixture.close();
});

describe('request ids', () => {
  test("the caller's X-Request-Id is echoed and stamped on every log line of the request", async () => {
    const res = await request(`${server.base}/metadata`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const line = server.logs.find((l) => l.reqId === 'abc-123' && l.msg === 'request completed');
    expect(line).toMatchObject({ method: 'GET', route: '/fhir/metadata', status: 200 });
  });

  test('without one, or with an unsafe one, a UUID is generated', async () => {
    const none = await request(`${server.base}/metadata`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await request(`${server.base}/metadata`, {
      headers: { 'x-request-id': 'a b\tc<script>' },
    });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('no PHI at the default level', () => {
  test('evaluations, upstream calls, validation failures and searches log no identifiers, names or values', async () => {
    const from = server.logs.length;
    expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, RESPONSE)).status).toBe(200);
    const broken: QuestionnaireResponse = { ...RESPONSE, status: 'in-progress' };
    expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, broken)).status).toBe(422);
    expect((await post(`${server.base}/QuestionnaireResponse/$validate`, broken)).status).toBe(200);
    await request(
      `${server.base}/ValueSet/$expand?url=http://re-fhir.org/fhir/ValueSet/re-alpha-blockers&filter=zzsecretfilter`
    );
    await request(`${server.base}/Patient/${PHI.subject.split('/')[1]}`);

    const written = JSON.stringify(server.logs.slice(from));
    expect(server.logs.slice(from).some((l) => l.msg === 'upstream call')).toBe(true);
    expect(server.logs.slice(from).some((l) => l.msg === 'request rejected')).toBe(true);
    for (const value of [...Object.values(PHI), 'zz-phi-subject', 'zzsecretfilter', 'tamsulosin']) {
      expect({ value, found: written.includes(value) }).toEqual({ value, found: false });
    }
  });
});
