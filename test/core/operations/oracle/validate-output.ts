import type { BundleEntry, Extension, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { RULE_EXTENSION } from '../../../../src/core/constants';
import { issue, ReFhirError } from '../../../../src/core/outcomes';
import type { EngineDeps } from '../../../../src/core/operations/engine';

/**
 * Validates every generated resource against base R4 and each profile it claims that the registry
 * holds. Any error fails the operation naming the resource, the rule that produced it and the element,
 * instead of returning invalid data: our bug (`internal`, HTTP 500) when the shipped content produced
 * it, the caller's (`conformance`, 422) when the content came with the request.
 * @param entries - The generated entries.
 * @param deps - The engine.
 * @param kind - Whose fault an invalid output is (default `internal`).
 */
export function validateOutput(
  entries: readonly BundleEntry[],
  deps: EngineDeps,
  kind: 'internal' | 'conformance' = 'internal'
): void {
  const failures: OperationOutcomeIssue[] = [];
  for (const entry of entries) {
    const resource = entry.resource as Resource;
    const profiles = (resource.meta?.profile ?? []).filter((p) =>
      deps.registry.resolve(p, 'StructureDefinition')
    );
    const validation = deps.validator.begin(resource); // Base tiers once, however many profiles.
    const results =
      profiles.length > 0 ? profiles.map((profile) => validation.withProfile(profile)) : [validation.base()];
    for (const result of results) {
      for (const found of result.issues) {
        if (found.severity === 'error' || found.severity === 'fatal') {
          failures.push(
            issue(
              'error',
              kind === 'internal' ? 'exception' : 'processing',
              `Generated ${resource.resourceType} ${entry.fullUrl ?? ''}${ruleOf(resource)} is invalid: ${found.details?.text ?? found.code}`,
              found.expression
            )
          );
        }
      }
    }
  }
  if (failures.length > 0) {
    throw new ReFhirError(kind, failures);
  }
}

function ruleOf(resource: Resource): string {
  const extensions = (resource as { extension?: Extension[] }).extension ?? [];
  const rules = extensions.filter((e) => e.url === RULE_EXTENSION).map((e) => e.valueCoding?.code);
  return rules.length > 0 ? ` (rule ${rules.join(', ')})` : '';
}
