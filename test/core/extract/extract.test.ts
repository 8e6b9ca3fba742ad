import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { SDC_EXTENSION } from '../../../src/core/constants';
import { extractResources } from '../../../src/core/extract/extract';
import { counterIds } from '../../helpers/ids';

const tev = (expression: string): { extension: { url: string; valueString: string }[] } => ({
  extension: [{ url: SDC_EXTENSION.templateExtractValue, valueString: expression }],
});
const tec = (expression: string): { url: string; valueString: string } => ({
  url: SDC_EXTENSION.templateExtractContext,
  valueString: expression,
});
const templateExtract = (
  template: string,
  more: Record<string, string> = {}
): {
  url: string;
  extension: { url: string; valueString?: string; valueReference?: { reference: string } }[];
} => ({
  url: SDC_EXTENSION.templateExtract,
  extension: [
    { url: 'template', valueReference: { reference: `#${template}` } },
    ...Object.entries(more).map(([url, valueString]) => ({ url, valueString })),
  ],
});

// Templates carry `_element` extensions that the generated FHIR types do not model, hence the loose input.
function questionnaire(partial: Record<string, unknown>): Questionnaire {
  return {
    resourceType: 'Questionnaire',
    status: 'active',
    url: 'http://example.org/Questionnaire/q',
    ...partial,
  } as Questionnaire;
}

function response(item: QuestionnaireResponse['item']): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: 'qr1',
    status: 'completed',
    questionnaire: 'http://example.org/Questionnaire/q',
    subject: { reference: 'Patient/p1' },
    authored: '2026-01-02T03:04:05Z',
    item,
  };
}

const conditionTemplate = {
  resourceType: 'Condition',
  id: 'cond',
  identifier: [{ system: 'http://example.org/sid', _value: tev("%resource.id + '-' + linkId") }],
  code: {
    coding: [
      { extension: [tec("answer.value.where(code = 'a')")], system: 'http://example.org/cs', code: 'A' },
      { extension: [tec("answer.value.where(code = 'b')")], system: 'http://example.org/cs', code: 'B' },
    ],
  },
  subject: tev('%resource.subject'),
  _recordedDate: tev('%resource.authored'),
  note: [{ extension: [tec('answer.value.display')], _text: tev('$this') }],
};

describe('SDC template extraction', () => {
  test('creates one resource per group instance of a repeating group, each with its own allocated id', () => {
    const q = questionnaire({
      contained: [
        {
          resourceType: 'Observation',
          id: 'obs',
          status: 'final',
          code: { text: 'drug' },
          subject: tev('%resource.subject'),
          valueCodeableConcept: { coding: [tev("item.where(linkId = 'drug').answer.value")] },
          note: [{ _text: tev("'stoppable: ' + item.where(linkId = 'stop').answer.value.toString()") }],
        },
      ],
      item: [
        {
          linkId: 'meds',
          type: 'group',
          repeats: true,
          extension: [
            { url: SDC_EXTENSION.extractAllocateId, valueString: 'obsId' },
            templateExtract('obs', { fullUrl: '%obsId' }),
          ],
          item: [
            { linkId: 'drug', type: 'choice' },
            { linkId: 'stop', type: 'boolean' },
          ],
        },
      ],
    });
    const qr = response([
      {
        linkId: 'meds',
        item: [
          { linkId: 'drug', answer: [{ valueCoding: { code: 'd1' } }] },
          { linkId: 'stop', answer: [{ valueBoolean: true }] },
        ],
      },
      {
        linkId: 'meds',
        item: [
          { linkId: 'drug', answer: [{ valueCoding: { code: 'd2' } }] },
          { linkId: 'stop', answer: [{ valueBoolean: false }] },
        ],
      },
    ]);

    const { bundle, issues } = extractResources(q, qr, { newId: counterIds() });

    expect(issues).toEqual([]);
    expect(bundle).toEqual({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'drug' },
            subject: { reference: 'Patient/p1' },
            valueCodeableConcept: { coding: [{ code: 'd1' }] },
            note: [{ text: 'stoppable: true' }],
          },
          request: { method: 'POST', url: 'Observation' },
        },
        {
          fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'drug' },
            subject: { reference: 'Patient/p1' },
            valueCodeableConcept: { coding: [{ code: 'd2' }] },
            note: [{ text: 'stoppable: false' }],
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
  });

  test('creates one resource per answer of a repeating question, with the item narrowed to that answer', () => {
    const q = questionnaire({
      contained: [conditionTemplate],
      item: [{ linkId: 'dx', type: 'choice', repeats: true, extension: [templateExtract('cond')] }],
    });
    const qr = response([
      {
        linkId: 'dx',
        answer: [{ valueCoding: { code: 'a', display: 'Alpha' } }, { valueCoding: { code: 'b' } }],
      },
    ]);

    const { bundle, issues } = extractResources(q, qr, { newId: counterIds() });

    expect(issues).toEqual([]);
    expect(bundle.entry?.map((e) => e.resource)).toEqual([
      {
        resourceType: 'Condition',
        identifier: [{ system: 'http://example.org/sid', value: 'qr1-dx' }],
        code: { coding: [{ system: 'http://example.org/cs', code: 'A' }] },
        subject: { reference: 'Patient/p1' },
        recordedDate: '2026-01-02T03:04:05Z',
        note: [{ text: 'Alpha' }],
      },
      {
        resourceType: 'Condition',
        identifier: [{ system: 'http://example.org/sid', value: 'qr1-dx' }],
        code: { coding: [{ system: 'http://example.org/cs', code: 'B' }] },
        subject: { reference: 'Patient/p1' },
        recordedDate: '2026-01-02T03:04:05Z',
      },
    ]);
  });

  test('extracts nothing for an item that is absent from the response (regression: no empty entry list, which is not FHIR)', () => {
    const q = questionnaire({
      contained: [conditionTemplate],
      item: [{ linkId: 'dx', type: 'choice', extension: [templateExtract('cond')] }],
    });
    const { bundle, issues } = extractResources(q, response([]), { newId: counterIds() });
    expect(issues).toEqual([]);
    expect(bundle).toEqual({ resourceType: 'Bundle', type: 'transaction' });
  });

  test('evaluates the request sub-extensions: resourceId gives a PUT, ifNoneExist a conditional create', () => {
    const q = questionnaire({
      contained: [{ resourceType: 'Patient', id: 'pat', active: true }],
      extension: [
        templateExtract('pat', {
          resourceId: "'p-' + %resource.id",
          ifNoneExist: "'identifier=x|' + %resource.id",
          ifMatch: '\'W/"1"\'',
        }),
      ],
    });
    const { bundle } = extractResources(q, response([]), { newId: counterIds() });
    expect(bundle.entry).toEqual([
      {
        fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001',
        resource: { resourceType: 'Patient', id: 'p-qr1', active: true },
        request: { method: 'PUT', url: 'Patient/p-qr1', ifNoneExist: 'identifier=x|qr1', ifMatch: 'W/"1"' },
      },
    ]);
  });

  test('lets one resource reference another through a root-level allocated id', () => {
    const q = questionnaire({
      extension: [{ url: SDC_EXTENSION.extractAllocateId, valueString: 'patientId' }],
      contained: [
        { resourceType: 'Patient', id: 'pat', active: true },
        {
          resourceType: 'Observation',
          id: 'obs',
          status: 'final',
          code: { text: 'x' },
          subject: { _reference: tev('%patientId') },
        },
      ],
      item: [
        { linkId: 'who', type: 'string', extension: [templateExtract('pat', { fullUrl: '%patientId' })] },
        { linkId: 'what', type: 'string', extension: [templateExtract('obs')] },
      ],
    });
    const qr = response([
      { linkId: 'who', answer: [{ valueString: 'me' }] },
      { linkId: 'what', answer: [{ valueString: 'it' }] },
    ]);
    const { bundle } = extractResources(q, qr, { newId: counterIds() });
    const [patient, observation] = bundle.entry ?? [];
    expect(patient?.fullUrl).toBe('urn:uuid:00000000-0000-4000-8000-000000000001');
    expect(observation?.resource).toMatchObject({ subject: { reference: patient?.fullUrl } });
  });

  test('removes an element whose context is empty and keeps the other members of its collection', () => {
    const q = questionnaire({
      contained: [conditionTemplate],
      item: [{ linkId: 'dx', type: 'choice', extension: [templateExtract('cond')] }],
    });
    const qr = response([{ linkId: 'dx', answer: [{ valueCoding: { code: 'z' } }] }]);
    const { bundle } = extractResources(q, qr, { newId: counterIds() });
    // Both codings were conditional and neither matched, so `code` disappears entirely.
    expect(bundle.entry?.[0]?.resource).toEqual({
      resourceType: 'Condition',
      identifier: [{ system: 'http://example.org/sid', value: 'qr1-dx' }],
      subject: { reference: 'Patient/p1' },
      recordedDate: '2026-01-02T03:04:05Z',
    });
  });

  test('binds a named context expression as a variable for descendants', () => {
    const q = questionnaire({
      contained: [
        {
          resourceType: 'Patient',
          id: 'pat',
          name: [
            {
              extension: [
                {
                  url: SDC_EXTENSION.templateExtractContext,
                  valueExpression: {
                    name: 'nm',
                    language: 'text/fhirpath',
                    expression: "item.where(linkId = 'given')",
                  },
                },
              ],
              _text: tev("%nm.answer.value.first() + ' ' + %resource.id"),
            },
          ],
        },
      ],
      item: [
        {
          linkId: 'g',
          type: 'group',
          extension: [templateExtract('pat')],
          item: [{ linkId: 'given', type: 'string' }],
        },
      ],
    });
    const qr = response([{ linkId: 'g', item: [{ linkId: 'given', answer: [{ valueString: 'Ann' }] }] }]);
    const { bundle, issues } = extractResources(q, qr, { newId: counterIds() });
    expect(issues).toEqual([]);
    expect(bundle.entry?.[0]?.resource).toEqual({ resourceType: 'Patient', name: [{ text: 'Ann qr1' }] });
  });

  test('instantiates a templateExtractBundle, dropping entries whose context is empty', () => {
    const q = questionnaire({
      contained: [
        {
          resourceType: 'Bundle',
          id: 'bun',
          type: 'transaction',
          entry: [
            {
              extension: [tec("item.where(linkId = 'yes' and answer.value = true)")],
              fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
              resource: { resourceType: 'Basic', code: { text: 'yes' } },
              request: { method: 'POST', url: 'Basic' },
            },
            {
              extension: [tec("item.where(linkId = 'no' and answer.value = true)")],
              resource: { resourceType: 'Basic', code: { text: 'no' } },
              request: { method: 'POST', url: 'Basic' },
            },
          ],
        },
      ],
      extension: [{ url: SDC_EXTENSION.templateExtractBundle, valueReference: { reference: '#bun' } }],
    });
    const qr = response([
      { linkId: 'yes', answer: [{ valueBoolean: true }] },
      { linkId: 'no', answer: [{ valueBoolean: false }] },
    ]);
    const { bundle, issues } = extractResources(q, qr, { newId: counterIds() });
    expect(issues).toEqual([]);
    expect(bundle.entry).toEqual([
      {
        fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
        resource: { resourceType: 'Basic', code: { text: 'yes' } },
        request: { method: 'POST', url: 'Basic' },
      },
    ]);
  });

  test('reports a broken expression and an unknown template, and keeps extracting the rest', () => {
    const q = questionnaire({
      contained: [{ resourceType: 'Basic', id: 'b', code: { text: 'x' }, _created: tev('item.where(') }],
      item: [{ linkId: 'a', type: 'string', extension: [templateExtract('b'), templateExtract('missing')] }],
    });
    const qr = response([{ linkId: 'a', answer: [{ valueString: 's' }] }]);
    const { bundle, issues } = extractResources(q, qr, { newId: counterIds() });
    expect(bundle.entry?.map((e) => e.resource)).toEqual([{ resourceType: 'Basic', code: { text: 'x' } }]);
    expect(issues).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'processing',
        expression: ['Questionnaire.contained[0].created'],
      }),
      expect.objectContaining({
        severity: 'error',
        code: 'not-found',
        details: { text: 'Template "#missing" is not a contained resource of the Questionnaire' },
        expression: ['Questionnaire.item[0].extension[1]'],
      }),
    ]);
  });

  test('rejects expressions in other languages', () => {
    const q = questionnaire({
      contained: [
        {
          resourceType: 'Basic',
          id: 'b',
          code: {
            extension: [
              {
                url: SDC_EXTENSION.templateExtractContext,
                valueExpression: { language: 'text/cql', expression: 'X' },
              },
            ],
            text: 'x',
          },
        },
      ],
      extension: [templateExtract('b')],
    });
    const { bundle, issues } = extractResources(q, response([]), { newId: counterIds() });
    expect(bundle.entry?.[0]?.resource).toEqual({ resourceType: 'Basic' });
    expect(issues).toEqual([
      expect.objectContaining({ code: 'not-supported', expression: ['Questionnaire.contained[0].code'] }),
    ]);
  });

  test('never modifies the Questionnaire or the response', () => {
    const q = questionnaire({
      contained: [conditionTemplate],
      item: [{ linkId: 'dx', type: 'choice', repeats: true, extension: [templateExtract('cond')] }],
    });
    const qr = response([{ linkId: 'dx', answer: [{ valueCoding: { code: 'a', display: 'Alpha' } }] }]);
    const before = JSON.stringify([q, qr]);
    const { bundle } = extractResources(q, qr, { newId: counterIds() });
    (bundle.entry?.[0]?.resource as { note: { text: string }[] }).note[0]!.text = 'changed';
    expect(JSON.stringify([q, qr])).toBe(before);
  });
});
