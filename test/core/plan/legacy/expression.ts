// The $apply of main before issue 13's apply work (a0f1cd8), frozen: the oracle of test/core/plan/apply-equivalence.test.ts.
// Do not change it to follow src/core/plan; it is what the new code must equal.
import type { Expression, Extension, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { compileFhirPath, FhirPathError } from '../../../../src/core/fhirpath/fhirpath';
import type { FhirPathEnv } from '../../../../src/core/fhirpath/fhirpath';
import { issue } from '../../../../src/core/outcomes';
import type { ExpressionMemo } from '../../../../src/core/plan/expression-memo';

/** The only expression language this processor evaluates. */
export const FHIRPATH_LANGUAGE = 'text/fhirpath';

/** Core extension that declares a named FHIRPath variable on the element that carries it. */
export const VARIABLE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/variable';

/**
 * Names the processor itself defines; a `variable` extension may not redefine them, so that content
 * cannot shadow `%subject` or `%data` by accident.
 */
export const RESERVED_VARIABLES: ReadonlySet<string> = new Set([
  'subject',
  'encounter',
  'practitioner',
  'organization',
  'userType',
  'userLanguage',
  'userTaskContext',
  'setting',
  'settingContext',
  'data',
  'planDefinition',
  'activityDefinition',
  'action',
  'context',
  'resource',
  'rootResource',
  'ucum',
  'sct',
  'loinc',
  'factory',
  'terminologies',
]);

/** The result of evaluating one Expression: its values, or the issue that explains why there are none. */
export type ExpressionResult =
  | { readonly ok: true; readonly values: unknown[] }
  | { readonly ok: false; readonly issue: OperationOutcomeIssue };

/**
 * Evaluates an `Expression` of language `text/fhirpath` against `focus`. `%resource` and
 * `%rootResource` are set to the focus (fhirpath.js sets `%context` itself); the rest of the
 * environment comes from `env`. Any other language, a missing expression, a library `reference`,
 * a syntax error or a run-time error becomes an error issue located at `location`; nothing throws.
 * See: https://hl7.org/fhir/R4/metadatatypes.html#Expression
 * @param expression - the Expression element (may be absent in malformed content)
 * @param focus - the input node (`$this`, `%context`, `%resource`)
 * @param env - the `%` variables
 * @param location - FHIRPath location of the Expression, for issues
 * @param where - human-readable owner (e.g. `PlanDefinition http://…|1.0`), for issue text
 * @param memo - earlier results to reuse; only for a focus and variables that are not modified
 */
export function evaluateExpression(
  expression: Expression | undefined,
  focus: unknown,
  env: FhirPathEnv,
  location: string,
  where: string,
  memo?: ExpressionMemo
): ExpressionResult {
  if (!expression || typeof expression.expression !== 'string' || expression.expression.trim() === '') {
    const text = expression?.reference
      ? `${where}: expressions by library reference (${expression.reference}) are not supported; give the FHIRPath inline`
      : `${where}: the expression is missing`;
    return {
      ok: false,
      issue: issue('error', expression?.reference ? 'not-supported' : 'invalid', text, location),
    };
  }
  if (expression.language !== FHIRPATH_LANGUAGE) {
    return {
      ok: false,
      issue: issue(
        'error',
        'not-supported',
        `${where}: expression language ${JSON.stringify(expression.language ?? '')} is not supported; only ${FHIRPATH_LANGUAGE} is evaluated`,
        location
      ),
    };
  }
  try {
    const text = expression.expression;
    const fullEnv = { ...env, resource: focus, rootResource: focus };
    const known = memo?.get(text, focus, fullEnv);
    if (known) {
      return { ok: true, values: known };
    }
    const values = compileFhirPath(text)(focus, fullEnv);
    memo?.set(text, focus, fullEnv, values);
    return { ok: true, values };
  } catch (err) {
    const reason =
      err instanceof FhirPathError ? err.reason : err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      issue: issue(
        'error',
        'invalid',
        `${where}: FHIRPath ${JSON.stringify(expression.expression)} failed: ${reason}`,
        location
      ),
    };
  }
}

/**
 * Adds the `variable` extensions of one element to a copy of `env`, in order, so that each variable
 * may use the ones before it. A variable that fails to evaluate is defined as empty and reported.
 * See: https://hl7.org/fhir/extensions/StructureDefinition-variable.html
 * @param extensions - the element's extensions (others are ignored)
 * @param focus - the input node for the variable expressions
 * @param env - the variables visible so far (not modified)
 * @param location - FHIRPath location of the element, for issues
 * @param where - human-readable owner, for issue text
 * @param issues - collects issues
 * @param memo - earlier results to reuse (see {@link evaluateExpression})
 */
export function withVariables(
  extensions: readonly Extension[] | undefined,
  focus: unknown,
  env: FhirPathEnv,
  location: string,
  where: string,
  issues: OperationOutcomeIssue[],
  memo?: ExpressionMemo
): FhirPathEnv {
  const result: FhirPathEnv = { ...env };
  (extensions ?? []).forEach((ext, i) => {
    if (ext.url !== VARIABLE_EXTENSION) {
      return;
    }
    const at = `${location}.extension[${i}]`;
    const name = ext.valueExpression?.name;
    if (!name || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      issues.push(
        issue(
          'error',
          'invalid',
          `${where}: a variable needs a valid name (got ${JSON.stringify(name ?? '')})`,
          at
        )
      );
      return;
    }
    if (RESERVED_VARIABLES.has(name)) {
      issues.push(
        issue('error', 'invalid', `${where}: variable %${name} would shadow a predefined variable`, at)
      );
      return;
    }
    const evaluated = evaluateExpression(
      ext.valueExpression,
      focus,
      result,
      `${at}.valueExpression`,
      where,
      memo
    );
    if (evaluated.ok) {
      result[name] = evaluated.values;
    } else {
      issues.push(evaluated.issue);
      result[name] = [];
    }
  });
  return result;
}
