import type { Bundle, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { WRITTEN_TYPES } from '../../../src/http/auth/scopes';
import { testEngine } from '../../helpers/engine';
import { AUDIENCE, bearer, ISSUER, signToken, testKey } from '../../helpers/auth';
import type { TestKey } from '../../helpers/auth';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';

/**
 * Issue 14.1 (critical): in upstream mode the writes go out with the server's own credentials, so a
 * patient-limited token must not be able to choose whose records are written. Patient B's response is
 * stored and evaluated; patient A's token then submits a copy with A as subject and B's response id.
 * Before the fix every conditional write was keyed by the response id alone, and all of B's records
 * were overwritten and re-assigned to A.
 */

const B_RESPONSE = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!
  .response as QuestionnaireResponse;
const B = B_RESPONSE.subject!.reference!;
const A = 'Patient/patient-a';
const FORGED: QuestionnaireResponse = { ...structuredClone(B_RESPONSE), subject: { reference: A } };
const TYPES = WRITTEN_TYPES;

let key: TestKey;
let fixture: MedplumTestFhirServer;
let server: TestServer;

const token = async (scope: string, patient?: string): Promise<Record<string, string>> =>
  bearer(await signToken(key, { scope, ...(patient ? { patient } : {}) }));

const reEvaluate = (
  body: QuestionnaireResponse,
  headers: Record<string, string>
): ReturnType<typeof post<Bundle>> =>
  post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, body, headers);

/** Every stored resource of the written types, by `Type/id`, with its version. */
async function snapshot(): Promise<Map<string, Resource>> {
  const all = new Map<string, Resource>();
  for (const type of TYPES) {
    for (const r of await fixture.search(`${type}?_count=1000`)) {
      all.set(`${type}/${r.id}`, r);
    }
  }
  return all;
}

/** The patient of a written resource (Task keeps it in `for`). */
const subjectOf = (r: Resource): string | undefined =>
  (r as { subject?: { reference?: string }; for?: { reference?: string } }).subject?.reference ??
  (r as { for?: { reference?: string } }).for?.reference;

beforeAll(async () => {
  key = await testKey('k1');
}, 60_000);

beforeEach(async () => {
  fixture = await startMedplumTestFhirServer({ resources: [B_RESPONSE], transactions: false });
  server = await startServer({
    auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem },
    upstream: { url: fixture.url, retries: 0, timeoutMs: 20_000 },
  });
  // B's records, written by a clinician.
  const first = await reEvaluate(B_RESPONSE, await token('user/*.cruds'));
  expect(first.status).toBe(200);
}, 60_000);

afterEach(async () => {
  await server.close();
  await fixture.close();
});

describe("a patient's token cannot write another patient's records", () => {
  test("regression: A's token with A as subject and B's response id is refused (409), and B's records are untouched", async () => {
    const before = await snapshot();
    expect([...before.values()].every((r) => r.resourceType === 'Provenance' || subjectOf(r) === B)).toBe(
      true
    );
    const writesBefore = fixture.requests.filter(
      (r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction'
    ).length;

    const res = await reEvaluate(FORGED, await token('patient/*.cruds', 'patient-a'));

    const texts = expectOutcome(res, 409, 'conflict');
    expect(texts[0]).toContain('not the subject of the stored QuestionnaireResponse');
    // Nothing was sent to be written, and nothing about B's records came back.
    expect(
      fixture.requests.filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction').length
    ).toBe(writesBefore);
    for (const id of before.keys()) {
      expect(res.text).not.toContain(id.split('/')[1]);
    }
    expect(await snapshot()).toEqual(before);
  });

  test("A's token with B's response unchanged (B as subject) is refused (403) before anything is read or written", async () => {
    const requestsBefore = fixture.requests.length;
    const res = await reEvaluate(B_RESPONSE, await token('patient/*.cruds', 'patient-a'));
    expectOutcome(res, 403, 'forbidden');
    expect(fixture.requests.length).toBe(requestsBefore);
  });

  test("by construction: even a Bundle evaluated from A's forged copy cannot select B's records", async () => {
    // What the old server would have sent for the forged copy, sent straight to the upstream.
    const before = await snapshot();
    const forged = evaluateResponse(FORGED, testEngine()).bundle;
    expect(
      forged.entry!.every(
        (e) =>
          e.request!.url.includes('&subject=Patient/patient-a') || e.resource!.resourceType === 'Provenance'
      )
    ).toBe(true);
    const res = await fetch(fixture.url, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(forged),
    });
    expect(res.status).toBe(200);
    const after = await snapshot();
    // Every one of B's records is as it was (same version, same subject); A got records of its own.
    for (const [id, resource] of before) {
      expect({ id, resource: after.get(id) }).toEqual({ id, resource });
    }
    const added = [...after.entries()].filter(([id]) => !before.has(id)).map(([, r]) => r);
    expect(added.length).toBe(forged.entry!.length);
    expect(added.filter((r) => r.resourceType !== 'Provenance').every((r) => subjectOf(r) === A)).toBe(true);
  });

  test('a submitted copy that is not the stored version is refused (409); an unstored response is 422', async () => {
    const changed = structuredClone(B_RESPONSE);
    changed.authored = '2026-11-21T10:00:00Z';
    const clinician = await token('user/*.cruds');
    expectOutcome(await reEvaluate(changed, clinician), 409, 'conflict');
    expectOutcome(await reEvaluate({ ...B_RESPONSE, id: 'never-stored' }, clinician), 422, 'not-found');
  });
});
