import type { CarePlan, OperationOutcomeIssue, PlanDefinition } from '@medplum/fhirtypes';
import { RULE_EXTENSION } from '../constants';
import { hasErrors, ReFhirError } from '../outcomes';
import type { ApplyParameters } from '../plan';
import { applyPlanDefinition, containedCarePlan } from '../plan';
import type { EngineDeps } from './engine';
import { blameFor } from './engine';
import { calculatedData } from './calculated-data';
import { internGiven } from './given-content';
import { validateOutput } from './validate-output';

/** The R4 `$apply` result: one CarePlan, its RequestGroup and requests contained. */
export interface ApplyOutput {
  readonly carePlan: CarePlan;
  /** Warnings and information (e.g. why an action did not apply). */
  readonly issues: OperationOutcomeIssue[];
}

/**
 * `PlanDefinition/$apply` (R4): applies a PlanDefinition (a resource, or a canonical resolved in the
 * registry) for one subject, with CPG-style `data`. Transient: nothing is persisted. The CarePlan is
 * validated before it is returned; an expression error in the PlanDefinition, or an invalid CarePlan,
 * fails the operation (`conformance` for a caller's PlanDefinition, `internal` for a shipped one). A
 * caller's PlanDefinition is validated first. Each QuestionnaireResponse in `data` is calculated first
 * (its conditions read calculated items), and the issues say so.
 * See: https://hl7.org/fhir/R4/plandefinition-operation-apply.html
 */
export function applyOperation(
  planDefinition: PlanDefinition | string,
  params: ApplyParameters,
  deps: EngineDeps
): ApplyOutput {
  const blame = typeof planDefinition === 'string' ? 'internal' : blameFor(planDefinition, deps);
  let definition = planDefinition;
  if (blame === 'conformance' && typeof planDefinition !== 'string') {
    // A caller's PlanDefinition is input like any other: not valid FHIR, it is refused before it runs.
    // Interned by content, so that the same one sent again is neither validated nor prepared again.
    const checked = internGiven(planDefinition, deps);
    if (checked.validation.failure) {
      throw new ReFhirError(checked.validation.failure, checked.validation.issues);
    }
    definition = checked.value;
  }
  const dataIssues: OperationOutcomeIssue[] = [];
  const data = calculatedData(params.data, deps, dataIssues);
  const applied = applyPlanDefinition(
    definition,
    data === params.data ? params : { ...params, data },
    { resolve: (canonical) => deps.registry.resolve(canonical), clock: deps.clock, newId: deps.newId },
    { carePlanExtensionUrls: [RULE_EXTENSION], requestExtensionUrls: [RULE_EXTENSION] }
  );
  if (hasErrors(applied.issues)) {
    throw new ReFhirError(blame, [...applied.issues]);
  }
  const carePlan = containedCarePlan(applied);
  validateOutput([{ fullUrl: `urn:uuid:${applied.carePlan.id}`, resource: carePlan }], deps, blame);
  return { carePlan, issues: [...dataIssues, ...applied.issues] };
}
