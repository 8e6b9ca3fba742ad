import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import { splitCanonical } from '../conformance/registry';
import type { MemberOf } from './types';

/** Looks up a ValueSet or CodeSystem by canonical URL (no version). */
export type TerminologyLookup = (url: string) => ValueSet | CodeSystem | undefined;

/**
 * Membership for ValueSets that can be enumerated without a terminology server: `compose.include`
 * of whole complete CodeSystems, of listed concepts, or of other such ValueSets, with `exclude`
 * of listed concepts. Anything else (filters, unknown or not-present code systems) is unknown
 * (`undefined`). Meant for the core R4 ValueSets behind required bindings (status codes and the
 * like); the terminology module covers the project's own content. Expansions are built on first
 * use and cached; the resources come from an injected lookup, so the core does no I/O.
 * @param lookup - Finds ValueSets and CodeSystems by URL.
 * See: https://hl7.org/fhir/R4/valueset.html#compositions
 */
export function createEnumeratedMembership(lookup: TerminologyLookup): MemberOf {
  const expansions = new Map<string, Expansion | null>();

  function expansion(url: string, seen: Set<string>): Expansion | null {
    const cached = expansions.get(url);
    if (cached !== undefined) {
      return cached;
    }
    if (seen.has(url)) {
      return null;
    }
    seen.add(url);
    const vs = lookup(url);
    const result = vs?.resourceType === 'ValueSet' ? expand(vs, seen) : null;
    expansions.set(url, result);
    return result;
  }

  function expand(vs: ValueSet, seen: Set<string>): Expansion | null {
    const include = vs.compose?.include ?? [];
    if (include.length === 0) {
      return null;
    }
    const result: Expansion = { bySystem: new Map(), codes: new Set() };
    for (const part of include) {
      const members = selection(part, seen);
      if (!members) {
        return null;
      }
      for (const [system, code] of members) {
        add(result, system, code);
      }
    }
    for (const part of vs.compose?.exclude ?? []) {
      if (!part.system || !part.concept || part.filter || part.valueSet) {
        return null;
      }
      for (const concept of part.concept) {
        result.bySystem.get(part.system)?.delete(concept.code ?? '');
      }
    }
    result.codes.clear();
    for (const codes of result.bySystem.values()) {
      for (const code of codes) {
        result.codes.add(code);
      }
    }
    return result;
  }

  function selection(
    part: NonNullable<NonNullable<ValueSet['compose']>['include']>[number],
    seen: Set<string>
  ): [string, string][] | null {
    if (part.filter && part.filter.length > 0) {
      return null;
    }
    let members: [string, string][] | undefined;
    if (part.system) {
      if (part.concept) {
        members = part.concept.map((c) => [part.system!, c.code ?? '']);
      } else {
        const cs = lookup(part.system);
        if (cs?.resourceType !== 'CodeSystem' || cs.content !== 'complete') {
          return null;
        }
        members = [];
        collectConcepts(cs.concept ?? [], part.system, members);
      }
    }
    for (const canonical of part.valueSet ?? []) {
      const other = expansion(splitCanonical(canonical)[0], seen);
      if (!other) {
        return null;
      }
      const inOther: [string, string][] = [];
      for (const [system, codes] of other.bySystem) {
        for (const code of codes) {
          inOther.push([system, code]);
        }
      }
      // Several value sets, or a system plus value sets, intersect.
      members = members ? members.filter(([s, c]) => other.bySystem.get(s)?.has(c)) : inOther;
    }
    return members ?? null;
  }

  // The expansion by the canonical as asked (`url|version` from a binding), so that a question costs
  // no slice and no hash of a new string (issue 13). An expansion, once looked up, never changes, so
  // this map only short-cuts `expansions`; canonicals may come from input, so it stops growing when full.
  const byCanonical = new Map<string, Expansion | null>();

  return (valueSetCanonical, system, code) => {
    let found = byCanonical.get(valueSetCanonical);
    if (found === undefined) {
      // As splitCanonical, without its array; the cycle guard only when expanding (issue 13).
      const bar = valueSetCanonical.indexOf('|');
      const url = bar < 0 ? valueSetCanonical : valueSetCanonical.slice(0, bar);
      found = expansions.get(url) ?? (expansions.has(url) ? null : expansion(url, new Set()));
      if (byCanonical.size < CANONICALS_KEPT) {
        byCanonical.set(valueSetCanonical, found);
      }
    }
    if (!found) {
      return undefined;
    }
    return system === undefined ? found.codes.has(code) : (found.bySystem.get(system)?.has(code) ?? false);
  };
}

/** How many canonicals (as asked) are remembered with their expansion; more are answered through `expansions`. */
const CANONICALS_KEPT = 1024;

interface Expansion {
  readonly bySystem: Map<string, Set<string>>;
  readonly codes: Set<string>;
}

function add(expansion: Expansion, system: string, code: string): void {
  let codes = expansion.bySystem.get(system);
  if (!codes) {
    codes = new Set();
    expansion.bySystem.set(system, codes);
  }
  codes.add(code);
}

function collectConcepts(
  concepts: readonly CodeSystemConcept[],
  system: string,
  out: [string, string][]
): void {
  for (const concept of concepts) {
    if (concept.code) {
      out.push([system, concept.code]);
    }
    collectConcepts(concept.concept ?? [], system, out);
  }
}

/**
 * Chains membership functions: the first one that knows the ValueSet answers.
 * @param sources - Membership functions, most specific first.
 */
export function firstKnown(...sources: readonly MemberOf[]): MemberOf {
  return (valueSet, system, code) => {
    for (const source of sources) {
      const answer = source(valueSet, system, code);
      if (answer !== undefined) {
        return answer;
      }
    }
    return undefined;
  };
}
