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

/**
 * {@link liftedEntries} without the deep copy, for a caller that owns the applied plan and drops it
 * afterwards (the evaluation). Each entry's resource is a new top-level object without `id` whose
 * members are the applied plan's own objects, moved rather than copied. `$apply` gives several
 * resources one object for a top-level member (the CarePlan, RequestGroup and goals share `subject`,
 * `encounter` and `author`): such a member is copied at each place after the first, so the entries form
 * a tree as copies would. Below the top level `$apply` builds every object fresh (it copies what it
 * takes from definitions and data), so the entries share nothing with each other, the engine's content
 * or the input: test/core/operations/evaluate-ownership.test.ts holds that. Nothing in the applied
 * plan is changed, but it must not be read or changed after this call.
 * @param applied - the result of `applyPlanDefinition`, given up by the caller
 */
export function movedEntries(applied: AppliedPlan): LiftedEntry[] {
  const resources: Resource[] = [
    applied.carePlan,
    applied.requestGroup,
    ...applied.goals,
    ...applied.requests,
  ];
  const seen = new Set<unknown>();
  const entries = new Array<LiftedEntry>(resources.length);
  for (let i = 0; i < resources.length; i++) {
    const resource = resources[i]!;
    entries[i] = { fullUrl: `urn:uuid:${resource.id}`, resource: movedResource(resource, seen) };
  }
  return entries;
}

/**
 * A new top-level object with the members of `resource` but `id`, in their order; a member object
 * already in `seen` (held by an earlier resource) is copied, the others are added to `seen`.
 */
function movedResource(resource: Resource, seen: Set<unknown>): Resource {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(resource)) {
    if (key === 'id') {
      continue;
    }
    let value = (resource as unknown as Record<string, unknown>)[key];
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) {
        value = copyJson(value);
      } else {
        seen.add(value);
      }
    }
    if (key === '__proto__') {
      // Kept as a data property, as copyJson keeps it.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = value;
    }
  }
  return out as unknown as Resource;
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
