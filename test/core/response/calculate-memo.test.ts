import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import type * as Calculate from '../../../src/core/response/calculate';
import { calculateResponse } from '../../../src/core/response/calculate';
import { observeFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { compileQuestionnaire } from '../../../src/core/response/questionnaire-model';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { scenarios } from '../../helpers/scenarios';
import { arbitraryResponse } from './arbitraries';
import { deepFreeze, expressionExtension, find, INTAKE, questionnaire, response } from './support';

const clock = (): Date => new Date('2026-11-27T09:00:00Z');

/** calculateResponse from a fresh module graph whose memo never reuses a result. */
function recomputingEveryPass(): typeof Calculate.calculateResponse {
  let calculate: typeof Calculate | undefined;
  jest.isolateModules(() => {
    const actual = jest.requireActual<Record<string, unknown>>('../../../src/core/response/expressions');
    jest.doMock('../../../src/core/response/expressions', () => ({
      ...actual,
      EvaluationMemo: class {
        nextPass(): void {}
        get(): undefined {
          return undefined;
        }
        set(): void {}
      },
    }));
    // A fresh copy of the module graph, so the mock above applies to it alone.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    calculate = require('../../../src/core/response/calculate') as typeof Calculate;
  });
  return calculate!.calculateResponse;
}

describe('results reused across calculation passes', () => {
  const fresh = recomputingEveryPass();

  test('give exactly what recomputing every pass gives, on every golden scenario (RE Questionnaire)', () => {
    const questionnaire = shippedRegistry().resolve<Questionnaire>(
      'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
      'Questionnaire'
    )!;
    for (const { response: qr } of scenarios()) {
      expect(calculateResponse(qr, questionnaire, { clock })).toEqual(fresh(qr, questionnaire, { clock }));
    }
  });

  test('give exactly what recomputing every pass gives, on arbitrary responses (intake form)', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (qr: QuestionnaireResponse) => {
        expect(calculateResponse(qr, INTAKE)).toEqual(fresh(qr, INTAKE));
      }),
      { numRuns: 150 }
    );
  });

  test('a calculated item read through %resource.item.where() is seen by the next pass', () => {
    const calc = (expression: string): ReturnType<typeof expressionExtension> =>
      expressionExtension('calculatedExpression', expression);
    const q = questionnaire([
      {
        linkId: 'g',
        type: 'group',
        item: [
          { linkId: 'c1', type: 'integer', readOnly: true, extension: [calc('1')] },
          {
            linkId: 'c2',
            type: 'integer',
            readOnly: true,
            extension: [
              calc("%resource.item.where(linkId = 'g').item.where(linkId = 'c1').answer.value + 1"),
            ],
          },
        ],
      },
    ]);
    const result = calculateResponse(response([]), q);
    expect(find(result.response.item, 'c1').answer).toEqual([{ valueInteger: 1 }]);
    expect(find(result.response.item, 'c2').answer).toEqual([{ valueInteger: 2 }]);
    expect(result).toEqual(fresh(response([]), q));
  });
});

const RE_URL = 'http://re-fhir.org/fhir/Questionnaire/re-evaluation';

/** FHIRPath evaluations made while `run` runs. */
function fhirPathCalls(run: () => void): number {
  let calls = 0;
  observeFhirPath(() => {
    calls++;
  });
  try {
    run();
  } finally {
    observeFhirPath(undefined);
  }
  return calls;
}

/** Every object and array inside a JSON value. */
function objectsIn(value: unknown, into: Set<object> = new Set()): Set<object> {
  if (value !== null && typeof value === 'object') {
    into.add(value);
    for (const v of Object.values(value)) {
      objectsIn(v, into);
    }
  }
  return into;
}

describe('results reused across passes on the RE Questionnaire', () => {
  const fresh = recomputingEveryPass();
  const re = shippedRegistry().resolve<Questionnaire>(RE_URL, 'Questionnaire')!;
  const booleanFeatures = compileQuestionnaire(re).calculated.filter((q) => q.type === 'boolean');

  /** Submitted values for some boolean calculated items (stale or not), in Questionnaire order. */
  const submittedFeatures = fc
    .subarray(booleanFeatures)
    .chain((qs) =>
      fc.tuple(
        ...qs.map((q) => fc.boolean().map((v) => ({ linkId: q.linkId, answer: [{ valueBoolean: v }] })))
      )
    );

  test('give exactly what recomputing every pass gives, on generated responses with submitted features', () => {
    fc.assert(
      fc.property(validReResponse(), submittedFeatures, (qr, features) => {
        const submitted: QuestionnaireResponse =
          features.length === 0
            ? qr
            : { ...qr, item: [...(qr.item ?? []), { linkId: 'case-features', item: features }] };
        expect(calculateResponse(submitted, re, { clock })).toEqual(fresh(submitted, re, { clock }));
      }),
      { numRuns: 60 }
    );
  });

  test('every submitted feature the calculation changed is reported once, at its submitted location', () => {
    fc.assert(
      fc.property(validReResponse(), submittedFeatures, (qr, features) => {
        const at = (qr.item ?? []).length;
        const submitted: QuestionnaireResponse = {
          ...qr,
          item: [...(qr.item ?? []), { linkId: 'case-features', item: features }],
        };
        const result = calculateResponse(submitted, re, { clock });
        const computed = result.response.item?.find((i) => i.linkId === 'case-features')?.item ?? [];
        const expected = features.flatMap((f, j) => {
          const now = computed.find((c) => c.linkId === f.linkId)?.answer;
          if (JSON.stringify(now) === JSON.stringify(f.answer)) {
            return [];
          }
          const what = now
            ? 'was replaced by the calculated value'
            : 'was removed: the calculation gives no value';
          return [
            {
              text: `submitted answer of calculated item '${f.linkId}' ${what}`,
              expression: `QuestionnaireResponse.item[${at}].item[${j}].answer`,
            },
          ];
        });
        const reported = result.issues
          .filter((i) => i.severity === 'information')
          .map((i) => ({ text: i.details?.text, expression: i.expression?.[0] }));
        expect(reported).toEqual(expected);
      }),
      { numRuns: 40 }
    );
  });

  test('the settling pass evaluates nothing: the first pass reads only what the calculation never writes', () => {
    // Reads of %resource.status and %resource.author are stable across passes; every other input
    // of the RE calculations is a look-up of an item the calculation does not write.
    for (const { name, response: qr } of scenarios()) {
      // Constants (thresholds) are evaluated once per Questionnaire: out of the count.
      calculateResponse(qr, re, { clock });
      let passes = 0;
      const all = fhirPathCalls(() => {
        passes = calculateResponse(qr, re, { clock }).passes;
      });
      const firstPass = fhirPathCalls(() => calculateResponse(qr, re, { clock, maxPasses: 1 }));
      expect({ name, passes }).toEqual({ name, passes: 2 });
      expect({ name, all }).toEqual({ name, all: firstPass });
      expect(firstPass).toBeGreaterThan(0);
    }
  });

  test('the completed response is a fresh copy without fhirpath.js metadata, the input untouched', () => {
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        const input = deepFreeze(structuredClone(qr));
        const result = calculateResponse(input, re, { clock });
        const inputObjects = objectsIn(input);
        for (const o of objectsIn(result.response)) {
          expect(inputObjects.has(o)).toBe(false);
          expect(Object.getOwnPropertyNames(o)).not.toContain('__path__');
        }
        expect(input).toEqual(qr);
      }),
      { numRuns: 25 }
    );
  });

  test('a read of %resource items outside the indexed look-ups is recomputed in the next pass', () => {
    const calc = (expression: string): ReturnType<typeof expressionExtension> =>
      expressionExtension('calculatedExpression', expression);
    for (const read of [
      "%resource.`item`.where(linkId = 'g').item.where(linkId = 'c1').answer.value",
      "%resource.children().where(linkId = 'g').item.where(linkId = 'c1').answer.value",
      "%resource.item.select(item.where(linkId = 'c1')).answer.value",
    ]) {
      const q = questionnaire([
        {
          linkId: 'g',
          type: 'group',
          item: [
            { linkId: 'c1', type: 'integer', readOnly: true, extension: [calc('1')] },
            { linkId: 'c2', type: 'integer', readOnly: true, extension: [calc(`${read} + 1`)] },
          ],
        },
      ]);
      const result = calculateResponse(response([]), q);
      expect(find(result.response.item, 'c2').answer).toEqual([{ valueInteger: 2 }]);
      expect(result).toEqual(fresh(response([]), q));
    }
  });
});
