import type { Expression, Extension, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { compileFhirPath, FhirPathError } from '../fhirpath/fhirpath';
import type { CompiledFhirPath, FhirPathEnv } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import type { ExpressionMemo } from './expression-memo';
import { variablesOf } from './expression-memo';

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
  const ready = preparedFor(expression);
  if (ready) {
    return run(ready, expression!.expression!, focus, env, location, where, memo);
  }
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
  let compiled: Prepared;
  try {
    compiled = prepare(expression as Expression & { expression: string });
  } catch (err) {
    return failed(expression.expression, err, location, where);
  }
  return run(compiled, expression.expression, focus, env, location, where, memo);
}

/** What an Expression needs to run, worked out once per Expression object (see {@link preparedFor}). */
interface Prepared {
  /** The text it was worked out for: a changed Expression is prepared again. */
  readonly text: string;
  readonly fn: CompiledFhirPath;
  /** {@link variablesOf} the text: the memo's key. */
  readonly names: readonly string[] | null;
}

/**
 * Prepared FHIRPath Expressions by their object: the content's Expressions are evaluated once per
 * response or more, and the compiled-expression and variable-name caches are LRUs keyed by text, each
 * look-up of which moves an entry. Keyed weakly (an entry goes with its content) and checked against
 * the text on every use, so an Expression changed after it ran is never answered by its old text.
 */
const prepared = new WeakMap<Expression, Prepared>();

/** The prepared form of a FHIRPath Expression whose text has not changed since, if any. */
function preparedFor(expression: Expression | undefined): Prepared | undefined {
  if (!expression) {
    return undefined;
  }
  const known = prepared.get(expression);
  return known && known.text === expression.expression && expression.language === FHIRPATH_LANGUAGE
    ? known
    : undefined;
}

/** Compiles a FHIRPath Expression with non-blank text (throws a FhirPathError if it does not parse). */
function prepare(expression: Expression & { expression: string }): Prepared {
  const text = expression.expression;
  const ready: Prepared = { text, fn: compileFhirPath(text), names: variablesOf(text) };
  prepared.set(expression, ready);
  return ready;
}

function run(
  ready: Prepared,
  text: string,
  focus: unknown,
  env: FhirPathEnv,
  location: string,
  where: string,
  memo: ExpressionMemo | undefined
): ExpressionResult {
  try {
    const fullEnv = focusedOn(env, focus) ? env : { ...env, resource: focus, rootResource: focus };
    const known = memo?.find(text, ready.names, focus, fullEnv);
    if (known) {
      return { ok: true, values: known };
    }
    const values = ready.fn(focus, fullEnv);
    memo?.record(text, ready.names, focus, fullEnv, values);
    return { ok: true, values };
  } catch (err) {
    return failed(text, err, location, where);
  }
}

function failed(text: string, err: unknown, location: string, where: string): ExpressionResult {
  const reason = err instanceof FhirPathError ? err.reason : err instanceof Error ? err.message : String(err);
  return {
    ok: false,
    issue: issue(
      'error',
      'invalid',
      `${where}: FHIRPath ${JSON.stringify(text)} failed: ${reason}`,
      location
    ),
  };
}

/**
 * Whether `env` already holds `focus` as `%resource` and `%rootResource` (own properties), so that
 * evaluating on `focus` can use it as it is: `{ ...env, resource: focus, rootResource: focus }` would
 * be an object with the same properties in the same order.
 * @param env - the `%` variables
 * @param focus - the input node
 */
export function focusedOn(env: FhirPathEnv, focus: unknown): boolean {
  return (
    env.resource === focus &&
    env.rootResource === focus &&
    Object.prototype.hasOwnProperty.call(env, 'resource') &&
    Object.prototype.hasOwnProperty.call(env, 'rootResource')
  );
}

/**
 * `env` with `focus` as `%resource` and `%rootResource`: every expression evaluated on that focus
 * with it (conditions and variables on `data`, the dynamic values of one target) shares the one copy
 * instead of {@link evaluateExpression} making one per evaluation.
 * @param env - the `%` variables (not modified)
 * @param focus - the input node
 */
export function focusEnv(env: FhirPathEnv, focus: unknown): FhirPathEnv {
  return focusedOn(env, focus) ? env : { ...env, resource: focus, rootResource: focus };
}

/**
 * One `variable` extension of an element, read once: its location and name, and why it is refused
 * (a name that is not an identifier, or one that would shadow a predefined variable), if it is.
 */
export interface VariableSpec {
  /** FHIRPath location of the extension. */
  readonly at: string;
  /** FHIRPath location of its expression. */
  readonly valueAt: string;
  readonly name: string | undefined;
  readonly expression: Expression | undefined;
  readonly refused?: 'invalid-name' | 'reserved';
}

/**
 * The `variable` extensions of an element, in order (other extensions are left out). Depends only on
 * the extensions and the location, so a plan of unchanging content can keep it (see plan-definition.ts).
 * @param extensions - the element's extensions
 * @param location - FHIRPath location of the element
 */
export function variableSpecs(
  extensions: readonly Extension[] | undefined,
  location: string
): readonly VariableSpec[] {
  const specs: VariableSpec[] = [];
  (extensions ?? []).forEach((ext, i) => {
    if (ext.url !== VARIABLE_EXTENSION) {
      return;
    }
    const at = `${location}.extension[${i}]`;
    const name = ext.valueExpression?.name;
    const refused =
      !name || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)
        ? 'invalid-name'
        : RESERVED_VARIABLES.has(name)
          ? 'reserved'
          : undefined;
    specs.push({
      at,
      valueAt: `${at}.valueExpression`,
      name,
      expression: ext.valueExpression,
      ...(refused ? { refused } : {}),
    });
  });
  return specs;
}

/**
 * Adds `added` and then the `variable` extensions of one element to a copy of `env`, in order, so
 * that each variable may use the ones before it. A variable that fails to evaluate is defined as
 * empty and reported. The copy has `focus` as `%resource` and `%rootResource` (see {@link focusEnv}):
 * each expression sets them to its own focus anyway, and the reserved names keep variables off them.
 * See: https://hl7.org/fhir/extensions/StructureDefinition-variable.html
 * @param extensions - the element's extensions (others are ignored)
 * @param focus - the input node for the variable expressions
 * @param env - the variables visible so far (not modified)
 * @param added - variables the processor defines for this element (`%action`, `%planDefinition`…)
 * @param location - FHIRPath location of the element, for issues
 * @param where - human-readable owner, for issue text
 * @param issues - collects issues
 * @param memo - earlier results to reuse (see {@link evaluateExpression})
 */
export function withVariables(
  extensions: readonly Extension[] | undefined,
  focus: unknown,
  env: FhirPathEnv,
  added: FhirPathEnv,
  location: string,
  where: string,
  issues: OperationOutcomeIssue[],
  memo?: ExpressionMemo
): FhirPathEnv {
  return withVariableSpecs(variableSpecs(extensions, location), focus, env, added, where, issues, memo);
}

/**
 * {@link withVariables} with the element's {@link variableSpecs} already read.
 * @param specs - the element's variables
 * @param focus - the input node for the variable expressions
 * @param env - the variables visible so far (not modified)
 * @param added - variables the processor defines for this element
 * @param where - human-readable owner, for issue text
 * @param issues - collects issues
 * @param memo - earlier results to reuse (see {@link evaluateExpression})
 */
export function withVariableSpecs(
  specs: readonly VariableSpec[],
  focus: unknown,
  env: FhirPathEnv,
  added: FhirPathEnv,
  where: string,
  issues: OperationOutcomeIssue[],
  memo?: ExpressionMemo
): FhirPathEnv {
  // One copy per element: the processor's variables, the focus, then the element's own variables.
  const result: FhirPathEnv = { ...env, ...added, resource: focus, rootResource: focus };
  for (const spec of specs) {
    if (spec.refused === 'invalid-name') {
      issues.push(
        issue(
          'error',
          'invalid',
          `${where}: a variable needs a valid name (got ${JSON.stringify(spec.name ?? '')})`,
          spec.at
        )
      );
      continue;
    }
    if (spec.refused === 'reserved') {
      issues.push(
        issue(
          'error',
          'invalid',
          `${where}: variable %${spec.name} would shadow a predefined variable`,
          spec.at
        )
      );
      continue;
    }
    const name = spec.name!;
    const evaluated = evaluateExpression(spec.expression, focus, result, spec.valueAt, where, memo);
    if (evaluated.ok) {
      result[name] = evaluated.values;
    } else {
      issues.push(evaluated.issue);
      result[name] = [];
    }
  }
  return result;
}
