import { PairCache } from '../lru';

/**
 * Keys by (canonical, path), which come from the content: worked out once per action instead of once
 * per request (a regular-expression walk over the path). Bounded, as content may be given inline.
 */
const keys = new PairCache<string, string, string>(1024);

/**
 * The part of a request's key that says where it was defined: `name-0.2` for the action at
 * `PlanDefinition.action[0].action[2]` of `http://x/PlanDefinition/name|1.0`. Stable while the content
 * is unchanged.
 * @param planDefinition - the PlanDefinition's `url|version`
 * @param path - the action's location in it
 */
export function originKey(planDefinition: string, path: string): string {
  let key = keys.get(planDefinition, path);
  if (key === undefined) {
    key = `${definitionName(planDefinition)}-${pathKey(path)}`;
    keys.set(planDefinition, path, key);
  }
  return key;
}

/** `PlanDefinition.action[0].action[2]` → `0.2`. */
export function pathKey(path: string): string {
  let key = '';
  let first = true;
  for (const m of path.matchAll(INDEX)) {
    key += first ? m[1] : `.${m[1]}`;
    first = false;
  }
  return key;
}
const INDEX = /\[(\d+)\]/g;

/** `http://x/PlanDefinition/name|1.0` → `name`: the canonical's last segment, without its version. */
export function definitionName(canonical: string): string {
  const bar = canonical.indexOf('|');
  const url = bar < 0 ? canonical : canonical.slice(0, bar);
  return url.slice(url.lastIndexOf('/') + 1);
}
