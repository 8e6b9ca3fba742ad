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
 * members are the applied plan's own objects, moved rather than copied; an object the plan holds in
 * more than one place (`$apply` gives the CarePlan, RequestGroup and goals one `subject`) is copied at
 * each place after the first, so the entries form a tree as copies would. `$apply` builds every object
 * fresh (it copies what it takes from definitions and data), so the entries share nothing with the
 * engine's content or the input: test/core/operations/evaluate-ownership.test.ts holds that.
 * The applied plan must not be read or changed after this call.
 * @param applied - the result of `applyPlanDefinition`, given up by the caller
 */
export function movedEntries(applied: AppliedPlan): LiftedEntry[] {
  const resources: Resource[] = [
    applied.carePlan,
    applied.requestGroup,
    ...applied.goals,
    ...applied.requests,
  ];
  const seen = new Set<object>();
  const entries = new Array<LiftedEntry>(resources.length);
  for (let i = 0; i < resources.length; i++) {
    const resource = resources[i]!;
    const moved = withoutId(resource);
    unshare(moved as unknown as Record<string, unknown>, seen);
    entries[i] = { fullUrl: `urn:uuid:${resource.id}`, resource: moved };
  }
  return entries;
}

/** A shallow copy of `resource` without `id`, its other keys in their order. */
function withoutId(resource: Resource): Resource {
  const { id, ...rest } = resource; // A spread keeps a `__proto__` key as data, as copyJson does.
  void id;
  return rest as Resource;
}

/**
 * Replaces, below `node`, every object or array already in `seen` by a copy, and adds the others:
 * afterwards no object is reachable twice. `node` itself is new (from {@link withoutId}).
 */
function unshare(node: Record<string, unknown> | unknown[], seen: Set<object>): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child = node[i];
      if (child !== null && typeof child === 'object') {
        if (seen.has(child)) {
          node[i] = copyJson(child);
        } else {
          seen.add(child);
          unshare(child as Record<string, unknown> | unknown[], seen);
        }
      }
    }
    return;
  }
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (child !== null && typeof child === 'object') {
      if (seen.has(child)) {
        // A `__proto__` key is an own data property here (JSON); define it so, as copyJson does.
        Object.defineProperty(node, key, {
          value: copyJson(child),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        seen.add(child);
        unshare(child as Record<string, unknown> | unknown[], seen);
      }
    }
  }
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
