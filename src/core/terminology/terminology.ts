import type { CodeSystem, ConceptMap, Resource, ValueSet } from '@medplum/fhirtypes';
import { ConformanceRegistry, shippedRegistry, splitCanonical } from '../conformance/registry';
import { LruCache } from '../lru';
import type { Clock } from '../types';
import type { ExpandParameters, Expansion, ExpansionCache, ExpansionEntry } from './expand';
import { computeExpansion, renderExpansion } from './expand';
import type { LookupInput, LookupResult } from './lookup';
import { lookupInCodeSystem, lookupTarget } from './lookup';
import type { TerminologyResult } from './result';
import { failWith, succeed } from './result';
import type { TerminologySource } from './source';
import { canonicalOf, terminologySource } from './source';
import type { TranslateInput, TranslateResult } from './translate';
import { translateWithConceptMap } from './translate';
import type { ValidateCodeInput, ValidateCodeResult } from './validate-code';
import { validateCodeInCodeSystem, validateCodeInValueSet } from './validate-code';

/** `$expand` paging and filter, plus the clock that stamps `expansion.timestamp`. */
export interface ExpandOptions extends ExpandParameters {
  readonly clock: Clock;
}

/** Membership indexes kept for ValueSet texts that are not a known ValueSet's own canonical. */
const OTHER_MEMBERSHIP = 256;

/**
 * Expansion entries by system, then code, for constant-time membership (two look-ups rather than
 * one by a joined key: no string built per question, issue 13).
 */
type EntryIndex = ReadonlyMap<string, ReadonlyMap<string, readonly ExpansionEntry[]>>;

/**
 * Offline terminology services over a fixed set of CodeSystems, ValueSets and ConceptMaps:
 * `$expand`, `$validate-code` (ValueSet and CodeSystem), `$lookup` and `$translate`, with the
 * semantics of the R4 operations, and a fast {@link Terminology.memberOf} for validators.
 *
 * Full expansions are computed once per ValueSet `url|version` and cached for the life of the
 * instance (the definitions it reads are immutable), so membership checks never re-expand.
 * Every method is synchronous and pure apart from that cache; the only clock is the one passed to
 * {@link Terminology.expand}.
 *
 * See: https://hl7.org/fhir/R4/terminology-service.html
 */
export class Terminology {
  private readonly source: TerminologySource;
  private readonly expansions: ExpansionCache = new Map();
  private readonly indexes = new WeakMap<Expansion, EntryIndex>();
  /** Membership indexes under a known ValueSet's own `url` or `url|version`: bounded by the content. */
  private readonly membership = new Map<string, EntryIndex>();
  /** Under any other text a caller sends (unknown canonicals included): bounded. */
  private readonly otherMembership = new LruCache<string, EntryIndex | null>(OTHER_MEMBERSHIP);

  /**
   * @param source - a registry, a list of resources (CodeSystem, ValueSet, ConceptMap; others are
   * ignored) or any {@link TerminologySource}
   */
  constructor(source: ConformanceRegistry | readonly Resource[] | TerminologySource) {
    this.source =
      source instanceof ConformanceRegistry || Array.isArray(source)
        ? terminologySource(source as ConformanceRegistry | readonly Resource[])
        : (source as TerminologySource);
  }

  /**
   * Resolves a ValueSet canonical (`url` or `url|version`); fails with `not-found` when unknown.
   * @param canonical - the ValueSet canonical
   */
  resolveValueSet(canonical: string): TerminologyResult<ValueSet> {
    const valueSet = this.source.valueSet(canonical);
    return valueSet
      ? succeed(valueSet)
      : failWith('not-found', 'not-found', `ValueSet ${canonical} is not known`);
  }

  /**
   * The CodeSystem for a system URI, if it is defined locally.
   * @param system - the code system URI
   * @param version - a specific version; absent means the highest
   */
  codeSystem(system: string, version?: string): CodeSystem | undefined {
    return this.source.codeSystem(system, version);
  }

  /**
   * The full (unfiltered, unpaged) expansion of a ValueSet, computed once and cached. A ValueSet
   * given as a resource that is not one of the known definitions is expanded without touching the
   * shared cache, so a request cannot replace a shipped expansion.
   * See {@link computeExpansion} for what is supported.
   * @param valueSet - a canonical (`url` or `url|version`) or a ValueSet resource
   */
  expansion(valueSet: string | ValueSet): TerminologyResult<Expansion> {
    const resolved = typeof valueSet === 'string' ? this.resolveValueSet(valueSet) : succeed(valueSet);
    if (!resolved.ok) {
      return resolved;
    }
    const definition = resolved.value;
    const key = canonicalOf(definition);
    const known = key !== undefined && this.source.valueSet(key) === definition;
    if (known) {
      return computeExpansion(definition, this.source, this.expansions);
    }
    // Reuse the expansions of the known ValueSets it imports, but never the cached result for its own canonical.
    const cache: ExpansionCache = new Map(this.expansions);
    if (key !== undefined) {
      cache.delete(key);
    }
    return computeExpansion(definition, this.source, cache);
  }

  /**
   * `ValueSet/$expand`: the ValueSet with an `expansion` for the requested filter and page.
   * See: https://hl7.org/fhir/R4/valueset-operation-expand.html
   * @param valueSet - a canonical (`url` or `url|version`) or a ValueSet resource
   * @param options - filter, offset, count and the clock for `expansion.timestamp`
   */
  expand(valueSet: string | ValueSet, options: ExpandOptions): TerminologyResult<ValueSet> {
    const full = this.expansion(valueSet);
    if (!full.ok) {
      return full;
    }
    const { clock, ...parameters } = options;
    return renderExpansion(full.value, parameters, clock);
  }

  /**
   * Whether a code is in a ValueSet, in constant time after the first call for that ValueSet.
   * Codes are compared exactly. Without `version`, a code of any version matches; with it, an entry
   * of another version does not (an entry without a version matches any).
   * @param valueSet - the ValueSet canonical (`url` or `url|version`)
   * @param system - the code system URI
   * @param code - the code
   * @param version - the code system version of the coding, if it has one
   * @returns true or false; undefined when the ValueSet is unknown or cannot be expanded offline
   * ({@link Terminology.expansion} says why)
   */
  memberOf(valueSet: string, system: string, code: string, version?: string): boolean | undefined {
    let index: EntryIndex | null | undefined = this.membership.get(valueSet);
    if (index === undefined) {
      index = this.otherMembership.get(valueSet);
    }
    if (index === undefined) {
      const expansion = this.expansion(valueSet);
      index = expansion.ok ? this.indexOf(expansion.value) : null;
      const known = index !== null ? this.source.valueSet(valueSet) : undefined;
      if (index !== null && known && (valueSet === known.url || valueSet === canonicalOf(known))) {
        this.membership.set(valueSet, index);
      } else {
        this.otherMembership.set(valueSet, index);
      }
    }
    if (index === null) {
      return undefined;
    }
    const entries = index.get(system)?.get(code);
    if (!entries) {
      return false;
    }
    return version === undefined || entries.some((e) => e.version === undefined || e.version === version);
  }

  /**
   * `ValueSet/$validate-code`. Fails (rather than answering false) when the ValueSet is unknown or
   * cannot be expanded, or when the input is malformed.
   * See: https://hl7.org/fhir/R4/valueset-operation-validate-code.html
   * @param valueSet - a canonical (`url` or `url|version`) or a ValueSet resource
   * @param input - the code, coding or codeableConcept to validate
   */
  validateCode(valueSet: string | ValueSet, input: ValidateCodeInput): TerminologyResult<ValidateCodeResult> {
    const expansion = this.expansion(valueSet);
    if (!expansion.ok) {
      return expansion;
    }
    const index = this.indexOf(expansion.value);
    return validateCodeInValueSet(
      {
        label: canonicalOf(expansion.value.valueSet) ?? 'the value set',
        entries: (system, code) => index.get(system)?.get(code) ?? [],
        codeSystem: (system, version) => this.source.codeSystem(system, version),
      },
      input
    );
  }

  /**
   * `CodeSystem/$validate-code`. An unknown code system gives `result = false` with a message.
   * See: https://hl7.org/fhir/R4/codesystem-operation-validate-code.html
   * @param codeSystem - the code system URI (optionally `url|version`) or a CodeSystem resource
   * @param input - the code, coding or codeableConcept to validate
   */
  validateCodeInCodeSystem(
    codeSystem: string | CodeSystem,
    input: ValidateCodeInput
  ): TerminologyResult<ValidateCodeResult> {
    if (typeof codeSystem !== 'string') {
      return validateCodeInCodeSystem(codeSystem, codeSystem.url ?? '', input);
    }
    const [url, pinned] = splitCanonical(codeSystem);
    const version = pinned ?? input.version ?? input.coding?.version;
    return validateCodeInCodeSystem(this.source.codeSystem(url, version), url, input);
  }

  /**
   * `CodeSystem/$lookup`. Fails with `not-found` for an unknown code system, version or code.
   * See: https://hl7.org/fhir/R4/codesystem-operation-lookup.html
   * @param input - system and code (and version), or a coding; optionally the properties wanted
   */
  lookup(input: LookupInput): TerminologyResult<LookupResult> {
    const target = lookupTarget(input);
    if (!target.ok) {
      return target;
    }
    const { system, code, version } = target.value;
    const codeSystem = this.source.codeSystem(system, version);
    if (!codeSystem) {
      const which = version === undefined ? system : `${system} version ${version}`;
      return failWith('not-found', 'not-found', `Code system ${which} is not known`);
    }
    return lookupInCodeSystem(codeSystem, code, input.properties);
  }

  /**
   * `ConceptMap/$translate` with one ConceptMap.
   * See: https://hl7.org/fhir/R4/conceptmap-operation-translate.html
   * @param conceptMap - a canonical (`url` or `url|version`) or a ConceptMap resource
   * @param input - the code to translate
   */
  translate(conceptMap: string | ConceptMap, input: TranslateInput): TerminologyResult<TranslateResult> {
    const map = typeof conceptMap === 'string' ? this.source.conceptMap(conceptMap) : conceptMap;
    if (!map) {
      return failWith('not-found', 'not-found', `ConceptMap ${String(conceptMap)} is not known`);
    }
    return translateWithConceptMap(map, input);
  }

  private indexOf(expansion: Expansion): EntryIndex {
    let index = this.indexes.get(expansion);
    if (!index) {
      const built = new Map<string, Map<string, ExpansionEntry[]>>();
      for (const e of expansion.entries) {
        let bySystem = built.get(e.system);
        if (!bySystem) {
          bySystem = new Map();
          built.set(e.system, bySystem);
        }
        const list = bySystem.get(e.code);
        if (list) {
          list.push(e);
        } else {
          bySystem.set(e.code, [e]);
        }
      }
      index = built;
      this.indexes.set(expansion, index);
    }
    return index;
  }
}

let shipped: Terminology | undefined;

/** Terminology services over the shipped content ({@link shippedRegistry}), built once. */
export function shippedTerminology(): Terminology {
  shipped ??= new Terminology(shippedRegistry());
  return shipped;
}
