import type { Resource } from '@medplum/fhirtypes';
import type { AppliedPlan, LiftedEntry } from '../../../../src/core/plan/types';
import { copyJson } from './json';

/**
 * The resources as separate transaction-ready entries: CarePlan, RequestGroup, goals, then requests,
 * each with fullUrl `urn:uuid:<id>` and no `id` (a transaction assigns it), references between them
 * kept as `urn:uuid:` so the Bundle resolves them.
 * See: https://hl7.org/fhir/R4/bundle.html#references
 * @param applied - the result of `applyPlanDefinition`
 */
export function liftedEntries(applied: AppliedPlan): LiftedEntry[] {
  return [applied.carePlan, applied.requestGroup, ...applied.goals, ...applied.requests].map((resource) => {
    const copy = copyJson(resource) as Resource;
    delete copy.id;
    return { fullUrl: `urn:uuid:${resource.id}`, resource: copy };
  });
}
