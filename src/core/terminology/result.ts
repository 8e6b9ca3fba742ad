import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FailureKind } from '../outcomes';
import { issue, ReFhirError } from '../outcomes';

/**
 * Outcome of a terminology operation: either a value (with any warnings or information issues),
 * or a failure with the kind that tells an adapter which status to use and at least one error issue.
 * A failure never carries a partial value.
 */
export type TerminologyResult<T> =
  | { readonly ok: true; readonly value: T; readonly issues: readonly OperationOutcomeIssue[] }
  | { readonly ok: false; readonly kind: FailureKind; readonly issues: readonly OperationOutcomeIssue[] };

/** A successful result. */
export function succeed<T>(value: T, issues: readonly OperationOutcomeIssue[] = []): TerminologyResult<T> {
  return { ok: true, value, issues };
}

/** A failed result. */
export function fail<T>(kind: FailureKind, issues: readonly OperationOutcomeIssue[]): TerminologyResult<T> {
  return { ok: false, kind, issues };
}

/** A failed result with one error issue. */
export function failWith<T>(
  kind: FailureKind,
  code: OperationOutcomeIssue['code'],
  text: string,
  expression?: string
): TerminologyResult<T> {
  return fail(kind, [issue('error', code, text, expression)]);
}

/**
 * Returns the value of a successful result, or throws a {@link ReFhirError} carrying the failure's
 * kind and issues, for callers that prefer exceptions.
 * @param result - a terminology result
 */
export function unwrap<T>(result: TerminologyResult<T>): T {
  if (!result.ok) {
    throw new ReFhirError(result.kind, result.issues);
  }
  return result.value;
}
