import type { Expression, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import { resolveSimplePath, writeAtPath } from './element-path';
import type { Json, ResolvedPath } from './element-path';
import { evaluatePlanned, focusEnv, planExpression } from './expression';
import type { PlannedExpression } from './expression';

/** The shape shared by `ActivityDefinition.dynamicValue` and `PlanDefinition.action.dynamicValue`. */
export interface DynamicValue {
  readonly path?: string;
  readonly expression?: Expression;
}

/** One dynamic value as a plan keeps it (see {@link planDynamicValues}). */
export interface PlannedDynamicValue {
  /** FHIRPath location of the dynamic value, for issues. */
  readonly at: string;
  readonly path: string | undefined;
  readonly value: PlannedExpression;
  /**
   * The path resolved against the model per base of the target (a resource type or
   * `RequestGroup.action`, so bounded by the model), filled on first use.
   */
  readonly resolved: Map<string, ResolvedPath | string>;
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
  applyPlannedDynamicValues(planDynamicValues(dynamicValues, location), target, base, env, where, issues);
}

/**
 * The dynamic values of one element, prepared once: locations, expressions, and (on first use per
 * base) their paths resolved against the model.
 * @param dynamicValues - the dynamic values (absent means none)
 * @param location - FHIRPath location of the `dynamicValue` list, for issues
 */
export function planDynamicValues(
  dynamicValues: readonly DynamicValue[] | undefined,
  location: string
): PlannedDynamicValue[] {
  return (dynamicValues ?? []).map((dynamicValue, i) => {
    const at = `${location}[${i}]`;
    return {
      at,
      path: dynamicValue.path,
      value: planExpression(dynamicValue.expression, `${at}.expression`),
      resolved: new Map(),
    };
  });
}

/**
 * {@link applyDynamicValues} of planned dynamic values: the same writes and the same issues.
 * @param planned - from {@link planDynamicValues}
 * @param target - the resource or RequestGroup action to modify in place
 * @param base - the model path of the target
 * @param env - the `%` variables
 * @param where - human-readable owner, for issue text
 * @param issues - collects issues
 */
export function applyPlannedDynamicValues(
  planned: readonly PlannedDynamicValue[],
  target: object,
  base: string,
  env: FhirPathEnv,
  where: string,
  issues: OperationOutcomeIssue[]
): void {
  if (planned.length === 0) {
    return;
  }
  // Every value is evaluated on the same target (modified in place), so one environment serves all.
  const focused = focusEnv(env, target);
  for (const dynamicValue of planned) {
    const path = dynamicValue.path;
    if (!path) {
      issues.push(issue('error', 'invalid', `${where}: a dynamicValue has no path`, dynamicValue.at));
      continue;
    }
    const result = evaluatePlanned(dynamicValue.value, target, focused, where);
    if (!result.ok) {
      issues.push(result.issue);
      continue;
    }
    let resolved = dynamicValue.resolved.get(base);
    if (resolved === undefined) {
      resolved = resolveSimplePath(base, path);
      dynamicValue.resolved.set(base, resolved);
    }
    const failure =
      typeof resolved === 'string' ? resolved : writeAtPath(target as Json, resolved, result.values);
    if (failure) {
      issues.push(
        issue('error', 'processing', `${where}: dynamicValue ${path}: ${failure}`, `${dynamicValue.at}.path`)
      );
    }
  }
}
