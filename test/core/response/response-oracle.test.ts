import type { Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { calculateResponse } from '../../../src/core/response/calculate';
import { validateResponse } from '../../../src/core/response/validate-response';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { scenarios } from '../../helpers/scenarios';
import { arbitraryResponse } from './arbitraries';
import * as OracleCalculate from './oracle/calculate';
import * as OracleValidate from './oracle/validate-response';
import { INTAKE, memberOf } from './support';

/**
 * The response check and calculation against the frozen copy of `src/core/response` before issue 13's
 * fifth round (`oracle/`, 8dea70a): the completed response, the calculation's issues and passes, and
 * every issue of validateResponse, JSON text for JSON text, on golden scenarios, generated RE
 * responses, RE responses broken on purpose (items missing, repeated, extra, at the wrong level,
 * answered while disabled, of the wrong type, malformed) and arbitrary intake responses.
 */

const clock = (): Date => new Date('2026-11-27T09:00:00Z');
const RE = shippedRegistry().resolve<Questionnaire>(
  'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
  'Questionnaire'
)!;

function expectSameAsOracle(qr: QuestionnaireResponse, q: Questionnaire): void {
  const now = calculateResponse(qr, q, { clock });
  const then = OracleCalculate.calculateResponse(qr, q, { clock });
  expect(JSON.stringify(now)).toBe(JSON.stringify(then));
  const options = { clock, memberOf, completed: now.response };
  expect(JSON.stringify(validateResponse(qr, q, options))).toBe(
    JSON.stringify(OracleValidate.validateResponse(qr, q, { ...options, completed: then.response }))
  );
  expect(JSON.stringify(validateResponse(qr, q, { clock, memberOf }))).toBe(
    JSON.stringify(OracleValidate.validateResponse(qr, q, { clock, memberOf }))
  );
}

type Mutation = { kind: (typeof KINDS)[number]; at: number; variant: number };
const KINDS = [
  'drop',
  'repeat',
  'extra',
  'wrong-type',
  'wrong-level',
  'nested-under-question',
  'flip',
  'no-link-id',
  'answer-not-list',
  'empty-answer',
] as const;
const WRONG_VALUES: readonly Record<string, unknown>[] = [
  { valueString: 'x' },
  { valueInteger: 7 },
  { valueBoolean: true },
  { valueDecimal: 0.5 },
  { valueCoding: { system: 'http://example.org/other', code: 'zz' } },
  { valueDate: '2020-13-40' },
  { valueFoo: 1 },
  { valueString: 'a', valueInteger: 1 },
];

/** Every item object with the list holding it, in document order. */
function itemsOf(qr: QuestionnaireResponse): { item: QuestionnaireResponseItem; list: unknown[] }[] {
  const out: { item: QuestionnaireResponseItem; list: unknown[] }[] = [];
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) {
      return;
    }
    for (const item of list as QuestionnaireResponseItem[]) {
      out.push({ item, list });
      walk(item.item);
      for (const a of Array.isArray(item.answer) ? item.answer : []) {
        walk(a.item);
      }
    }
  };
  walk(qr.item);
  return out;
}

function mutate(qr: QuestionnaireResponse, mutations: readonly Mutation[]): QuestionnaireResponse {
  const copy = JSON.parse(JSON.stringify(qr)) as QuestionnaireResponse;
  for (const { kind, at, variant } of mutations) {
    const all = itemsOf(copy);
    if (all.length === 0) {
      break;
    }
    const { item, list } = all[at % all.length]!;
    switch (kind) {
      case 'drop':
        list.splice(list.indexOf(item), 1);
        break;
      case 'repeat':
        list.splice(list.indexOf(item) + 1, 0, JSON.parse(JSON.stringify(item)));
        break;
      case 'extra':
        list.push({
          linkId: variant % 2 ? 'not-in-the-questionnaire' : 'diabetes',
          answer: [{ valueBoolean: true }],
        });
        break;
      case 'wrong-type':
        item.answer = [WRONG_VALUES[variant % WRONG_VALUES.length]!] as QuestionnaireResponseItem['answer'];
        break;
      case 'wrong-level':
        list.splice(list.indexOf(item), 1);
        (copy.item ??= []).push(item);
        break;
      case 'nested-under-question':
        item.item = [{ linkId: 'dry-orgasm', answer: [{ valueBoolean: true }] }];
        break;
      case 'flip':
        // Disables or enables what depends on the answer, leaving the dependants' answers in place.
        for (const a of Array.isArray(item.answer) ? item.answer : []) {
          if (typeof a.valueBoolean === 'boolean') {
            a.valueBoolean = !a.valueBoolean;
          }
        }
        break;
      case 'no-link-id':
        delete (item as { linkId?: string }).linkId;
        break;
      case 'answer-not-list':
        (item as unknown as Record<string, unknown>).answer = { valueBoolean: true };
        break;
      case 'empty-answer':
        item.answer = [{}];
        break;
    }
  }
  return copy;
}

const brokenReResponse = fc
  .tuple(
    validReResponse(),
    fc.array(fc.record({ kind: fc.constantFrom(...KINDS), at: fc.nat(), variant: fc.nat() }), {
      minLength: 1,
      maxLength: 3,
    })
  )
  .map(([qr, mutations]) => mutate(qr, mutations));

describe('the response check and calculation equal the frozen oracle', () => {
  test('on every golden scenario', () => {
    for (const { response } of scenarios()) {
      expectSameAsOracle(response, RE);
    }
  });

  test('on generated valid RE responses', () => {
    fc.assert(
      fc.property(validReResponse(), (qr) => expectSameAsOracle(qr, RE)),
      { numRuns: 50 }
    );
  });

  test('on RE responses with items missing, repeated, extra, misplaced, disabled or of the wrong type', () => {
    fc.assert(
      fc.property(brokenReResponse, (qr) => expectSameAsOracle(qr, RE)),
      { numRuns: 80 }
    );
  });

  test('on arbitrary intake responses (random, mutated and malformed JSON)', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (qr) => expectSameAsOracle(qr, INTAKE)),
      { numRuns: 80 }
    );
  });

  test('the mutations do break responses (the test can fail)', () => {
    const valid = fc.sample(validReResponse(), { numRuns: 5, seed: 1 });
    const issues = valid.map((qr) =>
      validateResponse(mutate(qr, [{ kind: 'wrong-type', at: 3, variant: 6 }]), RE, { clock, memberOf })
    );
    expect(issues.every((list) => list.some((i) => i.severity === 'error'))).toBe(true);
  });
});
