import type { QuestionnaireItem, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { calculateResponse } from '../../../src/core/response/calculate';
import {
  codingAnswer,
  booleanAnswer,
  decimalAnswer,
  indexResponse,
  integerAnswer,
  stringAnswers,
} from '../../../src/core/response/answers';
import { validateResponse } from '../../../src/core/response/validate-response';
import { arbitraryResponse } from './arbitraries';
import {
  deepFreeze,
  expressionExtension,
  find,
  INTAKE,
  memberOf,
  questionnaire,
  response,
  top,
  validIntakeResponse,
  variable,
} from './support';

const calc = (expression: string, language?: string): QuestionnaireItem['extension'] => [
  expressionExtension('calculatedExpression', expression, language),
];
const answerOf = (linkId: string): string => `%resource.repeat(item).where(linkId='${linkId}').answer.value`;

describe('calculateResponse on the intake form', () => {
  const done = calculateResponse(validIntakeResponse(), INTAKE);
  const index = indexResponse(done.response);

  test('computes every calculated item through variables and dependent items', () => {
    expect(decimalAnswer(index, 'bmi')).toBe(25.5);
    expect(booleanAnswer(index, 'obese')).toBe(false);
    expect(integerAnswer(index, 'risk-score')).toBe(2);
    expect(booleanAnswer(index, 'high-risk')).toBe(false);
    expect(codingAnswer(index, 'risk-level')?.code).toBe('low');
    expect(done.issues).toEqual([]);
  });

  test('evaluates item-level variables once per instance of a repeating group', () => {
    const smoking = validIntakeResponse();
    find(smoking.item, 'smoker').answer = [{ valueBoolean: true }];
    const result = indexResponse(calculateResponse(smoking, INTAKE).response);
    const [warfarin, sertraline] = result.items('medications');
    expect(booleanAnswer(result, 'interacts', warfarin)).toBe(true);
    expect(booleanAnswer(result, 'interacts', sertraline)).toBe(false);
  });

  test('creates missing calculated items and their groups in Questionnaire order', () => {
    expect(done.response.item!.map((i) => i.linkId)).toEqual([
      'demographics',
      'body',
      'habits',
      'medications',
      'medications',
      'summary',
    ]);
    expect(top(done.response, 'body')[0]!.item!.map((i) => i.linkId)).toEqual([
      'weight',
      'height',
      'bmi',
      'obese',
    ]);
    expect(top(done.response, 'summary')[0]).toEqual({
      linkId: 'summary',
      text: 'Summary (computed)',
      item: [
        { linkId: 'risk-score', text: 'Risk score', answer: [{ valueInteger: 2 }] },
        { linkId: 'high-risk', text: 'High risk', answer: [{ valueBoolean: false }] },
        {
          linkId: 'risk-level',
          text: 'Risk level',
          answer: [
            {
              valueCoding: {
                system: 'http://example.org/fhir/CodeSystem/test-answers',
                code: 'low',
                display: 'Low',
              },
            },
          ],
        },
      ],
    });
  });

  test('repeats passes until dependent calculated items settle', () => {
    const heavySmoker = validIntakeResponse();
    find(heavySmoker.item, 'smoker').answer = [{ valueBoolean: true }];
    find(heavySmoker.item, 'weight').answer = [{ valueDecimal: 110 }];
    const result = calculateResponse(heavySmoker, INTAKE);
    const i = indexResponse(result.response);
    // bmi → obese → risk-score → high-risk: each needs the previous pass's answer.
    expect(booleanAnswer(i, 'obese')).toBe(true);
    expect(integerAnswer(i, 'risk-score')).toBe(5);
    expect(booleanAnswer(i, 'high-risk')).toBe(true);
    expect(codingAnswer(i, 'risk-level')?.code).toBe('high');
    expect(stringAnswers(i, 'flags')).toEqual(['smoker', 'obese']);
    expect(result.passes).toBeGreaterThanOrEqual(4);
  });

  test('the completed response passes validation', () => {
    expect(validateResponse(done.response, INTAKE, { memberOf })).toEqual([]);
  });

  test('removes a calculated answer when its result becomes empty', () => {
    const noHeight = structuredClone(done.response);
    const body = top(noHeight, 'body')[0]!;
    body.item = body.item!.filter((i) => i.linkId !== 'height');
    const result = calculateResponse(noHeight, INTAKE);
    expect(top(result.response, 'body')[0]!.item!.map((i) => i.linkId)).toEqual(['weight']);
    expect(result.issues.map((i) => [i.severity, i.details?.text, i.expression])).toEqual([
      [
        'information',
        "submitted answer of calculated item 'bmi' was removed: the calculation gives no value",
        ['QuestionnaireResponse.item[1].item[1].answer'],
      ],
      [
        'information',
        "submitted answer of calculated item 'obese' was removed: the calculation gives no value",
        ['QuestionnaireResponse.item[1].item[2].answer'],
      ],
    ]);
  });

  test('replaces a submitted calculated value with an information issue', () => {
    const forged = structuredClone(done.response);
    find(forged.item, 'risk-score').answer = [{ valueInteger: 0 }];
    const result = calculateResponse(forged, INTAKE);
    expect(integerAnswer(indexResponse(result.response), 'risk-score')).toBe(2);
    expect(result.issues).toEqual([
      {
        severity: 'information',
        code: 'informational',
        details: {
          text: "submitted answer of calculated item 'risk-score' was replaced by the calculated value",
        },
        expression: ['QuestionnaireResponse.item[5].item[0].answer'],
      },
    ]);
  });

  test('is idempotent on the intake form', () => {
    const again = calculateResponse(done.response, INTAKE);
    expect(again.response).toEqual(done.response);
    expect(again.issues).toEqual([]);
    expect(again.passes).toBe(1);
  });

  test('never modifies its input and returns a new object', () => {
    const input = deepFreeze(validIntakeResponse());
    const result = calculateResponse(input, INTAKE);
    expect(input).toEqual(validIntakeResponse());
    expect(result.response).not.toBe(input);
  });
});

describe('calculateResponse', () => {
  test('Questionnaire variables see earlier ones, and later ones too (lazy)', () => {
    const q = questionnaire(
      [
        { linkId: 'n', type: 'integer' },
        { linkId: 'out', type: 'integer', extension: calc('%c') },
      ],
      {
        extension: [
          variable('a', answerOf('n')),
          variable('b', '%a * 10'),
          variable('c', '%b + %d'),
          variable('d', '1'),
        ],
      }
    );
    const result = calculateResponse(response([{ linkId: 'n', answer: [{ valueInteger: 4 }] }]), q);
    expect(integerAnswer(indexResponse(result.response), 'out')).toBe(41);
    expect(result.issues).toEqual([]);
  });

  test('a descendant variable overrides an ancestor one of the same name', () => {
    const q = questionnaire(
      [
        {
          linkId: 'g',
          type: 'group',
          extension: [variable('k', '2')],
          item: [{ linkId: 'out', type: 'integer', extension: calc('%k') }],
        },
        { linkId: 'top', type: 'integer', extension: calc('%k') },
      ],
      { extension: [variable('k', '1')] }
    );
    const i = indexResponse(calculateResponse(response([]), q).response);
    expect([integerAnswer(i, 'out'), integerAnswer(i, 'top')]).toEqual([2, 1]);
  });

  test('%context, %qitem and %questionnaire are the item, its definition and the Questionnaire', () => {
    const q = questionnaire([
      {
        linkId: 'g',
        type: 'group',
        repeats: true,
        item: [
          { linkId: 'v', type: 'integer' },
          {
            linkId: 'self',
            type: 'string',
            extension: calc("%context.linkId + '/' + %qitem.text + '/' + %questionnaire.url"),
          },
        ],
      },
    ]);
    q.item![0]!.item![1]!.text = 'Self';
    const qr = response([{ linkId: 'g', item: [{ linkId: 'v', answer: [{ valueInteger: 1 }] }] }]);
    const result = calculateResponse(qr, q);
    expect(find(result.response.item, 'self').answer).toEqual([
      { valueString: 'self/Self/http://example.org/fhir/Questionnaire/q' },
    ]);
  });

  test('calculated items in a repeating group are computed per instance and never create instances', () => {
    const q = questionnaire([
      {
        linkId: 'g',
        type: 'group',
        repeats: true,
        extension: [variable('v', "%context.item.where(linkId='v').answer.value")],
        item: [
          { linkId: 'v', type: 'integer' },
          { linkId: 'twice', type: 'integer', extension: calc('%v * 2') },
        ],
      },
    ]);
    const none = calculateResponse(response([]), q);
    expect(none.response.item).toEqual([]);
    const two = calculateResponse(
      response([
        { linkId: 'g', item: [{ linkId: 'v', answer: [{ valueInteger: 1 }] }] },
        { linkId: 'g', item: [{ linkId: 'v', answer: [{ valueInteger: 5 }] }] },
      ]),
      q
    );
    const i = indexResponse(two.response);
    expect(i.items('g').map((g) => integerAnswer(i, 'twice', g))).toEqual([2, 10]);
  });

  test('a repeating item takes every result; a non-repeating one reports several results', () => {
    const q = questionnaire([
      { linkId: 'many', type: 'string', repeats: true, extension: calc("'a' | 'b' | 'c'") },
      { linkId: 'one', type: 'string', extension: calc("'a' | 'b'") },
    ]);
    const result = calculateResponse(response([{ linkId: 'one', answer: [{ valueString: 'kept?' }] }]), q);
    expect(find(result.response.item, 'many').answer).toEqual([
      { valueString: 'a' },
      { valueString: 'b' },
      { valueString: 'c' },
    ]);
    expect(result.response.item!.map((i) => i.linkId)).toEqual(['many']);
    expect(result.issues.map((i) => [i.severity, i.code, i.details?.text, i.expression])).toEqual([
      [
        'error',
        'processing',
        "calculatedExpression of item 'one' gave 2 values but the item does not repeat",
        ['Questionnaire.item[1].extension[0]'],
      ],
      [
        'information',
        'informational',
        "submitted answer of calculated item 'one' was removed: the calculation gives no value",
        ['QuestionnaireResponse.item[0].answer'],
      ],
    ]);
  });

  test('results are typed by the item type, with FHIRPath implicit conversions', () => {
    const q = questionnaire([
      { linkId: 'dec', type: 'decimal', extension: calc('2') },
      { linkId: 'date', type: 'date', extension: calc('@2020-02-03') },
      { linkId: 'dt', type: 'dateTime', extension: calc('@2020-02-03') },
      { linkId: 'time', type: 'time', extension: calc('@T10:30') },
      { linkId: 'qty', type: 'quantity', extension: calc("5 'mg'") },
      { linkId: 'qty-n', type: 'quantity', extension: calc('1.5') },
      { linkId: 'url', type: 'url', extension: calc("'http://x.org'") },
      { linkId: 'text', type: 'text', extension: calc("'long'") },
      {
        linkId: 'coding',
        type: 'choice',
        extension: calc("Coding { system: 'http://s', code: 'c', display: 'C' }"),
      },
      { linkId: 'int-option', type: 'choice', answerOption: [{ valueInteger: 3 }], extension: calc('3') },
      { linkId: 'open', type: 'open-choice', extension: calc("'free'") },
      { linkId: 'ref', type: 'reference', extension: calc('%resource.subject') },
    ]);
    const result = calculateResponse(response([]), q);
    expect(result.issues).toEqual([]);
    expect(result.response.item!.map((i) => [i.linkId, i.answer])).toEqual([
      ['dec', [{ valueDecimal: 2 }]],
      ['date', [{ valueDate: '2020-02-03' }]],
      ['dt', [{ valueDateTime: '2020-02-03' }]],
      ['time', [{ valueTime: '10:30:00' }]],
      ['qty', [{ valueQuantity: { value: 5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }]],
      ['qty-n', [{ valueQuantity: { value: 1.5 } }]],
      ['url', [{ valueUri: 'http://x.org' }]],
      ['text', [{ valueString: 'long' }]],
      ['coding', [{ valueCoding: { system: 'http://s', code: 'c', display: 'C' } }]],
      ['int-option', [{ valueInteger: 3 }]],
      ['open', [{ valueString: 'free' }]],
      ['ref', [{ valueReference: { reference: 'Patient/p' } }]],
    ]);
  });

  test('a result that cannot be an answer of the item type is reported and leaves no answer', () => {
    const q = questionnaire([
      { linkId: 'int', type: 'integer', extension: calc('2.5') },
      { linkId: 'bool', type: 'boolean', extension: calc("'yes'") },
      { linkId: 'grp', type: 'group', item: [{ linkId: 'x', type: 'string' }], extension: calc('1') },
    ]);
    const result = calculateResponse(response([{ linkId: 'int', answer: [{ valueInteger: 2 }] }]), q);
    expect(result.response.item).toBeUndefined();
    expect(result.issues.map((i) => i.details?.text)).toEqual([
      "calculatedExpression of item 'int' gave 2.5, which is not a valid integer answer",
      "calculatedExpression of item 'bool' gave 'yes', which is not a valid boolean answer",
      "calculatedExpression of item 'grp' is ignored: a group item has no answers",
      "submitted answer of calculated item 'int' was removed: the calculation gives no value",
    ]);
  });

  test('expression errors become issues with the expression and the linkId, never exceptions', () => {
    const q = questionnaire(
      [
        { linkId: 'syntax', type: 'integer', extension: calc('1 +') },
        { linkId: 'runtime', type: 'integer', extension: calc("'a' + 1") },
        { linkId: 'cql', type: 'integer', extension: calc('1', 'text/cql') },
        { linkId: 'unknown-var', type: 'integer', extension: calc('%nope + 1') },
        { linkId: 'uses-broken', type: 'integer', extension: calc('%broken.count()') },
        { linkId: 'fine', type: 'integer', extension: calc('7') },
      ],
      { extension: [variable('broken', '(1 | 2).single()')] }
    );
    const result = calculateResponse(response([]), q);
    expect(result.response.item).toEqual([
      { linkId: 'uses-broken', answer: [{ valueInteger: 0 }] },
      { linkId: 'fine', answer: [{ valueInteger: 7 }] },
    ]);
    expect(result.issues.map((i) => [i.severity, i.code, i.expression![0], i.diagnostics])).toEqual([
      ['error', 'exception', 'Questionnaire.item[0].extension[0]', '1 +'],
      ['error', 'exception', 'Questionnaire.item[1].extension[0]', "'a' + 1"],
      ['error', 'exception', 'Questionnaire.item[2].extension[0]', '1'],
      ['error', 'exception', 'Questionnaire.item[3].extension[0]', '%nope + 1'],
      ['error', 'exception', 'Questionnaire.extension[0]', '(1 | 2).single()'],
    ]);
    expect(result.issues.map((i) => i.details!.text)).toEqual([
      expect.stringMatching(/^calculatedExpression of item 'syntax' failed: /),
      "calculatedExpression of item 'runtime' failed: Cannot convert a to a number",
      "calculatedExpression of item 'cql' failed: expression language 'text/cql' is not supported (only text/fhirpath)",
      "calculatedExpression of item 'unknown-var' failed: Attempting to access an undefined environment variable: nope",
      "variable 'broken' of the Questionnaire failed: Expected single",
    ]);
  });

  test('a variable that depends on itself is reported', () => {
    const q = questionnaire([{ linkId: 'x', type: 'integer', extension: calc('%a') }], {
      extension: [variable('a', '%b + 1'), variable('b', '%a + 1')],
    });
    const result = calculateResponse(response([]), q);
    expect(result.response.item).toEqual([]);
    expect(result.issues.map((i) => i.details!.text)).toContain(
      "variable 'a' of the Questionnaire failed: variable 'a' depends on itself"
    );
  });

  test('skips disabled calculated items and removes their submitted answers', () => {
    const q = questionnaire([
      { linkId: 'on', type: 'boolean' },
      {
        linkId: 'x',
        type: 'integer',
        enableWhen: [{ question: 'on', operator: '=', answerBoolean: true }],
        extension: calc('42'),
      },
    ]);
    const off = calculateResponse(
      response([
        { linkId: 'on', answer: [{ valueBoolean: false }] },
        { linkId: 'x', answer: [{ valueInteger: 42 }] },
      ]),
      q
    );
    expect(off.response.item!.map((i) => i.linkId)).toEqual(['on']);
    expect(off.issues.map((i) => i.code)).toEqual(['informational']);
    const on = calculateResponse(response([{ linkId: 'on', answer: [{ valueBoolean: true }] }]), q);
    expect(find(on.response.item, 'x').answer).toEqual([{ valueInteger: 42 }]);
  });

  test('a calculated item that enables another one is used with its calculated value', () => {
    const q = questionnaire([
      { linkId: 'n', type: 'integer' },
      { linkId: 'big', type: 'boolean', extension: calc(`${answerOf('n')} > 10`) },
      {
        linkId: 'note',
        type: 'string',
        enableWhen: [{ question: 'big', operator: '=', answerBoolean: true }],
        extension: calc("'large'"),
      },
    ]);
    const result = calculateResponse(response([{ linkId: 'n', answer: [{ valueInteger: 11 }] }]), q);
    expect(result.response.item!.map((i) => [i.linkId, i.answer])).toEqual([
      ['n', [{ valueInteger: 11 }]],
      ['big', [{ valueBoolean: true }]],
      ['note', [{ valueString: 'large' }]],
    ]);
  });

  test('a calculation that never settles is reported and leaves the unstable items empty', () => {
    const q = questionnaire([
      { linkId: 'flip', type: 'boolean', extension: calc(`iif(${answerOf('flip')} = true, false, true)`) },
    ]);
    const result = calculateResponse(response([]), q, { maxPasses: 5 });
    expect(result.passes).toBe(5);
    expect(result.response.item).toBeUndefined();
    expect(result.issues.map((i) => [i.severity, i.code, i.details?.text])).toEqual([
      [
        'error',
        'processing',
        "calculation did not settle after 5 passes; items 'flip' kept changing and were left without answers",
      ],
    ]);
  });

  test('today() uses the injected clock', () => {
    const q = questionnaire(
      [
        { linkId: 'born', type: 'date' },
        {
          linkId: 'age',
          type: 'integer',
          extension: calc(
            'today().toString().substring(0, 4).toInteger() - %born.toString().substring(0, 4).toInteger()'
          ),
        },
      ],
      { extension: [variable('born', answerOf('born'))] }
    );
    const qr = response([{ linkId: 'born', answer: [{ valueDate: '1990-06-01' }] }]);
    const at = (iso: string): unknown =>
      find(calculateResponse(qr, q, { clock: () => new Date(iso) }).response.item, 'age').answer;
    expect(at('2026-11-27T10:00:00Z')).toEqual([{ valueInteger: 36 }]);
    expect(at('2030-01-01T00:00:00Z')).toEqual([{ valueInteger: 40 }]);
    expect(calculateResponse(qr, q).issues[0]!.details!.text).toBe(
      "calculatedExpression of item 'age' failed: it calls today() but no clock was injected"
    );
  });

  test('a Questionnaire without calculated items returns an equal copy', () => {
    const qr = response([{ linkId: 'a', answer: [{ valueString: 'x' }] }]);
    const result = calculateResponse(qr, questionnaire([{ linkId: 'a', type: 'string' }]));
    expect(result).toEqual({ response: qr, issues: [], passes: 0 });
    expect(result.response).not.toBe(qr);
  });

  test('never throws, and is deterministic and idempotent on arbitrary responses', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (qr: QuestionnaireResponse) => {
        const first = calculateResponse(qr, INTAKE);
        expect(calculateResponse(structuredClone(qr), INTAKE)).toEqual(first);
        const second = calculateResponse(first.response, INTAKE);
        expect(second.response).toEqual(first.response);
        expect(second.issues.filter((i) => i.severity === 'information')).toEqual([]);
      }),
      { numRuns: 300 }
    );
  });
});
