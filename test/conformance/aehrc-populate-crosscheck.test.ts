/**
 * Cross-check of `$populate` with an independent SDC populator, @aehrc/sdc-populate 4.7.1: from the same
 * record (searched through the same in-memory search), every golden scenario must give the same
 * pre-filled items. What is compared is the item tree (linkIds, texts, answers); the differences left
 * out are the documented ones (docs/populate.md), each reproduced in isolation below:
 * - that library does not implement `sdc-questionnaire-observationLinkPeriod`, so the items it would
 *   fill (labs, semen analysis) are compared only on our side, against the golden files;
 * - it writes no marks on pre-filled items (our `questionnaireresponse-author` and `re-populated-from`),
 *   and its response metadata differs (`meta.source`, a subject with display, no `authored`).
 */
import type {
  Bundle,
  Observation,
  Patient,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POPULATE_EXTENSION, populateResponse, recordQuery } from '../../src/core/populate';
import { fixedClock } from '../helpers/ids';
import { populateScenarios } from '../helpers/populate';

// The library's ESM entry cannot be imported under jest (toolchain.md §6); its CommonJS build can.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aehrc = require('@aehrc/sdc-populate') as {
  populateQuestionnaire: (params: {
    questionnaire: Questionnaire;
    fetchResourceCallback: (query: string) => Promise<{ data: Bundle }>;
    fetchResourceRequestConfig: { sourceServerUrl: string };
    patient: Patient;
  }) => Promise<{
    populateSuccess: boolean;
    populateResult: { populatedResponse: QuestionnaireResponse } | null;
  }>;
};

const questionnaire = JSON.parse(
  readFileSync(join(__dirname, '../../profiles/Questionnaire-re-evaluation.json'), 'utf8')
) as Questionnaire;
const now = fixedClock()();

// The library races each population against a setTimeout it never clears: with real timers a loaded
// machine could trip it, and the pending timer keeps jest alive. Fake timers never fire here.
beforeAll(() => {
  jest.useFakeTimers();
});
afterAll(() => {
  jest.useRealTimers();
});

async function theirs(q: Questionnaire, patient: Patient, record: Bundle): Promise<QuestionnaireResponse> {
  const search = recordQuery(record);
  const result = await aehrc.populateQuestionnaire({
    questionnaire: q,
    // Never called over the network: every query is answered from the record in memory.
    fetchResourceCallback: async (query) => ({ data: await search(query) }),
    fetchResourceRequestConfig: { sourceServerUrl: 'http://127.0.0.1:9/fhir' },
    patient,
  });
  expect(result.populateSuccess).toBe(true);
  return result.populateResult!.populatedResponse;
}

async function ours(q: Questionnaire, patient: Patient, record: Bundle): Promise<QuestionnaireResponse> {
  return (await populateResponse(q, { context: { patient }, query: recordQuery(record), now })).response;
}

/** linkIds of the items that have an observationLinkPeriod. */
function linkedItems(items: readonly QuestionnaireItem[] | undefined, into = new Set<string>()): Set<string> {
  for (const item of items ?? []) {
    if (item.extension?.some((e) => e.url === POPULATE_EXTENSION.observationLinkPeriod)) {
      into.add(item.linkId);
    }
    linkedItems(item.item, into);
  }
  return into;
}

/** The item tree without marks, and without the given linkIds (empty groups dropped). */
function items(
  list: readonly QuestionnaireResponseItem[] | undefined,
  without: ReadonlySet<string> = new Set()
): unknown[] {
  return (list ?? []).flatMap((item) => {
    if (without.has(item.linkId)) {
      return [];
    }
    const children = items(item.item, without);
    if (item.answer === undefined && children.length === 0) {
      return [];
    }
    return [
      {
        linkId: item.linkId,
        text: item.text,
        ...(item.answer ? { answer: item.answer } : {}),
        ...(children.length > 0 ? { item: children } : {}),
      },
    ];
  });
}

const linked = linkedItems(questionnaire.item);

describe.each(populateScenarios())('$name', (s) => {
  test('@aehrc/sdc-populate pre-fills the same items, apart from observationLinkPeriod', async () => {
    const mine = await ours(questionnaire, s.patient, s.record);
    const other = await theirs(questionnaire, s.patient, s.record);
    expect(items(other.item)).toEqual(items(mine.item, linked));
    expect({ status: other.status, questionnaire: other.questionnaire }).toEqual({
      status: 'in-progress',
      questionnaire: mine.questionnaire,
    });
  });
});

test('the comparison is not empty: four of the five scenarios pre-fill expression-based items', async () => {
  let withItems = 0;
  for (const s of populateScenarios()) {
    withItems += items((await ours(questionnaire, s.patient, s.record)).item, linked).length > 0 ? 1 : 0;
  }
  expect(withItems).toBe(4);
});

describe('documented differences, in isolation', () => {
  const patient: Patient = { resourceType: 'Patient', id: 'p' };
  const q: Questionnaire = {
    resourceType: 'Questionnaire',
    url: 'http://example.org/Questionnaire/hba1c',
    status: 'active',
    extension: [
      {
        url: POPULATE_EXTENSION.launchContext,
        extension: [
          {
            url: 'name',
            valueCoding: { system: 'http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext', code: 'patient' },
          },
          { url: 'type', valueCode: 'Patient' },
        ],
      },
    ],
    item: [
      {
        linkId: 'hba1c',
        type: 'decimal',
        code: [{ system: 'http://loinc.org', code: '4548-4' }],
        extension: [
          {
            url: POPULATE_EXTENSION.observationLinkPeriod,
            valueDuration: { value: 6, unit: 'months', system: 'http://unitsofmeasure.org', code: 'mo' },
          },
        ],
      },
    ],
  };
  const hba1c: Observation = {
    resourceType: 'Observation',
    id: 'a1c',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
    subject: { reference: 'Patient/p' },
    effectiveDateTime: '2026-10-01',
    valueQuantity: { value: 7.9, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
  };
  const record: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: hba1c }] };

  test('@aehrc/sdc-populate does not implement observationLinkPeriod: a recent matching Observation is not used', async () => {
    expect((await theirs(q, patient, record)).item ?? []).toEqual([]);
    expect(items((await ours(q, patient, record)).item)).toEqual([
      { linkId: 'hba1c', text: undefined, answer: [{ valueDecimal: 7.9 }] },
    ]);
  });

  test('@aehrc/sdc-populate writes no source marks on a pre-filled item', async () => {
    const withExpression: Questionnaire = {
      ...q,
      item: [
        {
          linkId: 'born',
          type: 'date',
          extension: [
            {
              url: POPULATE_EXTENSION.initialExpression,
              valueExpression: { language: 'text/fhirpath', expression: '%patient.birthDate' },
            },
          ],
        },
      ],
    };
    const born = { ...patient, birthDate: '1980-04-12' };
    const other = await theirs(withExpression, born, record);
    expect(other.item).toEqual([{ linkId: 'born', answer: [{ valueDate: '1980-04-12' }] }]);
    const mine = await ours(withExpression, born, record);
    expect(mine.item![0]!.extension!.map((e) => e.url)).toEqual([
      'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author',
    ]);
  });
});
