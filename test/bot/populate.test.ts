import { getStatus, isOperationOutcome, OperationOutcomeError } from '@medplum/core';
import type { Parameters, Resource } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import fc from 'fast-check';
import { handler, populateFromProject } from '../../src/bot/populate-handler';
import { fixedClock } from '../helpers/ids';
import { populateScenarios } from '../helpers/populate';
import { indexedMockClient } from './support';

/**
 * The population bot against a Medplum project (Medplum's MockClient: its FHIR router over the in-memory
 * repository): every golden record, stored in the project, gives the golden output.
 */
const scenarios = populateScenarios();
const now = fixedClock()();
let medplum: MockClient;

const input = (patientId: string, extra: Parameters['parameter'] = []): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'subject', valueReference: { reference: `Patient/${patientId}` } }, ...(extra ?? [])],
});

beforeAll(async () => {
  medplum = await indexedMockClient();
  medplum.repo.clear();
  for (const s of scenarios) {
    for (const entry of s.record.entry!) {
      await medplum.repo.updateResource(structuredClone(entry.resource as Resource & { id: string }));
    }
  }
}, 60_000);

test.each(scenarios)('$name: the golden output from the project', async (s) => {
  expect(await populateFromProject(medplum, input(s.patient.id!), now)).toEqual(s.expected);
});

test('the canonical may be given, and the handler reads its input from the bot event', async () => {
  const s = scenarios[0]!;
  const output = await handler(medplum, {
    bot: { reference: 'Bot/re-fhir-populate-test' },
    contentType: 'application/fhir+json',
    input: input(s.patient.id!, [
      { name: 'canonical', valueCanonical: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0' },
    ]),
    secrets: {},
  });
  // The handler uses the real clock: the answers from the record in force do not depend on it.
  const response = output.parameter!.find((p) => p.name === 'response')!.resource!;
  expect(JSON.stringify(response)).toContain('"linkId":"diabetic-autonomic-neuropathy"');
});

async function failure(run: Promise<unknown>): Promise<{ status: number; text: string }> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(OperationOutcomeError);
    const outcome = (error as OperationOutcomeError).outcome;
    expect(isOperationOutcome(outcome)).toBe(true);
    return { status: getStatus(outcome), text: outcome.issue[0]!.details?.text ?? '' };
  }
  throw new Error('expected a failure');
}

describe('bad input is an OperationOutcomeError', () => {
  test.each([
    ['not Parameters', { resourceType: 'Patient', id: 'x' }, 'must be SDC $populate Parameters'],
    ['no subject', { resourceType: 'Parameters', parameter: [] }, 'subject must be given once'],
    [
      'a subject that is not a Patient',
      {
        resourceType: 'Parameters',
        parameter: [{ name: 'subject', valueReference: { reference: 'Group/g' } }],
      },
      'subject must be given once',
    ],
    [
      'an unknown parameter',
      input('pop-dm', [{ name: 'record', valueString: 'x' }]),
      'Unknown parameter record',
    ],
    [
      'an unknown Questionnaire',
      input('pop-dm', [{ name: 'canonical', valueCanonical: 'http://example.org/Questionnaire/other' }]),
      'is not shipped with this bot',
    ],
  ])('%s: 400', async (_, body, text) => {
    const result = await failure(populateFromProject(medplum, body, now));
    expect(result.status).toBe(400);
    expect(result.text).toContain(text);
  });

  test('a Patient the project does not have: 404', async () => {
    expect((await failure(populateFromProject(medplum, input('nobody'), now))).status).toBe(404);
  });

  test('property: any JSON that is not a valid input fails with 400 or 404, never otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const { status } = await failure(populateFromProject(medplum, value, now));
        expect([400, 404]).toContain(status);
      }),
      { numRuns: 100 }
    );
  });
});
