import type {
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';
import fc from 'fast-check';
import { calculateResponse } from '../../../src/core/response/calculate';
import type { ValueSetMembership } from '../../../src/core/response/validate-response';
import { validateResponse } from '../../../src/core/response/validate-response';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { arbitraryResponse } from './arbitraries';
import {
  ATC,
  CS,
  deepFreeze,
  expressionExtension,
  find,
  INTAKE,
  memberOf,
  questionnaire,
  response,
  top,
  validIntakeResponse,
} from './support';

/** [severity, code, expression] of each issue, in order. */
function summary(issues: readonly OperationOutcomeIssue[]): [string, string, string][] {
  return issues.map((i) => [i.severity, i.code, (i.expression ?? []).join(' | ')]);
}

function check(qr: QuestionnaireResponse): OperationOutcomeIssue[] {
  return validateResponse(qr, INTAKE, { memberOf });
}

const demographics = (qr: QuestionnaireResponse): QuestionnaireResponseItem => top(qr, 'demographics')[0]!;
const item = (qr: QuestionnaireResponse, linkId: string): QuestionnaireResponseItem => find(qr.item, linkId);

type Mutation = (qr: QuestionnaireResponse) => void;
type Expected = [severity: 'error' | 'warning', code: string, expression: string];

/**
 * The invalid-input catalogue: each defect is one mutation of a valid response, with the exact
 * issues it must produce (severity, code, FHIRPath location), nothing more.
 */
const CATALOGUE: [name: string, mutate: Mutation, expected: Expected[]][] = [
  [
    'status still in progress',
    (qr) => (qr.status = 'in-progress'),
    [['error', 'business-rule', 'QuestionnaireResponse.status']],
  ],
  [
    'status missing',
    (qr) => delete (qr as Partial<QuestionnaireResponse>).status,
    [['error', 'required', 'QuestionnaireResponse.status']],
  ],
  ['no subject', (qr) => delete qr.subject, [['error', 'required', 'QuestionnaireResponse.subject']]],
  ['no logical id', (qr) => delete qr.id, [['error', 'required', 'QuestionnaireResponse.id']]],
  [
    'questionnaire canonical absent',
    (qr) => delete qr.questionnaire,
    [['error', 'required', 'QuestionnaireResponse.questionnaire']],
  ],
  [
    'questionnaire canonical names another Questionnaire',
    (qr) => (qr.questionnaire = 'http://example.org/fhir/Questionnaire/other'),
    [['error', 'value', 'QuestionnaireResponse.questionnaire']],
  ],
  [
    'questionnaire canonical names another version',
    (qr) => (qr.questionnaire = 'http://example.org/fhir/Questionnaire/test-intake|2.0.0'),
    [['error', 'value', 'QuestionnaireResponse.questionnaire']],
  ],
  [
    'unknown linkId',
    (qr) => qr.item!.push({ linkId: 'shoe-size', answer: [{ valueInteger: 44 }] }),
    [['error', 'not-found', 'QuestionnaireResponse.item[5].linkId']],
  ],
  [
    'item at the wrong nesting level',
    (qr) => {
      const group = demographics(qr);
      const age = item(qr, 'age');
      group.item = group.item!.filter((i) => i !== age);
      qr.item!.push(age);
    },
    [
      ['error', 'required', 'QuestionnaireResponse.item[0]'],
      ['error', 'structure', 'QuestionnaireResponse.item[5]'],
    ],
  ],
  [
    'item text differs from the Questionnaire',
    (qr) => (item(qr, 'age').text = 'How old?'),
    [['warning', 'value', 'QuestionnaireResponse.item[0].item[1].text']],
  ],
  [
    'boolean item answered with valueString',
    (qr) => (item(qr, 'stoppable').answer = [{ valueString: 'no' }]),
    [['error', 'value', 'QuestionnaireResponse.item[3].item[2].answer[0].value']],
  ],
  [
    'an ill-typed answer does not count for enableWhen',
    (qr) => (item(qr, 'smoker').answer = [{ valueString: 'no' }]),
    [
      ['error', 'value', 'QuestionnaireResponse.item[2].item[0].answer[0].value'],
      ['error', 'business-rule', 'QuestionnaireResponse.item[2].item[1]'],
      ['error', 'business-rule', 'QuestionnaireResponse.item[2].item[2]'],
    ],
  ],
  [
    'decimal item answered with valueInteger',
    (qr) => (item(qr, 'weight').answer = [{ valueInteger: 82 }]),
    [['error', 'value', 'QuestionnaireResponse.item[1].item[0].answer[0].value']],
  ],
  [
    'integer item answered with valueDecimal',
    (qr) => (item(qr, 'age').answer = [{ valueDecimal: 40.5 }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[1].answer[0].value']],
  ],
  [
    'date item answered with valueDateTime',
    (qr) => (item(qr, 'birth-date').answer = [{ valueDateTime: '1985-03-01T10:00:00Z' }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[2].answer[0].value']],
  ],
  [
    'choice item answered with valueString',
    (qr) => (item(qr, 'sex').answer = [{ valueString: 'male' }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[3].answer[0].value']],
  ],
  [
    'malformed date',
    (qr) => (item(qr, 'birth-date').answer = [{ valueDate: '1985-13-01' }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[2].answer[0].value']],
  ],
  [
    'answer on a group item',
    (qr) => (demographics(qr).answer = [{ valueString: 'x' }]),
    [
      ['error', 'invariant', 'QuestionnaireResponse.item[0]'],
      ['error', 'structure', 'QuestionnaireResponse.item[0].answer'],
    ],
  ],
  [
    'answer on a display item',
    (qr) => demographics(qr).item!.unshift({ linkId: 'intro', answer: [{ valueString: 'read' }] }),
    [['error', 'structure', 'QuestionnaireResponse.item[0].item[0]']],
  ],
  [
    'required question missing',
    (qr) => (demographics(qr).item = demographics(qr).item!.filter((i) => i.linkId !== 'age')),
    [['error', 'required', 'QuestionnaireResponse.item[0]']],
  ],
  [
    'required question present without an answer',
    (qr) => delete item(qr, 'age').answer,
    [['error', 'required', 'QuestionnaireResponse.item[0].item[1]']],
  ],
  [
    'required group missing',
    (qr) => (qr.item = qr.item!.filter((i) => i.linkId !== 'demographics')),
    [['error', 'required', 'QuestionnaireResponse']],
  ],
  [
    'required group without an answered descendant',
    (qr) => (demographics(qr).item = [{ linkId: 'name' }]),
    [
      ['error', 'required', 'QuestionnaireResponse.item[0]'],
      ['error', 'required', 'QuestionnaireResponse.item[0]'],
    ],
  ],
  [
    'required question inside one repeating-group instance missing',
    (qr) =>
      (top(qr, 'medications')[1]!.item = top(qr, 'medications')[1]!.item!.filter(
        (i) => i.linkId !== 'stoppable'
      )),
    [
      ['error', 'business-rule', 'QuestionnaireResponse.item[4].item[1]'],
      ['error', 'required', 'QuestionnaireResponse.item[4]'],
    ],
  ],
  [
    'required question enabled by an answer is missing',
    (qr) => {
      item(qr, 'smoker').answer = [{ valueBoolean: true }];
      const habits = top(qr, 'habits')[0]!;
      habits.item = habits.item!.filter((i) => !['ex-smoker', 'quit-date'].includes(i.linkId));
    },
    [['error', 'required', 'QuestionnaireResponse.item[2]']],
  ],
  [
    'answer to a disabled item',
    (qr) =>
      top(qr, 'habits')[0]!.item!.splice(1, 0, {
        linkId: 'cigarettes-per-day',
        answer: [{ valueInteger: 5 }],
      }),
    [['error', 'business-rule', 'QuestionnaireResponse.item[2].item[1]']],
  ],
  [
    'answer to an item disabled through a chain of enableWhen',
    (qr) => (item(qr, 'ex-smoker').answer = [{ valueBoolean: false }]),
    [['error', 'business-rule', 'QuestionnaireResponse.item[2].item[2]']],
  ],
  [
    'answer to an item disabled by enableWhenExpression',
    (qr) => qr.item!.push({ linkId: 'comments', answer: [{ valueString: 'none' }] }),
    [['error', 'business-rule', 'QuestionnaireResponse.item[5]']],
  ],
  [
    'answer to an item inside a repeating group disabled in that instance',
    (qr) =>
      top(qr, 'medications')[0]!.item!.push({ linkId: 'stop-reason', answer: [{ valueString: 'cannot' }] }),
    [['error', 'business-rule', 'QuestionnaireResponse.item[3].item[3]']],
  ],
  [
    'two answers on a non-repeating question',
    (qr) => item(qr, 'age').answer!.push({ valueInteger: 41 }),
    [['error', 'structure', 'QuestionnaireResponse.item[0].item[1].answer[1]']],
  ],
  [
    'two instances of a non-repeating group',
    (qr) => qr.item!.splice(2, 0, structuredClone(top(qr, 'body')[0]!)),
    [['error', 'duplicate', 'QuestionnaireResponse.item[2]']],
  ],
  [
    'a question repeated as sibling items (qrs-2)',
    (qr) => top(qr, 'body')[0]!.item!.push({ linkId: 'weight', answer: [{ valueDecimal: 80 }] }),
    [['error', 'duplicate', 'QuestionnaireResponse.item[1].item[2]']],
  ],
  [
    'coding outside answerOption',
    (qr) => (item(qr, 'sex').answer = [{ valueCoding: { system: CS, code: 'unknown' } }]),
    [['error', 'code-invalid', 'QuestionnaireResponse.item[0].item[3].answer[0].value']],
  ],
  [
    'coding from the right code but another system than the answerOption',
    (qr) => (item(qr, 'sex').answer = [{ valueCoding: { system: 'http://other', code: 'male' } }]),
    [['error', 'code-invalid', 'QuestionnaireResponse.item[0].item[3].answer[0].value']],
  ],
  [
    'coding outside a contained answerValueSet',
    (qr) => (item(qr, 'alcohol').answer = [{ valueCoding: { system: CS, code: 'hourly' } }]),
    [['error', 'code-invalid', 'QuestionnaireResponse.item[2].item[3].answer[0].value']],
  ],
  [
    'coding outside an external answerValueSet',
    (qr) => (item(qr, 'medication').answer = [{ valueCoding: { system: ATC, code: 'aspirin' } }]),
    [['error', 'code-invalid', 'QuestionnaireResponse.item[3].item[0].answer[0].value']],
  ],
  [
    'coding without a system on an answerValueSet item',
    (qr) => (item(qr, 'medication').answer = [{ valueCoding: { code: 'warfarin' } }]),
    [['error', 'code-invalid', 'QuestionnaireResponse.item[3].item[0].answer[0].value']],
  ],
  [
    'integer below minValue',
    (qr) => (item(qr, 'age').answer = [{ valueInteger: 10 }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[1].answer[0].value']],
  ],
  [
    'integer above maxValue',
    (qr) => (item(qr, 'age').answer = [{ valueInteger: 130 }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[1].answer[0].value']],
  ],
  [
    'decimal above maxValue',
    (qr) => (item(qr, 'weight').answer = [{ valueDecimal: 400 }]),
    [['error', 'value', 'QuestionnaireResponse.item[1].item[0].answer[0].value']],
  ],
  [
    'date below minValue',
    (qr) => (item(qr, 'birth-date').answer = [{ valueDate: '1850-06-01' }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[2].answer[0].value']],
  ],
  [
    'string longer than maxLength',
    (qr) => (item(qr, 'name').answer = [{ valueString: 'Alexandra Montgomery-Smith' }]),
    [['error', 'too-long', 'QuestionnaireResponse.item[0].item[0].answer[0].value']],
  ],
  [
    'string shorter than minLength',
    (qr) => (item(qr, 'name').answer = [{ valueString: 'A' }]),
    [['error', 'value', 'QuestionnaireResponse.item[0].item[0].answer[0].value']],
  ],
  [
    'decimal with more than maxDecimalPlaces',
    (qr) => (item(qr, 'weight').answer = [{ valueDecimal: 82.55 }]),
    [['error', 'value', 'QuestionnaireResponse.item[1].item[0].answer[0].value']],
  ],
  [
    'empty answer object',
    (qr) => (item(qr, 'dose-mg').answer = [{}]),
    [['error', 'required', 'QuestionnaireResponse.item[3].item[1].answer[0]']],
  ],
  [
    'required question with only an empty answer object',
    (qr) => (item(qr, 'age').answer = [{}]),
    [
      ['error', 'required', 'QuestionnaireResponse.item[0].item[1].answer[0]'],
      ['error', 'required', 'QuestionnaireResponse.item[0].item[1]'],
    ],
  ],
  [
    'answer with two values',
    (qr) => (item(qr, 'age').answer = [{ valueInteger: 40, valueString: '40' }]),
    [['error', 'structure', 'QuestionnaireResponse.item[0].item[1].answer[0]']],
  ],
  [
    'question with both answers and nested items (qrs-1)',
    (qr) => (item(qr, 'age').item = [{ linkId: 'name', answer: [{ valueString: 'Al' }] }]),
    [
      ['error', 'invariant', 'QuestionnaireResponse.item[0].item[1]'],
      ['error', 'structure', 'QuestionnaireResponse.item[0].item[1].item[0]'],
    ],
  ],
  [
    'read-only item changed from its initial value',
    (qr) => (item(qr, 'form-version').answer = [{ valueString: 'v2' }]),
    [['warning', 'business-rule', 'QuestionnaireResponse.item[0].item[4].answer']],
  ],
  [
    'item without a linkId',
    (qr) => top(qr, 'body')[0]!.item!.push({ answer: [{ valueDecimal: 1 }] } as QuestionnaireResponseItem),
    [['error', 'required', 'QuestionnaireResponse.item[1].item[2]']],
  ],
];

describe('validateResponse', () => {
  test('a valid response gives no issue', () => {
    expect(check(validIntakeResponse())).toEqual([]);
  });

  test('the catalogue holds at least 25 distinct defects', () => {
    expect(new Set(CATALOGUE.map(([name]) => name)).size).toBe(CATALOGUE.length);
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(25);
  });

  test.each(CATALOGUE)('reports %s with the right code and location', (_name, mutate, expected) => {
    const qr = validIntakeResponse();
    mutate(qr);
    const issues = check(qr);
    expect(summary(issues)).toEqual(expected);
    for (const i of issues) {
      expect(i.details?.text).toEqual(expect.any(String));
    }
  });

  test('issue texts name the linkId concerned', () => {
    const qr = validIntakeResponse();
    item(qr, 'age').answer = [{ valueInteger: 10 }];
    expect(check(qr)[0]!.details!.text).toBe("answer to 'age' (10) is below the minimum 18");
  });

  test('a value set that cannot be checked gives a warning', () => {
    const issues = validateResponse(validIntakeResponse(), INTAKE, {});
    expect(summary(issues)).toEqual([
      ['warning', 'not-supported', 'QuestionnaireResponse.item[3].item[0].answer[0].value'],
      ['warning', 'not-supported', 'QuestionnaireResponse.item[4].item[0].answer[0].value'],
    ]);
    expect(issues[0]!.details!.text).toContain('http://example.org/fhir/ValueSet/medications');
  });

  test('the membership function is asked with the value set, system and code', () => {
    const calls: string[][] = [];
    validateResponse(validIntakeResponse(), INTAKE, {
      memberOf: (vs, system, code) => {
        calls.push([vs, system, code]);
        return true;
      },
    });
    expect(calls).toEqual([
      ['http://example.org/fhir/ValueSet/medications', ATC, 'warfarin'],
      ['http://example.org/fhir/ValueSet/medications', ATC, 'sertraline'],
    ]);
  });

  test('several defects are reported in document order', () => {
    const qr = validIntakeResponse();
    item(qr, 'stoppable').answer = [{ valueString: 'no' }];
    item(qr, 'age').answer = [{ valueInteger: 130 }];
    qr.status = 'stopped';
    expect(summary(check(qr))).toEqual([
      ['error', 'business-rule', 'QuestionnaireResponse.status'],
      ['error', 'value', 'QuestionnaireResponse.item[0].item[1].answer[0].value'],
      ['error', 'value', 'QuestionnaireResponse.item[3].item[2].answer[0].value'],
    ]);
  });

  test('an amended response is accepted', () => {
    const qr = validIntakeResponse();
    qr.status = 'amended';
    expect(check(qr)).toEqual([]);
  });

  test('a canonical without a version matches the Questionnaire url', () => {
    const qr = validIntakeResponse();
    qr.questionnaire = 'http://example.org/fhir/Questionnaire/test-intake';
    expect(check(qr)).toEqual([]);
  });

  test('an unanswered question that is disabled is not reported', () => {
    const qr = validIntakeResponse();
    top(qr, 'habits')[0]!.item!.push({ linkId: 'cigarettes-per-day' });
    expect(check(qr)).toEqual([]);
  });

  test('a required item inside a disabled group is not required', () => {
    const q = questionnaire([
      { linkId: 'has-job', type: 'boolean' },
      {
        linkId: 'job',
        type: 'group',
        enableWhen: [{ question: 'has-job', operator: '=', answerBoolean: true }],
        item: [{ linkId: 'title', type: 'string', required: true }],
      },
    ]);
    expect(validateResponse(response([{ linkId: 'has-job', answer: [{ valueBoolean: false }] }]), q)).toEqual(
      []
    );
    expect(
      summary(
        validateResponse(
          response([
            { linkId: 'has-job', answer: [{ valueBoolean: true }] },
            { linkId: 'job', item: [{ linkId: 'title' }] },
          ]),
          q
        )
      )
    ).toEqual([['error', 'required', 'QuestionnaireResponse.item[1].item[0]']]);
  });

  test('an absent optional group does not make its required children missing', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'string' },
      { linkId: 'g', type: 'group', item: [{ linkId: 'x', type: 'string', required: true }] },
    ]);
    expect(validateResponse(response([{ linkId: 'a', answer: [{ valueString: 'y' }] }]), q)).toEqual([]);
  });

  test('a required repeating group needs at least one instance', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'string' },
      { linkId: 'g', type: 'group', repeats: true, required: true, item: [{ linkId: 'x', type: 'string' }] },
    ]);
    expect(summary(validateResponse(response([{ linkId: 'a', answer: [{ valueString: 'y' }] }]), q))).toEqual(
      [['error', 'required', 'QuestionnaireResponse']]
    );
    const two = response([
      { linkId: 'g', item: [{ linkId: 'x', answer: [{ valueString: '1' }] }] },
      { linkId: 'g', item: [{ linkId: 'x', answer: [{ valueString: '2' }] }] },
    ]);
    expect(validateResponse(two, q)).toEqual([]);
  });

  test('minOccurs and maxOccurs limit repetitions', () => {
    const occurs = (min: number, max: number): { url: string; valueInteger: number }[] => [
      { url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs', valueInteger: min },
      { url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs', valueInteger: max },
    ];
    const q = questionnaire([
      { linkId: 'pick', type: 'string', repeats: true, required: true, extension: occurs(2, 3) },
    ]);
    const answers = (n: number): QuestionnaireResponse =>
      response([{ linkId: 'pick', answer: Array.from({ length: n }, (_, i) => ({ valueString: `v${i}` })) }]);
    expect(summary(validateResponse(answers(1), q))).toEqual([
      ['error', 'required', 'QuestionnaireResponse.item[0]'],
    ]);
    expect(validateResponse(answers(3), q)).toEqual([]);
    expect(summary(validateResponse(answers(4), q))).toEqual([
      ['error', 'structure', 'QuestionnaireResponse.item[0].answer[3]'],
    ]);
  });

  test('answer types follow the item type for every type', () => {
    const types: [string, object, object][] = [
      ['boolean', { valueBoolean: true }, { valueInteger: 1 }],
      ['decimal', { valueDecimal: 1.5 }, { valueString: '1.5' }],
      ['integer', { valueInteger: 2 }, { valueDecimal: 2.5 }],
      ['date', { valueDate: '2020-02' }, { valueDateTime: '2020-02-01T00:00:00Z' }],
      ['dateTime', { valueDateTime: '2020-02-01T10:00:00+01:00' }, { valueDate: '2020-02-01' }],
      ['time', { valueTime: '10:30:00' }, { valueString: '10:30' }],
      ['string', { valueString: 's' }, { valueUri: 'http://x' }],
      ['text', { valueString: 'long\ntext' }, { valueBoolean: false }],
      ['url', { valueUri: 'http://x' }, { valueString: 'http://x' }],
      ['choice', { valueCoding: { code: 'a' } }, { valueString: 'a' }],
      ['open-choice', { valueString: 'free text' }, { valueInteger: 3 }],
      ['attachment', { valueAttachment: { contentType: 'text/plain', data: 'eA==' } }, { valueString: 'x' }],
      ['reference', { valueReference: { reference: 'Patient/1' } }, { valueString: 'Patient/1' }],
      ['quantity', { valueQuantity: { value: 1, unit: 'kg' } }, { valueDecimal: 1 }],
    ];
    for (const [type, good, bad] of types) {
      const q = questionnaire([{ linkId: 'x', type } as never]);
      expect([type, validateResponse(response([{ linkId: 'x', answer: [good] }]), q)]).toEqual([type, []]);
      expect([type, summary(validateResponse(response([{ linkId: 'x', answer: [bad] }]), q))]).toEqual([
        type,
        [['error', 'value', 'QuestionnaireResponse.item[0].answer[0].value']],
      ]);
    }
  });

  test('open-choice accepts a listed coding or free text but not an unlisted coding', () => {
    const q = questionnaire([
      { linkId: 'x', type: 'open-choice', answerOption: [{ valueCoding: { system: CS, code: 'a' } }] },
    ]);
    expect(
      validateResponse(response([{ linkId: 'x', answer: [{ valueCoding: { system: CS, code: 'a' } }] }]), q)
    ).toEqual([]);
    expect(validateResponse(response([{ linkId: 'x', answer: [{ valueString: 'other' }] }]), q)).toEqual([]);
    expect(
      summary(
        validateResponse(response([{ linkId: 'x', answer: [{ valueCoding: { system: CS, code: 'b' } }] }]), q)
      )
    ).toEqual([['error', 'code-invalid', 'QuestionnaireResponse.item[0].answer[0].value']]);
  });

  test('answerOptions of integer, date, time and string type match on value', () => {
    const q = questionnaire([
      { linkId: 'i', type: 'choice', answerOption: [{ valueInteger: 1 }, { valueInteger: 2 }] },
      { linkId: 'd', type: 'choice', answerOption: [{ valueDate: '2020-01-01' }] },
      { linkId: 't', type: 'choice', answerOption: [{ valueTime: '08:00:00' }] },
      { linkId: 's', type: 'choice', answerOption: [{ valueString: 'yes' }] },
    ]);
    const ok = response([
      { linkId: 'i', answer: [{ valueInteger: 2 }] },
      { linkId: 'd', answer: [{ valueDate: '2020-01-01' }] },
      { linkId: 't', answer: [{ valueTime: '08:00:00' }] },
      { linkId: 's', answer: [{ valueString: 'yes' }] },
    ]);
    expect(validateResponse(ok, q)).toEqual([]);
    const bad = response([
      { linkId: 'i', answer: [{ valueInteger: 3 }] },
      { linkId: 'd', answer: [{ valueDate: '2020-01-02' }] },
      { linkId: 't', answer: [{ valueTime: '09:00:00' }] },
      { linkId: 's', answer: [{ valueString: 'no' }] },
    ]);
    expect(summary(validateResponse(bad, q)).map(([, code]) => code)).toEqual([
      'code-invalid',
      'code-invalid',
      'code-invalid',
      'code-invalid',
    ]);
  });

  test('minValue and maxValue apply to dateTime answers', () => {
    const q = questionnaire([
      {
        linkId: 'when',
        type: 'dateTime',
        extension: [
          { url: 'http://hl7.org/fhir/StructureDefinition/minValue', valueDateTime: '2020-01-01T00:00:00Z' },
          { url: 'http://hl7.org/fhir/StructureDefinition/maxValue', valueDateTime: '2020-12-31T23:59:59Z' },
        ],
      },
    ]);
    const at = (v: string): OperationOutcomeIssue[] =>
      validateResponse(response([{ linkId: 'when', answer: [{ valueDateTime: v }] }]), q);
    expect(at('2020-06-01T12:00:00+02:00')).toEqual([]);
    expect(summary(at('2019-12-31T23:00:00-02:00'))).toEqual([]);
    expect(summary(at('2019-12-31T23:00:00Z'))).toEqual([
      ['error', 'value', 'QuestionnaireResponse.item[0].answer[0].value'],
    ]);
    expect(summary(at('2021-01-01T00:30:00+01:00'))).toEqual([]);
    expect(summary(at('2021-01-01T00:30:00Z'))).toEqual([
      ['error', 'value', 'QuestionnaireResponse.item[0].answer[0].value'],
    ]);
  });

  test('a regex extension constrains string answers', () => {
    const q = questionnaire([
      {
        linkId: 'postcode',
        type: 'string',
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/regex', valueString: '[0-9]{4}' }],
      },
    ]);
    expect(
      validateResponse(response([{ linkId: 'postcode', answer: [{ valueString: '1234' }] }]), q)
    ).toEqual([]);
    expect(
      summary(validateResponse(response([{ linkId: 'postcode', answer: [{ valueString: '12345' }] }]), q))
    ).toEqual([['error', 'value', 'QuestionnaireResponse.item[0].answer[0].value']]);
  });

  test('a contained value set with an expansion is checked locally', () => {
    const q = questionnaire([{ linkId: 'c', type: 'choice', answerValueSet: '#vs' }], {
      contained: [
        {
          resourceType: 'ValueSet',
          id: 'vs',
          status: 'active',
          expansion: {
            timestamp: '2020-01-01',
            contains: [{ code: 'group', abstract: true, contains: [{ system: CS, code: 'deep' }] }],
          },
        },
      ],
    });
    const at = (code: string): OperationOutcomeIssue[] =>
      validateResponse(response([{ linkId: 'c', answer: [{ valueCoding: { system: CS, code } }] }]), q);
    expect(at('deep')).toEqual([]);
    expect(summary(at('shallow'))).toEqual([
      ['error', 'code-invalid', 'QuestionnaireResponse.item[0].answer[0].value'],
    ]);
  });

  describe('calculated items', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'integer' },
      {
        linkId: 'double',
        type: 'integer',
        required: true,
        readOnly: true,
        extension: [
          expressionExtension('calculatedExpression', "%resource.item.where(linkId='a').answer.value * 2"),
        ],
      },
      {
        linkId: 'big',
        type: 'boolean',
        enableWhen: [{ question: 'double', operator: '>', answerInteger: 10 }],
      },
    ]);

    test('are never reported missing even when required', () => {
      expect(validateResponse(response([{ linkId: 'a', answer: [{ valueInteger: 1 }] }]), q)).toEqual([]);
    });

    test('may carry any submitted value, since calculation replaces it', () => {
      const qr = response([
        { linkId: 'a', answer: [{ valueInteger: 1 }] },
        { linkId: 'double', answer: [{ valueString: 'x' }, { valueString: 'y' }] },
      ]);
      expect(validateResponse(qr, q)).toEqual([]);
    });

    test('decide enableWhen with their calculated value, not the submitted one', () => {
      const stale = response([
        { linkId: 'a', answer: [{ valueInteger: 6 }] },
        { linkId: 'double', answer: [{ valueInteger: 0 }] },
        { linkId: 'big', answer: [{ valueBoolean: true }] },
      ]);
      expect(validateResponse(stale, q)).toEqual([]);
      const small = response([
        { linkId: 'a', answer: [{ valueInteger: 1 }] },
        { linkId: 'double', answer: [{ valueInteger: 99 }] },
        { linkId: 'big', answer: [{ valueBoolean: true }] },
      ]);
      expect(summary(validateResponse(small, q))).toEqual([
        ['error', 'business-rule', 'QuestionnaireResponse.item[2]'],
      ]);
    });

    test('are not reported when answered while disabled, since calculation removes the answer', () => {
      const gated = questionnaire([
        { linkId: 'on', type: 'boolean' },
        {
          linkId: 'g',
          type: 'group',
          enableWhen: [{ question: 'on', operator: '=', answerBoolean: true }],
          item: [
            { linkId: 'c', type: 'integer', extension: [expressionExtension('calculatedExpression', '1')] },
          ],
        },
      ]);
      const qr = response([
        { linkId: 'on', answer: [{ valueBoolean: false }] },
        { linkId: 'g', item: [{ linkId: 'c', answer: [{ valueInteger: 1 }] }] },
      ]);
      expect(validateResponse(qr, gated)).toEqual([]);
      qr.item![1]!.item!.push({ linkId: 'u', answer: [{ valueInteger: 2 }] });
      expect(summary(validateResponse(qr, gated))).toEqual([
        ['error', 'business-rule', 'QuestionnaireResponse.item[1]'],
      ]);
    });

    test('use a calculated response passed in instead of calculating again', () => {
      const qr = response([
        { linkId: 'a', answer: [{ valueInteger: 1 }] },
        { linkId: 'big', answer: [{ valueBoolean: true }] },
      ]);
      const completed = calculateResponse(qr, q).response;
      expect(summary(validateResponse(qr, q, { completed }))).toEqual([
        ['error', 'business-rule', 'QuestionnaireResponse.item[1]'],
      ]);
      const forged = response([
        { linkId: 'a', answer: [{ valueInteger: 1 }] },
        { linkId: 'double', answer: [{ valueInteger: 50 }] },
        { linkId: 'big', answer: [{ valueBoolean: true }] },
      ]);
      expect(validateResponse(qr, q, { completed: forged })).toEqual([]);
    });
  });

  test('does not modify its input', () => {
    const qr = deepFreeze(validIntakeResponse());
    expect(check(qr)).toEqual([]);
  });

  test('never throws and is deterministic on arbitrary responses', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (qr) => {
        const first = validateResponse(qr, INTAKE, { memberOf });
        const second = validateResponse(structuredClone(qr), INTAKE, { memberOf });
        expect(second).toEqual(first);
        for (const i of first) {
          expect(i.expression?.length).toBe(1);
          expect(i.details?.text).toEqual(expect.any(String));
        }
      }),
      { numRuns: 300 }
    );
  });
});

describe('validateResponse never writes to the responses it is given', () => {
  const re = shippedRegistry().resolve<Questionnaire>(
    'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
    'Questionnaire'
  )!;
  const clock = (): Date => new Date('2026-11-27T09:00:00Z');
  const yes: ValueSetMembership = () => true;

  test('RE Questionnaire (no enableWhenExpression): frozen input and completed give the same issues', () => {
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        const completed = calculateResponse(qr, re, { clock }).response;
        const expected = validateResponse(structuredClone(qr), re, {
          clock,
          memberOf: yes,
          completed: structuredClone(completed),
        });
        // A frozen object refuses fhirpath.js's hidden metadata: any evaluation on it would throw.
        const actual = validateResponse(deepFreeze(structuredClone(qr)), re, {
          clock,
          memberOf: yes,
          completed: deepFreeze(structuredClone(completed)),
        });
        expect(actual).toEqual(expected);
      }),
      { numRuns: 20 }
    );
  });

  test('an enableWhenExpression runs on private copies: frozen responses are fine', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'boolean' },
      {
        linkId: 'b',
        type: 'string',
        extension: [
          expressionExtension('enableWhenExpression', "%resource.item.where(linkId = 'a').answer.value"),
        ],
      },
      {
        linkId: 'c',
        type: 'string',
        extension: [expressionExtension('enableWhenExpression', "%resource.item.where(linkId='a')")],
      },
    ]);
    const qr = deepFreeze(
      response([
        { linkId: 'a', answer: [{ valueBoolean: true }] },
        { linkId: 'b', answer: [{ valueString: 'x' }] },
      ])
    );
    const issues = validateResponse(qr, q, { completed: qr });
    expect(summary(issues)).toEqual(summary(validateResponse(structuredClone(qr), q)));
    expect(issues.filter((i) => i.code === 'exception')).toEqual([]);
  });
});
