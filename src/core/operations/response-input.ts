import type { OperationOutcomeIssue, Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { splitCanonical } from '../conformance/registry';
import { isObject } from '../json';
import { hasErrors, issue, ReFhirError } from '../outcomes';
import { calculateResponse, validateResponse } from '../response';
import type { EngineDeps } from './engine';
import { blameFor } from './engine';
import { internGiven } from './given-content';

/** Input shared by the operations that read a QuestionnaireResponse. */
export interface ResponseInput {
  /** The Questionnaire, when the caller has it (SDC `$extract` `questionnaire` parameter); else resolved by canonical. */
  readonly questionnaire?: Questionnaire;
  /**
   * Profiles the response must meet besides those it declares in `meta.profile` (e.g. the module's
   * QuestionnaireResponse profile). Only profiles the registry holds are applied.
   */
  readonly responseProfiles?: readonly string[];
}

/** A response that passed every input check, completed by the SDC calculation. */
export interface CheckedResponse {
  readonly questionnaire: Questionnaire;
  /** The response with its calculated items computed. */
  readonly completed: QuestionnaireResponse;
  /** Warnings and information from the checks and the calculation. */
  readonly issues: OperationOutcomeIssue[];
}

/**
 * Checks a QuestionnaireResponse, then completes it:
 * 1. structure: valid FHIR R4 (else `structural`, 400);
 * 2. its Questionnaire: the one given, which must itself be valid FHIR (else `structural` or
 *    `conformance`), or by canonical `url|version` (else `not-found`, 404);
 * 3. declared and required profiles, and the Questionnaire's rules: types, required items,
 *    enableWhen, answer sets, cardinality, ranges, status, subject, id (else `conformance`, 422);
 * 4. SDC calculation of the hidden calculated items.
 * Throws a ReFhirError; never returns a partially checked response.
 */
export function checkResponse(
  input: unknown,
  deps: EngineDeps,
  options: ResponseInput = {}
): CheckedResponse {
  const inspected = inspectResponse(input, deps, options);
  if (inspected.failure) {
    throw new ReFhirError(inspected.failure, inspected.issues);
  }
  const { questionnaire, completed } = inspected as Required<Inspection>;
  if (hasErrors(completed.issues)) {
    // A calculation that fails is a fault of the Questionnaire, not of the response.
    throw new ReFhirError(blameFor(questionnaire, deps), completed.issues);
  }
  return { questionnaire, completed: completed.response, issues: [...inspected.issues, ...completed.issues] };
}

/** Every issue of a response, for `$validate`: never throws. */
export function collectResponseIssues(
  input: unknown,
  deps: EngineDeps,
  options: ResponseInput = {}
): Inspection {
  return inspectResponse(input, deps, options);
}

/** What the checks found; `completed` is the calculation's result when the Questionnaire was found. */
export interface Inspection {
  readonly issues: OperationOutcomeIssue[];
  readonly failure?: 'structural' | 'not-found' | 'conformance';
  readonly questionnaire?: Questionnaire;
  readonly completed?: ReturnType<typeof calculateResponse>;
}

function inspectResponse(input: unknown, deps: EngineDeps, options: ResponseInput): Inspection {
  if (!isObject(input) || input.resourceType !== 'QuestionnaireResponse') {
    return {
      issues: [
        issue('error', 'structure', 'Expected a QuestionnaireResponse resource', 'QuestionnaireResponse'),
      ],
      failure: 'structural',
    };
  }
  // Base tiers once: each profile below reuses them instead of validating the input again.
  const validation = deps.validator.begin(input);
  const base = validation.base();
  if (base.failure === 'structural') {
    return { issues: base.issues, failure: 'structural' };
  }
  const response = input as unknown as QuestionnaireResponse;
  let given: Questionnaire | undefined;
  if (options.questionnaire !== undefined) {
    // A Questionnaire given by the caller is input too: its faults are the caller's, never a crash.
    const checked = internGiven(options.questionnaire, deps);
    if (checked.validation.failure) {
      return { issues: [...base.issues, ...checked.validation.issues], failure: checked.validation.failure };
    }
    given = checked.value;
  }
  const resolved = resolveQuestionnaire(response, deps, given);
  if ('issue' in resolved) {
    return { issues: [...base.issues, resolved.issue], failure: resolved.failure };
  }
  const questionnaire = resolved.questionnaire;

  const issues = [...base.issues];
  for (const profile of profilesToApply(response, deps, options)) {
    issues.push(...validation.withProfile(profile).issues);
  }
  const completed = calculateResponse(response, questionnaire, { clock: deps.clock });
  issues.push(
    ...validateResponse(response, questionnaire, {
      clock: deps.clock,
      completed: completed.response,
      memberOf: (valueSet, system, code) => deps.terminology.memberOf(valueSet, system, code),
    })
  );
  return { issues, failure: hasErrors(issues) ? 'conformance' : undefined, questionnaire, completed };
}

function resolveQuestionnaire(
  response: QuestionnaireResponse,
  deps: EngineDeps,
  given: Questionnaire | undefined
): { questionnaire: Questionnaire } | { issue: OperationOutcomeIssue; failure: 'not-found' | 'conformance' } {
  const canonical = response.questionnaire;
  if (given) {
    if (canonical) {
      const [url, version] = splitCanonical(canonical);
      if (url !== given.url || (version !== undefined && version !== given.version)) {
        return {
          issue: issue(
            'error',
            'not-found',
            `The response answers ${canonical}, not the Questionnaire given (${given.url ?? '?'}|${given.version ?? '?'})`,
            'QuestionnaireResponse.questionnaire'
          ),
          failure: 'not-found',
        };
      }
    }
    return { questionnaire: given };
  }
  if (!canonical) {
    // Valid R4 (the element is optional there) that our profile requires: 422, not an unknown canonical.
    return {
      issue: issue(
        'error',
        'required',
        'The response does not name its Questionnaire',
        'QuestionnaireResponse.questionnaire'
      ),
      failure: 'conformance',
    };
  }
  const found = deps.registry.resolve<Questionnaire>(canonical, 'Questionnaire');
  if (!found) {
    return {
      issue: issue(
        'error',
        'not-found',
        `Unknown Questionnaire ${canonical}`,
        'QuestionnaireResponse.questionnaire'
      ),
      failure: 'not-found',
    };
  }
  return { questionnaire: found };
}

function profilesToApply(
  response: QuestionnaireResponse,
  deps: EngineDeps,
  options: ResponseInput
): string[] {
  const wanted = new Set([...(response.meta?.profile ?? []), ...(options.responseProfiles ?? [])]);
  return [...wanted].filter((p) => deps.registry.resolve(p, 'StructureDefinition'));
}
