import fc from 'fast-check';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { applyPlanDefinition, liftedEntries } from '../../../src/core/plan';
import type { AppliedPlan } from '../../../src/core/plan';
import { movedEntries } from '../../../src/core/plan/shapes';
import { caseArb } from './case-arbitrary';
import { caseData } from './cases';
import type { CaseSpec } from './cases';
import { counterIds, fixedClock } from './support';

/**
 * `movedEntries` gives what `liftedEntries` gives, text for text, without copying: the same entries
 * over the management pathway for generated cases (with and without encounter and author, which `$apply`
 * shares between resources), a tree of objects, and the applied plan left as it was.
 */

const RULE = 'http://re-fhir.org/fhir/StructureDefinition/re-rule';
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

/** Every object and array below `value`, with how many times each is reachable. */
function reachCounts(value: unknown, counts = new Map<object, number>()): Map<object, number> {
  if (value !== null && typeof value === 'object') {
    const seen = counts.get(value) ?? 0;
    counts.set(value, seen + 1);
    if (seen === 0) {
      Object.values(value).forEach((child) => reachCounts(child, counts));
    }
  }
  return counts;
}

describe('movedEntries', () => {
  const registry = shippedRegistry();
  const apply = (spec: CaseSpec, withContext: boolean): AppliedPlan =>
    applyPlanDefinition(
      'http://re-fhir.org/fhir/PlanDefinition/re-management-pathway',
      {
        subject: 'Patient/p1',
        data: caseData(spec),
        ...(withContext ? { encounter: 'Encounter/e1', practitioner: 'Practitioner/dr' } : {}),
      },
      { resolve: (c) => registry.resolve(c), clock: fixedClock, newId: counterIds() },
      { carePlanExtensionUrls: [RULE], requestExtensionUrls: [RULE] }
    );

  test('equal liftedEntries, form a tree and leave the applied plan unchanged', () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (spec, withContext) => {
        const applied = apply(spec, withContext);
        const before = JSON.stringify(applied);
        const expected = JSON.stringify(liftedEntries(applied));
        const moved = movedEntries(applied);
        expect(JSON.stringify(moved)).toBe(expected);
        expect(JSON.stringify(applied)).toBe(before);
        expect([...reachCounts(moved).values()].filter((n) => n > 1)).toEqual([]);
        // Moved, not copied: below the top level the entries hold the plan's own objects.
        expect(moved[0]!.resource).not.toBe(applied.carePlan);
        expect((moved[0]!.resource as { activity?: unknown }).activity).toBe(applied.carePlan.activity);
      }),
      { numRuns: RUNS }
    );
  });
});
