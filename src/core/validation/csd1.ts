/** R4's csd-1 as written in the CodeSystem definition; only this exact text is checked by {@link codesAreDistinct}. */
export const CSD1_EXPRESSION = 'concept.code.combine($this.descendants().concept.code).isDistinct()';

/** How many values {@link codesAreDistinct} has visited, in total (tests count work with it). */
export const csd1Work = { visited: 0 };

/**
 * csd-1 ("all the codes SHALL be unique") in one walk, with a set, instead of fhirpath.js, whose
 * `descendants()` and `isDistinct()` compare every node with every other (quadratic: a 629 KB inline
 * CodeSystem held the server for 31 s, issue 14.4).
 *
 * Same meaning as the expression under fhirpath.js: the codes of the resource's own `concept`s and of
 * the `concept`s of every element below it (nested concepts, and any `concept` further down, such as
 * in a contained resource) must all differ.
 * @param resource - The CodeSystem, valid against the structural tiers.
 */
export function codesAreDistinct(resource: Record<string, unknown>): boolean {
  const codes = new Set<string>();
  let distinct = true;
  const addCodesOf = (holder: Record<string, unknown>): void => {
    const concepts = holder.concept;
    for (const concept of Array.isArray(concepts) ? concepts : [concepts]) {
      const code = isRecord(concept) ? concept.code : undefined;
      if (typeof code === 'string') {
        if (codes.has(code)) {
          distinct = false;
        }
        codes.add(code);
      }
    }
  };
  const walk = (value: unknown, depth: number): void => {
    csd1Work.visited++;
    if (Array.isArray(value)) {
      for (const item of value) {
        walk(item, depth);
      }
      return;
    }
    if (!isRecord(value)) {
      return;
    }
    if (depth >= 1 && value.concept !== undefined) {
      addCodesOf(value);
    }
    for (const key of Object.keys(value)) {
      if (key !== 'resourceType' && !key.startsWith('_')) {
        walk(value[key], depth + 1);
      }
    }
  };
  addCodesOf(resource);
  walk(resource, 0);
  return distinct;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
