import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { issue, ReFhirError } from '../outcomes';
import type { ApplyParameters } from './types';

/**
 * The expression environment of `$apply` (every condition, variable and dynamic value sees it):
 *
 * | variable | value |
 * |---|---|
 * | `%subject` | the subject reference string (e.g. `Patient/123`) |
 * | `%encounter`, `%practitioner`, `%organization` | their reference strings, or empty |
 * | `%userType`, `%userLanguage`, `%userTaskContext`, `%setting`, `%settingContext` | the CodeableConcepts, or empty |
 * | `%data` | the `data` Bundle (an empty collection Bundle when none is given) |
 * | `%planDefinition` | the PlanDefinition being applied (the nested one inside a nested definition) |
 * | `%action` | the PlanDefinition action being processed |
 * | `%activityDefinition` | the ActivityDefinition being applied (inside its own dynamic values) |
 * | `%resource`, `%rootResource`, `%context` | the focus: the `data` Bundle for conditions and variables, the target resource (or RequestGroup action) for dynamic values |
 * | any `variable` extension | declared on the PlanDefinition, the action (visible to its sub-actions) or the ActivityDefinition |
 *
 * Absent parameters are empty collections, so `%encounter.exists()` is a safe test.
 */
export interface ApplyEnvironment {
  readonly env: FhirPathEnv;
  /** The focus of conditions and variables. */
  readonly data: Bundle;
}

const EMPTY_DATA: Bundle = { resourceType: 'Bundle', type: 'collection' };

/**
 * Builds the base environment from the `$apply` parameters, rejecting a call without a subject.
 * @param params - the `$apply` parameters
 */
export function baseEnvironment(params: ApplyParameters): ApplyEnvironment {
  if (typeof params.subject !== 'string' || params.subject.trim() === '') {
    throw new ReFhirError('structural', [
      issue(
        'error',
        'required',
        '$apply needs a subject reference (parameter "subject")',
        "Parameters.parameter.where(name='subject')"
      ),
    ]);
  }
  const data = params.data ?? EMPTY_DATA;
  const env: FhirPathEnv = {
    subject: params.subject,
    encounter: optional(params.encounter),
    practitioner: optional(params.practitioner),
    organization: optional(params.organization),
    userType: optional(params.userType),
    userLanguage: optional(params.userLanguage),
    userTaskContext: optional(params.userTaskContext),
    setting: optional(params.setting),
    settingContext: optional(params.settingContext),
    data,
  };
  return { env, data };
}

function optional(value: unknown): unknown {
  return value === undefined ? [] : value;
}

/**
 * `url|version` of a canonical resource (or what identifies it best), for `instantiatesCanonical`
 * and issue text.
 * @param resource - a definition resource
 */
export function canonicalOf(resource: Resource): string {
  const { url, version } = resource as { url?: string; version?: string };
  if (url) {
    return version ? `${url}|${version}` : url;
  }
  return resource.id ? `${resource.resourceType}/${resource.id}` : resource.resourceType;
}
