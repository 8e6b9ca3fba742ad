import type { Resource } from '@medplum/fhirtypes';

/** Every path to an object member or array entry in a JSON value (`resourceType` left alone). */
export function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  const out: (string | number)[][] = [];
  for (const [k, v] of Object.entries(value)) {
    const key = Array.isArray(value) ? Number(k) : k;
    if (key === 'resourceType') {
      continue;
    }
    out.push([...prefix, key], ...paths(v, [...prefix, key]));
  }
  return out;
}

/**
 * One random edit at a path chosen by `at`: delete it, replace it with `value`, add `name: value`
 * to it, or (`duplicate`) repeat an array entry.
 */
export type Mutation = {
  at: number;
  op: 'delete' | 'set' | 'add' | 'duplicate';
  value: unknown;
  name: string;
};

/**
 * Applies random edits (see {@link Mutation}) to a copy of a seed. `at` indexes the paths of
 * {@link paths}; one more index, the last, stands for the resource itself (where only `add` applies).
 */
export function mutate(seed: Resource, mutations: Mutation[]): Resource {
  const copy = structuredClone(seed) as unknown as Record<string, unknown>;
  for (const m of mutations) {
    const all = paths(copy);
    if (m.at % (all.length + 1) === all.length) {
      if (m.op === 'add') {
        copy[m.name] = structuredClone(m.value);
      }
      continue;
    }
    const path = all[m.at % (all.length + 1)]!;
    let parent: unknown = copy;
    for (const step of path.slice(0, -1)) {
      parent = (parent as Record<string | number, unknown>)[step];
    }
    const last = path[path.length - 1]!;
    const target = parent as Record<string | number, unknown>;
    if (m.op === 'delete') {
      if (Array.isArray(target)) {
        target.splice(Number(last), 1);
      } else {
        Reflect.deleteProperty(target, last);
      }
    } else if (m.op === 'duplicate') {
      if (Array.isArray(target)) {
        target.splice(Number(last), 0, structuredClone(target[Number(last)]));
      }
    } else if (m.op === 'set') {
      // A copy: fast-check shares constant values between mutations and runs, and a shared object
      // set in one place and extended in another would become cyclic.
      target[last] = structuredClone(m.value);
    } else if (typeof target[last] === 'object' && target[last] !== null && !Array.isArray(target[last])) {
      (target[last] as Record<string, unknown>)[m.name] = structuredClone(m.value);
    }
  }
  return copy as unknown as Resource;
}
