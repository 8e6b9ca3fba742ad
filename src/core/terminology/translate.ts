import type { Coding, ConceptMap } from '@medplum/fhirtypes';
import type { TerminologyResult } from './result';
import { failWith, succeed } from './result';
import { canonicalOf } from './source';

/** What to translate. */
export interface TranslateInput {
  readonly system: string;
  readonly code: string;
  /** The source code system version; a group with another `sourceVersion` does not apply. */
  readonly version?: string;
  /** Only mappings into this target code system (R4 `targetsystem`). */
  readonly targetSystem?: string;
}

/** One candidate translation. */
export interface TranslateMatch {
  /** R4 ConceptMapEquivalence, read from target to source (`wider`: the target is broader). */
  readonly equivalence: string;
  /** The target concept; absent for `unmatched`. */
  readonly concept?: Coding;
  /** The ConceptMap that holds the mapping (`url|version`). */
  readonly source: string;
  /** The mapping's comment, if any. */
  readonly comment?: string;
}

/** The outcome of `$translate`. */
export interface TranslateResult {
  /** True when at least one match is neither `unmatched` nor `disjoint`. */
  readonly result: boolean;
  readonly message?: string;
  readonly matches: readonly TranslateMatch[];
}

const NO_MATCH = new Set(['unmatched', 'disjoint']);

/**
 * `ConceptMap/$translate` over one ConceptMap, source to target. Groups are chosen by source
 * system (and `sourceVersion` when the input names a version) and, if given, by target system.
 * `unmapped` handling and `reverse` translation are not supported: a group with `unmapped` fails
 * with `not-supported` rather than guessing.
 *
 * See: https://hl7.org/fhir/R4/conceptmap-operation-translate.html
 * @param conceptMap - the map
 * @param input - the code to translate
 */
export function translateWithConceptMap(
  conceptMap: ConceptMap,
  input: TranslateInput
): TerminologyResult<TranslateResult> {
  const source = canonicalOf(conceptMap) ?? 'ConceptMap';
  const matches: TranslateMatch[] = [];
  let groupFound = false;
  for (const [g, group] of (conceptMap.group ?? []).entries()) {
    if (group.source !== input.system) {
      continue;
    }
    if (
      input.version !== undefined &&
      group.sourceVersion !== undefined &&
      group.sourceVersion !== input.version
    ) {
      continue;
    }
    if (input.targetSystem !== undefined && group.target !== input.targetSystem) {
      continue;
    }
    groupFound = true;
    const element = group.element?.find((e) => e.code === input.code);
    if (!element && group.unmapped) {
      return failWith(
        'conformance',
        'not-supported',
        `ConceptMap ${source} has unmapped mode '${group.unmapped.mode}', which is not supported`,
        `ConceptMap.group[${g}].unmapped`
      );
    }
    for (const target of element?.target ?? []) {
      const concept: Coding | undefined =
        target.code === undefined
          ? undefined
          : {
              ...(group.target === undefined ? {} : { system: group.target }),
              ...(group.targetVersion === undefined ? {} : { version: group.targetVersion }),
              code: target.code,
              ...(target.display === undefined ? {} : { display: target.display }),
            };
      matches.push({
        equivalence: target.equivalence ?? 'equivalent',
        ...(concept === undefined ? {} : { concept }),
        source,
        ...(target.comment === undefined ? {} : { comment: target.comment }),
      });
    }
  }
  const result = matches.some((m) => !NO_MATCH.has(m.equivalence));
  if (result) {
    return succeed({ result, matches });
  }
  const reason = !groupFound
    ? `ConceptMap ${source} has no mappings from ${input.system}${input.targetSystem ? ` to ${input.targetSystem}` : ''}`
    : matches.length === 0
      ? `ConceptMap ${source} has no mapping for ${input.system}#${input.code}`
      : [
          `${input.system}#${input.code} has no match in ConceptMap ${source}`,
          ...matches.map((m) => m.comment),
        ]
          .filter((t) => t !== undefined)
          .join(': ');
  return succeed({ result, message: reason, matches });
}
