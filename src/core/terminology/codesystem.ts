import type { CodeSystem, CodeSystemConcept, CodeSystemConceptProperty } from '@medplum/fhirtypes';

/** One concept of a CodeSystem, with what the operations need to know about it. */
export interface IndexedConcept {
  readonly concept: CodeSystemConcept;
  /** Codes of the concepts that contain this one in `CodeSystem.concept` nesting. */
  readonly parents: readonly string[];
  /** Codes of the concepts nested directly in this one. */
  readonly children: readonly string[];
  /** True when a `status` of retired or an `inactive` property marks the concept inactive. */
  readonly inactive: boolean;
  /** True when a `notSelectable` property marks the concept as a grouper that is not for use. */
  readonly abstract: boolean;
}

interface MutableConcept extends IndexedConcept {
  readonly parents: string[];
}

/** A CodeSystem with its concepts flattened and indexed by code. */
export interface CodeSystemIndex {
  readonly codeSystem: CodeSystem;
  /** Every concept, depth first in definition order. */
  readonly concepts: readonly IndexedConcept[];
  /**
   * Finds a concept by code, honouring `caseSensitive` (an absent flag is treated as case sensitive,
   * the strict reading of R4's "not specified").
   * @param code - the code to find
   */
  find(code: string): IndexedConcept | undefined;
}

const CONCEPT_PROPERTIES = 'http://hl7.org/fhir/concept-properties#';
const indexes = new WeakMap<CodeSystem, CodeSystemIndex>();

/**
 * Indexes a CodeSystem once (cached per resource object).
 * See: https://hl7.org/fhir/R4/codesystem.html#defined-props for the standard concept properties.
 * @param codeSystem - the CodeSystem to index
 */
export function indexCodeSystem(codeSystem: CodeSystem): CodeSystemIndex {
  const cached = indexes.get(codeSystem);
  if (cached) {
    return cached;
  }
  const inactiveCode = propertyCode(codeSystem, 'inactive');
  const statusCode = propertyCode(codeSystem, 'status');
  const notSelectableCode = propertyCode(codeSystem, 'notSelectable');
  const concepts: MutableConcept[] = [];
  const byCode = new Map<string, MutableConcept>();
  const caseSensitive = codeSystem.caseSensitive !== false;

  const visit = (list: readonly CodeSystemConcept[] | undefined, parent: string | undefined): void => {
    for (const concept of list ?? []) {
      const properties = concept.property ?? [];
      const indexed: MutableConcept = {
        concept,
        parents: parent === undefined ? [] : [parent],
        children: (concept.concept ?? []).map((c) => c.code).filter((c): c is string => c !== undefined),
        inactive:
          properties.some((p) => p.code === inactiveCode && p.valueBoolean === true) ||
          properties.some(
            (p) => p.code === statusCode && (p.valueCode === 'retired' || p.valueCode === 'inactive')
          ),
        abstract: properties.some((p) => p.code === notSelectableCode && p.valueBoolean === true),
      };
      if (concept.code !== undefined) {
        const key = caseSensitive ? concept.code : concept.code.toLowerCase();
        const existing = byCode.get(key);
        if (existing) {
          // A polyhierarchy repeats a concept under each parent; keep one entry with every parent.
          existing.parents.push(...indexed.parents);
        } else {
          byCode.set(key, indexed);
          concepts.push(indexed);
        }
      }
      visit(concept.concept, concept.code);
    }
  };
  visit(codeSystem.concept, undefined);

  const index: CodeSystemIndex = {
    codeSystem,
    concepts,
    find: (code) => byCode.get(caseSensitive ? code : code.toLowerCase()),
  };
  indexes.set(codeSystem, index);
  return index;
}

/** The code a CodeSystem uses for a standard concept property: declared by uri, else the standard name. */
function propertyCode(codeSystem: CodeSystem, name: string): string {
  const declared = codeSystem.property?.find((p) => p.uri === CONCEPT_PROPERTIES + name);
  return declared?.code ?? name;
}

const PROPERTY_VALUE_KEYS = [
  'valueCode',
  'valueCoding',
  'valueString',
  'valueInteger',
  'valueBoolean',
  'valueDateTime',
  'valueDecimal',
] as const;

/** A concept property value in its typed `value[x]` form. */
export type PropertyValue = Partial<Pick<CodeSystemConceptProperty, (typeof PROPERTY_VALUE_KEYS)[number]>>;

/**
 * The value of a concept property in its typed `value[x]` form, or undefined when it has none.
 * @param property - a concept property
 */
export function propertyValue(property: CodeSystemConceptProperty): PropertyValue | undefined {
  for (const key of PROPERTY_VALUE_KEYS) {
    const value = property[key];
    if (value !== undefined) {
      return { [key]: value } as PropertyValue;
    }
  }
  return undefined;
}
