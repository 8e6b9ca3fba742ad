import type { CarePlan, Resource } from '@medplum/fhirtypes';
import type { AppliedPlan, LiftedEntry } from './types';
import { copyJson } from '../json';

/**
 * The R4 single-resource return of `$apply`: the CarePlan with the RequestGroup, goals and requests
 * `contained`, and every reference between them rewritten from `urn:uuid:<id>` to `#<id>`. References
 * to anything else (the subject, `data` entries) are left as given. The container has no id and the
 * contained resources lose their narrative (R4 dom-1).
 * See: https://hl7.org/fhir/R4/plandefinition-operation-apply.html
 * @param applied - the result of `applyPlanDefinition`
 */
export function containedCarePlan(applied: AppliedPlan): CarePlan {
  const ids = generatedIds(applied);
  const contained = [applied.requestGroup, ...applied.goals, ...applied.requests].map((resource) => {
    const copy = rewrite(copyJson(resource), ids) as Resource & { text?: unknown };
    delete copy.text;
    return copy;
  });
  const carePlan = rewrite(copyJson(applied.carePlan), ids) as CarePlan;
  delete carePlan.id;
  return { ...carePlan, contained };
}

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

function generatedIds(applied: AppliedPlan): Set<string> {
  return new Set(
    [applied.carePlan, applied.requestGroup, ...applied.goals, ...applied.requests].map((r) => r.id)
  );
}

const URN_UUID = 'urn:uuid:';

function rewrite(value: unknown, ids: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => rewrite(item, ids));
  }
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      result[key] =
        key === 'reference' &&
        typeof child === 'string' &&
        child.startsWith(URN_UUID) &&
        ids.has(child.slice(URN_UUID.length))
          ? `#${child.slice(URN_UUID.length)}`
          : rewrite(child, ids);
    }
    return result;
  }
  return value;
}
