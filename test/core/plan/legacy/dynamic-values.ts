// The $apply of main before issue 13's apply work (a0f1cd8), frozen: the oracle of test/core/plan/apply-equivalence.test.ts.
// Do not change it to follow src/core/plan; it is what the new code must equal.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../../../../src/core/fhirpath/fhirpath';
import { issue } from '../../../../src/core/outcomes';
import { setPathValues } from './element-path';
import { evaluateExpression } from './expression';
import type { Expression } from '@medplum/fhirtypes';

/** The shape shared by `ActivityDefinition.dynamicValue` and `PlanDefinition.action.dynamicValue`. */
export interface DynamicValue {
  readonly path?: string;
  readonly expression?: Expression;
}

/**
 * Applies dynamic values in order: each expression is evaluated with the target as focus
 * (`%resource`, `%context`), so a later value can read what an earlier one wrote, and its result is
 * written at `path` by {@link setPathValues}. Failures are collected as issues; the target keeps
 * whatever the failing value did not touch.
 * See: https://hl7.org/fhir/R4/plandefinition.html#12.18.3.3
 * @param dynamicValues - the dynamic values (absent means none)
 * @param target - the resource or RequestGroup action to modify in place
 * @param base - the model path of the target, e.g. `MedicationRequest` or `RequestGroup.action`
 * @param env - the `%` variables
 * @param location - FHIRPath location of the `dynamicValue` list, for issues
 * @param where - human-readable owner, for issue text
 * @param issues - collects issues
 */
export function applyDynamicValues(
  dynamicValues: readonly DynamicValue[] | undefined,
  target: object,
  base: string,
  env: FhirPathEnv,
  location: string,
  where: string,
  issues: OperationOutcomeIssue[]
): void {
  (dynamicValues ?? []).forEach((dynamicValue, i) => {
    const at = `${location}[${i}]`;
    if (!dynamicValue.path) {
      issues.push(issue('error', 'invalid', `${where}: a dynamicValue has no path`, at));
      return;
    }
    const result = evaluateExpression(dynamicValue.expression, target, env, `${at}.expression`, where);
    if (!result.ok) {
      issues.push(result.issue);
      return;
    }
    const failure = setPathValues(target as Record<string, unknown>, base, dynamicValue.path, result.values);
    if (failure) {
      issues.push(
        issue('error', 'processing', `${where}: dynamicValue ${dynamicValue.path}: ${failure}`, `${at}.path`)
      );
    }
  });
}
