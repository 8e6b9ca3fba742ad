import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';
import fc from 'fast-check';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { calculateResponse } from '../../../src/core/response/calculate';
import { validateResponse } from '../../../src/core/response/validate-response';
import { cloneJson } from '../../../src/core/response/values';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import * as OracleCalculate from './oracle/calculate';
import * as OracleValidate from './oracle/validate-response';
import * as OracleValues from './oracle/values';
import { expressionExtension, memberOf, questionnaire, response, variable } from './support';

const calc = (expression: string): ReturnType<typeof expressionExtension> =>
  expressionExtension('calculatedExpression', expression);

/**
 * Issue 13, sixth round: the scaffolding around the calculation's FHIRPath calls changed (the JSON
 * copy, the Questionnaire's scope taken directly by items without variables on their way up, the
 * containers of a calculated item found once per parent, the submitted values of calculated items
 * matched to the writes by node instead of by key). Each against the frozen oracle (`oracle/`),
 * JSON text for JSON text, on inputs that exercise what changed.
 */

const clock = (): Date => new Date('2026-11-27T09:00:00Z');

function expectSameAsOracle(qr: QuestionnaireResponse, q: Questionnaire): void {
  const now = calculateResponse(qr, q, { clock });
  const then = OracleCalculate.calculateResponse(qr, q, { clock });
  expect(JSON.stringify(now)).toBe(JSON.stringify(then));
  expect(JSON.stringify(calculateResponse(qr, q, { clock, maxPasses: 3 }))).toBe(
    JSON.stringify(OracleCalculate.calculateResponse(qr, q, { clock, maxPasses: 3 }))
  );
  const options = { clock, memberOf };
  expect(JSON.stringify(validateResponse(qr, q, { ...options, completed: now.response }))).toBe(
    JSON.stringify(OracleValidate.validateResponse(qr, q, { ...options, completed: then.response }))
  );
}

/**
 * The shape of a copy as a comparable tree: own keys in order, holes, and whether each object has
 * the ordinary prototype (a `__proto__` key, assigned, replaces it: the old copy did so too).
 */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) {
    return { array: Array.from({ length: v.length }, (_, i) => (i in v ? shape(v[i]) : 'hole')) };
  }
  if (v !== null && typeof v === 'object') {
    const proto: unknown = Object.getPrototypeOf(v);
    return {
      keys: Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])]),
      proto: proto === Object.prototype ? 'Object' : shape(proto),
    };
  }
  return v === undefined ? 'undefined' : v;
}

describe('cloneJson equals the old copy', () => {
  // JSON text (JSON.parse makes `__proto__` an own key), plain values, and arrays with holes.
  const jsonish = fc.oneof(
    fc.jsonValue(),
    fc.jsonValue().map((v) => JSON.parse(`{"__proto__": ${JSON.stringify(v)}, "a": 1}`) as unknown),
    fc
      .array(fc.jsonValue(), { maxLength: 5 })
      .chain((xs) =>
        fc.nat({ max: 6 }).map((hole) => Object.assign(new Array<unknown>(xs.length + hole), xs))
      )
  );

  test('same shape, and a fresh copy of every object', () => {
    fc.assert(
      fc.property(jsonish, (value) => {
        const copy = cloneJson(value);
        expect(shape(copy)).toEqual(shape(OracleValues.cloneJson(value)));
        expect(JSON.stringify(copy)).toBe(JSON.stringify(OracleValues.cloneJson(value)));
        if (value !== null && typeof value === 'object') {
          expect(copy).not.toBe(value);
        }
      }),
      { numRuns: 100 }
    );
  });

  test('plain JSON comes out equal', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')),
        (value) => {
          expect(cloneJson(value)).toStrictEqual(value);
        }
      ),
      { numRuns: 50 }
    );
  });

  test('hidden properties are not copied', () => {
    const marked = { a: { b: 1 } };
    Object.defineProperty(marked.a, '__path__', { value: { path: 'x' } });
    const copy = cloneJson(marked);
    expect(Object.getOwnPropertyDescriptor(copy.a, '__path__')).toBeUndefined();
    expect(copy).toEqual({ a: { b: 1 } });
  });
});

/**
 * Generated Questionnaires with nested groups: variables on the Questionnaire, on some groups and on
 * some calculated items, names shadowed lower down, and calculated items at every depth, some under
 * groups without variables (they take the Questionnaire's scope directly), some repeating or
 * enabled on an answer. Responses over the same linkIds, including submitted calculated values.
 */
describe('variable scopes and calculated items at every depth', () => {
  const names = ['v', 'w'];
  const term = fc.constantFrom(
    '%v',
    '%w',
    '1',
    "%resource.item.where(linkId = 'a').answer.value",
    "%resource.repeat(item).where(linkId = 'b').answer.value",
    '%context.linkId.length()',
    '%qitem.linkId.length()'
  );
  const expression = fc.oneof(
    term,
    fc.tuple(term, term).map(([x, y]) => `(${x}).count() + (${y}).count()`),
    fc.tuple(term, term).map(([x, y]) => `iif((${x}).exists(), (${y}).count(), {})`)
  );
  const variables = fc.array(
    fc.tuple(fc.constantFrom(...names), expression).map(([n, e]) => variable(n, e)),
    { maxLength: 2 }
  );
  const calculated = (linkId: string): fc.Arbitrary<QuestionnaireItem> =>
    fc
      .record({ e: expression, vars: variables, repeats: fc.boolean(), enable: fc.boolean() })
      .map(({ e, vars, repeats, enable }) => ({
        linkId,
        type: 'integer' as const,
        repeats,
        extension: [...vars, calc(e)],
        ...(enable
          ? { enableWhen: [{ question: 'b', operator: 'exists' as const, answerBoolean: true }] }
          : {}),
      }));
  const group = (linkId: string, inner: QuestionnaireItem[]): fc.Arbitrary<QuestionnaireItem> =>
    fc.record({ vars: variables, repeats: fc.constantFrom(false, false, true) }).map(({ vars, repeats }) => ({
      linkId,
      type: 'group' as const,
      repeats,
      ...(vars.length > 0 ? { extension: vars } : {}),
      item: inner,
    }));
  const generatedQuestionnaire: fc.Arbitrary<Questionnaire> = fc
    .record({ top: variables, c0: calculated('c0'), c1: calculated('c1'), c2: calculated('c2') })
    .chain(({ top, c0, c1, c2 }) =>
      group('h', [c2]).chain((h) =>
        group('g', [c1, h]).map((g) =>
          questionnaire(
            [{ linkId: 'a', type: 'integer' }, { linkId: 'b', type: 'boolean' }, c0, g],
            top.length > 0 ? { extension: top } : {}
          )
        )
      )
    );
  const answer = fc.oneof(
    fc.integer({ min: -3, max: 3 }).map((n) => ({ valueInteger: n })),
    fc.boolean().map((b) => ({ valueBoolean: b }))
  );
  const item: fc.Memo<QuestionnaireResponseItem> = fc.memo((depth) =>
    fc.record(
      {
        linkId: fc.constantFrom('a', 'b', 'c0', 'c1', 'c2', 'g', 'h', 'g', 'h'),
        answer: fc.array(answer, { maxLength: 2 }),
        item: depth > 1 ? fc.array(item(depth - 1), { maxLength: 3 }) : fc.constant([]),
      },
      { requiredKeys: ['linkId'] }
    )
  );
  const generatedResponse = fc.array(item(4), { maxLength: 5 }).map((items) => response(items));

  test('calculation and validation equal the oracle', () => {
    fc.assert(
      fc.property(generatedQuestionnaire, generatedResponse, (q, qr) => expectSameAsOracle(qr, q)),
      { numRuns: 80 }
    );
  });
});

/** Submitted answers on the RE Questionnaire's calculated items: kept, replaced or removed. */
describe('submitted values of calculated items', () => {
  const RE = shippedRegistry().resolve<Questionnaire>(
    'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
    'Questionnaire'
  )!;
  const FEATURES = [
    'feature-re-suspected',
    'feature-peu-positive',
    'feature-hypospermia',
    'feature-fertility-wish',
    'feature-ed',
    'feature-semen-volume-limit',
    'feature-risk-factor-status',
  ];
  const submittedValue = fc.oneof(
    fc.constant({ valueBoolean: true }),
    fc.constant({ valueBoolean: false }),
    fc.constant({ valueDecimal: 1.4 }),
    fc.constant({ valueCoding: { system: 'http://example.org', code: 'x' } }),
    fc.constant({ valueString: 'typed in' })
  );
  const submitted = fc.array(
    fc.record({
      linkId: fc.constantFrom(...FEATURES),
      answer: fc.array(submittedValue, { minLength: 0, maxLength: 2 }),
    }),
    { maxLength: 4 }
  );
  const withSubmitted = fc.tuple(validReResponse(), submitted).map(([qr, items]) => {
    const copy = JSON.parse(JSON.stringify(qr)) as QuestionnaireResponse;
    const features = (copy.item ??= []).find((i) => i.linkId === 'case-features');
    const list: QuestionnaireResponseItem[] = features ? (features.item ??= []) : [];
    if (!features) {
      copy.item.push({ linkId: 'case-features', item: list });
    }
    for (const { linkId, answer } of items) {
      const existing = list.find((i) => i.linkId === linkId);
      if (existing) {
        existing.answer = answer;
      } else {
        list.push({ linkId, answer });
      }
    }
    return copy;
  });

  test('the same information issues, locations and completed response as the oracle', () => {
    let reported = 0;
    fc.assert(
      fc.property(withSubmitted, (qr) => {
        expectSameAsOracle(qr, RE);
        reported += calculateResponse(qr, RE, { clock }).issues.filter(
          (i) => i.severity === 'information'
        ).length;
      }),
      { numRuns: 60 }
    );
    // The property reaches the reports it is about.
    expect(reported).toBeGreaterThan(0);
  });
});

/**
 * answerOptions looked up by code for a Coding answer: options of every type, Codings with and
 * without a system, one code under two systems, codes that are not strings; answers of every type.
 */
describe('answers checked against answerOptions', () => {
  const coding = fc.record(
    {
      system: fc.constantFrom('http://a', 'http://b'),
      code: fc.oneof(fc.constantFrom('x', 'y', 'z'), fc.constant(7), fc.constant(null)),
      display: fc.constant('shown'),
    },
    { requiredKeys: [] }
  );
  const value = fc.oneof(
    coding.map((c) => ({ valueCoding: c })),
    fc.constantFrom('x', 'y').map((s) => ({ valueString: s })),
    fc.integer({ min: 0, max: 2 }).map((n) => ({ valueInteger: n })),
    fc.constant({ valueDate: '2020-01-01' }),
    fc.constant({ valueBoolean: true })
  );
  const generated = fc
    .record({
      type: fc.constantFrom('choice', 'open-choice'),
      repeats: fc.boolean(),
      options: fc.array(value, { maxLength: 5 }),
      answers: fc.array(value, { maxLength: 3 }),
    })
    .map(({ type, repeats, options, answers }) => ({
      q: questionnaire([
        {
          linkId: 'c',
          type: type as QuestionnaireItem['type'],
          repeats,
          answerOption: options as QuestionnaireItem['answerOption'],
        },
      ]),
      qr: response([{ linkId: 'c', answer: answers as QuestionnaireResponseItem['answer'] }]),
    }));

  test('the same issues as the oracle', () => {
    let rejected = 0;
    fc.assert(
      fc.property(generated, ({ q, qr }) => {
        const now = validateResponse(qr, q, { clock, memberOf });
        expect(JSON.stringify(now)).toBe(
          JSON.stringify(OracleValidate.validateResponse(qr, q, { clock, memberOf }))
        );
        rejected += now.filter((i) => i.code === 'code-invalid').length;
      }),
      { numRuns: 100 }
    );
    // Answers outside the options are among the cases.
    expect(rejected).toBeGreaterThan(0);
  });
});
