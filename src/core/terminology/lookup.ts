import type { CodeSystem, CodeSystemConceptDesignation, Coding } from '@medplum/fhirtypes';
import type { PropertyValue } from './codesystem';
import { indexCodeSystem, propertyValue } from './codesystem';
import type { TerminologyResult } from './result';
import { failWith, succeed } from './result';

/** What to look up: `system` + `code` (+ `version`), or a `coding`. */
export interface LookupInput {
  readonly system?: string;
  readonly code?: string;
  readonly version?: string;
  readonly coding?: Coding;
  /**
   * Properties wanted (R4 `property`): `definition`, `designation`, `parent`, `child`, `inactive` or
   * any property code the CodeSystem defines. Absent: all of them.
   */
  readonly properties?: readonly string[];
}

/** One property of the looked-up concept. */
export interface LookupProperty {
  readonly code: string;
  readonly value: PropertyValue;
}

/** The outcome of `$lookup`. */
export interface LookupResult {
  /** A display name for the code system (its title, else its name, else its URL). */
  readonly name: string;
  readonly version?: string;
  /** The concept's display; the code itself when the CodeSystem gives none. */
  readonly display: string;
  readonly definition?: string;
  readonly abstract: boolean;
  readonly inactive: boolean;
  readonly designation: readonly CodeSystemConceptDesignation[];
  readonly property: readonly LookupProperty[];
}

/**
 * The code system, code and version a lookup asks for, or a `structural` failure when the input
 * does not name exactly one system and code.
 * @param input - the lookup input
 */
export function lookupTarget(
  input: LookupInput
): TerminologyResult<{ system: string; code: string; version?: string }> {
  if (input.coding !== undefined && input.code !== undefined) {
    return failWith('structural', 'invalid', 'Give either system and code, or a coding, not both');
  }
  const system = input.coding?.system ?? input.system;
  const code = input.coding?.code ?? input.code;
  const version = input.coding?.version ?? input.version;
  if (system === undefined || code === undefined) {
    return failWith('structural', 'invalid', 'A lookup needs both a system and a code');
  }
  return succeed({ system, code, ...(version === undefined ? {} : { version }) });
}

/**
 * `CodeSystem/$lookup` on a known CodeSystem: the concept's display, definition, designations and
 * properties, plus the standard `parent`, `child` and `inactive` properties. An unknown code fails
 * with `not-found`, as the operation requires.
 *
 * See: https://hl7.org/fhir/R4/codesystem-operation-lookup.html
 * @param codeSystem - the code system that defines the code
 * @param code - the code to look up (matched as `caseSensitive` says)
 * @param properties - the properties wanted; absent means all
 */
export function lookupInCodeSystem(
  codeSystem: CodeSystem,
  code: string,
  properties?: readonly string[]
): TerminologyResult<LookupResult> {
  const found = indexCodeSystem(codeSystem).find(code);
  if (!found) {
    return failWith('not-found', 'not-found', `Unknown code '${code}' in code system '${codeSystem.url}'`);
  }
  const wanted = (name: string): boolean => properties === undefined || properties.includes(name);
  const { concept } = found;
  const property: LookupProperty[] = [];
  for (const p of concept.property ?? []) {
    const value = propertyValue(p);
    if (p.code !== undefined && value !== undefined && wanted(p.code)) {
      property.push({ code: p.code, value });
    }
  }
  if (wanted('parent')) {
    property.push(...found.parents.map((c) => ({ code: 'parent', value: { valueCode: c } })));
  }
  if (wanted('child')) {
    property.push(...found.children.map((c) => ({ code: 'child', value: { valueCode: c } })));
  }
  if (wanted('inactive') && !property.some((p) => p.code === 'inactive')) {
    property.push({ code: 'inactive', value: { valueBoolean: found.inactive } });
  }
  return succeed({
    name: codeSystem.title ?? codeSystem.name ?? codeSystem.url ?? 'unnamed code system',
    ...(codeSystem.version === undefined ? {} : { version: codeSystem.version }),
    display: concept.display ?? concept.code,
    ...(concept.definition !== undefined && wanted('definition') ? { definition: concept.definition } : {}),
    abstract: found.abstract,
    inactive: found.inactive,
    designation: wanted('designation') ? (concept.designation ?? []) : [],
    property,
  });
}
