import fc from 'fast-check';
import type { PlanDefinition, QuestionnaireResponse } from '@medplum/fhirtypes';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { compileFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { testEngine } from '../../helpers/engine';
import { scenarios } from '../../helpers/scenarios';
import { caseArb } from './case-arbitrary';
import { caseData } from './cases';

/**
 * Expressions of the management content rewritten into cheaper forms, each with the form it
 * replaced. `repeat(item)` walks (and de-duplicates) every item of the response; the Questionnaire
 * fixes where the items sit (`case-features` at the top level, once; the repeating `medications`
 * group inside `risk-factors`), and a response is only evaluated once it was checked against the
 * Questionnaire, so the direct path selects the same items. These tests hold the two forms equal
 * on every golden scenario and on random evaluations.
 */
const REWRITES: readonly { readonly before: string; readonly after: string }[] = [
  {
    before: "%qr.repeat(item).where(linkId = 'case-features').item",
    after: "%qr.item.where(linkId = 'case-features').item",
  },
  {
    before:
      "'Listed drugs that can be stopped or switched: ' + %qr.repeat(item).where(item.where(linkId = 'medication-stoppable').answer.value = true).item.where(linkId = 'medication').answer.value.select(iif(display.exists(), display + ' (' + code + ')', code)).distinct().join(', ') + '.'",
    after:
      "'Listed drugs that can be stopped or switched: ' + %qr.item.where(linkId = 'risk-factors').item.where(linkId = 'medications').where(item.where(linkId = 'medication-stoppable').answer.value = true).item.where(linkId = 'medication').answer.value.select(iif(display.exists(), display + ' (' + code + ')', code)).distinct().join(', ') + '.'",
  },
];

function shippedExpressions(): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'expression' && typeof child === 'string') {
          found.add(child);
        } else {
          visit(child);
        }
      }
    }
  };
  shippedRegistry().ofType<PlanDefinition>('PlanDefinition').forEach(visit);
  return found;
}

function expectSameResults(response: QuestionnaireResponse): void {
  for (const { before, after } of REWRITES) {
    const env = { qr: [response] };
    expect(compileFhirPath(after)(undefined, env)).toEqual(compileFhirPath(before)(undefined, env));
  }
}

describe('rewritten management content expressions', () => {
  test('are the forms the shipped PlanDefinitions use, and the replaced forms are gone', () => {
    const shipped = shippedExpressions();
    for (const { before, after } of REWRITES) {
      expect(shipped.has(after)).toBe(true);
      expect(shipped.has(before)).toBe(false);
    }
  });

  test('select the same values as the replaced forms on every golden scenario', () => {
    const all = scenarios();
    expect(all.length).toBeGreaterThan(0);
    for (const scenario of all) {
      expectSameResults(evaluateResponse(scenario.response, testEngine()).response);
    }
  });

  test('select the same values as the replaced forms on random evaluations, listed drugs included', () => {
    fc.assert(
      fc.property(caseArb, (spec) => {
        expectSameResults(caseData(spec).entry![0]!.resource as QuestionnaireResponse);
      }),
      { numRuns: 200 }
    );
  });
});
