import type { OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import fc from 'fast-check';
import type { TestServer } from '../../helpers/http';
import { post, startServer } from '../../helpers/http';
import { populateScenarios } from '../../helpers/populate';

/**
 * Malformed `$populate` input, generated: each property breaks one part of a valid request (the body,
 * `subject`, `context`, `record`, a parameter name) and expects a 400 OperationOutcome with an error
 * issue, never a 5xx and never a response.
 */
let server: TestServer;
const s = populateScenarios()[0]!;
const KNOWN = ['identifier', 'canonical', 'questionnaire', 'subject', 'context', 'local', 'record'];
const valid: ParametersParameter[] = [
  { name: 'canonical', valueCanonical: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0' },
  { name: 'subject', valueReference: { reference: `Patient/${s.patient.id}` } },
  { name: 'record', resource: s.record },
];

beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(() => server.close());

async function expect400(body: unknown): Promise<void> {
  const res = await post<OperationOutcome>(`${server.base}/Questionnaire/$populate`, body);
  expect(res.status).toBe(400);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue?.[0]?.severity).toBe('error');
}

const withParameter = (name: string, replacement: ParametersParameter): Parameters => ({
  resourceType: 'Parameters',
  parameter: [...valid.filter((p) => p.name !== name), replacement],
});

const RUNS = { numRuns: 40 };

test('the valid request this file breaks is accepted', async () => {
  const res = await post(`${server.base}/Questionnaire/$populate`, {
    resourceType: 'Parameters',
    parameter: valid,
  });
  expect(res.status).toBe(200);
});

test('a body that is not a Parameters resource', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .jsonValue()
        .filter(
          (v) =>
            !(
              typeof v === 'object' &&
              v !== null &&
              (v as { resourceType?: unknown }).resourceType === 'Parameters'
            )
        ),
      async (body) => expect400(body)
    ),
    RUNS
  );
});

test('a subject that is not a Reference to Patient/{id}', async () => {
  const notPatientReference = fc
    .jsonValue()
    .filter(
      (v) =>
        !(
          typeof v === 'object' &&
          v !== null &&
          typeof (v as { reference?: unknown }).reference === 'string' &&
          /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test((v as { reference: string }).reference)
        )
    );
  await fc.assert(
    fc.asyncProperty(notPatientReference, async (value) =>
      expect400(withParameter('subject', { name: 'subject', valueReference: value as never }))
    ),
    RUNS
  );
});

test('a record that is not a Bundle', async () => {
  const notBundle = fc.dictionary(fc.string(), fc.jsonValue()).filter((v) => v.resourceType !== 'Bundle');
  await fc.assert(
    fc.asyncProperty(notBundle, async (value) =>
      expect400(withParameter('record', { name: 'record', resource: value as never }))
    ),
    RUNS
  );
});

test('a context without exactly a known name and a content', async () => {
  const part = fc.record({ name: fc.constantFrom('name', 'content', 'other'), valueString: fc.string() });
  await fc.assert(
    fc.asyncProperty(fc.array(part, { maxLength: 4 }), async (parts) => {
      const body: Parameters = {
        resourceType: 'Parameters',
        parameter: [...valid, { name: 'context', part: parts }],
      };
      await expect400(body);
    }),
    RUNS
  );
});

test('a parameter $populate does not declare', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ minLength: 1 }).filter((n) => !KNOWN.includes(n)),
      async (name) =>
        expect400({ resourceType: 'Parameters', parameter: [...valid, { name, valueString: 'x' }] })
    ),
    RUNS
  );
});

test('two ways of naming the Questionnaire at once', async () => {
  await expect400({
    resourceType: 'Parameters',
    parameter: [...valid, { name: 'identifier', valueIdentifier: { value: 're-evaluation' } }],
  });
});
