import type { Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SDC_EXTENSION } from '../../../src/core/constants';
import { extractResources } from '../../../src/core/extract/extract';
import { ReFhirError } from '../../../src/core/outcomes';
import type { CheckedResponse } from '../../../src/core/operations/response-input';
import { checkResponse } from '../../../src/core/operations/response-input';
import { testEngine } from '../../helpers/engine';
import { counterIds } from '../../helpers/ids';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { scenarios } from '../../helpers/scenarios';
import { extractResources as extractBefore } from './oracle/extract-before';

/**
 * The extraction plan (per Questionnaire) and the compiled expressions kept with the templates must
 * change nothing: the same Bundle, byte for byte (key order included), the same issues in the same
 * order, the same ids drawn in the same order, as the extractor before them (oracle/).
 */
function expectSameAsBefore(questionnaire: Questionnaire, response: QuestionnaireResponse): void {
  const now = extractResources(questionnaire, response, { newId: counterIds() });
  const before = extractBefore(questionnaire, response, { newId: counterIds() });
  expect(JSON.stringify(now)).toBe(JSON.stringify(before));
  // Twice: the second run uses the plan and expressions kept by the first.
  const again = extractResources(questionnaire, response, { newId: counterIds() });
  expect(JSON.stringify(again)).toBe(JSON.stringify(before));
}

describe('template extraction with its plan kept per Questionnaire: the same output as before', () => {
  const deps = testEngine();
  /** The checked and calculated response, or undefined when the checks refuse it. */
  const checkedOrUndefined = (input: unknown): CheckedResponse | undefined => {
    try {
      return checkResponse(input, deps, {});
    } catch (err) {
      if (err instanceof ReFhirError) {
        return undefined;
      }
      throw err;
    }
  };

  test('every golden scenario and shipped example', () => {
    const examples = join(__dirname, '../../../profiles/examples');
    const inputs = [
      ...scenarios().map((s) => s.response as unknown),
      ...readdirSync(examples)
        .filter((f) => f.startsWith('QuestionnaireResponse'))
        .map((f) => JSON.parse(readFileSync(join(examples, f), 'utf8')) as unknown),
    ];
    let compared = 0;
    for (const input of inputs) {
      const checked = checkedOrUndefined(input);
      if (!checked) {
        continue; // Refused before extraction: nothing to compare.
      }
      expectSameAsBefore(checked.questionnaire, checked.completed);
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });

  test('generated responses to the shipped Questionnaire', () => {
    fc.assert(
      fc.property(validReResponse(), (response) => {
        const checked = checkedOrUndefined(response);
        fc.pre(checked !== undefined);
        expectSameAsBefore(checked!.questionnaire, checked!.completed);
      }),
      { numRuns: 25 }
    );
  });

  // Generated Questionnaires: items with templates (known, missing, not a Bundle), allocated ids,
  // request expressions (some broken), repeats and nested answers; responses that match or not.
  const LINK_IDS = ['a', 'b', 'c'];
  const tev = (expression: string): unknown => ({
    extension: [{ url: SDC_EXTENSION.templateExtractValue, valueString: expression }],
  });
  const TEMPLATES = [
    {
      resourceType: 'Basic',
      id: 'basic',
      identifier: [{ system: 'http://example.org/sid', _value: tev("%resource.id + '-' + linkId") }],
      code: { text: 'x', _text: tev('answer.value.first()') },
      subject: { _reference: tev('%id1') },
    },
    {
      resourceType: 'Observation',
      id: 'obs',
      status: 'final',
      code: { text: 'o' },
      _effectiveDateTime: tev('%resource.authored'),
      note: [
        {
          extension: [{ url: SDC_EXTENSION.templateExtractContext, valueString: 'answer' }],
          _text: tev('value.first()'),
        },
      ],
    },
    {
      resourceType: 'Bundle',
      id: 'bun',
      type: 'transaction',
      entry: [
        {
          extension: [{ url: SDC_EXTENSION.templateExtractContext, valueString: "item.where(linkId = 'b')" }],
          resource: { resourceType: 'Basic', code: { text: 'in bundle' } },
          request: { method: 'POST', url: 'Basic' },
        },
      ],
    },
  ];
  const expression = fc.constantFrom(
    "%resource.id + '-x'",
    'linkId',
    '%id1',
    'item.where(',
    "'fixed'",
    '{}',
    ''
  );
  const templateExtract = fc
    .record({
      template: fc.constantFrom('#basic', '#obs', '#bun', '#missing', ''),
      subs: fc.dictionary(
        fc.constantFrom('resourceId', 'fullUrl', 'ifNoneExist', 'ifMatch', 'ifNoneMatch', 'ifModifiedSince'),
        expression,
        { maxKeys: 3 }
      ),
    })
    .map(({ template, subs }) => ({
      url: SDC_EXTENSION.templateExtract,
      extension: [
        ...(template ? [{ url: 'template', valueReference: { reference: template } }] : []),
        ...Object.entries(subs).map(([url, valueString]) => ({ url, valueString })),
      ],
    }));
  const extension = fc.oneof(
    templateExtract,
    fc.constantFrom('#bun', '#basic', '#missing').map((reference) => ({
      url: SDC_EXTENSION.templateExtractBundle,
      valueReference: { reference },
    })),
    fc
      .constantFrom('id1', 'id2')
      .map((valueString) => ({ url: SDC_EXTENSION.extractAllocateId, valueString })),
    fc.constant({ url: 'http://example.org/other', valueString: 'ignored' })
  );
  const { item: qItem } = fc.letrec((tie) => ({
    item: fc.record(
      {
        linkId: fc.constantFrom(...LINK_IDS),
        type: fc.constantFrom('group', 'string', 'boolean'),
        extension: fc.array(extension, { maxLength: 3 }),
        item: fc.array(tie('item'), { maxLength: 2 }),
      },
      { requiredKeys: ['linkId', 'type'] }
    ),
  }));
  const { item: rItem } = fc.letrec((tie) => ({
    item: fc.record(
      {
        linkId: fc.constantFrom(...LINK_IDS),
        answer: fc.array(
          fc.record(
            { valueString: fc.constantFrom('s', 't'), item: fc.array(tie('item'), { maxLength: 2 }) },
            { requiredKeys: ['valueString'] }
          ),
          { maxLength: 2 }
        ),
        item: fc.array(tie('item'), { maxLength: 2 }),
      },
      { requiredKeys: ['linkId'] }
    ),
  }));

  test('generated Questionnaires and responses, errors included', () => {
    fc.assert(
      fc.property(
        fc.array(extension, { maxLength: 3 }),
        fc.array(qItem, { maxLength: 3 }),
        fc.array(rItem, { maxLength: 4 }),
        (rootExtensions, items, responseItems) => {
          const questionnaire = {
            resourceType: 'Questionnaire',
            status: 'active',
            contained: structuredClone(TEMPLATES),
            extension: rootExtensions,
            item: items,
          } as unknown as Questionnaire;
          const response: QuestionnaireResponse = {
            resourceType: 'QuestionnaireResponse',
            id: 'qr1',
            status: 'completed',
            authored: '2026-01-02T03:04:05Z',
            item: responseItems as QuestionnaireResponseItem[],
          };
          expectSameAsBefore(questionnaire, response);
        }
      ),
      { numRuns: 1000 }
    );
  });
});
