import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';

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
export function checkJsonRules(resource: object): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const root = (resource as { resourceType?: string }).resourceType ?? 'Resource';
  let tooDeep = false;
  const walk = (value: unknown, location: string, depth: number): void => {
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
        issues.push(issue('error', 'structure', 'Arrays must not be empty', location));
      }
      value.forEach((item, i) => walk(item, `${location}[${i}]`, depth + 1));
      return;
    }
    if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      if (entries.length === 0) {
        issues.push(issue('error', 'structure', 'Objects must not be empty (ele-1)', location));
      }
      for (const [key, child] of entries) {
        walk(child, `${location}.${key}`, depth + 1);
      }
    }
  };
  walk(resource, root, 0);
  return issues;
}
