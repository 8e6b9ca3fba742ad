import type {
  QuestionnaireItem,
  QuestionnaireItemEnableWhen,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';
import { evaluateEnableWhen } from '../../../src/core/response/enable-when';
import { CS, expressionExtension, questionnaire, response, variable } from './support';

type Condition = Omit<QuestionnaireItemEnableWhen, 'question'>;

/** Whether 'target' is enabled when 'src' (of the given type) has these answers. */
function enabled(srcType: string, answers: QuestionnaireResponseItemAnswer[], condition: Condition): boolean {
  const q = questionnaire([
    { linkId: 'src', type: srcType, repeats: answers.length > 1 } as QuestionnaireItem,
    { linkId: 'target', type: 'string', enableWhen: [{ question: 'src', ...condition }] },
  ]);
  const items: QuestionnaireResponseItem[] = answers.length > 0 ? [{ linkId: 'src', answer: answers }] : [];
  const result = evaluateEnableWhen(response(items), q).isEnabled('target');
  if (result === undefined) {
    throw new Error('target not found');
  }
  return result;
}

const kg = (value: number, code = 'kg'): object => ({
  value,
  unit: code,
  system: 'http://unitsofmeasure.org',
  code,
});

/** [source type, answers, operator, enableWhen answer, enabled?] */
const MATRIX: [string, object[], QuestionnaireItemEnableWhen['operator'], object, boolean][] = [
  ['boolean', [{ valueBoolean: true }], '=', { answerBoolean: true }, true],
  ['boolean', [{ valueBoolean: false }], '=', { answerBoolean: true }, false],
  ['boolean', [], '=', { answerBoolean: true }, false],
  ['boolean', [{ valueBoolean: true }], '!=', { answerBoolean: true }, false],
  ['boolean', [{ valueBoolean: false }], '!=', { answerBoolean: true }, true],
  ['boolean', [], '!=', { answerBoolean: true }, true],
  ['boolean', [{ valueBoolean: true }], '>', { answerBoolean: false }, false],
  ['boolean', [{ valueBoolean: true }], 'exists', { answerBoolean: true }, true],
  ['boolean', [{ valueBoolean: false }], 'exists', { answerBoolean: true }, true],
  ['boolean', [], 'exists', { answerBoolean: true }, false],
  ['boolean', [], 'exists', { answerBoolean: false }, true],
  ['boolean', [{ valueBoolean: true }], 'exists', { answerBoolean: false }, false],
  ['boolean', [{}], 'exists', { answerBoolean: true }, false],
  ['decimal', [{ valueDecimal: 5.5 }], '>', { answerDecimal: 5 }, true],
  ['decimal', [{ valueDecimal: 5 }], '>', { answerDecimal: 5 }, false],
  ['decimal', [{ valueDecimal: 5 }], '>=', { answerDecimal: 5 }, true],
  ['decimal', [{ valueDecimal: 4.9 }], '<', { answerDecimal: 5 }, true],
  ['decimal', [{ valueDecimal: 5 }], '<', { answerDecimal: 5 }, false],
  ['decimal', [{ valueDecimal: 5 }], '<=', { answerDecimal: 5 }, true],
  ['decimal', [{ valueDecimal: 5.1 }], '<=', { answerDecimal: 5 }, false],
  ['decimal', [{ valueDecimal: 5 }], '=', { answerInteger: 5 }, true],
  ['integer', [{ valueInteger: 3 }], '>', { answerInteger: 2 }, true],
  ['integer', [{ valueInteger: 2 }], '<', { answerInteger: 3 }, true],
  ['integer', [{ valueInteger: 3 }], '!=', { answerInteger: 3 }, false],
  ['integer', [{ valueInteger: 3 }], '!=', { answerInteger: 4 }, true],
  ['integer', [{ valueInteger: 3 }], '>=', { answerInteger: 4 }, false],
  ['integer', [{ valueInteger: 3 }], '=', { answerString: '3' }, false],
  ['integer', [{ valueInteger: 3 }], '>', { answerDecimal: 2.5 }, true],
  ['date', [{ valueDate: '2020-05-01' }], '>', { answerDate: '2020-01-01' }, true],
  ['date', [{ valueDate: '2020-05-01' }], '=', { answerDate: '2020-05-01' }, true],
  ['date', [{ valueDate: '2020-05' }], '>', { answerDate: '2020-05-01' }, false],
  ['date', [{ valueDate: '2020-05' }], '<=', { answerDate: '2020-05-01' }, false],
  ['date', [{ valueDate: '2020-05' }], '<', { answerDate: '2020-06-01' }, true],
  ['date', [{ valueDate: '2020-05-02' }], '>', { answerDateTime: '2020-05-01T10:00:00Z' }, true],
  [
    'dateTime',
    [{ valueDateTime: '2020-05-01T10:00:00+02:00' }],
    '=',
    { answerDateTime: '2020-05-01T08:00:00Z' },
    true,
  ],
  [
    'dateTime',
    [{ valueDateTime: '2020-05-01T10:00:00+02:00' }],
    '>',
    { answerDateTime: '2020-05-01T09:00:00Z' },
    false,
  ],
  [
    'dateTime',
    [{ valueDateTime: '2020-05-01T10:00:00Z' }],
    '>',
    { answerDateTime: '2020-05-01T09:00:00Z' },
    true,
  ],
  ['time', [{ valueTime: '10:00:00' }], '<', { answerTime: '12:00:00' }, true],
  ['time', [{ valueTime: '10:00:00' }], '>=', { answerTime: '10:00:00' }, true],
  ['time', [{ valueTime: '10:00:00' }], '!=', { answerTime: '10:00:00' }, false],
  ['string', [{ valueString: 'abc' }], '=', { answerString: 'abc' }, true],
  ['string', [{ valueString: 'abc' }], '=', { answerString: 'ABC' }, false],
  ['string', [{ valueString: 'b' }], '>', { answerString: 'a' }, true],
  ['text', [{ valueString: 'x' }], '!=', { answerString: 'y' }, true],
  [
    'choice',
    [{ valueCoding: { system: CS, code: 'a' } }],
    '=',
    { answerCoding: { system: CS, code: 'a' } },
    true,
  ],
  [
    'choice',
    [{ valueCoding: { system: 'http://other', code: 'a' } }],
    '=',
    { answerCoding: { system: CS, code: 'a' } },
    false,
  ],
  ['choice', [{ valueCoding: { system: CS, code: 'a' } }], '=', { answerCoding: { code: 'a' } }, true],
  [
    'choice',
    [{ valueCoding: { system: CS, code: 'a' } }],
    '!=',
    { answerCoding: { system: CS, code: 'b' } },
    true,
  ],
  [
    'choice',
    [{ valueCoding: { system: CS, code: 'a' } }],
    '!=',
    { answerCoding: { system: CS, code: 'a' } },
    false,
  ],
  [
    'choice',
    [{ valueCoding: { system: CS, code: 'a' } }],
    '>',
    { answerCoding: { system: CS, code: 'a' } },
    false,
  ],
  ['open-choice', [{ valueString: 'a' }], '=', { answerCoding: { system: CS, code: 'a' } }, false],
  ['open-choice', [{ valueString: 'a' }], '=', { answerString: 'a' }, true],
  ['quantity', [{ valueQuantity: kg(5) }], '>', { answerQuantity: kg(4) }, true],
  ['quantity', [{ valueQuantity: kg(5) }], '>', { answerQuantity: kg(4, 'g') }, false],
  ['quantity', [{ valueQuantity: kg(5) }], '=', { answerQuantity: kg(5) }, true],
  [
    'reference',
    [{ valueReference: { reference: 'Patient/1' } }],
    '=',
    { answerReference: { reference: 'Patient/1' } },
    true,
  ],
  [
    'reference',
    [{ valueReference: { reference: 'Patient/1' } }],
    '!=',
    { answerReference: { reference: 'Patient/2' } },
    true,
  ],
  ['integer', [{ valueInteger: 1 }, { valueInteger: 5 }], '=', { answerInteger: 5 }, true],
  ['integer', [{ valueInteger: 1 }, { valueInteger: 5 }], '!=', { answerInteger: 5 }, false],
  ['integer', [{ valueInteger: 1 }, { valueInteger: 5 }], '>', { answerInteger: 4 }, true],
  ['integer', [{ valueInteger: 1 }, { valueInteger: 5 }], '<', { answerInteger: 1 }, false],
  ['integer', [{ valueInteger: 'x' as unknown as number }], 'exists', { answerBoolean: true }, false],
  ['integer', [{ valueInteger: 3 }], 'exists', { answerString: 'true' }, false],
];

describe('enableWhen', () => {
  test.each(MATRIX)(
    '%s answered %j, operator %s %j → enabled %s',
    (type, answers, operator, value, expected) => {
      expect(enabled(type, answers, { operator, ...value } as Condition)).toBe(expected);
    }
  );

  describe('enableBehavior', () => {
    const q = (behavior: 'all' | 'any' | undefined): ReturnType<typeof questionnaire> =>
      questionnaire([
        { linkId: 'a', type: 'boolean' },
        { linkId: 'b', type: 'boolean' },
        {
          linkId: 'target',
          type: 'string',
          ...(behavior ? { enableBehavior: behavior } : {}),
          enableWhen: [
            { question: 'a', operator: '=', answerBoolean: true },
            { question: 'b', operator: '=', answerBoolean: true },
          ],
        },
      ]);
    const qr = response([
      { linkId: 'a', answer: [{ valueBoolean: true }] },
      { linkId: 'b', answer: [{ valueBoolean: false }] },
    ]);

    test('all needs every condition', () => {
      expect(evaluateEnableWhen(qr, q('all')).isEnabled('target')).toBe(false);
    });

    test('any needs one condition', () => {
      expect(evaluateEnableWhen(qr, q('any')).isEnabled('target')).toBe(true);
    });

    test('without enableBehavior several conditions combine with any', () => {
      expect(evaluateEnableWhen(qr, q(undefined)).isEnabled('target')).toBe(true);
    });
  });

  describe('in repeating groups', () => {
    const group = (items: QuestionnaireItem[]): QuestionnaireItem => ({
      linkId: 'g',
      type: 'group',
      repeats: true,
      item: items,
    });
    const flag: QuestionnaireItem = { linkId: 'flag', type: 'boolean' };
    const detail: QuestionnaireItem = {
      linkId: 'detail',
      type: 'string',
      enableWhen: [{ question: 'flag', operator: '=', answerBoolean: true }],
    };
    const instance = (value: boolean): QuestionnaireResponseItem => ({
      linkId: 'g',
      item: [{ linkId: 'flag', answer: [{ valueBoolean: value }] }],
    });

    test('a question earlier in the same instance decides for that instance', () => {
      const q = questionnaire([group([flag, detail])]);
      const result = evaluateEnableWhen(response([instance(false), instance(true)]), q);
      expect(result.isEnabled('detail', 'QuestionnaireResponse.item[0]')).toBe(false);
      expect(result.isEnabled('detail', 'QuestionnaireResponse.item[1]')).toBe(true);
    });

    test('a question later in the same instance decides for that instance, not the previous instance', () => {
      const q = questionnaire([group([detail, flag])]);
      const result = evaluateEnableWhen(response([instance(true), instance(false)]), q);
      expect(result.isEnabled('detail', 'QuestionnaireResponse.item[0]')).toBe(true);
      expect(result.isEnabled('detail', 'QuestionnaireResponse.item[1]')).toBe(false);
    });

    test('an item after the group sees the nearest preceding instance (the last one)', () => {
      const q = questionnaire([group([flag]), { ...detail, linkId: 'after' }]);
      expect(evaluateEnableWhen(response([instance(true), instance(false)]), q).isEnabled('after')).toBe(
        false
      );
      expect(evaluateEnableWhen(response([instance(false), instance(true)]), q).isEnabled('after')).toBe(
        true
      );
    });

    test('an item before the group sees the nearest following instance (the first one)', () => {
      const q = questionnaire([{ ...detail, linkId: 'before' }, group([flag])]);
      expect(evaluateEnableWhen(response([instance(true), instance(false)]), q).isEnabled('before')).toBe(
        true
      );
      expect(evaluateEnableWhen(response([instance(false), instance(true)]), q).isEnabled('before')).toBe(
        false
      );
    });

    test('instances of a nested repeating group resolve within their own parent instance', () => {
      const q = questionnaire([
        {
          linkId: 'outer',
          type: 'group',
          repeats: true,
          item: [{ linkId: 'flag', type: 'boolean' }, group([{ ...detail, linkId: 'inner-detail' }])],
        },
      ]);
      const outer = (value: boolean): QuestionnaireResponseItem => ({
        linkId: 'outer',
        item: [
          { linkId: 'flag', answer: [{ valueBoolean: value }] },
          { linkId: 'g', item: [{ linkId: 'inner-detail' }] },
        ],
      });
      const result = evaluateEnableWhen(response([outer(true), outer(false)]), q);
      expect(result.byExpression.get('QuestionnaireResponse.item[0].item[1].item[0]')).toBe(true);
      expect(result.byExpression.get('QuestionnaireResponse.item[1].item[1].item[0]')).toBe(false);
    });
  });

  test('an item nested under an answer can depend on that question (ancestor axis)', () => {
    const q = questionnaire([
      {
        linkId: 'parent',
        type: 'integer',
        item: [
          {
            linkId: 'child',
            type: 'string',
            enableWhen: [{ question: 'parent', operator: '>', answerInteger: 2 }],
          },
        ],
      },
    ]);
    const qr = (n: number): ReturnType<typeof response> =>
      response([{ linkId: 'parent', answer: [{ valueInteger: n, item: [{ linkId: 'child' }] }] }]);
    expect(
      evaluateEnableWhen(qr(3), q).byExpression.get('QuestionnaireResponse.item[0].answer[0].item[0]')
    ).toBe(true);
    expect(
      evaluateEnableWhen(qr(1), q).byExpression.get('QuestionnaireResponse.item[0].answer[0].item[0]')
    ).toBe(false);
  });

  test('a disabled question counts as unanswered', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'boolean' },
      { linkId: 'b', type: 'boolean', enableWhen: [{ question: 'a', operator: '=', answerBoolean: true }] },
      {
        linkId: 'c',
        type: 'string',
        enableWhen: [{ question: 'b', operator: 'exists', answerBoolean: true }],
      },
    ]);
    const qr = response([
      { linkId: 'a', answer: [{ valueBoolean: false }] },
      { linkId: 'b', answer: [{ valueBoolean: true }] },
    ]);
    const result = evaluateEnableWhen(qr, q);
    expect(result.isEnabled('b')).toBe(false);
    expect(result.isEnabled('c')).toBe(false);
  });

  test('items inside a disabled group are disabled whatever their own condition', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'boolean' },
      {
        linkId: 'g',
        type: 'group',
        enableWhen: [{ question: 'a', operator: '=', answerBoolean: true }],
        item: [
          {
            linkId: 'x',
            type: 'string',
            enableWhen: [{ question: 'a', operator: '=', answerBoolean: false }],
          },
        ],
      },
    ]);
    const qr = response([
      { linkId: 'a', answer: [{ valueBoolean: false }] },
      { linkId: 'g', item: [{ linkId: 'x' }] },
    ]);
    const result = evaluateEnableWhen(qr, q);
    expect(result.byExpression.get('QuestionnaireResponse.item[1]')).toBe(false);
    expect(result.byExpression.get('QuestionnaireResponse.item[1].item[0]')).toBe(false);
    expect(result.isEnabled('x', 'QuestionnaireResponse.item[1]')).toBe(false);
  });

  test('a condition on a linkId the Questionnaire lacks sees no answer', () => {
    const q = questionnaire([
      {
        linkId: 'x',
        type: 'string',
        enableWhen: [{ question: 'missing', operator: 'exists', answerBoolean: false }],
      },
      {
        linkId: 'y',
        type: 'string',
        enableWhen: [{ question: 'missing', operator: '=', answerBoolean: true }],
      },
    ]);
    const result = evaluateEnableWhen(response([]), q);
    expect(result.isEnabled('x')).toBe(true);
    expect(result.isEnabled('y')).toBe(false);
  });

  test('a cycle of conditions is reported and does not loop', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'boolean', enableWhen: [{ question: 'b', operator: '!=', answerBoolean: true }] },
      { linkId: 'b', type: 'boolean', enableWhen: [{ question: 'a', operator: '!=', answerBoolean: true }] },
    ]);
    const qr = response([
      { linkId: 'a', answer: [{ valueBoolean: true }] },
      { linkId: 'b', answer: [{ valueBoolean: true }] },
    ]);
    const result = evaluateEnableWhen(qr, q);
    expect(result.isEnabled('a')).toBe(true);
    expect(result.isEnabled('b')).toBe(false);
    expect(result.issues.map((i) => [i.severity, i.code])).toEqual([['warning', 'processing']]);
  });

  test('isEnabled is undefined for an unknown item or container', () => {
    const result = evaluateEnableWhen(response([]), questionnaire([{ linkId: 'x', type: 'string' }]));
    expect(result.isEnabled('x')).toBe(true);
    expect(result.isEnabled('nope')).toBeUndefined();
    expect(result.isEnabled('x', 'QuestionnaireResponse.item[9]')).toBeUndefined();
  });
});

describe('enableWhenExpression', () => {
  const when = (expression: string, language?: string): QuestionnaireItem['extension'] => [
    expressionExtension('enableWhenExpression', expression, language),
  ];

  test('uses Questionnaire variables and the response', () => {
    const q = questionnaire(
      [
        { linkId: 'score', type: 'integer' },
        { linkId: 'x', type: 'string', extension: when('%score > %limit') },
      ],
      {
        extension: [
          variable('limit', '10'),
          variable('score', "%resource.repeat(item).where(linkId='score').answer.value"),
        ],
      }
    );
    const qr = (n: number): ReturnType<typeof response> =>
      response([{ linkId: 'score', answer: [{ valueInteger: n }] }]);
    expect(evaluateEnableWhen(qr(11), q).isEnabled('x')).toBe(true);
    expect(evaluateEnableWhen(qr(10), q).isEnabled('x')).toBe(false);
  });

  test('sees item-level variables of its ancestors per group instance', () => {
    const q = questionnaire([
      {
        linkId: 'g',
        type: 'group',
        repeats: true,
        extension: [variable('dose', "%context.item.where(linkId='dose').answer.value")],
        item: [
          { linkId: 'dose', type: 'decimal' },
          { linkId: 'why-high', type: 'string', extension: when('%dose > 100') },
        ],
      },
    ]);
    const instance = (dose: number): QuestionnaireResponseItem => ({
      linkId: 'g',
      item: [{ linkId: 'dose', answer: [{ valueDecimal: dose }] }],
    });
    const result = evaluateEnableWhen(response([instance(50), instance(150)]), q);
    expect(result.isEnabled('why-high', 'QuestionnaireResponse.item[0]')).toBe(false);
    expect(result.isEnabled('why-high', 'QuestionnaireResponse.item[1]')).toBe(true);
  });

  test('is true only for a single true', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'string', extension: when('true | false') },
      { linkId: 'b', type: 'string', extension: when("'yes'") },
      { linkId: 'c', type: 'string', extension: when('{}') },
    ]);
    const result = evaluateEnableWhen(response([]), q);
    expect([result.isEnabled('a'), result.isEnabled('b'), result.isEnabled('c')]).toEqual([
      false,
      false,
      false,
    ]);
  });

  test('must hold together with enableWhen when an item has both', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'boolean' },
      {
        linkId: 'x',
        type: 'string',
        enableWhen: [{ question: 'a', operator: '=', answerBoolean: true }],
        extension: when('false'),
      },
    ]);
    expect(
      evaluateEnableWhen(response([{ linkId: 'a', answer: [{ valueBoolean: true }] }]), q).isEnabled('x')
    ).toBe(false);
  });

  test('a failing expression leaves the item enabled and is reported with its location and linkId', () => {
    const q = questionnaire([{ linkId: 'x', type: 'string', extension: when("'a' + 1 > 0") }]);
    const result = evaluateEnableWhen(response([]), q);
    expect(result.isEnabled('x')).toBe(true);
    expect(result.issues).toEqual([
      {
        severity: 'error',
        code: 'exception',
        details: { text: "enableWhenExpression of item 'x' failed: Cannot convert a to a number" },
        expression: ['Questionnaire.item[0].extension[0]'],
        diagnostics: "'a' + 1 > 0",
      },
    ]);
  });

  test('an unsupported language is reported', () => {
    const q = questionnaire([
      { linkId: 'x', type: 'string', extension: when('AgeInYears() > 18', 'text/cql') },
    ]);
    const result = evaluateEnableWhen(response([]), q);
    expect(result.issues[0]!.details!.text).toBe(
      "enableWhenExpression of item 'x' failed: expression language 'text/cql' is not supported (only text/fhirpath)"
    );
  });

  test('today() reads the injected clock, and fails without one', () => {
    const q = questionnaire([{ linkId: 'x', type: 'string', extension: when('today() >= @2030-01-01') }]);
    const at = (iso: string): boolean | undefined =>
      evaluateEnableWhen(response([]), q, { clock: () => new Date(iso) }).isEnabled('x');
    expect(at('2029-12-31T23:00:00Z')).toBe(false);
    expect(at('2030-01-01T00:00:00Z')).toBe(true);
    const unclocked = evaluateEnableWhen(response([]), q);
    expect(unclocked.issues[0]!.details!.text).toBe(
      "enableWhenExpression of item 'x' failed: it calls today() but no clock was injected"
    );
  });
});
