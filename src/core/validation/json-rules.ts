import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';

/**
 * The FHIR JSON rules the R4 schema and Medplum do not enforce: an array is never empty, and an
 * array holds no `null` except to keep primitive arrays aligned with their `_element` extensions.
 * See: https://hl7.org/fhir/R4/json.html
 */
export function checkJsonRules(resource: object): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const walk = (value: unknown, location: string, depth: number): void => {
    if (depth > 256) {
      return; // Deeper nesting is rejected by the other tiers; stop rather than exhaust the stack.
    }
    if (Array.isArray(value)) {
      if (value.length === 0) {
        issues.push(issue('error', 'structure', 'Arrays must not be empty', location));
      }
      value.forEach((item, i) => walk(item, `${location}[${i}]`, depth + 1));
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        walk(child, `${location}.${key}`, depth + 1);
      }
    }
  };
  walk(resource, (resource as { resourceType?: string }).resourceType ?? 'Resource', 0);
  return issues;
}
