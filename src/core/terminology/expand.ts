import type {
  OperationOutcomeIssue,
  ValueSet,
  ValueSetComposeInclude,
  ValueSetExpansionContains,
  ValueSetExpansionParameter,
} from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { Clock } from '../types';
import type { IndexedConcept } from './codesystem';
import { indexCodeSystem } from './codesystem';
import type { TerminologyResult } from './result';
import { fail, failWith, succeed } from './result';
import type { TerminologySource } from './source';
import { canonicalOf } from './source';

/** One code of a computed expansion. */
export interface ExpansionEntry {
  readonly system: string;
  /** The code system version the code was taken from, when the definition or the CodeSystem names one. */
  readonly version?: string;
  readonly code: string;
  readonly display?: string;
  /** The code is a grouper that is not for use (`notSelectable`). */
  readonly abstract?: boolean;
  /** The code is inactive in its code system. */
  readonly inactive?: boolean;
}

/** The full, unfiltered and unpaged expansion of one ValueSet definition. */
export interface Expansion {
  /** The definition that was expanded. */
  readonly valueSet: ValueSet;
  /** Every code, without duplicates, in definition order. */
  readonly entries: readonly ExpansionEntry[];
}

/** Cache of full expansions by ValueSet `url|version`, shared between calls and across imports. */
export type ExpansionCache = Map<string, TerminologyResult<Expansion>>;

/**
 * Computes the full expansion of a ValueSet definition: `compose.include` with enumerated concepts,
 * whole local CodeSystems with `content = complete`, `valueSet` imports (recursive; a cycle is an
 * error) and `exclude`; `compose.inactive = false` drops inactive codes. A ValueSet with no
 * `compose` but a complete stored `expansion` is read from that expansion.
 *
 * What cannot be evaluated offline (property filters, whole external code systems, code systems with
 * incomplete content) fails with a `not-supported` issue: the result is never a silent partial
 * expansion. Hierarchies are flattened. `compose.lockedDate` is not evaluated (definitions are
 * resolved by canonical version instead).
 *
 * Issue expressions are FHIRPath locations in `valueSet`; a problem inside an imported ValueSet is
 * reported at the import (`ValueSet.compose.include[i].valueSet[j]`) with the imported canonical in
 * the text.
 *
 * See: https://hl7.org/fhir/R4/valueset.html#expansion and
 * https://hl7.org/fhir/R4/valueset-operation-expand.html
 * @param valueSet - the definition to expand
 * @param source - where imported ValueSets and CodeSystems are resolved
 * @param cache - expansions already computed (filled by this call); pass one to share work
 */
export function computeExpansion(
  valueSet: ValueSet,
  source: TerminologySource,
  cache: ExpansionCache = new Map()
): TerminologyResult<Expansion> {
  return new Expander(source, cache).expand(valueSet, []);
}

/** Parameters of `$expand` that shape the returned page. */
export interface ExpandParameters {
  /** Text filter: case-insensitive substring of the code or the display. An empty string filters nothing. */
  readonly filter?: string;
  /** Zero-based index of the first code returned (default 0). */
  readonly offset?: number;
  /** Maximum number of codes returned; 0 asks only for the total. Default: all. */
  readonly count?: number;
}

/**
 * Renders a full expansion as the ValueSet that `$expand` returns: the definition plus
 * `expansion.timestamp` (from the injected clock), `total` (codes matching the filter, before
 * paging), `offset`, the parameters used (including one `used-codesystem` per code system version)
 * and the requested page of `contains` (system, version, code, display, abstract, inactive).
 * An offset beyond the end gives an empty page; a negative or fractional offset or count is invalid.
 *
 * See: https://hl7.org/fhir/R4/valueset-operation-expand.html
 * @param expansion - a full expansion from {@link computeExpansion}
 * @param parameters - filter and paging
 * @param clock - the clock that stamps the expansion
 */
export function renderExpansion(
  expansion: Expansion,
  parameters: ExpandParameters,
  clock: Clock
): TerminologyResult<ValueSet> {
  const { filter, offset, count } = parameters;
  const bad = [...pagingIssue('offset', offset), ...pagingIssue('count', count)];
  if (bad.length > 0) {
    return fail('structural', bad);
  }
  const needle = filter?.toLowerCase() ?? '';
  const matching =
    needle === ''
      ? expansion.entries
      : expansion.entries.filter(
          (e) => e.code.toLowerCase().includes(needle) || (e.display?.toLowerCase().includes(needle) ?? false)
        );
  const start = offset ?? 0;
  const page = matching.slice(start, count === undefined ? undefined : start + count);

  const used: ValueSetExpansionParameter[] = [];
  if (filter !== undefined) {
    used.push({ name: 'filter', valueString: filter });
  }
  if (offset !== undefined) {
    used.push({ name: 'offset', valueInteger: offset });
  }
  if (count !== undefined) {
    used.push({ name: 'count', valueInteger: count });
  }
  for (const system of usedCodeSystems(expansion.entries)) {
    used.push({ name: 'used-codesystem', valueUri: system });
  }

  const result: ValueSet = { ...expansion.valueSet };
  delete result.expansion;
  result.expansion = {
    timestamp: clock().toISOString(),
    total: matching.length,
    ...(offset === undefined ? {} : { offset }),
    ...(used.length === 0 ? {} : { parameter: used }),
    ...(page.length === 0 ? {} : { contains: page.map(toContains) }),
  };
  return succeed(result);
}

/** `system|version` (or `system`) of every code system that contributed codes, in first-use order. */
export function usedCodeSystems(entries: readonly ExpansionEntry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) {
    seen.add(e.version === undefined ? e.system : `${e.system}|${e.version}`);
  }
  return [...seen];
}

function pagingIssue(name: string, value: number | undefined): OperationOutcomeIssue[] {
  if (value === undefined || (Number.isSafeInteger(value) && value >= 0)) {
    return [];
  }
  return [
    issue('error', 'invalid', `Parameter '${name}' must be a non-negative integer, not ${String(value)}`),
  ];
}

function toContains(e: ExpansionEntry): ValueSetExpansionContains {
  return {
    system: e.system,
    ...(e.abstract ? { abstract: true } : {}),
    ...(e.inactive ? { inactive: true } : {}),
    ...(e.version === undefined ? {} : { version: e.version }),
    code: e.code,
    ...(e.display === undefined ? {} : { display: e.display }),
  };
}

/** Key of a code regardless of version: intersection and exclusion compare system and code. */
function codeKey(system: string, code: string): string {
  return `${system}\u0000${code}`;
}

class Expander {
  constructor(
    private readonly source: TerminologySource,
    private readonly cache: ExpansionCache
  ) {}

  /** Expands with memoisation by canonical; `stack` holds the canonicals being expanded above this one. */
  expand(valueSet: ValueSet, stack: readonly string[]): TerminologyResult<Expansion> {
    const key = canonicalOf(valueSet);
    if (key !== undefined) {
      const cached = this.cache.get(key);
      if (cached) {
        return cached;
      }
    }
    const result = this.evaluate(valueSet, key === undefined ? stack : [...stack, key]);
    if (key !== undefined) {
      this.cache.set(key, result);
    }
    return result;
  }

  private evaluate(valueSet: ValueSet, stack: readonly string[]): TerminologyResult<Expansion> {
    const compose = valueSet.compose;
    if (!compose) {
      return this.fromStoredExpansion(valueSet);
    }
    if ((compose.include ?? []).length === 0) {
      return failWith('conformance', 'invalid', 'ValueSet.compose has no include', 'ValueSet.compose');
    }
    const issues: OperationOutcomeIssue[] = [];
    const included = new Map<string, ExpansionEntry>();
    compose.include.forEach((set, i) => {
      const part = this.evaluateSet(set, `ValueSet.compose.include[${i}]`, stack);
      if (!part.ok) {
        issues.push(...part.issues);
        return;
      }
      for (const e of part.value) {
        const k = `${codeKey(e.system, e.code)}\u0000${e.version ?? ''}`;
        if (!included.has(k)) {
          included.set(k, e);
        }
      }
    });
    // Excluded codes by system and code, each with the versions excluded (undefined: every version).
    const excludedCodes = new Map<string, Set<string | undefined>>();
    const excludedSystems: { system: string; version?: string }[] = [];
    (compose.exclude ?? []).forEach((set, i) => {
      if (set.system && !set.concept?.length && !set.filter?.length && !set.valueSet?.length) {
        // Excluding a whole code system needs no knowledge of its content.
        excludedSystems.push({ system: set.system, version: set.version });
        return;
      }
      const part = this.evaluateSet(set, `ValueSet.compose.exclude[${i}]`, stack);
      if (!part.ok) {
        issues.push(...part.issues);
        return;
      }
      for (const e of part.value) {
        const key = codeKey(e.system, e.code);
        const versions = excludedCodes.get(key) ?? new Set<string | undefined>();
        versions.add(set.version);
        excludedCodes.set(key, versions);
      }
    });
    if (issues.length > 0) {
      return fail('conformance', issues);
    }
    const excluded = (e: ExpansionEntry): boolean => {
      const versions = excludedCodes.get(codeKey(e.system, e.code));
      return (
        (versions !== undefined && (versions.has(undefined) || versions.has(e.version))) ||
        excludedSystems.some(
          (x) => x.system === e.system && (x.version === undefined || x.version === e.version)
        )
      );
    };
    const entries = [...included.values()].filter(
      (e) => !excluded(e) && !(compose.inactive === false && e.inactive)
    );
    return succeed({ valueSet, entries });
  }

  /** A ValueSet without `compose` can still be used when it carries a complete expansion. */
  private fromStoredExpansion(valueSet: ValueSet): TerminologyResult<Expansion> {
    const stored = valueSet.expansion;
    if (!stored) {
      return failWith('conformance', 'invalid', 'ValueSet has neither compose nor expansion', 'ValueSet');
    }
    const entries: ExpansionEntry[] = [];
    const visit = (list: readonly ValueSetExpansionContains[] | undefined): void => {
      for (const c of list ?? []) {
        if (c.system !== undefined && c.code !== undefined) {
          entries.push({
            system: c.system,
            code: c.code,
            ...(c.version === undefined ? {} : { version: c.version }),
            ...(c.display === undefined ? {} : { display: c.display }),
            ...(c.abstract ? { abstract: true } : {}),
            ...(c.inactive ? { inactive: true } : {}),
          });
        }
        visit(c.contains);
      }
    };
    visit(stored.contains);
    const partial =
      (stored.offset !== undefined && stored.offset > 0) ||
      (stored.total !== undefined && stored.total > entries.length);
    if (partial) {
      return failWith(
        'conformance',
        'not-supported',
        'The stored ValueSet.expansion is only a page of the expansion, and the ValueSet has no compose to compute the rest',
        'ValueSet.expansion'
      );
    }
    return succeed({ valueSet, entries });
  }

  /** One include or exclude: the system part intersected with every imported ValueSet. */
  private evaluateSet(
    set: ValueSetComposeInclude,
    path: string,
    stack: readonly string[]
  ): TerminologyResult<ExpansionEntry[]> {
    const imports = set.valueSet ?? [];
    if (set.system === undefined && imports.length === 0) {
      return failWith(
        'conformance',
        'invalid',
        'An include or exclude needs a system or a valueSet (vsd-1)',
        path
      );
    }
    if (set.system === undefined && (set.concept?.length || set.filter?.length)) {
      return failWith('conformance', 'invalid', 'Concepts or filters need a system (vsd-2)', path);
    }
    let entries: ExpansionEntry[] | undefined;
    const issues: OperationOutcomeIssue[] = [];
    if (set.system !== undefined) {
      const part = this.systemPart(set.system, set, path);
      if (!part.ok) {
        return part;
      }
      entries = part.value;
    }
    imports.forEach((canonical, j) => {
      const imported = this.importValueSet(canonical, `${path}.valueSet[${j}]`, stack);
      if (!imported.ok) {
        issues.push(...imported.issues);
        return;
      }
      if (entries === undefined) {
        entries = [...imported.value.entries];
      } else {
        const members = new Set(imported.value.entries.map((e) => codeKey(e.system, e.code)));
        entries = entries.filter((e) => members.has(codeKey(e.system, e.code)));
      }
    });
    if (issues.length > 0) {
      return fail('conformance', issues);
    }
    return succeed(entries ?? []);
  }

  private systemPart(
    system: string,
    set: ValueSetComposeInclude,
    path: string
  ): TerminologyResult<ExpansionEntry[]> {
    if (set.filter?.length) {
      return failWith(
        'conformance',
        'not-supported',
        `Property filters (compose.include.filter) on ${system} are not supported offline; enumerate the concepts instead`,
        `${path}.filter[0]`
      );
    }
    const codeSystem = this.source.codeSystem(system, set.version);
    if (set.version !== undefined && !codeSystem) {
      const other = this.source.codeSystem(system);
      if (other) {
        return failWith(
          'conformance',
          'not-found',
          `CodeSystem ${system} version ${set.version} is not available (available: ${other.version ?? 'unversioned'})`,
          `${path}.version`
        );
      }
    }
    const version = set.version ?? codeSystem?.version;
    const index = codeSystem ? indexCodeSystem(codeSystem) : undefined;
    const entry = (
      code: string,
      display: string | undefined,
      found: IndexedConcept | undefined
    ): ExpansionEntry => ({
      system,
      ...(version === undefined ? {} : { version }),
      code,
      ...(display === undefined ? {} : { display }),
      ...(found?.abstract ? { abstract: true } : {}),
      ...(found?.inactive ? { inactive: true } : {}),
    });

    if (set.concept?.length) {
      const issues: OperationOutcomeIssue[] = [];
      const entries: ExpansionEntry[] = [];
      set.concept.forEach((concept, j) => {
        const found = index?.find(concept.code);
        if (!found && codeSystem?.content === 'complete') {
          issues.push(
            issue(
              'error',
              'code-invalid',
              `Code '${concept.code}' is not defined in CodeSystem ${canonicalOf(codeSystem) ?? system}`,
              `${path}.concept[${j}].code`
            )
          );
          return;
        }
        // The value set's own display wins (R4 ValueSet.compose.include.concept.display).
        entries.push(
          entry(found?.concept.code ?? concept.code, concept.display ?? found?.concept.display, found)
        );
      });
      return issues.length > 0 ? fail('conformance', issues) : succeed(entries);
    }

    if (!codeSystem || !index) {
      return failWith(
        'conformance',
        'not-supported',
        `Including all of code system ${system} is not supported offline: only local CodeSystems with content 'complete' can be included whole; enumerate the concepts instead`,
        path
      );
    }
    if (codeSystem.content !== 'complete') {
      return failWith(
        'conformance',
        'not-supported',
        `CodeSystem ${canonicalOf(codeSystem) ?? system} has content '${codeSystem.content}', so it cannot be included whole`,
        path
      );
    }
    return succeed(index.concepts.map((c) => entry(c.concept.code, c.concept.display, c)));
  }

  private importValueSet(
    canonical: string,
    path: string,
    stack: readonly string[]
  ): TerminologyResult<Expansion> {
    const imported = this.source.valueSet(canonical);
    if (!imported) {
      return failWith('conformance', 'not-found', `Imported ValueSet ${canonical} is not known`, path);
    }
    const key = canonicalOf(imported);
    if (key !== undefined && stack.includes(key)) {
      const cycle = [...stack.slice(stack.indexOf(key)), key].join(' → ');
      return failWith('conformance', 'processing', `ValueSet imports form a cycle: ${cycle}`, path);
    }
    const result = this.expand(imported, stack);
    if (result.ok) {
      return result;
    }
    return fail('conformance', [
      issue('error', 'processing', `Imported ValueSet ${key ?? canonical} cannot be expanded`, path),
      ...result.issues.map((i) => rebase(i, key ?? canonical, path)),
    ]);
  }
}

/** Re-anchors an issue found inside an imported ValueSet at the import element of the importer. */
function rebase(found: OperationOutcomeIssue, canonical: string, path: string): OperationOutcomeIssue {
  const where = found.expression?.[0];
  const text = found.details?.text ?? '';
  return {
    ...found,
    details: { text: `In ${canonical}${where ? ` at ${where}` : ''}: ${text}` },
    expression: [path],
  };
}
