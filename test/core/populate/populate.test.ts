import type { Bundle, Extension, Questionnaire } from '@medplum/fhirtypes';
import { POPULATE_EXTENSION, populateResponse, recordQuery } from '../../../src/core/populate';

/** Population's behaviour on content and records it cannot use: issues, and the rest still filled. */
const now = new Date('2026-11-27T09:00:00Z');
const patient = {
  resourceType: 'Patient' as const,
  id: 'p',
  birthDate: '1980-04-12',
  gender: 'male' as const,
};
const launch = {
  url: POPULATE_EXTENSION.launchContext,
  extension: [
    {
      url: 'name',
      valueCoding: { system: 'http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext', code: 'patient' },
    },
    { url: 'type', valueCode: 'Patient' },
  ],
};
const initial = (expression: string): Extension => ({
  url: POPULATE_EXTENSION.initialExpression,
  valueExpression: { language: 'text/fhirpath', expression },
});
const empty: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [] };
const texts = (issues: { details?: { text?: string } }[]): string[] =>
  issues.map((i) => i.details?.text ?? '');

test('without a patient launch context nothing is pre-filled, and the error says why', async () => {
  const q: Questionnaire = {
    resourceType: 'Questionnaire',
    status: 'active',
    item: [{ linkId: 'born', type: 'date', extension: [initial('%patient.birthDate')] }],
  };
  const { response, issues } = await populateResponse(q, {
    context: { patient },
    query: recordQuery(empty),
    now,
  });
  expect(response.item).toBeUndefined();
  expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'not-supported' })]);
});

test('each item that cannot be filled gets an issue; the others are filled', async () => {
  const q: Questionnaire = {
    resourceType: 'Questionnaire',
    status: 'active',
    extension: [
      launch,
      {
        url: POPULATE_EXTENSION.variable,
        valueExpression: {
          name: 'bad',
          language: 'application/x-fhir-query',
          expression: 'Observation?category=lab',
        },
      },
    ],
    item: [
      { linkId: 'born', type: 'date', extension: [initial('%patient.birthDate')] },
      { linkId: 'two', type: 'string', extension: [initial("'a' | 'b'")] },
      { linkId: 'type', type: 'integer', extension: [initial('%patient.gender')] },
      { linkId: 'syntax', type: 'string', extension: [initial('%patient.(')] },
      { linkId: 'none', type: 'boolean', extension: [initial('%bad.entry.exists().where($this)')] },
    ],
  };
  const { response, issues } = await populateResponse(q, {
    context: { patient },
    query: recordQuery(empty),
    now,
  });
  expect(response.item?.map((i) => [i.linkId, i.answer])).toEqual([['born', [{ valueDate: '1980-04-12' }]]]);
  expect(texts(issues)).toEqual([
    expect.stringContaining('variable bad: the search failed: Search "Observation?category=lab"'),
    'Item two initialExpression gave 2 values for an item that does not repeat; not pre-filled',
    'Item type initialExpression: the expression gave string, which is not an answer of type integer; not pre-filled',
    expect.stringContaining('Item syntax initialExpression:'),
  ]);
});

test('a launch context the caller does not give is bound empty, with an information issue', async () => {
  const q: Questionnaire = {
    resourceType: 'Questionnaire',
    status: 'active',
    extension: [
      launch,
      {
        url: POPULATE_EXTENSION.launchContext,
        extension: [
          { url: 'name', valueCoding: { code: 'encounter' } },
          { url: 'type', valueCode: 'Encounter' },
        ],
      },
    ],
    item: [{ linkId: 'class', type: 'string', extension: [initial('%encounter.class.code')] }],
  };
  const { response, issues } = await populateResponse(q, {
    context: { patient },
    query: recordQuery(empty),
    now,
  });
  expect(response.item).toBeUndefined();
  expect(issues).toEqual([expect.objectContaining({ severity: 'information', code: 'not-found' })]);
});
