import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * Issues split by what they mean for the caller: `structural` = not valid base FHIR R4 (answered
 * with 400), `conformance` = valid FHIR that breaks a profile, binding or extension definition (422).
 */
export interface ClassifiedIssues {
  readonly structural: OperationOutcomeIssue[];
  readonly conformance: OperationOutcomeIssue[];
}

/**
 * Is the code in the ValueSet? `true`/`false` when known, `undefined` when the ValueSet (or a
 * code system it needs) is not available, so the binding cannot be checked.
 * `system` is undefined for a plain `code` element, whose system the ValueSet implies.
 * This is the signature of the terminology module's `memberOf`.
 */
export type MemberOf = (
  valueSetCanonical: string,
  system: string | undefined,
  code: string
) => boolean | undefined;
