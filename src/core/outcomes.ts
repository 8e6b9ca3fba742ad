import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * Why an operation failed. Adapters map it to a transport status:
 * structural → 400 (not valid FHIR R4), conformance → 422 (valid FHIR that breaks its
 * Questionnaire or profile), not-found → 404 (unknown canonical), internal → 500 (our bug).
 */
export type FailureKind = 'structural' | 'conformance' | 'not-found' | 'internal';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

/** Builds one issue; `expression` is a FHIRPath location such as `QuestionnaireResponse.item[2].answer[0]`. */
export function issue(
  severity: IssueSeverity,
  code: IssueCode,
  text: string,
  expression?: string | string[]
): OperationOutcomeIssue {
  const result: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression !== undefined) {
    result.expression = Array.isArray(expression) ? expression : [expression];
  }
  return result;
}

/**
 * Wraps issues in an OperationOutcome; an empty list becomes a single informational "All OK".
 * Messages quote input (keys, codes, resource types), and R4 strings may not hold control characters
 * other than tab, CR and LF: those are written as `\uXXXX` so that the outcome itself stays valid.
 */
export function outcome(issues: readonly OperationOutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.length > 0 ? issues.map(printableIssue) : [issue('information', 'informational', 'All OK')],
  };
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/** `text` with the control characters an R4 string forbids escaped. */
export function printable(text: string): string {
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function printableIssue(i: OperationOutcomeIssue): OperationOutcomeIssue {
  const texts = [i.details?.text, i.diagnostics, ...(i.expression ?? [])];
  if (!texts.some((t) => t !== undefined && CONTROL.test(t))) {
    return i;
  }
  return {
    ...i,
    ...(i.details?.text !== undefined ? { details: { ...i.details, text: printable(i.details.text) } } : {}),
    ...(i.diagnostics !== undefined ? { diagnostics: printable(i.diagnostics) } : {}),
    ...(i.expression ? { expression: i.expression.map(printable) } : {}),
  };
}

/**
 * A list of issues and the function that adds to it, once per distinct issue (an expression that
 * fails in every repetition of a group, or on every calculation pass, is reported once).
 */
export function issueCollector(): {
  readonly issues: OperationOutcomeIssue[];
  readonly report: (i: OperationOutcomeIssue) => void;
} {
  const issues: OperationOutcomeIssue[] = [];
  const seen = new Set<string>();
  const report = (i: OperationOutcomeIssue): void => {
    const key = JSON.stringify(i);
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(i);
    }
  };
  return { issues, report };
}

/** True when any issue is an error or fatal. */
export function hasErrors(issues: readonly OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

/**
 * Medplum's OperationOutcomeError as the base class at run time (Medplum and its bots recognise it),
 * typed as a plain Error with an `outcome`, so that our declarations do not import `@medplum/core`
 * (its types pull in optional PDF typings a consumer may not have).
 */
const OutcomeErrorBase: new (
  outcome: OperationOutcome,
  cause?: unknown
) => Error & {
  readonly outcome: OperationOutcome;
} = OperationOutcomeError;

/**
 * Sets `cause` whichever Medplum line made the error: 4.x takes the cause as the second argument,
 * 5.x an ErrorOptions (`{ cause }`), so a positional cause is lost on 5.x unless set here.
 */
export function keepCause(error: Error, cause: unknown): void {
  if (cause !== undefined && error.cause !== cause) {
    Object.defineProperty(error, 'cause', {
      value: cause,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
}

/** Marks a ReFhirError from any copy of this package (an ESM and a CJS copy in one process, two versions). */
const REFHIR_ERROR = Symbol.for('re-fhir.ReFhirError');

/**
 * True for a ReFhirError made by any copy of this package. `instanceof ReFhirError` gives the same
 * answer (through `Symbol.hasInstance`), also across copies.
 */
export function isReFhirError(value: unknown): value is ReFhirError {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REFHIR_ERROR] === true
  );
}

/** An OperationOutcomeError (Medplum's, at run time) that also says which kind of failure it is. */
export class ReFhirError extends OutcomeErrorBase {
  constructor(
    readonly kind: FailureKind,
    issues: readonly OperationOutcomeIssue[],
    cause?: unknown
  ) {
    super(outcome(issues), cause);
    keepCause(this, cause);
    this.name = 'ReFhirError';
    Object.defineProperty(this, REFHIR_ERROR, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isReFhirError(value);
  }
}
