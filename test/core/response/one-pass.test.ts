import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';
import fc from 'fast-check';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import type * as Validate from '../../../src/core/response/validate-response';
import { calculateInPasses, calculateResponse } from '../../../src/core/response/calculate';
import { validateResponse } from '../../../src/core/response/validate-response';
import { layoutAllowsOnePass, settlesInOnePass } from '../../../src/core/response/one-pass';
import { compileQuestionnaire } from '../../../src/core/response/questionnaire-model';
import { ResponseTree } from '../../../src/core/response/response-tree';
import { cloneJson } from '../../../src/core/response/values';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { scenarios } from '../../helpers/scenarios';
import { arbitraryResponse } from './arbitraries';
import { expressionExtension, INTAKE, questionnaire, response, variable } from './support';

const clock = (): Date => new Date('2026-11-27T09:00:00Z');
const RE = shippedRegistry().resolve<Questionnaire>(
  'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
  'Questionnaire'
)!;

/** The calculation as repeated passes, on a private copy: what calculateResponse did before the shortcut. */
function inPasses(
  qr: QuestionnaireResponse,
  q: Questionnaire,
  maxPasses = 8
): ReturnType<typeof calculateResponse> {
  return calculateInPasses(cloneJson(qr), compileQuestionnaire(q), { clock }, maxPasses);
}

/** Whether calculateResponse takes the one-pass shortcut for this response. */
function shortcut(qr: QuestionnaireResponse, q: Questionnaire): boolean {
  const cq = compileQuestionnaire(q);
  return settlesInOnePass(cq) && layoutAllowsOnePass(new ResponseTree(cloneJson(qr), cq), cq);
}

/** validateResponse from a fresh module graph in which no Questionnaire qualifies for the shortcut. */
function withoutShortcut(): typeof Validate.validateResponse {
  let validate: typeof Validate | undefined;
  jest.isolateModules(() => {
    jest.doMock('../../../src/core/response/one-pass', () => ({
      settlesInOnePass: () => false,
      layoutAllowsOnePass: () => false,
    }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    validate = require('../../../src/core/response/validate-response') as typeof Validate;
  });
  return validate!.validateResponse;
}
const oldValidate = withoutShortcut();

/** validateResponse with and without the shortcut, given the calculated response and not. */
function expectSameValidation(qr: QuestionnaireResponse, q: Questionnaire): void {
  const completed = calculateResponse(qr, q, { clock }).response;
  expect(JSON.stringify(validateResponse(qr, q, { clock, completed }))).toBe(
    JSON.stringify(oldValidate(qr, q, { clock, completed }))
  );
  expect(JSON.stringify(validateResponse(qr, q, { clock }))).toBe(
    JSON.stringify(oldValidate(qr, q, { clock }))
  );
}

const calc = (expression: string): ReturnType<typeof expressionExtension> =>
  expressionExtension('calculatedExpression', expression);

describe('one calculation pass when it is provably the fixed point', () => {
  test('the RE Questionnaire qualifies, and every golden scenario gives what the passes give', () => {
    expect(settlesInOnePass(compileQuestionnaire(RE))).toBe(true);
    let taken = 0;
    for (const { response: qr } of scenarios()) {
      if (shortcut(qr, RE)) {
        taken++;
      }
      expect(calculateResponse(qr, RE, { clock })).toEqual(inPasses(qr, RE));
      expectSameValidation(qr, RE);
    }
    expect(taken).toBeGreaterThan(0);
  });

  test('generated RE responses give what the passes give (text for text, issues and passes included)', () => {
    let taken = 0;
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        taken += shortcut(qr, RE) ? 1 : 0;
        const one = calculateResponse(qr, RE, { clock });
        const passes = inPasses(qr, RE);
        expect(JSON.stringify(one)).toBe(JSON.stringify(passes));
        expectSameValidation(qr, RE);
      }),
      { numRuns: 60 }
    );
    expect(taken).toBeGreaterThan(30);
  });

  test('generated intake responses (arbitrary shapes) give what the passes give', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (qr) => {
        expect(JSON.stringify(calculateResponse(qr, INTAKE))).toBe(
          JSON.stringify(calculateInPasses(cloneJson(qr), compileQuestionnaire(INTAKE), {}, 8))
        );
        expectSameValidation(qr, INTAKE);
      }),
      { numRuns: 80 }
    );
  });

  test('a submitted value replaced, removed or kept is reported as the passes report it', () => {
    const q = questionnaire([
      { linkId: 'a', type: 'integer' },
      {
        linkId: 'g',
        type: 'group',
        item: [
          {
            linkId: 'c1',
            type: 'integer',
            extension: [calc("%resource.item.where(linkId = 'a').answer.value")],
          },
          { linkId: 'c2', type: 'integer', extension: [calc('2')] },
        ],
      },
    ]);
    const qr = response([
      {
        linkId: 'g',
        item: [
          { linkId: 'c1', answer: [{ valueInteger: 5 }] },
          { linkId: 'c2', answer: [{ valueInteger: 3 }] },
        ],
      },
    ]);
    expect(shortcut(qr, q)).toBe(true);
    const result = calculateResponse(qr, q);
    expect(result).toEqual(inPasses(qr, q));
    expect(result.passes).toBe(2);
    expect(result.issues.map((i) => i.severity)).toEqual(['information', 'information']);
  });

  describe('the Questionnaire does not qualify when', () => {
    // Rows of three: jest hands a callback with more parameters than the row has a done().
    const cases: [string, QuestionnaireItem[], Partial<Questionnaire>][] = [
      [
        'a calculation reads a calculated item',
        [
          { linkId: 'c1', type: 'integer', extension: [calc('1')] },
          {
            linkId: 'c2',
            type: 'integer',
            extension: [calc("%resource.item.where(linkId = 'c1').answer.value")],
          },
        ],
        {},
      ],
      [
        'a calculation reads a group that encloses a calculated item',
        [
          { linkId: 'g', type: 'group', item: [{ linkId: 'c1', type: 'integer', extension: [calc('1')] }] },
          { linkId: 'c2', type: 'boolean', extension: [calc("%resource.item.where(linkId = 'g').exists()")] },
        ],
        {},
      ],
      [
        'a variable reads a calculated item',
        [{ linkId: 'c1', type: 'integer', extension: [calc('1')] }],
        { extension: [variable('v', "%resource.repeat(item).where(linkId = 'c1').answer.value")] },
      ],
      [
        'an expression reads the items directly',
        [{ linkId: 'c1', type: 'integer', extension: [calc('%resource.item.count()')] }],
        {},
      ],
      [
        'an enableWhen names a calculated item',
        [
          { linkId: 'c1', type: 'boolean', extension: [calc('true')] },
          {
            linkId: 'c2',
            type: 'integer',
            enableWhen: [{ question: 'c1', operator: 'exists', answerBoolean: true }],
            extension: [calc('1')],
          },
        ],
        {},
      ],
      [
        'a calculated item sits in a repeating group',
        [
          {
            linkId: 'g',
            type: 'group',
            repeats: true,
            item: [{ linkId: 'c1', type: 'integer', extension: [calc('1')] }],
          },
        ],
        {},
      ],
      [
        'a calculated item has nested items',
        [{ linkId: 'c1', type: 'integer', extension: [calc('1')], item: [{ linkId: 'x', type: 'string' }] }],
        {},
      ],
      [
        'a calculated item is a group',
        [{ linkId: 'c1', type: 'group', extension: [calc('1')], item: [{ linkId: 'x', type: 'string' }] }],
        {},
      ],
      [
        'variables form a cycle',
        [{ linkId: 'c1', type: 'integer', extension: [calc('%a')] }],
        { extension: [variable('a', '%b'), variable('b', '%a')] },
      ],
    ];
    test.each(cases)('%s', (_, items, extra) => {
      const q = questionnaire(items, extra);
      expect(settlesInOnePass(compileQuestionnaire(q))).toBe(false);
      const qr = response([]);
      expect(calculateResponse(qr, q)).toEqual(inPasses(qr, q));
    });

    test('and it does qualify with a read of a response element other than item, a constant, a variable chain', () => {
      const q = questionnaire(
        [
          { linkId: 'a', type: 'integer' },
          {
            linkId: 'g',
            type: 'group',
            item: [
              { linkId: 'c1', type: 'boolean', extension: [calc("%resource.status = 'completed'")] },
              { linkId: 'c2', type: 'integer', extension: [calc('%w + 1')] },
            ],
          },
        ],
        {
          extension: [
            variable('v', "%resource.item.where(linkId = 'a').answer.value"),
            variable('w', '%v * 2'),
          ],
        }
      );
      expect(settlesInOnePass(compileQuestionnaire(q))).toBe(true);
    });
  });

  test('a response with two instances of a calculated item, or nested items in one, takes the passes', () => {
    const q = questionnaire([
      { linkId: 'g', type: 'group', item: [{ linkId: 'c1', type: 'integer', extension: [calc('1')] }] },
    ]);
    expect(settlesInOnePass(compileQuestionnaire(q))).toBe(true);
    const twice = response([{ linkId: 'g', item: [{ linkId: 'c1' }, { linkId: 'c1' }] }]);
    const groups = response([{ linkId: 'g' }, { linkId: 'g', item: [{ linkId: 'c1' }] }]);
    const nested = response([
      { linkId: 'g', item: [{ linkId: 'c1', answer: [{ valueInteger: 2, item: [{ linkId: 'x' }] }] }] },
    ]);
    for (const qr of [twice, groups, nested]) {
      expect(shortcut(qr, q)).toBe(false);
      expect(calculateResponse(qr, q)).toEqual(inPasses(qr, q));
    }
  });

  test('enablement that hangs on a calculated item is decided on the calculated response', () => {
    const q = questionnaire([
      { linkId: 'g', type: 'group', item: [{ linkId: 'c1', type: 'boolean', extension: [calc('true')] }] },
      {
        linkId: 'd',
        type: 'integer',
        enableWhen: [{ question: 'c1', operator: 'exists', answerBoolean: true }],
      },
    ]);
    const qr = response([{ linkId: 'd', answer: [{ valueInteger: 1 }] }]);
    expect(validateResponse(qr, q)).toEqual([]);
    expectSameValidation(qr, q);
  });

  test('maxPasses 1 keeps the passes (and their "did not settle" report)', () => {
    const q = questionnaire([{ linkId: 'c1', type: 'integer', extension: [calc('1')] }]);
    const result = calculateResponse(response([]), q, { maxPasses: 1 });
    expect(result).toEqual(inPasses(response([]), q, 1));
    expect(result.issues).toHaveLength(1);
  });
});

/**
 * Generated Questionnaires: questions `a` (integer) and `b` (boolean), a group `g` (sometimes
 * repeating) of calculated items whose expressions, variables and enableWhens name any of the
 * linkIds, so both the shortcut and the passes are exercised; generated responses over the same
 * linkIds at any level. The shortcut must give exactly what the passes give.
 */
describe('generated Questionnaires and responses', () => {
  const linkIds = ['a', 'b', 'g', 'c1', 'c2', 'c3', 'd'];
  const lookupOf = (ids: string[]): fc.Arbitrary<string> =>
    fc
      .constantFrom(...ids)
      .chain((id) =>
        fc.constantFrom(
          `%resource.repeat(item).where(linkId = '${id}').answer.value`,
          `%resource.item.where(linkId = '${id}').exists()`,
          `%resource.descendants().where(linkId = '${id}').count()`
        )
      );
  // Mostly terms the shortcut allows, sometimes one that rules it out (a read of what it writes).
  const term = fc.oneof(
    { arbitrary: lookupOf(['a', 'b']), weight: 6 },
    { arbitrary: fc.constantFrom('%v', '%w', '1', 'true', "%resource.status = 'completed'"), weight: 6 },
    { arbitrary: lookupOf(['g', 'c1', 'c2', 'c3']), weight: 1 },
    { arbitrary: fc.constantFrom('%resource.item.count()', 'answer.exists()'), weight: 1 }
  );
  const expression = fc.oneof(
    term,
    fc.tuple(term, term).map(([x, y]) => `iif((${x}).exists(), (${y}).count(), {})`),
    term.map((x) => `(${x}).count()`)
  );
  const calculatedItem = (linkId: string): fc.Arbitrary<QuestionnaireItem> =>
    fc
      .record({
        type: fc.constantFrom('integer', 'boolean', 'decimal'),
        expression,
        enableOn: fc.option(fc.constantFrom('a', 'b', 'a', 'b', 'c1', 'c2'), { nil: undefined, freq: 2 }),
        repeats: fc.boolean(),
      })
      .map(({ type, expression: e, enableOn, repeats }) => ({
        linkId,
        type: type as QuestionnaireItem['type'],
        repeats,
        extension: [calc(e)],
        ...(enableOn
          ? { enableWhen: [{ question: enableOn, operator: 'exists' as const, answerBoolean: true }] }
          : {}),
      }));
  const generatedQuestionnaire: fc.Arbitrary<Questionnaire> = fc
    .record({
      c1: calculatedItem('c1'),
      c2: calculatedItem('c2'),
      c3: calculatedItem('c3'),
      groupRepeats: fc.constantFrom(false, false, false, true),
      dOn: fc.constantFrom('a', 'b', 'c1', 'c3'),
      v: fc.option(expression, { nil: undefined }),
      w: fc.option(expression, { nil: undefined }),
    })
    .map(({ c1, c2, c3, dOn, groupRepeats, v, w }) =>
      questionnaire(
        [
          { linkId: 'a', type: 'integer' },
          { linkId: 'b', type: 'boolean' },
          { linkId: 'g', type: 'group', repeats: groupRepeats, item: [c1, c2] },
          c3,
          {
            linkId: 'd',
            type: 'integer',
            enableWhen: [{ question: dOn, operator: 'exists', answerBoolean: true }],
          },
        ],
        {
          extension: [...(v ? [variable('v', v)] : []), ...(w ? [variable('w', w)] : [])],
        }
      )
    );
  const answer = fc.oneof(
    fc.integer({ min: -3, max: 3 }).map((n) => ({ valueInteger: n })),
    fc.boolean().map((b) => ({ valueBoolean: b })),
    fc.constant({ valueDecimal: 1.5 })
  );
  const item: fc.Memo<QuestionnaireResponseItem> = fc.memo((depth) =>
    fc.record(
      {
        linkId: fc.constantFrom('a', 'b', 'a', 'b', 'x', ...linkIds),
        answer: fc.array(answer, { maxLength: 2 }),
        item: depth > 1 ? fc.array(item(depth - 1), { maxLength: 3 }) : fc.constant([]),
      },
      { requiredKeys: ['linkId'] }
    )
  );
  // Mostly with an answered 'd', whose enablement may hang on a calculated item.
  const generatedResponse = fc
    .tuple(fc.array(item(3), { maxLength: 5 }), fc.boolean())
    .map(([items, d]) => response(d ? [...items, { linkId: 'd', answer: [{ valueInteger: 1 }] }] : items));

  test('the shortcut gives exactly what the passes give', () => {
    let taken = 0;
    let declined = 0;
    fc.assert(
      fc.property(generatedQuestionnaire, generatedResponse, (q, qr) => {
        if (shortcut(qr, q)) {
          taken++;
        } else {
          declined++;
        }
        expect(JSON.stringify(calculateResponse(qr, q, { clock }))).toBe(JSON.stringify(inPasses(qr, q)));
        expectSameValidation(qr, q);
      }),
      { numRuns: 400 }
    );
    // About 5 % take the shortcut (mean 20 of 400; at most 5 has a chance near 1 in 14,000). With 200
    // runs (mean 10) it failed about one run in 15, as it did once in CI: keep the 400.
    expect(taken).toBeGreaterThan(5);
    expect(declined).toBeGreaterThan(20);
  });
});
