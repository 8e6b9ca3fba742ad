import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { evaluateFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { ExpressionSession } from '../../../src/core/response/expressions';
import { compileQuestionnaire } from '../../../src/core/response/questionnaire-model';
import { ResponseTree } from '../../../src/core/response/response-tree';
import { arbitraryResponse } from './arbitraries';
import { questionnaire, response, variable } from './support';

const EXPRESSIONS = [
  "%resource.repeat(item).where(linkId='medications')",
  "%resource.repeat(item).where(linkId='medication').answer.value",
  "%resource.repeat(item).where(linkId = 'stoppable').answer.value.count()",
  "%resource.repeat(item).where(linkId='medications').item.where(linkId='stoppable').answer.value",
  "%resource.repeat(item).where(linkId='weight').answer.value.first()",
  "%resource.repeat(item).where(linkId='age').exists() and %resource.repeat(item).where(linkId='sex').exists().not()",
  "%resource.descendants().where(linkId='name').answer.value",
  "%resource.descendants().where(linkId='demographics').count()",
  "%resource.item.where(linkId='demographics').item.where(linkId='age').answer.value",
  "%resource.item.where(linkId = 'medications').item.where(linkId='medication').answer.value",
  "%resource.item.where(linkId='habits').count() + %resource.item.where(linkId='medications').count()",
];

const q = questionnaire([], { extension: EXPRESSIONS.map((e, i) => variable(`v${i}`, e)) });
const cq = compileQuestionnaire(q);

/**
 * fhirpath.js's repeat() drops an item equal to one already collected by deep comparison while the
 * collection is small, and by hash once it grows past a size limit, and the hash set never holds the
 * items collected before the switch; so past that size it can keep an item equal to an earlier one,
 * which the FHIRPath specification's repeat() never does. Such inputs are no oracle.
 */
function repeatKeepsEqualItems(qr: QuestionnaireResponse): boolean {
  const items = evaluateFhirPath('%resource.repeat(item)', qr, { resource: qr }).map((i) =>
    JSON.stringify(i)
  );
  return new Set(items).size !== items.length;
}

describe('ExpressionSession', () => {
  test('rewrites every test expression into a look-up', () => {
    expect(cq.variables.every((v) => v.lookups.length > 0)).toBe(true);
  });

  test('a rewritten look-up gives exactly what fhirpath.js gives for the original expression', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (generated: QuestionnaireResponse) => {
        // As it arrives over the wire: JSON has no `undefined` members, which fhirpath.js's
        // duplicate removal in repeat() would compare differently from the index.
        const qr = JSON.parse(JSON.stringify(generated)) as QuestionnaireResponse;
        fc.pre(!repeatKeepsEqualItems(qr));
        const tree = new ResponseTree(structuredClone(qr), cq);
        const session = new ExpressionSession(cq, tree, {}, () => undefined);
        cq.variables.forEach((def, i) => {
          const copy = structuredClone(qr);
          const expected = evaluateFhirPath(EXPRESSIONS[i]!, copy, { resource: copy });
          expect([EXPRESSIONS[i], session.evaluate(def, undefined)]).toEqual([EXPRESSIONS[i], expected]);
        });
      }),
      { numRuns: 200 }
    );
  });

  test('equal top-level items are all kept, as %resource.item.where() keeps them', () => {
    const twin = { linkId: 'g', item: [{ linkId: 'x', answer: [{ valueInteger: 1 }] }] };
    const qr = response([twin, structuredClone(twin)]);
    const expression = "%resource.item.where(linkId='g').count()";
    const one = questionnaire([], { extension: [variable('n', expression)] });
    const c = compileQuestionnaire(one);
    const session = new ExpressionSession(c, new ResponseTree(qr, c), {}, () => undefined);
    expect(session.evaluate(c.variables[0]!, undefined)).toEqual([2]);
    expect(evaluateFhirPath(expression, qr, { resource: qr })).toEqual([2]);
  });

  test('repeat() never keeps an item equal to one already collected, where fhirpath.js past its deep-equal size limit does', () => {
    const medications = { linkId: 'medications', answer: [] };
    const qr = response([
      medications,
      { linkId: 'demographics', item: [{ linkId: 'demographics', item: [structuredClone(medications)] }] },
      { linkId: 'demographics', item: [{ linkId: 'demographics' }] },
      { linkId: 'demographics', answer: [] },
    ]);
    const expression = "%resource.repeat(item).where(linkId='medications').count()";
    const one = questionnaire([], { extension: [variable('n', expression)] });
    const c = compileQuestionnaire(one);
    const session = new ExpressionSession(c, new ResponseTree(qr, c), {}, () => undefined);
    expect(session.evaluate(c.variables[0]!, undefined)).toEqual([1]);
    expect(repeatKeepsEqualItems(qr)).toBe(true);
  });

  test('duplicate group instances collapse as they do in repeat()', () => {
    const twin = { linkId: 'g', item: [{ linkId: 'x', answer: [{ valueInteger: 1 }] }] };
    const qr = response([
      twin,
      structuredClone(twin),
      { linkId: 'g', item: [{ linkId: 'x', answer: [{ valueInteger: 2 }] }] },
    ]);
    const one = questionnaire([], {
      extension: [variable('n', "%resource.repeat(item).where(linkId='g').count()")],
    });
    const c = compileQuestionnaire(one);
    const session = new ExpressionSession(c, new ResponseTree(qr, c), {}, () => undefined);
    expect(session.evaluate(c.variables[0]!, undefined)).toEqual([2]);
    expect(
      evaluateFhirPath("%resource.repeat(item).where(linkId='g').count()", qr, { resource: qr })
    ).toEqual([2]);
  });
});
