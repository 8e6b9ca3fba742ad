// checkJsonRules of src/core/validation/json-rules.ts as it was before issue 13 round 2 (commit
// 2b3fec5), kept unchanged as the oracle of test/core/validation/walk-differential.test.ts.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../src/core/outcomes';
import { childLocation, indexLocation } from '../../src/core/validation/location';

/** Deepest object or array accepted (the resource is level 0; each item level of a QR adds two). */
export const MAX_JSON_DEPTH = 256;

/** The issue code of {@link MAX_JSON_DEPTH} being exceeded; the validator stops at it. */
export const TOO_DEEP = 'too-costly';

/**
 * The FHIR JSON rules the R4 schema and Medplum do not enforce: an array is never empty, and neither
 * is an object (ele-1: every element has a value or children).
 * Also the one limit this module sets on input: nesting deeper than {@link MAX_JSON_DEPTH} levels is
 * refused (code {@link TOO_DEEP}), because the recursive tiers (ajv, Medplum, FHIRPath) would exhaust
 * the stack on it.
 * See: https://hl7.org/fhir/R4/json.html
 */
export function referenceCheckJsonRules(resource: object): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const root = (resource as { resourceType?: string }).resourceType ?? 'Resource';
  let tooDeep = false;
  // The path is kept as steps and turned into a location string only for an issue (issue 13).
  const steps: (string | number)[] = [];
  const location = (): string => {
    let at = root;
    for (const step of steps) {
      at = typeof step === 'number' ? indexLocation(at, step) : childLocation(at, step);
    }
    return at;
  };
  const walk = (value: unknown, depth: number): void => {
    if (depth > MAX_JSON_DEPTH && typeof value === 'object' && value !== null) {
      if (!tooDeep) {
        tooDeep = true;
        issues.push(
          issue('error', TOO_DEEP, `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep`, root)
        );
      }
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) {
        issues.push(issue('error', 'structure', 'Arrays must not be empty', location()));
      }
      for (let i = 0; i < value.length; i++) {
        steps.push(i);
        walk(value[i], depth + 1);
        steps.pop();
      }
      return;
    }
    if (typeof value === 'object' && value !== null) {
      let empty = true;
      for (const key in value) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) {
          continue;
        }
        empty = false;
        steps.push(key);
        walk((value as Record<string, unknown>)[key], depth + 1);
        steps.pop();
      }
      if (empty) {
        issues.push(issue('error', 'structure', 'Objects must not be empty (ele-1)', location()));
      }
    }
  };
  walk(resource, 0);
  return issues;
}
