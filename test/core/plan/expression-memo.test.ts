import fc from 'fast-check';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import type * as Plan from '../../../src/core/plan';
import type { AppliedPlan } from '../../../src/core/plan';
import { evaluateExpression } from '../../../src/core/plan/expression';
import { ExpressionMemo, referencedVariables } from '../../../src/core/plan/expression-memo';
import { caseArb } from './case-arbitrary';
import { caseData } from './cases';
import type { CaseSpec } from './cases';
import { counterIds, fhirpath, fixedClock } from './support';

const RULE = 'http://re-fhir.org/fhir/StructureDefinition/re-rule';
const PATHWAY = 'http://re-fhir.org/fhir/PlanDefinition/re-management-pathway';

describe('referencedVariables', () => {
  test('lists each %name once, including names inside string literals', () => {
    expect(referencedVariables("%qr.item.where(linkId = 'x') | %qr.item | %features")).toEqual([
      'qr',
      'features',
    ]);
    expect(referencedVariables("'%a' + %b")).toEqual(['a', 'b']);
    expect(referencedVariables('1 + 1')).toEqual([]);
  });

  test('refuses expressions that read the clock or name a variable in a delimited form', () => {
    expect(referencedVariables('today() > %start')).toBeNull();
    expect(referencedVariables('now ( )')).toBeNull();
    expect(referencedVariables('timeOfDay()')).toBeNull();
    expect(referencedVariables('`today`() > %start')).toBeNull();
    expect(referencedVariables('today/* a comment */() > %start')).toBeNull();
    expect(referencedVariables('today // a comment\n() > %start')).toBeNull();
    // Inside string literals the same characters are text, not a clock read.
    expect(referencedVariables("%a.where(system = 'http://x/*`today`()')")).toEqual(['a']);
    expect(referencedVariables("%'odd name'.exists()")).toBeNull();
    expect(referencedVariables('%`odd name`.exists()')).toBeNull();
    expect(referencedVariables("'50%'")).toBeNull();
  });
});

describe('ExpressionMemo', () => {
  const focus = { resourceType: 'Bundle', type: 'collection' };

  test('gives the recorded result only for the same focus and the same variable values', () => {
    const memo = new ExpressionMemo();
    const features = [{ linkId: 'a' }];
    const result = [true];
    memo.set('%features.exists()', focus, { features, other: 1 }, result);
    expect(memo.get('%features.exists()', focus, { features, other: 2 })).toBe(result);
    expect(memo.get('%features.exists()', focus, { features: [{ linkId: 'a' }] })).toBeUndefined();
    expect(memo.get('%features.exists()', { ...focus }, { features })).toBeUndefined();
    expect(memo.get('%features.empty()', focus, { features })).toBeUndefined();
  });

  test('never records an expression that reads the clock', () => {
    const memo = new ExpressionMemo();
    memo.set('now() > %t', focus, { t: 1 }, [true]);
    expect(memo.get('now() > %t', focus, { t: 1 })).toBeUndefined();
  });

  test('evaluateExpression with a memo returns what it computes without one', () => {
    const memo = new ExpressionMemo();
    const env = { subject: 'Patient/1', data: focus };
    const expression = fhirpath("%subject + '|' + %resource.type");
    const first = evaluateExpression(expression, focus, env, 'L', 'w', memo);
    const second = evaluateExpression(expression, focus, env, 'L', 'w', memo);
    expect(first).toEqual({ ok: true, values: ['Patient/1|collection'] });
    expect(second).toEqual(first);
    expect(evaluateExpression(expression, focus, { ...env, subject: 'Patient/2' }, 'L', 'w', memo)).toEqual({
      ok: true,
      values: ['Patient/2|collection'],
    });
  });
});

describe('the management pathway with reused results', () => {
  /** Applies the pathway with the plan module loaded fresh, with or without a working memo. */
  function applier(withMemo: boolean): (spec: CaseSpec) => AppliedPlan {
    let plan: typeof Plan | undefined;
    jest.isolateModules(() => {
      if (!withMemo) {
        jest.doMock('../../../src/core/plan/expression-memo', () => ({
          ...jest.requireActual('../../../src/core/plan/expression-memo'),
          ExpressionMemo: class {
            get(): undefined {
              return undefined;
            }
            find(): undefined {
              return undefined;
            }
            set(): void {}
            record(): void {}
          },
        }));
      }
      // A fresh copy of the module graph, so the mock above applies to it alone.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      plan = require('../../../src/core/plan') as typeof Plan;
    });
    const registry = shippedRegistry();
    return (spec) =>
      plan!.applyPlanDefinition(
        PATHWAY,
        { subject: 'Patient/p1', data: caseData(spec) },
        { resolve: (c) => registry.resolve(c), clock: fixedClock, newId: counterIds() },
        { carePlanExtensionUrls: [RULE], requestExtensionUrls: [RULE] }
      );
  }

  test('gives exactly the plan, issues and trace of evaluating every expression afresh', () => {
    const reusing = applier(true);
    const fresh = applier(false);
    fc.assert(
      fc.property(caseArb, (spec) => {
        expect(reusing(spec)).toEqual(fresh(spec));
      }),
      { numRuns: 150 }
    );
  });
});
