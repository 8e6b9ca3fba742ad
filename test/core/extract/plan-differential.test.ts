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
  // Results evaluated once per extraction are handed out as copies: no object is in two places,
  // nor is any object of the response or the Questionnaire in the Bundle.
  const seen = new Set<object>();
  collectObjects(response, seen);
  collectObjects(questionnaire, seen);
  expect(sharedObject(now.bundle, seen)).toBeUndefined();
  // Twice: the second run uses the plan and expressions kept by the first.
  const again = extractResources(questionnaire, response, { newId: counterIds() });
  expect(JSON.stringify(again)).toBe(JSON.stringify(before));
}

function collectObjects(value: unknown, seen: Set<object>): void {
  if (typeof value === 'object' && value !== null && !seen.has(value)) {
    seen.add(value);
    Object.values(value).forEach((v) => collectObjects(v, seen));
  }
}

/** The path of the first object of `value` already in `seen` (or met twice), else undefined. */
function sharedObject(value: unknown, seen: Set<object>, path = '$'): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  if (seen.has(value)) {
    return path;
  }
  seen.add(value);
  for (const [key, v] of Object.entries(value)) {
    const found = sharedObject(v, seen, `${path}.${key}`);
    if (found) {
      return found;
    }
  }
  return undefined;
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
  const tec = (expression: string, name?: string): unknown[] => [
    {
      url: SDC_EXTENSION.templateExtractContext,
      ...(name
        ? { valueExpression: { language: 'text/fhirpath', expression, name } }
        : { valueString: expression }),
    },
  ];
  const TEMPLATES: object[] = [
    // Expressions that do not read their context, asked in every instance and by several templates
    // (evaluated once per extraction), next to ones that do; object values copied out; a named
    // context read through its variable; an expression that fails at run time on some responses.
    {
      resourceType: 'Condition',
      id: 'cond',
      identifier: [
        { system: 'http://example.org/sid', _value: tev("'QuestionnaireResponse/' + %resource.id") },
      ],
      subject: {
        extension: tec('%resource.subject'),
        _reference: tev('reference'),
        _display: tev('display'),
      },
      encounter: {
        extension: [{ url: SDC_EXTENSION.templateExtractValue, valueString: '%resource.encounter' }],
      },
      asserter: {
        extension: tec(
          "iif(%resource.item.where(linkId = 'a').exists(), %resource.subject, %resource.author)"
        ),
        _reference: tev('reference'),
      },
      note: [
        {
          extension: tec('%resource.subject', 'subj'),
          _text: tev("%subj.reference + ' ' + %context.display"),
        },
        { _text: tev('%resource.item.linkId.single()') },
        { _text: tev("iif(linkId = 'a', %resource.id, %resource.status)") },
      ],
      _recordedDate: tev('%resource.authored'),
    },
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
  // Root ids every way a template can have one (the extractor leaves a fixed id out rather than
  // deleting it; any other it removes): fixed, from an expression, with a `_id` beside it, on a
  // template without extensions, on a root with a context, a root replaced by a value, an id alone.
  TEMPLATES.push(
    { resourceType: 'Basic', id: 'stat', code: { text: 'static' } },
    { resourceType: 'Basic', id: 'eid', _id: tev("'x-' + %resource.id"), code: { text: 'e' } },
    {
      resourceType: 'Basic',
      id: 'cid',
      _id: { extension: [{ url: 'http://example.org/e', valueString: 'v' }] },
      code: { text: 'c', _text: tev('%resource.status') },
    },
    {
      resourceType: 'Basic',
      id: 'ctx',
      extension: tec("%resource.item.where(linkId = 'a')"),
      code: { text: 'x', _text: tev('linkId') },
    },
    {
      resourceType: 'Basic',
      id: 'val',
      extension: [{ url: SDC_EXTENSION.templateExtractValue, valueString: '%resource.subject' }],
    },
    { id: 'lonely', extension: tec('%resource.subject') },
    { resourceType: 'Basic', id: ['arr'], code: { text: 'a', _text: tev('linkId') } }
  );
  const expression = fc.constantFrom(
    "%resource.id + '-x'",
    "'urn:uuid:' + %resource.id",
    'linkId',
    '%id1',
    'item.where(',
    "'fixed'",
    '{}',
    ''
  );
  const templateExtract = fc
    .record({
      template: fc.constantFrom(
        '#basic',
        '#obs',
        '#bun',
        '#cond',
        '#missing',
        '',
        '#stat',
        '#eid',
        '#cid',
        '#ctx',
        '#val',
        '#lonely',
        '#arr'
      ),
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
    fc.constantFrom('#bun', '#basic', '#cond', '#missing').map((reference) => ({
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
        fc.record(
          {
            subject: fc.constantFrom(
              { reference: 'Patient/p1', display: 'P One' },
              { reference: 'Patient/p2' }
            ),
            encounter: fc.constant({ reference: 'Encounter/e1' }),
            author: fc.constant({ reference: 'Practitioner/d1', display: 'Dr One' }),
          },
          { requiredKeys: [] }
        ),
        (rootExtensions, items, responseItems, references) => {
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
            ...references,
            item: responseItems as QuestionnaireResponseItem[],
          };
          expectSameAsBefore(questionnaire, response);
        }
      ),
      { numRuns: 1000 }
    );
  });
});
