import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import type * as Calculate from '../../../src/core/response/calculate';
import { calculateResponse } from '../../../src/core/response/calculate';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { scenarios } from '../../helpers/scenarios';
import { arbitraryResponse } from './arbitraries';
import { expressionExtension, find, INTAKE, questionnaire, response } from './support';

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
